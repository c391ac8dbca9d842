#include "score/alike_runs.h"

#include <algorithm>
#include <cstdlib>

namespace sopilot {

AlikeRuns::AlikeRuns(const std::vector<bool>& alike_next, int step_count) {
  const int n = std::max(0, step_count);
  alike_next_.assign(n, false);
  for (int k = 0; k + 1 < n && k < static_cast<int>(alike_next.size()); ++k) alike_next_[k] = alike_next[k];
  for (int k = 0; k < n; ++k) {
    if (k == 0 || !alike_next_[k - 1]) first_.push_back(k);
    run_of_.push_back(static_cast<int>(first_.size()) - 1);
  }
}

bool AlikeRuns::AlikeNext(int k) const { return k >= 0 && k < step_count() && alike_next_[k]; }

bool AlikeRuns::AlikeNeighbours(int a, int b) const { return std::abs(a - b) == 1 && AlikeNext(std::min(a, b)); }

}  // namespace sopilot
