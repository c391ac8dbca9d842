// VideoDecoder: a video file in, sampled RGB frames out, one at a time.
//
// Uses FFmpeg's libavformat/libavcodec (every container and codec Debian's
// FFmpeg decodes) with the codec's own threads. Frames are sampled at
// `target_fps` by presentation timestamp (FrameSampler), rotated upright by the
// stream's display matrix, converted to RGB and resized so the longest side is
// at most `max_side` (OpenCV INTER_AREA, sizes rounded half to even as the
// original does). Memory is bounded: the decoder holds one source frame; the
// caller decides how many sampled frames to keep.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "video/frame.h"
#include "video/video_info.h"

namespace sopilot {

struct DecodeOptions {
  double target_fps = 4.0;
  int max_side = 320;
  int threads = 0;  // decoder threads; 0 lets FFmpeg pick from the core count
};

// Checks ranges; the message names the option as the CLI spells it.
Status ValidateDecodeOptions(const DecodeOptions& options);

class VideoDecoder {
 public:
  // Opens `path` and finds its video stream. Fails with one clear sentence
  // for a missing file, a directory, an empty file, data that is not a video
  // container, or a container without a video stream.
  static Result<std::unique_ptr<VideoDecoder>> Open(const std::string& path,
                                                    const DecodeOptions& options);
  virtual ~VideoDecoder() = default;

  // Container metadata; duration_sec becomes the decoded length once Next()
  // has returned the end of the stream.
  virtual const VideoInfo& info() const = 0;

  // The next sample (sample k shows time k / target_fps), or nullptr at the
  // end of the stream. A stream that ends far short of its declared length is
  // reported as truncated.
  virtual Result<FramePtr> Next() = 0;

  // Samples returned so far.
  virtual int64_t samples_returned() const = 0;
};

}  // namespace sopilot
