#include "video/frame_grabber.h"

#include <algorithm>
#include <cmath>

#include "video/video_decoder.h"

namespace sopilot {

namespace {
// Samples per second: a moment is shown within a quarter second.
constexpr double kGrabFps = 4.0;
}  // namespace

Result<std::vector<cv::Mat>> FramesAt(const std::string& path, const std::vector<double>& times, int max_side) {
  std::vector<cv::Mat> out(times.size());
  if (times.empty()) return out;
  DecodeOptions options;
  options.target_fps = kGrabFps;
  options.max_side = max_side;
  SOPILOT_ASSIGN_OR_RETURN(std::unique_ptr<VideoDecoder> decoder, VideoDecoder::Open(path, options));
  // The sample index each time wants (sample k shows time k / fps).
  std::vector<int64_t> want(times.size());
  int64_t last_wanted = 0;
  for (size_t i = 0; i < times.size(); ++i) {
    want[i] = std::max<int64_t>(0, std::llround(std::max(0.0, times[i]) * kGrabFps));
    last_wanted = std::max(last_wanted, want[i]);
  }
  cv::Mat last;
  for (int64_t k = 0; k <= last_wanted; ++k) {
    SOPILOT_ASSIGN_OR_RETURN(FramePtr frame, decoder->Next());
    if (!frame) break;  // the video ended first: those times get the last frame
    last = frame->rgb;
    for (size_t i = 0; i < times.size(); ++i) {
      if (want[i] == k) out[i] = frame->rgb.clone();
    }
  }
  for (cv::Mat& m : out) {
    if (m.empty() && !last.empty()) m = last.clone();
  }
  return out;
}

}  // namespace sopilot
