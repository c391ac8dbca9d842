// The Python original's 15 result metrics (original-core.md §10-§12), kept so
// that its users' dashboards and scripts keep working. They are reported, not
// scored: SOPilot's score is the sum of deviation penalties.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "align/alignment.h"
#include "base/matrix.h"

namespace sopilot {

// `similarity` is gold x trainee cosine; `path` a monotone alignment; `miss`
// and `swap` the counts of step_missing and order_swap deviations. Returns
// the metrics in the original's key order.
std::vector<std::pair<std::string, double>> StructureMetrics(const FloatMatrix& similarity,
                                                             const std::vector<AlignedPair>& path,
                                                             int miss, int swap);

}  // namespace sopilot
