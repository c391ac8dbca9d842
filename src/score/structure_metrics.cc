#include "score/structure_metrics.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "base/median.h"

namespace sopilot {

namespace {
constexpr double kLowSimilarityFloor = 0.75;  // the original's low_similarity_threshold
constexpr double kAdaptiveMargin = 0.01;      // STRUCT_ADAPTIVE_MARGIN

}  // namespace

std::vector<std::pair<std::string, double>> StructureMetrics(const FloatMatrix& s,
                                                             const std::vector<AlignedPair>& path,
                                                             int miss, int swap) {
  const int m = s.rows, n = s.cols;
  // Per gold clip, its best trainee clip (first maximum wins).
  std::vector<int> best_idx(m);
  std::vector<double> best(m);
  for (int i = 0; i < m; ++i) {
    int arg = 0;
    for (int j = 1; j < n; ++j) {
      if (s.at(i, j) > s.at(i, arg)) arg = j;
    }
    best_idx[i] = arg;
    best[i] = s.at(i, arg);
  }
  std::set<int> unique(best_idx.begin(), best_idx.end());
  double duplicate_ratio = double(m - static_cast<int>(unique.size())) / std::max(1, m);
  int violations = 0;
  for (int i = 1; i < m; ++i) violations += best_idx[i] < best_idx[i - 1];
  double order_violation_ratio = double(violations) / std::max(1, m - 1);
  double drift = 0;
  for (int i = 0; i < m; ++i) {
    double lin = m > 1 ? double(i) * std::max(n - 1, 0) / (m - 1) : 0.0;
    drift += std::abs(best_idx[i] - lin);
  }
  double temporal_drift = m ? drift / m / std::max(1, n - 1) : 1.0;
  double mean_best = 0;
  for (double b : best) mean_best += b;
  mean_best = m ? mean_best / m : 0;
  double confidence_loss = std::max(0.0, 1.0 - mean_best);
  double med = Median(best);
  double local_similarity_gap = m ? std::max(0.0, med - *std::min_element(best.begin(), best.end())) : 1.0;
  double adaptive = std::max(kLowSimilarityFloor, med - kAdaptiveMargin);
  int hard = 0;
  for (double b : best) hard += b < adaptive;
  double hard_miss_ratio = m ? double(hard) / m : 1.0;

  int low = 0;
  double warp = 0, cost = 0;
  for (const AlignedPair& p : path) {
    low += p.similarity < adaptive;
    warp += std::abs(double(p.gold) / std::max(1, m - 1) - double(p.trainee) / std::max(1, n - 1));
    cost += 1.0 - p.similarity;
  }
  const double len = static_cast<double>(path.size());
  double deviation = double(low) / std::max(1.0, len);
  double temporal_warp = path.empty() ? 1.0 : warp / len;
  double path_stretch = std::max(0.0, len - std::max(m, n)) / std::max(1, std::max(m, n));
  double over_time = double(std::max(0, n - m)) / std::max(1, m);
  double mean_alignment_cost = path.empty() ? 1.0 : cost / len;
  return {{"miss", miss},
          {"swap", swap},
          {"deviation", deviation},
          {"over_time", over_time},
          {"temporal_warp", temporal_warp},
          {"path_stretch", path_stretch},
          {"duplicate_ratio", duplicate_ratio},
          {"order_violation_ratio", order_violation_ratio},
          {"temporal_drift", temporal_drift},
          {"confidence_loss", confidence_loss},
          {"local_similarity_gap", local_similarity_gap},
          {"adaptive_low_similarity_threshold", adaptive},
          {"effective_low_similarity_threshold", adaptive},
          {"hard_miss_ratio", hard_miss_ratio},
          {"mean_alignment_cost", mean_alignment_cost}};
}

}  // namespace sopilot
