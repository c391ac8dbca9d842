// MotionEmbedder: "motion-v1", what moves where in the picture.
//
// Between each two consecutive sampled frames, dense optical flow
// (Farneback, on grey frames shrunk to at most kFlowSide pixels) is turned
// into orientation histograms: 8 directions x a 4 x 4 grid of the picture,
// each vector adding its length to its cell's bin, divided by the cell's
// pixel count (kDim = 128). A clip is the mean over its frame pairs, square-
// rooted (so that one fast motion does not drown the rest) and
// L2-normalised. A clip where nothing moves is all zero.
//
// Why: on real footage of one workbench every step has the same colours and
// place; what differs is what the hands do. Flow does not see a lamp's
// brightness or colour, so it is also steady across camera days. Per frame
// pair the work is done once and reused by every overlapping clip.
//
// Thread safety: none; one instance per ingest.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <unordered_map>

#include "embed/embedder.h"

namespace sopilot {

class MotionEmbedder : public Embedder {
 public:
  static constexpr int kGrid = 4;
  static constexpr int kBins = 8;
  static constexpr int kDim = kGrid * kGrid * kBins;
  static constexpr int kFlowSide = 160;
  static constexpr const char* kName = "motion-v1";

  MotionEmbedder();
  ~MotionEmbedder() override;
  std::string name() const override { return kName; }
  int dim() const override { return kDim; }
  Status Embed(const Clip& clip, float* out) override;

 private:
  struct PairHistogram {
    int64_t earlier_id = -1;
    std::array<float, kDim> bins{};
  };
  const PairHistogram& PairOf(const Frame& a, const Frame& b);
  const cv::Mat& GreyOf(const Frame& f);

  std::unordered_map<int64_t, cv::Mat> grey_cache_;                         // by frame id
  std::unordered_map<int64_t, std::unique_ptr<PairHistogram>> pair_cache_;  // by the later frame's id
};

}  // namespace sopilot
