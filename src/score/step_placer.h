// Placing a known number of steps in the gold video.
//
// A supervisor usually knows the steps of the procedure (their names and
// order) without having timed them in the gold video. Given how many steps
// there are, the gold's clips are split into that many consecutive groups so
// that each group's clips lie as close as possible to their group's mean:
// the split with the least total squared distance, found exactly by dynamic
// programming. Nothing is tuned: no peak height, no threshold; the count
// replaces them. The vectors are the gold's own comparison space (each clip
// minus the gold's mean clip, re-normalised: comparison_space.h), where what
// is common to the whole recording does not hide what changes between steps.
//
// Thread-safe (pure functions). Cost: O(n^2 d) for n clips of d values and
// O(k n^2) for k steps; a gold of more than kMaxPlacedClips clips is placed
// on every m-th clip so that n stays under it.
#pragma once

#include <vector>

#include "base/matrix.h"
#include "base/status.h"
#include "score/step.h"
#include "video/clip_windower.h"

namespace sopilot {

inline constexpr int kMaxPlacedClips = 1600;

// The step_count - 1 boundary times (ascending) of the best split of `clips`
// into step_count groups of consecutive clips, each at least
// `min_step_seconds` long (in clip starts). `vectors` holds one row per clip,
// in time order, compared as given (callers pass the comparison space). A
// boundary lies halfway between the centres of the last clip of one group and
// the first of the next. Fails when step_count < 1 or the video is too short
// to hold that many steps.
Result<std::vector<double>> PlaceBoundaries(const FloatMatrix& vectors, const std::vector<ClipSpan>& clips,
                                            int step_count, double min_step_seconds);

// The user's steps (names and rules, no times) placed in the gold: each spec
// gets the gold time of its group. They cover the gold's work
// (FindWorkSpan, work_span.h): the first starts at 0 and the last ends at
// `duration_sec` unless the camera stood still before or after the work
// and the time between can hold every step. `gold` rows are the gold's
// embeddings, L2-normalised.
Result<std::vector<StepSpec>> PlaceSteps(const std::vector<StepSpec>& untimed, const FloatMatrix& gold,
                                         const std::vector<ClipSpan>& clips, double duration_sec,
                                         double min_step_seconds);

}  // namespace sopilot
