// FrameSampler: picks frames at a fixed rate by presentation timestamp.
//
// Sample k stands for time t_k = k / target_fps (from the first frame). Its
// picture is the frame on screen at t_k: the last frame whose timestamp is at
// or before t_k (with a 2 ms tolerance for timebase rounding). So a variable
// frame rate is handled, a slow source repeats frames, and a fast source skips
// frames, and sample k always shows time t_k. The sampler sees timestamps
// only; the decoder keeps the previous frame until the sampler says how many
// samples it supplies.
#pragma once

#include <cstdint>

namespace sopilot {

class FrameSampler {
 public:
  explicit FrameSampler(double target_fps);

  // A frame with timestamp `pts_sec` (relative to the first frame, which is
  // 0) arrived. Returns how many samples the *previous* frame supplies; 0 for
  // the first frame. Timestamps that go backwards are treated as equal to the
  // previous one.
  int64_t OnFrame(double pts_sec);

  // The stream ended at `end_sec` (the last frame's timestamp plus its
  // duration). Returns how many samples the last frame supplies.
  int64_t OnEnd(double end_sec);

  int64_t samples_emitted() const { return next_sample_; }
  double target_fps() const { return fps_; }

 private:
  // Number of samples k >= next_sample_ with t_k < limit_sec - tolerance.
  int64_t TakeSamplesBefore(double limit_sec);

  double fps_;
  bool have_frame_ = false;
  double last_pts_ = 0;
  int64_t next_sample_ = 0;
};

}  // namespace sopilot
