#include "score/step_placer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "score/comparison_space.h"
#include "score/step_segmenter.h"
#include "score/work_span.h"

namespace sopilot {

Result<std::vector<double>> PlaceBoundaries(const FloatMatrix& v, const std::vector<ClipSpan>& clips,
                                            int step_count, double min_step_seconds) {
  if (step_count < 1) return Status::InvalidArgument("the number of steps must be at least 1");
  if (v.rows != static_cast<int>(clips.size())) {
    return Status::InvalidArgument("PlaceBoundaries: one vector per clip is needed");
  }
  if (step_count == 1) return std::vector<double>{};
  const int total = v.rows;
  // Every m-th clip, so that the O(n^2) tables stay small on long golds.
  const int m = std::max(1, (total + kMaxPlacedClips - 1) / kMaxPlacedClips);
  std::vector<int> at;
  for (int i = 0; i < total; i += m) at.push_back(i);
  const int n = static_cast<int>(at.size());
  double stride = n > 1 ? clips[at[1]].start_sec - clips[at[0]].start_sec : 0;
  int min_len = 1;
  if (stride > 0) min_len = std::max(1, static_cast<int>(std::ceil(min_step_seconds / stride - 1e-9)));
  if (static_cast<long long>(step_count) * min_len > n) {
    return Status::InvalidArgument("the gold video is too short to hold " + std::to_string(step_count) +
                                   " steps of at least " + std::to_string(min_step_seconds).substr(0, 4) +
                                   " s each");
  }

  // cost[a][b]: the clips a..b-1's squared distance to their mean,
  // sum |x|^2 - |sum x|^2 / (b - a), grown one clip at a time from each a.
  const int d = v.cols;
  std::vector<float> cost(static_cast<size_t>(n) * (n + 1), 0.0f);
  auto cost_at = [&](int a, int b) -> float& { return cost[static_cast<size_t>(a) * (n + 1) + b]; };
  std::vector<double> sum(d);
  for (int a = 0; a < n; ++a) {
    std::fill(sum.begin(), sum.end(), 0.0);
    double sum_sq = 0, norm_sq = 0;  // |sum x|^2 and sum |x|^2
    for (int b = a + 1; b <= n; ++b) {
      const float* x = v.row(at[b - 1]);
      double dot = 0, xx = 0;
      for (int j = 0; j < d; ++j) {
        dot += sum[j] * x[j];
        xx += static_cast<double>(x[j]) * x[j];
        sum[j] += x[j];
      }
      sum_sq += 2 * dot + xx;
      norm_sq += xx;
      cost_at(a, b) = static_cast<float>(std::max(0.0, norm_sq - sum_sq / (b - a)));
    }
  }

  // best[k][b]: the least cost of the first b clips in k groups.
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<std::vector<double>> best(step_count + 1, std::vector<double>(n + 1, inf));
  std::vector<std::vector<int>> from(step_count + 1, std::vector<int>(n + 1, -1));
  best[0][0] = 0;
  for (int k = 1; k <= step_count; ++k) {
    for (int b = k * min_len; b <= n; ++b) {
      for (int a = (k - 1) * min_len; a + min_len <= b; ++a) {
        if (best[k - 1][a] == inf) continue;
        double c = best[k - 1][a] + cost_at(a, b);
        if (c < best[k][b]) best[k][b] = c, from[k][b] = a;
      }
    }
  }
  std::vector<int> starts;  // the first clip (in `at`) of groups 2..k
  for (int k = step_count, b = n; k > 1; --k) {
    b = from[k][b];
    starts.push_back(b);
  }
  std::reverse(starts.begin(), starts.end());
  std::vector<double> out;
  for (int s : starts) {
    const ClipSpan& last = clips[at[s - 1]];
    const ClipSpan& first = clips[at[s]];
    out.push_back(0.25 * (last.start_sec + last.end_sec + first.start_sec + first.end_sec));
  }
  return out;
}

namespace {

Result<std::vector<StepSpec>> PlaceInWholeVideo(const std::vector<StepSpec>& untimed, const FloatMatrix& gold,
                                                const std::vector<ClipSpan>& clips, double duration_sec,
                                                double min_step_seconds) {
  const ComparisonSpace own = MakeComparisonSpace(gold, gold);
  SOPILOT_ASSIGN_OR_RETURN(std::vector<double> cuts,
                           PlaceBoundaries(own.gold, clips, static_cast<int>(untimed.size()), min_step_seconds));
  // Within the clips around each split, where one step turns into the next,
  // as found steps are placed. A split may be off by half a clip: clips that
  // straddle the change resemble neither step and the split gives them to
  // one side, so each step's clips are taken half a clip away from it.
  const double half_clip = 0.5 * (clips.front().end_sec - clips.front().start_sec);
  const std::vector<double> split = cuts;
  cuts = RefineBoundaries(gold, clips, std::move(cuts), duration_sec, half_clip);
  // Refining never makes a step shorter than the minimum the split kept:
  // where it would, the split stands.
  auto too_short = [&](const std::vector<double>& c) {
    double start = 0;
    for (size_t k = 0; k <= c.size(); ++k) {
      const double end = k < c.size() ? c[k] : duration_sec;
      if (end - start < min_step_seconds - 1e-6) return true;
      start = end;
    }
    return false;
  };
  if (too_short(cuts)) cuts = split;
  std::vector<StepSpec> out = untimed;
  double start = 0;
  for (size_t k = 0; k < out.size(); ++k) {
    double end = k < cuts.size() ? cuts[k] : duration_sec;
    out[k].gold_time = {start, end};
    out[k].timed = true;
    start = end;
  }
  return out;
}

}  // namespace

Result<std::vector<StepSpec>> PlaceSteps(const std::vector<StepSpec>& untimed, const FloatMatrix& gold,
                                         const std::vector<ClipSpan>& clips, double duration_sec,
                                         double min_step_seconds) {
  if (untimed.empty()) return Status::InvalidArgument("no steps to place");
  if (gold.rows == 0) return Status::InvalidArgument("the gold video has no clips");
  // The camera may have run before and after the work: that still time is
  // no step (work_span.h), and the steps are placed in the time between,
  // unless it cannot hold them all.
  const TimeSpan work = FindWorkSpan(gold, clips, duration_sec);
  if (work.start_sec > 0 || work.end_sec < duration_sec) {
    const VideoPart part = PartOfVideo(gold, clips, work);
    if (!part.clips.empty()) {
      auto placed = PlaceInWholeVideo(untimed, part.vectors, part.clips, part.duration_sec, min_step_seconds);
      if (placed.ok()) {
        for (StepSpec& s : *placed) {
          s.gold_time = {s.gold_time.start_sec + work.start_sec, s.gold_time.end_sec + work.start_sec};
        }
        return placed;
      }
    }
  }
  return PlaceInWholeVideo(untimed, gold, clips, duration_sec, min_step_seconds);
}

}  // namespace sopilot
