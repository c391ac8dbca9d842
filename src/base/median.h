// The median of a sample, as every scoring rule and report uses it.
#pragma once

#include <vector>

namespace sopilot {

// The middle value of `v`; for an even count, the mean of the two middle
// values. 0 for an empty sample (callers that must tell "no data" apart
// check for emptiness first). Takes `v` by value: it is reordered.
double Median(std::vector<double> v);

}  // namespace sopilot
