// Coarsening: the bound on one score's work. Scoring holds several
// gold × trainee matrices (similarities, costs, the alignment's traceback),
// about 20 bytes per pair of clips; two one-hour videos at the default
// 0.5 s stride are 52 million pairs. When the pairs exceed a bound, runs of
// k consecutive clips of both videos are merged into one clip each (the
// normalised mean of their vectors, spanning the first's start to the last's
// end), with k the smallest factor that fits: the two videos then look as if
// they had been ingested with a k times longer stride. Time codes stay in
// seconds; they are only coarser.
#pragma once

#include <cstdint>

#include "embed/embedding_set.h"

namespace sopilot {

// The smallest k >= 1 with ceil(gold/k) * ceil(trainee/k) <= max_pairs
// (max_pairs <= 0: no bound, 1).
int CoarsenFactor(int64_t gold_clips, int64_t trainee_clips, int64_t max_pairs);

// `set` with each run of `k` consecutive clips merged into one (the last run
// may be shorter); sampling.clip_stride_sec becomes k times longer and
// sampling.clip_seconds (k - 1) strides longer. k <= 1 returns a copy.
EmbeddingSet Coarsened(const EmbeddingSet& set, int k);

}  // namespace sopilot
