// EvaluateSop: gold and trainee embeddings in, a ScoreReport out. The rules
// and where each level comes from: doc/scoring.md.
//
//  1. Gold steps: the user's (a steps file) or found by step_segmenter; every
//     gold clip belongs to the step holding its centre.
//  2. Clips are compared with each video's mean removed (comparison_space),
//     so a camera's day-to-day changes do not count.
//  3. Trainee segments: step_matcher labels every trainee clip with a step or
//     "none" (not like the procedure: under half the gold's own same-step
//     similarity), following the gold order where the clips cannot tell.
//  4. Per gold step, its main trainee segment (the strongest; among repeats,
//     the one that keeps the gold order), then the deviations:
//     step_missing     no segment of the step long enough to count;
//     order_swap       two consecutive gold steps whose segments are in the
//                      opposite order;
//     over_time        a segment longer than (1 + tolerance) x the gold step
//                      and at least min_over_seconds longer (the last segment
//                      of the video is exempt: the camera may run on);
//     execution_deviation  a stretch of the segment (at least
//                      min_deviation_seconds, by default a clip's length of
//                      its clips' own frames) whose similarity falls below
//                      the trainee's typical match by more than the larger of
//                      half the gap to the other steps and the step's own
//                      variation in the gold; or a step done in under 60% of
//                      its gold time (first and last steps exempt);
//     extra_segment    trainee time matching no step, or a step repeated.
//     Time before the first step and after the last that matches no step is
//     reported as idle (ScoreReport::idle) and costs nothing.
//  5. score = 100 - sum of penalties (weight of the type x magnitude in
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
