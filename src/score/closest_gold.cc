#include "score/closest_gold.h"

#include <algorithm>
#include <numeric>
#include <tuple>

namespace sopilot {

std::vector<size_t> RankGoldCandidates(const std::vector<GoldCandidate>& candidates) {
  std::vector<size_t> order(candidates.size());
  std::iota(order.begin(), order.end(), size_t{0});
  // A strict weak order on (scored, score, preferred, -id): ids are
  // distinct, so the ranking never depends on the input's order.
  auto key = [&](size_t i) {
    const GoldCandidate& c = candidates[i];
    return std::make_tuple(c.score.has_value(), c.score.value_or(0.0), c.score.has_value() && c.preferred,
                           -c.gold_video_id);
  };
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key(a) > key(b); });
  return order;
}

}  // namespace sopilot
