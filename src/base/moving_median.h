// MovingMedians: the median of each of a series of windows over one
// sequence of values, where the windows slide forward (a clip's
// neighbourhood, clip after clip).
//
// The direct way, a copy and std::nth_element per window, costs the
// window's length for every position: scoring a 10-minute video with five
// typed steps took 16.8 s, 91 % of it there. Here each value enters and
// leaves one sorted buffer once (bench/score_bench has both).
#pragma once

#include <span>
#include <vector>

namespace sopilot {

// Positions [begin, end) of the values.
struct IndexWindow {
  int begin = 0;
  int end = 0;
};

// For each window, the value at position size/2 of its values in sorted
// order: for an even count the upper of the two middle values, the value
// std::nth_element puts at size/2 (so a caller that used it gets the same
// numbers bit for bit). An empty window (end <= begin) gives 0. Window ends
// are clamped to the values. Windows that slide forward (begin and end never
// decrease) cost O(w) each at worst, in memory moves; a window that steps
// back is computed afresh. NaNs are left out (the median of the window's
// other values; NaN when it holds nothing else). A pure function: safe from
// any number of threads.
std::vector<float> MovingMedians(std::span<const float> values, std::span<const IndexWindow> windows);

}  // namespace sopilot
