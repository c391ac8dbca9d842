// Drop-DTW: DTW that may leave clips out, in the spirit of Drop-DTW
// (Dvornik et al., NeurIPS 2021), with drops allowed on both sides.
//
// A trainee clip may be dropped (idle time, walking away, an unrelated
// action) instead of being forced onto some gold clip, and a gold clip may be
// dropped (a skipped step, no counterpart in the trainee video). Precisely:
// choose any subset of gold clips and any subset of trainee clips to drop,
// then DTW-align what is left (symmetric steps, weights 1, as align/dtw.h);
// the cost is the alignment's sum of cell costs plus gold_drop per dropped
// gold clip plus trainee_drop per dropped trainee clip. Either both kept parts
// are empty (everything dropped) or both are non-empty. The optimum over all
// such choices is found exactly by a DP over four states per cell (O(m·n)
// time). Dropping at the ends makes the alignment open-begin/open-end, so
// there are no such options here.
//
// With both drop costs +inf this is exactly AlignDtw / AlignDtwFromCost,
// path and ties included.
//
// Ties, by exact comparison: keeping a pair beats dropping; dropping a gold
// clip beats dropping a trainee clip; among match moves diagonal beats up
// (gold advances) beats left (trainee advances); and when a trainee (gold)
// clip repeats across dropped gold (trainee) clips, the fewest drops win.
//
// Memory: the full m×n float cost plus one traceback byte per cell, 5 bytes
// per cell in all (3000 × 3000 clips ≈ 45 MB). There is no linear-memory mode:
// the percentile drop cost needs the whole cost matrix anyway, and the inputs
// here are at most a few thousand clips.
#pragma once

#include <vector>

#include "align/alignment.h"
#include "base/matrix.h"
#include "base/status.h"

namespace sopilot {

// What dropping one clip costs.
struct DropCost {
  enum class Kind {
    kConstant,    // value is the cost itself: >= 0, may be +inf (never drop)
    kPercentile,  // value is p in [0, 100]: the p-th percentile of all m·n
                  // cells of the cost matrix, interpolated linearly between
                  // order statistics (numpy's default), as the paper does
  };
  Kind kind = Kind::kPercentile;
  double value = 10.0;

  static DropCost Constant(double cost) { return DropCost{Kind::kConstant, cost}; }
  static DropCost Percentile(double p) { return DropCost{Kind::kPercentile, p}; }
};

struct DropDtwOptions {
  // Untuned starting point. A percentile drop cost separates good matches
  // from outliers only if p stays below the share of gold/trainee pairs that
  // show the same step (about 100/S percent for S steps of similar length);
  // above it, an idle clip's best match usually beats the drop cost.
  DropCost gold_drop = DropCost::Percentile(10.0);
  DropCost trainee_drop = DropCost::Percentile(10.0);
};

struct DropDtwAlignment {
  std::vector<AlignedPair> path;     // matched pairs, monotone (see Alignment)
  std::vector<int> dropped_gold;     // ascending gold clip indices
  std::vector<int> dropped_trainee;  // ascending trainee clip indices
  double gold_drop_cost = 0.0;       // the per-clip drop costs used
  double trainee_drop_cost = 0.0;
  double match_cost = 0.0;           // sum of the matched pairs' costs
  double total_cost = 0.0;           // match_cost plus all drop costs
};

// Fails with InvalidArgument on empty, malformed or non-finite input,
// mismatched widths, or a drop cost that is negative, NaN, or a percentile
// outside [0, 100].
Result<DropDtwAlignment> AlignDropDtw(const FloatMatrix& gold, const FloatMatrix& trainee,
                                      const DropDtwOptions& options = {});

// The same over a precomputed cost (rows = gold clips, columns = trainee
// clips; any finite values).
Result<DropDtwAlignment> AlignDropDtwFromCost(const FloatMatrix& cost,
                                              const DropDtwOptions& options = {});

// The p-th percentile (0..100) of the cost's cells, numpy-style linear
// interpolation. Exposed for tests and for callers choosing a constant.
Result<double> CostPercentile(const FloatMatrix& cost, double p);

}  // namespace sopilot
