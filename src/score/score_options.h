// ScoreOptions: every knob of the step engine and the score, with defaults
// that hold across procedures (none is tuned to one video).
#pragma once

#include <cstdint>

#include <string>
#include <vector>

#include "base/status.h"

namespace sopilot {

struct ScoreWeights {
  // Points one deviation of each type costs at full magnitude; the names
  // follow the original's SOPILOT_WEIGHT_* variables.
  double miss = 35;   // SOPILOT_WEIGHT_MISS: a gold step not done
  double swap = 20;   // SOPILOT_WEIGHT_SWAP: two steps in the wrong order
  double dev = 20;    // SOPILOT_WEIGHT_DEV: a step done visibly unlike the gold
  double time = 15;   // SOPILOT_WEIGHT_TIME: a step over its time tolerance
  double extra = 12;  // SOPILOT_WEIGHT_EXTRA: trainee time matching no gold step, or a step done again
};

struct ScoreOptions {
  ScoreWeights weights;
  // verdict: pass when score >= pass_score, needs_review when >= review_score.
  double pass_score = 90;    // SOPILOT_PASS_SCORE
  double review_score = 60;  // SOPILOT_REVIEW_SCORE
  // over_time: a step taking more than (1 + tolerance) x its gold duration and
  // at least min_over_seconds more. SOPILOT_TIME_TOLERANCE.
  double time_tolerance = 0.15;
  double min_over_seconds = 1.0;
  // A step done in less than min_time_fraction x its gold duration (and at
  // least min_rushed_seconds less) is an execution_deviation: part of it was
  // probably skipped — or two gold steps the embedder cannot tell apart were
  // merged and one of them is missing (then the step takes about half its
  // gold time, hence 0.6 rather than 0.5). The first and last gold steps are
  // exempt (idle time before and after the work). 0 turns it off.
  // SOPILOT_MIN_TIME_FRACTION.
  double min_time_fraction = 0.6;
  double min_rushed_seconds = 2.0;

  // Gold segmentation: a boundary is a peak of the distance between the clip
  // ending and the clip starting at a time, at least min_boundary_prominence
  // (cosine distance) above both valleys beside it, boundary_peak_ratio times
  // the lower valley and boundary_shoulder_ratio times the higher one.
  double min_boundary_prominence = 0.02;
  double boundary_peak_ratio = 2.0;
  double boundary_shoulder_ratio = 1.25;
  // Steps shorter than this are not split off (0 = one clip length).
  double min_step_seconds = 0;

  // execution_deviation: a clip is unlike its step when its similarity falls
  // below typical - deviation_fraction x (typical - other-step similarity),
  // for at least min_deviation_seconds in a row, counted a clip stride per
  // clip (0 = one clip length: overlapping clips share frames, and a finding
  // rests on a clip's length of frames of their own). A step too short for
  // that many clips wholly inside it: all of them, and at least two.
  double deviation_fraction = 0.5;
  double min_deviation_seconds = 0;
  // extra_segment: unexplained or repeated trainee time longer than this
  // (0 = one clip length plus one stride: shorter runs are the blur between
  // two steps).
  double min_extra_seconds = 0;

  // The bound on one score's work (score/coarsen.h): past this many gold ×
  // trainee clip pairs, runs of clips are merged until it fits. 16 million
  // pairs is two 33-minute videos at the default stride, about 320 MB.
  // SOPILOT_MAX_SCORE_PAIRS; 0 lifts the bound.
  int64_t max_pairs = 16'000'000;
};

// Ranges; lists every problem, one per line.
Status ValidateScoreOptions(const ScoreOptions& options);

// Reads the SOPILOT_* variables named above into `options`; unparsable values
// are errors (the original silently fell back to defaults).
Status ScoreOptionsFromEnvironment(ScoreOptions* options);

}  // namespace sopilot
