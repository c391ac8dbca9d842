// EvaluateSop: gold and trainee embeddings in, a ScoreReport out.
//
//  1. Gold steps: the user's (a steps file) or found by step_segmenter.
//  2. Trainee segments: step_matcher labels every trainee clip with a step
//     or "none", order-free.
//  3. Per gold step, its main trainee segment (the strongest; among repeats,
//     the one that keeps the gold order), then the deviations:
//     step_missing     no segment of the step (or one too short to count);
//     order_swap       two consecutive gold steps whose segments are in the
//                      opposite order;
//     over_time        a segment longer than (1 + tolerance) x the gold step
//                      and at least min_over_seconds longer (the last segment
//                      of the video is exempt: the camera may run on after the
//                      work is done);
//     execution_deviation  a stretch of the segment (at least
//                      min_deviation_seconds) whose similarity to the step
//                      falls well below the video's typical match, measured
//                      against how alike different gold steps are; or a
//                      step done in under 60% of its gold time (part of it
//                      skipped; first and last steps exempt);
//     extra_segment    trainee time matching no step, or a step repeated.
//  4. score = 100 - sum of penalties (weight of the type x magnitude in
//     (0, 1]), clamped to [0, 100]; verdict by the pass/review thresholds.
#pragma once

#include <vector>

#include "base/status.h"
#include "embed/embedding_set.h"
#include "score/score_options.h"
#include "score/score_report.h"

namespace sopilot {

// Fails when the two sets cannot be compared (different models, dimensions
// or clip settings; no clips) or a user step lies outside the gold video.
Result<ScoreReport> EvaluateSop(const EmbeddingSet& gold, const EmbeddingSet& trainee,
                                const ScoreOptions& options,
                                const std::vector<StepSpec>* user_steps = nullptr);

}  // namespace sopilot
