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

  // Limits on the work one file may ask for. A tiny file can declare hours
  // or a huge picture; these are checked before decoding where the
  // container says enough, and again while decoding. Past one, Open() or
  // Next() fails with Unsupported (a job fails for good, not retried).
  // A 4-hour recording at 8K still decodes with the defaults.
  double max_duration_sec = 12 * 3600.0;
  int64_t max_frame_pixels = 40'000'000;
  // A jump in the timestamps longer than this (a damaged or hostile file;
  // no camera stops for so long mid-stream) is shortened to it, so a gap is
  // never filled with thousands of copies of one frame. Time after the gap
  // moves earlier by what was cut.
  double max_frame_gap_sec = 10.0;

  // Leave out the frames no sample shows, where the codec can (frames no
  // other frame refers to: most B-frames). The samples are the same bit for
  // bit; about 0.6x the decoding work on 30 fps H.264 at 4 samples a
  // second. False decodes every frame (tests compare the two).
  bool skip_unsampled_frames = true;
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

  // Source frames decoded so far (frames skipped as no sample shows them
  // are not counted).
  virtual int64_t frames_decoded() const = 0;
};

}  // namespace sopilot
