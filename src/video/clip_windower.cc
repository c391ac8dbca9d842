#include "video/clip_windower.h"

#include <cmath>
#include <string>

namespace sopilot {

namespace {
int RoundFrames(double seconds, double fps) {
  return static_cast<int>(std::nearbyint(seconds * fps));
}
}  // namespace

Status ValidateClipOptions(const ClipOptions& o, double fps) {
  if (!(o.clip_seconds > 0) || o.clip_seconds > 600) {
    return Status::InvalidArgument("--clip-seconds must be in (0, 600], got " +
                                   std::to_string(o.clip_seconds));
  }
  if (!(o.stride_seconds > 0) || o.stride_seconds > o.clip_seconds) {
    return Status::InvalidArgument(
        "--clip-stride must be in (0, clip seconds] (clips may overlap but not leave gaps), got " +
        std::to_string(o.stride_seconds));
  }
  if (!(o.min_clip_coverage >= 0 && o.min_clip_coverage <= 1)) {
    return Status::InvalidArgument("--min-clip-coverage must be in [0, 1], got " +
                                   std::to_string(o.min_clip_coverage));
  }
  if (RoundFrames(o.clip_seconds, fps) < 1 || RoundFrames(o.stride_seconds, fps) < 1) {
    return Status::InvalidArgument(
        "--clip-seconds and --clip-stride must each span at least one sampled frame at " +
        std::to_string(fps) + " fps");
  }
  return Status::Ok();
}

ClipWindower::ClipWindower(double sampled_fps, const ClipOptions& options)
    : fps_(sampled_fps),
      options_(options),
      frames_per_clip_(std::max(1, RoundFrames(options.clip_seconds, sampled_fps))),
      stride_frames_(std::max(1, RoundFrames(options.stride_seconds, sampled_fps))) {}

Clip ClipWindower::MakeClip(int64_t first, int real) {
  Clip c;
  c.span.index = next_index_++;
  c.span.start_sec = first / fps_;
  c.span.end_sec = (first + real) / fps_;
  c.real_frames = real;
  c.frames.reserve(frames_per_clip_);
  for (int i = 0; i < real; ++i) c.frames.push_back(window_[first - window_start_ + i]);
  while (static_cast<int>(c.frames.size()) < frames_per_clip_) c.frames.push_back(c.frames.back());
  covered_until_ = first + real;
  return c;
}

void ClipWindower::Add(FramePtr frame, std::vector<Clip>* out) {
  window_.push_back(std::move(frame));
  ++frames_seen_;
  while (next_clip_start_ + frames_per_clip_ <= frames_seen_) {
    out->push_back(MakeClip(next_clip_start_, frames_per_clip_));
    next_clip_start_ += stride_frames_;
  }
  // Frames before the next clip's start are no longer needed.
  while (window_start_ < next_clip_start_ && !window_.empty()) {
    window_.pop_front();
    ++window_start_;
  }
}

void ClipWindower::Finish(std::vector<Clip>* out) {
  if (frames_seen_ <= covered_until_ || next_clip_start_ >= frames_seen_) return;
  int real = static_cast<int>(frames_seen_ - next_clip_start_);
  double coverage = static_cast<double>(real) / frames_per_clip_;
  if (coverage + 1e-9 >= options_.min_clip_coverage && real > 0) {
    out->push_back(MakeClip(next_clip_start_, real));
  }
  window_.clear();
}

}  // namespace sopilot
