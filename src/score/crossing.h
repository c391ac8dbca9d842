// Where does one step turn into the next? Clips that straddle a change hold
// some of both, so the difference of their similarities to the two steps
// goes from positive to negative; the change is where it crosses zero,
// interpolated between clip centres. Used for gold and trainee boundaries
// alike, so that a video compared with itself gets the same boundaries.
#pragma once

#include <functional>
#include <vector>

#include "video/clip_windower.h"

namespace sopilot {

// The middle of a clip: where a clip's similarity is taken to stand in time.
inline double ClipCentre(const ClipSpan& c) { return 0.5 * (c.start_sec + c.end_sec); }

// The first zero crossing (positive to negative) of f over clips [lo, hi],
// as a time between clip centres; `fallback` when f does not cross.
double CrossingTime(const std::vector<ClipSpan>& clips, int lo, int hi, const std::function<double(int)>& f,
                    double fallback);

}  // namespace sopilot
