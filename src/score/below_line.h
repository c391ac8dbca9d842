// Where does a run of clips look unlike its step? A trainee clip's
// similarity to its gold step wanders around its level from clip to clip;
// a step done wrongly holds it below a line (the execution_deviation level,
// doc/scoring.md section 5) for a while. Clips overlap (a 2 s clip every
// 0.5 s), so a finding rests on a window of consecutive clips, judged by
// its mean: a step whose clips sit at the line, some a hair above it, is
// below it as a whole, as a person watching would say.
#pragma once

#include <vector>

namespace sopilot {

// A stretch of consecutive clips, as indices into the sequence given.
struct ClipStretch {
  int first = 0, last = 0;  // inclusive
  double mean = 0;          // mean similarity over [first, last]
};

// The stretches of `sims` (one step's consecutive clips, in order) that lie
// below `line`: the union of every window of `min_clips` consecutive clips
// whose mean is below the line, merged where windows overlap or touch, then
// trimmed to start and end on a clip below the line. A stretch is kept when
// it still holds at least `min_clips` clips and its mean is below the line.
// A sequence shorter than min_clips has no window and no stretch. So a run
// of min_clips clips all below the line is always found (as it was when
// every clip had to be), and one clip far below among clips at the level
// is not. min_clips < 1 is taken as 1.
std::vector<ClipStretch> StretchesBelowLine(const std::vector<double>& sims, double line, int min_clips);

}  // namespace sopilot
