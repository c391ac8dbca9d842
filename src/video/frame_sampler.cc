#include "video/frame_sampler.h"

#include <algorithm>
#include <cmath>

namespace sopilot {

namespace {
// Timebases such as Matroska's 1 ms round timestamps; 2 ms is below half a
// frame interval up to 240 fps.
constexpr double kToleranceSec = 0.002;
}  // namespace

FrameSampler::FrameSampler(double target_fps) : fps_(target_fps) {}

int64_t FrameSampler::TakeSamplesBefore(double limit_sec) {
  // Smallest k with k / fps >= limit - tol is ceil((limit - tol) * fps).
  double x = (limit_sec - kToleranceSec) * fps_;
  int64_t end = static_cast<int64_t>(std::ceil(x - 1e-9));
  end = std::max(end, next_sample_);
  int64_t n = end - next_sample_;
  next_sample_ = end;
  return n;
}

int64_t FrameSampler::OnFrame(double pts_sec) {
  if (!have_frame_) {
    have_frame_ = true;
    last_pts_ = pts_sec;
    return 0;
  }
  pts_sec = std::max(pts_sec, last_pts_);
  last_pts_ = pts_sec;
  return TakeSamplesBefore(pts_sec);
}

int64_t FrameSampler::OnEnd(double end_sec) {
  if (!have_frame_) return 0;
  // The last frame shows for at least one sample, however short its duration.
  int64_t n = TakeSamplesBefore(std::max(end_sec, last_pts_ + kToleranceSec + 1e-6));
  if (n == 0 && next_sample_ == 0) {
    next_sample_ = 1;
    return 1;
  }
  return n;
}

}  // namespace sopilot
