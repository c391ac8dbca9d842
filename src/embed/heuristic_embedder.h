// HeuristicEmbedder: the original's "heuristic-v1" clip features, 904 floats.
//
// Layout (original-core.md §4.1), on x = RGB / 255 over the clip's T frames:
//   0-2 mean RGB, 3-5 std RGB, 6-8 mean of the second half minus the first,
//   9-10 gray mean/std (gray = (R+G+B)/3), 11-13 mean/std/max of |gray
//   difference| between consecutive frames, 14-15 mean/std over frames of the
//   Canny(80, 160) edge density, 16-39 8-bin density histograms of R, G, B,
//   40-471 the frames' mean resized to 16x9 (INTER_AREA, y-x-c order),
//   472-903 the last frame minus the first at 16x9. Then L2-normalised.
//
// Every feature is a sum over frames (or consecutive frame pairs), so per-frame
// results are computed once and reused by every overlapping clip: the cost is
// per sampled frame, not per clip.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>

#include "embed/embedder.h"

namespace sopilot {

class HeuristicEmbedder : public Embedder {
 public:
  static constexpr int kDim = 904;
  static constexpr const char* kName = "heuristic-v1";

  HeuristicEmbedder();
  ~HeuristicEmbedder() override;

  std::string name() const override { return kName; }
  int dim() const override { return kDim; }
  Status Embed(const Clip& clip, float* out) override;

  struct FrameStats;
  struct PairStats;

 private:
  const FrameStats& StatsOf(const Frame& f);
  const PairStats& PairOf(const Frame& a, const Frame& b);

  std::unordered_map<int64_t, std::unique_ptr<FrameStats>> frame_cache_;
  std::unordered_map<int64_t, std::unique_ptr<PairStats>> pair_cache_;  // keyed by the later frame
};

}  // namespace sopilot
