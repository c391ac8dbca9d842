#include "score/comparison_space.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "align/cost_matrix.h"
#include "base/median.h"
#include "base/moving_median.h"

namespace sopilot {

namespace {

// Rows minus their mean row; the median row norm of the result (rows were unit).
FloatMatrix Centre(const FloatMatrix& m, double* median_spread) {
  FloatMatrix out = m;
  std::vector<double> mean(m.cols, 0.0);
  for (int i = 0; i < m.rows; ++i) {
    const float* r = m.row(i);
    for (int j = 0; j < m.cols; ++j) mean[j] += r[j];
  }
  for (double& x : mean) x /= std::max(1, m.rows);
  std::vector<double> norms;
  for (int i = 0; i < m.rows; ++i) {
    float* r = out.row(i);
    double n = 0;
    for (int j = 0; j < m.cols; ++j) {
      r[j] = static_cast<float>(r[j] - mean[j]);
      n += static_cast<double>(r[j]) * r[j];
    }
    norms.push_back(std::sqrt(n));
  }
  *median_spread = Median(std::move(norms));
  return out;
}

bool ShareTime(const ClipSpan& a, const ClipSpan& b) {
  return a.start_sec < b.end_sec - 1e-6 && b.start_sec < a.end_sec - 1e-6;
}

}  // namespace

ComparisonSpace MakeComparisonSpace(const FloatMatrix& gold, const FloatMatrix& trainee) {
  ComparisonSpace s;
  double gold_spread = 0, trainee_spread = 0;
  FloatMatrix g = Centre(gold, &gold_spread);
  FloatMatrix t = Centre(trainee, &trainee_spread);
  if (gold_spread < kStaticSpread) {
    s.gold = gold;
    s.trainee = trainee;
    return s;
  }
  NormalizeRows(&g);
  if (trainee_spread < kStaticSpread) {
    // Nothing is left of a still trainee but its sensor's noise, which
    // would match the gold's steps at random: none of them happens in it.
    std::fill(t.data.begin(), t.data.end(), 0.0f);
    s.trainee_still = true;
  } else {
    NormalizeRows(&t);
  }
  s.gold = std::move(g);
  s.trainee = std::move(t);
  s.centred = true;
  return s;
}

namespace {

// Rows minus the median of their window, dimension by dimension.
FloatMatrix CentreLocally(const FloatMatrix& m, const std::vector<ClipSpan>& clips, double window_sec) {
  FloatMatrix out = m;
  const int n = m.rows, d = m.cols;
  auto centre = [&](int i) { return 0.5 * (clips[i].start_sec + clips[i].end_sec); };
  std::vector<IndexWindow> windows(n);
  int lo = 0, hi = 0;
  for (int i = 0; i < n; ++i) {
    while (lo < n && centre(lo) < centre(i) - window_sec) ++lo;
    while (hi < n && centre(hi) <= centre(i) + window_sec) ++hi;
    windows[i] = {lo, hi};
  }
  std::vector<float> column(n);  // one dimension's values, clip by clip
  for (int k = 0; k < d; ++k) {
    for (int i = 0; i < n; ++i) column[i] = m.at(i, k);
    const std::vector<float> medians = MovingMedians(column, windows);
    for (int i = 0; i < n; ++i) out.at(i, k) -= medians[i];
  }
  return out;
}

// `centred` (rows of `raw` minus their local medians) plus `raw`'s mean
// row, L2-normalised: the video as given, its light levelled.
FloatMatrix Levelled(const FloatMatrix& centred, const FloatMatrix& raw) {
  std::vector<double> mean(raw.cols, 0.0);
  for (int i = 0; i < raw.rows; ++i) {
    for (int k = 0; k < raw.cols; ++k) mean[k] += raw.at(i, k);
  }
  FloatMatrix out = centred;
  for (int i = 0; i < out.rows; ++i) {
    for (int k = 0; k < out.cols; ++k) out.at(i, k) += static_cast<float>(mean[k] / std::max(1, raw.rows));
  }
  NormalizeRows(&out);
  return out;
}

bool LongerThan(const std::vector<ClipSpan>& clips, double seconds) {
  return !clips.empty() && clips.back().end_sec - clips.front().start_sec > seconds;
}

// The local space beside `whole` (MakeComparisonSpace of the same videos);
// none where it would be `whole` again: a static video (a still trainee has
// nothing to level), or both videos no longer than two windows.
std::optional<ComparisonSpace> LocalSpace(const ComparisonSpace& whole, const FloatMatrix& gold,
                                          const std::vector<ClipSpan>& gold_clips, const FloatMatrix& trainee,
                                          const std::vector<ClipSpan>& trainee_clips, double window_sec) {
  if (!whole.centred || whole.trainee_still || window_sec <= 0 || static_cast<int>(gold_clips.size()) != gold.rows ||
      static_cast<int>(trainee_clips.size()) != trainee.rows) {
    return std::nullopt;
  }
  const bool gold_long = LongerThan(gold_clips, 2 * window_sec);
  const bool trainee_long = LongerThan(trainee_clips, 2 * window_sec);
  if (!gold_long && !trainee_long) return std::nullopt;
  ComparisonSpace local;
  local.centred = true;
  // One video: centred over its windows and levelled, or, too short for
  // two windows, as the whole space has it.
  auto side = [&](const FloatMatrix& raw, const std::vector<ClipSpan>& clips, bool long_enough,
                  const FloatMatrix& centred_whole, FloatMatrix* centred, FloatMatrix* levelled) {
    if (!long_enough) {
      *centred = centred_whole;
      return;
    }
    *centred = CentreLocally(raw, clips, window_sec);
    *levelled = Levelled(*centred, raw);
    NormalizeRows(centred);
  };
  side(gold, gold_clips, gold_long, whole.gold, &local.gold, &local.gold_levelled);
  side(trainee, trainee_clips, trainee_long, whole.trainee, &local.trainee, &local.trainee_levelled);
  return local;
}

// The median over the trainee's clips (columns of `cost`, 1 - cosine, gold x
// trainee) of their least cost; 1 for an empty matrix.
double MedianLeastCost(const FloatMatrix& cost) {
  if (cost.rows == 0 || cost.cols == 0) return 1.0;
  std::vector<double> mismatch(cost.cols, std::numeric_limits<double>::infinity());
  for (int g = 0; g < cost.rows; ++g) {
    const float* r = cost.row(g);
    for (int t = 0; t < cost.cols; ++t) mismatch[t] = std::min(mismatch[t], static_cast<double>(r[t]));
  }
  return Median(std::move(mismatch));
}

}  // namespace

double LocalWindowSeconds(double step_sec, double longest_sec, double stride_sec) {
  const double window = 3 * step_sec;
  const double fitting = (longest_sec - step_sec) / 2;
  if (longest_sec <= 2 * window && fitting + stride_sec / 2 >= 1.5 * step_sec) return fitting;
  return window;
}

ComparisonSpace MakeLocalComparisonSpace(const FloatMatrix& gold, const std::vector<ClipSpan>& gold_clips,
                                         const FloatMatrix& trainee, const std::vector<ClipSpan>& trainee_clips,
                                         double window_sec) {
  ComparisonSpace whole = MakeComparisonSpace(gold, trainee);
  std::optional<ComparisonSpace> local = LocalSpace(whole, gold, gold_clips, trainee, trainee_clips, window_sec);
  return local ? std::move(*local) : whole;
}

double MedianMismatch(const ComparisonSpace& space) {
  Result<FloatMatrix> cost = CosineCostMatrix(space.gold, space.trainee);
  return cost.ok() ? MedianLeastCost(*cost) : 1.0;
}

ComparisonSpace ChooseComparisonSpace(const FloatMatrix& gold, const std::vector<ClipSpan>& gold_clips,
                                      const FloatMatrix& trainee, const std::vector<ClipSpan>& trainee_clips,
                                      double window_sec, FloatMatrix* cost) {
  ComparisonSpace whole = MakeComparisonSpace(gold, trainee);
  std::optional<ComparisonSpace> local = LocalSpace(whole, gold, gold_clips, trainee, trainee_clips, window_sec);
  if (!local) return whole;
  Result<FloatMatrix> whole_cost = CosineCostMatrix(whole.gold, whole.trainee);
  Result<FloatMatrix> local_cost = CosineCostMatrix(local->gold, local->trainee);
  if (!whole_cost.ok() || !local_cost.ok()) return whole;  // the caller's own cost matrix says why
  if (MedianLeastCost(*local_cost) < 0.5 * MedianLeastCost(*whole_cost)) {
    if (cost != nullptr) *cost = std::move(*local_cost);
    return std::move(*local);
  }
  if (cost != nullptr) *cost = std::move(*whole_cost);
  return whole;
}

void MarkZeroPairsAlike(const FloatMatrix& a, const FloatMatrix& b, FloatMatrix* similarity) {
  auto zero_rows = [](const FloatMatrix& m) {
    std::vector<int> out;
    for (int i = 0; i < m.rows; ++i) {
      const float* r = m.row(i);
      if (std::all_of(r, r + m.cols, [](float x) { return std::abs(x) < 1e-12f; })) out.push_back(i);
    }
    return out;
  };
  std::vector<int> za = zero_rows(a);
  if (za.empty()) return;
  std::vector<int> zb = zero_rows(b);
  for (int i : za) {
    for (int j : zb) similarity->at(i, j) = 1.0f;
  }
}

std::vector<double> SameStepSimilarity(const FloatMatrix& sim, const std::vector<ClipSpan>& clips,
                                       const std::vector<int>& step_of) {
  std::vector<double> out(clips.size(), std::numeric_limits<double>::quiet_NaN());
  for (size_t a = 0; a < clips.size(); ++a) {
    if (step_of[a] < 0) continue;
    for (size_t b = 0; b < clips.size(); ++b) {
      if (step_of[a] != step_of[b] || ShareTime(clips[a], clips[b])) continue;
      double v = sim.at(static_cast<int>(a), static_cast<int>(b));
      if (std::isnan(out[a]) || v > out[a]) out[a] = v;
    }
  }
  return out;
}

NeighbourSimilarity NeighbourStepSimilarity(const FloatMatrix& sim, const std::vector<ClipSpan>& clips,
                                            const std::vector<int>& step_of, int step_count) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  NeighbourSimilarity out;
  if (step_count < 2) return out;
  // best[a]: clip a's best match in the step after (toward) and before (back).
  std::vector<std::vector<double>> toward(step_count), back(step_count);
  for (size_t a = 0; a < clips.size(); ++a) {
    if (step_of[a] < 0) continue;
    double next = nan, prev = nan;
    for (size_t b = 0; b < clips.size(); ++b) {
      if (step_of[b] < 0 || ShareTime(clips[a], clips[b])) continue;
      double v = sim.at(static_cast<int>(a), static_cast<int>(b));
      if (step_of[b] == step_of[a] + 1 && (std::isnan(next) || v > next)) next = v;
      if (step_of[b] == step_of[a] - 1 && (std::isnan(prev) || v > prev)) prev = v;
    }
    if (!std::isnan(next)) toward[step_of[a]].push_back(next);
    if (!std::isnan(prev)) back[step_of[a]].push_back(prev);
  }
  auto median = [&](const std::vector<double>& v) { return v.empty() ? nan : Median(v); };
  for (int k = 0; k + 1 < step_count; ++k) {
    out.into_next.push_back(median(toward[k]));
    out.into_previous.push_back(median(back[k + 1]));
  }
  return out;
}

