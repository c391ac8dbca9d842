// ClipWindower: groups sampled frames into clips of fixed length.
//
// A clip holds frames_per_clip = round(clip_seconds * fps) consecutive samples
// and a new clip starts every stride_frames = round(stride_seconds * fps)
// samples, so clips overlap when the stride is shorter than the clip. Clip k
// covers [k * stride, k * stride + clip_seconds) seconds.
//
// After the last full clip, one trailing partial clip is kept when it holds at
// least min_clip_coverage of a clip's frames: it starts on the stride grid, is
// padded to full length by repeating its last real frame (the original's rule;
// a repeated frame adds no motion and keeps the embedding comparable), and its
// end_sec is the end of its real frames. A video too short for even that has
// no clip at all; the caller reports it.
//
// Defaults (2 s clips every 0.5 s): a step of 4 s then holds five whole clips
// and is found to within half a second. The original's 4 s clips without
// overlap cannot resolve its own 6 s steps: a boundary falls inside a clip
// and only one or two clips lie wholly in a step.
#pragma once

#include <deque>
#include <vector>

#include "base/status.h"
#include "video/frame.h"

namespace sopilot {

struct ClipOptions {
  double clip_seconds = 2.0;
  double stride_seconds = 0.5;
  double min_clip_coverage = 0.6;
};

// Checks ranges against the sampling rate; the message names the CLI option.
Status ValidateClipOptions(const ClipOptions& options, double sampled_fps);

// Where a clip sits in its video; also what embedding files store per row.
struct ClipSpan {
  int index = 0;
  double start_sec = 0;
  double end_sec = 0;  // exclusive
};

struct Clip {
  ClipSpan span;
  std::vector<FramePtr> frames;  // always frames_per_clip entries (padded)
  int real_frames = 0;           // frames before padding
};

class ClipWindower {
 public:
  // `sampled_fps` is the rate frames arrive at; options must be valid.
  ClipWindower(double sampled_fps, const ClipOptions& options);

  // Adds the next sample; appends every clip it completes to *out.
  void Add(FramePtr frame, std::vector<Clip>* out);
  // End of the stream: appends the trailing partial clip if it qualifies.
  void Finish(std::vector<Clip>* out);

  int frames_per_clip() const { return frames_per_clip_; }
  int stride_frames() const { return stride_frames_; }
  int clips_emitted() const { return next_index_; }
  int64_t frames_seen() const { return frames_seen_; }

 private:
  Clip MakeClip(int64_t first_sample, int real_frames);

  double fps_;
  ClipOptions options_;
  int frames_per_clip_;
  int stride_frames_;
  std::deque<FramePtr> window_;  // samples [window_start_, frames_seen_)
  int64_t window_start_ = 0;
  int64_t next_clip_start_ = 0;
  int64_t covered_until_ = 0;  // end (exclusive) of the last emitted clip, in samples
  int64_t frames_seen_ = 0;
  int next_index_ = 0;
};

}  // namespace sopilot