std::vector<int> CoreStepOfClip(const std::vector<ClipSpan>& clips, const std::vector<TimeSpan>& steps) {
  constexpr double kEpsilon = 1e-6;
  std::vector<int> out;
  for (const ClipSpan& c : clips) {
    int step = -1;
    for (size_t k = 0; k < steps.size() && step < 0; ++k) {
      if (c.start_sec >= steps[k].start_sec - kEpsilon && c.end_sec <= steps[k].end_sec + kEpsilon) {
        step = static_cast<int>(k);
      }
    }
    out.push_back(step);
  }
  return out;
}

std::vector<ShortStepSelf> ShortStepSelfSimilarity(const FloatMatrix& sim, const std::vector<ClipSpan>& clips,
                                                   const std::vector<int>& core_of, size_t step_count) {
  const std::vector<double> apart = SameStepSimilarity(sim, clips, core_of);
  std::vector<ShortStepSelf> out(step_count);
  std::vector<int> first(step_count, -1), last(step_count, -1);
  std::vector<bool> has_apart(step_count, false);
  for (size_t i = 0; i < clips.size(); ++i) {
    const int k = core_of[i];
    if (k < 0 || static_cast<size_t>(k) >= step_count) continue;
    if (first[k] < 0) first[k] = static_cast<int>(i);
    last[k] = static_cast<int>(i);
    if (!std::isnan(apart[i])) has_apart[k] = true;
  }
  for (size_t k = 0; k < step_count; ++k) {
    out[k].short_step = !has_apart[k];
    if (!has_apart[k] && first[k] >= 0 && last[k] > first[k]) out[k].value = sim.at(first[k], last[k]);
  }
  return out;
}

}  // namespace sopilot
