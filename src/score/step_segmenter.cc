#include "score/step_segmenter.h"

#include "score/crossing.h"
#include "score/work_span.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace sopilot {

namespace {
constexpr double kEps = 1e-6;

double Dot(const FloatMatrix& m, int a, int b) {
  double s = 0;
  const float* x = m.row(a);
  const float* y = m.row(b);
  for (int j = 0; j < m.cols; ++j) s += static_cast<double>(x[j]) * y[j];
  return s;
}
}  // namespace

std::vector<NoveltyPoint> BoundaryNovelty(const FloatMatrix& v, const std::vector<ClipSpan>& clips) {
  std::map<int64_t, int> by_start;  // start time in microseconds -> clip
  for (size_t i = 0; i < clips.size(); ++i) {
    by_start.emplace(std::llround(clips[i].start_sec * 1e6), static_cast<int>(i));
  }
  std::vector<NoveltyPoint> curve;
  for (size_t i = 0; i < clips.size(); ++i) {
    auto it = by_start.find(std::llround(clips[i].end_sec * 1e6));
    if (it == by_start.end()) continue;
    curve.push_back({clips[i].end_sec, 1.0 - Dot(v, static_cast<int>(i), it->second)});
  }
  std::sort(curve.begin(), curve.end(),
            [](const NoveltyPoint& a, const NoveltyPoint& b) { return a.time_sec < b.time_sec; });
  return curve;
}

std::vector<double> PickBoundaries(const std::vector<NoveltyPoint>& c, double min_step_seconds,
                                   const ScoreOptions& o) {
  const int n = static_cast<int>(c.size());
  // Local maxima; on a plateau the first point of it.
  std::vector<int> peaks;
  for (int i = 0; i < n; ++i) {
    double left = i > 0 ? c[i - 1].distance : -1.0;
    double right = i + 1 < n ? c[i + 1].distance : -1.0;
    if (c[i].distance > left && c[i].distance >= right) peaks.push_back(i);
  }
  // Drop the weakest failing peak until every peak passes; valleys are taken
  // between neighbouring surviving peaks, so removing a bump merges valleys.
  for (;;) {
    int worst = -1;
    for (size_t p = 0; p < peaks.size(); ++p) {
      int at = peaks[p];
      int lo = p > 0 ? peaks[p - 1] : -1;
      int hi = p + 1 < peaks.size() ? peaks[p + 1] : n;
      // The valleys on each side; a side without points does not count.
      const double inf = std::numeric_limits<double>::infinity();
      double lmin = inf, rmin = inf;
      for (int k = lo + 1; k < at; ++k) lmin = std::min(lmin, c[k].distance);
      for (int k = at + 1; k < hi; ++k) rmin = std::min(rmin, c[k].distance);
      double v_lo = std::max(0.0, std::min(lmin, rmin));
      double v_hi = std::max(0.0, lmin == inf ? rmin : rmin == inf ? lmin : std::max(lmin, rmin));
      if (v_hi == inf) v_lo = v_hi = 0;
      // Well above the lower valley; above the higher one by less, since a
      // short step between two boundaries raises the valley between them.
      bool ok = c[at].distance - v_hi >= o.min_boundary_prominence &&
                c[at].distance >= o.boundary_peak_ratio * v_lo &&
                c[at].distance >= o.boundary_shoulder_ratio * v_hi;
      if (!ok && (worst < 0 || c[at].distance < c[peaks[worst]].distance)) worst = static_cast<int>(p);
    }
    if (worst < 0) break;
    peaks.erase(peaks.begin() + worst);
  }
  // Of two boundaries closer than a step can be, the weaker goes.
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t p = 1; p < peaks.size(); ++p) {
      if (c[peaks[p]].time_sec - c[peaks[p - 1]].time_sec < min_step_seconds - kEps) {
        peaks.erase(peaks.begin() + (c[peaks[p]].distance <= c[peaks[p - 1]].distance ? p : p - 1));
        changed = true;
        break;
      }
    }
  }
  // A boundary's peak is as wide as a clip and noisy at the top; its centre
  // is the centroid of the part above half height, which places it between
  // the grid points of the clip stride.
  std::vector<double> times;
  for (size_t p = 0; p < peaks.size(); ++p) {
    int at = peaks[p];
    int lo = p > 0 ? peaks[p - 1] : -1;
    int hi = p + 1 < peaks.size() ? peaks[p + 1] : n;
    // The peak's own ground: from the lowest point before it to the lowest
    // point after it (a neighbouring peak's flank is not this peak's).
    int left_floor = at, right_floor = at;
    for (int k = at - 1; k > lo; --k) {
      if (c[k].distance < c[left_floor].distance) left_floor = k;
    }
    for (int k = at + 1; k < hi; ++k) {
      if (c[k].distance < c[right_floor].distance) right_floor = k;
    }
    double valley = std::min(c[left_floor].distance, c[right_floor].distance);
    double half = 0.5 * (c[at].distance + valley);
    int a = at, b = at;
    while (a - 1 > left_floor && c[a - 1].distance >= half) --a;
    while (b + 1 < right_floor && c[b + 1].distance >= half) ++b;
    double sw = 0, stw = 0;
    for (int k = a; k <= b; ++k) {
      double w = c[k].distance - half + 1e-12;
      sw += w;
      stw += w * c[k].time_sec;
    }
    times.push_back(stw / sw);
  }
  return times;
}

namespace {

// How much better the clips `before` (ending at a moment) and `after`
// (starting there) match their own sides than across the moment, within
// `horizon_sec` (KeepSeparatingCuts); NaN where a side has no clip.
double Separation(const FloatMatrix& v, const std::vector<ClipSpan>& clips, int before, int after,
                  double horizon_sec) {
  const double none = -std::numeric_limits<double>::infinity();
  const ClipSpan& b = clips[before];  // b: the clip before the moment
  const ClipSpan& a = clips[after];   // a: the clip after it
  double own_before = none, across_before = none, own_after = none, across_after = none;
  for (size_t j = 0; j < clips.size(); ++j) {
    const ClipSpan& c = clips[j];
    const int k = static_cast<int>(j);
    // Own side: before the earlier clip, after the later one (no shared frame).
    if (c.end_sec <= b.start_sec + kEps && c.end_sec >= b.start_sec - horizon_sec - kEps) {
      own_before = std::max(own_before, Dot(v, before, k));
    }
    if (c.start_sec >= b.end_sec - kEps && c.start_sec <= b.end_sec + horizon_sec + kEps) {
      across_before = std::max(across_before, Dot(v, before, k));
    }
    if (c.start_sec >= a.end_sec - kEps && c.start_sec <= a.end_sec + horizon_sec + kEps) {
      own_after = std::max(own_after, Dot(v, after, k));
    }
    if (c.end_sec <= a.start_sec + kEps && c.end_sec >= a.start_sec - horizon_sec - kEps) {
      across_after = std::max(across_after, Dot(v, after, k));
    }
  }
  if (own_before == none || own_after == none || across_before == none || across_after == none) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  return own_before + own_after - across_before - across_after;
}

}  // namespace

std::vector<double> KeepSeparatingCuts(const FloatMatrix& v, const std::vector<ClipSpan>& clips,
                                       const std::vector<double>& cuts, double horizon_sec) {
  if (clips.empty()) return cuts;
  std::vector<double> kept;
  for (double t : cuts) {
    // The clip ending nearest the cut and the clip starting nearest it.
    int before = 0, after = 0;
    for (size_t i = 1; i < clips.size(); ++i) {
      if (std::abs(clips[i].end_sec - t) < std::abs(clips[before].end_sec - t)) before = static_cast<int>(i);
      if (std::abs(clips[i].start_sec - t) < std::abs(clips[after].start_sec - t)) after = static_cast<int>(i);
    }
    const double m = Separation(v, clips, before, after, horizon_sec);
    if (std::isnan(m) || m > 0) kept.push_back(t);
  }
  return kept;
}

std::vector<int> ClipsInside(const std::vector<ClipSpan>& clips, const TimeSpan& span) {
  std::vector<int> inside, centred;
  int nearest = -1;
  double best = std::numeric_limits<double>::infinity();
  const double mid = 0.5 * (span.start_sec + span.end_sec);
  for (size_t i = 0; i < clips.size(); ++i) {
    const ClipSpan& c = clips[i];
    double centre = 0.5 * (c.start_sec + c.end_sec);
    if (c.start_sec >= span.start_sec - kEps && c.end_sec <= span.end_sec + kEps) inside.push_back(int(i));
    if (centre >= span.start_sec && centre < span.end_sec) centred.push_back(int(i));
    if (std::abs(centre - mid) < best) best = std::abs(centre - mid), nearest = int(i);
  }
  if (!inside.empty()) return inside;
  if (!centred.empty()) return centred;
  if (nearest >= 0) return {nearest};
  return {};
}

namespace {

std::vector<Step> StepsAt(const std::vector<double>& cuts, const std::vector<ClipSpan>& clips, double duration_sec) {
  std::vector<Step> steps;
  double start = 0;
  for (size_t k = 0; k <= cuts.size(); ++k) {
    Step s;
    s.index = static_cast<int>(k);
    s.name = "step " + std::to_string(k + 1);
    s.time = {start, k < cuts.size() ? cuts[k] : duration_sec};
    s.clips = ClipsInside(clips, s.time);
    steps.push_back(std::move(s));
    if (k < cuts.size()) start = cuts[k];
  }
  return steps;
}

}  // namespace

std::vector<double> RefineBoundaries(const FloatMatrix& v, const std::vector<ClipSpan>& clips,
                                     std::vector<double> cuts, double duration_sec, double margin_sec) {
  const std::vector<double> at = cuts;  // the cuts as given: each step's clips come from these
  auto best_in = [&](int i, const std::vector<int>& step_clips) {
    double b = -2;
    for (int j : step_clips) b = std::max(b, Dot(v, i, j));
    return b;
  };
  for (size_t k = 0; k < cuts.size(); ++k) {
    const double before = k > 0 ? at[k - 1] : 0.0, after = k + 1 < at.size() ? at[k + 1] : duration_sec;
    // The two steps' clips, kept margin_sec away from the cut when the cut
    // may be off by that much: then none of them straddles the change.
    std::vector<int> a = ClipsInside(clips, {before, std::max(before, at[k] - margin_sec)});
    std::vector<int> b = ClipsInside(clips, {std::min(after, at[k] + margin_sec), after});
    if (a.empty() || b.empty()) continue;
    int lo = a.back(), hi = b.front();
    if (lo >= hi) continue;
    double t = CrossingTime(clips, lo, hi, [&](int i) { return best_in(i, a) - best_in(i, b); }, at[k]);
    // Stay between the neighbouring boundaries.
    double floor = k > 0 ? cuts[k - 1] : 0.0, ceil = k + 1 < cuts.size() ? cuts[k + 1] : duration_sec;
    if (t > floor && t < ceil) cuts[k] = t;
  }
  return cuts;
}

namespace {

std::vector<Step> SegmentWholeVideo(const FloatMatrix& v, const std::vector<ClipSpan>& clips,
                                    double duration_sec, double clip_seconds, const ScoreOptions& o) {
  double min_step = o.min_step_seconds > 0 ? o.min_step_seconds : clip_seconds;
  const std::vector<NoveltyPoint> curve = BoundaryNovelty(v, clips);
  std::vector<double> cuts = KeepSeparatingCuts(v, clips, PickBoundaries(curve, min_step, o), clip_seconds);
  // Peaks lie min_step apart, but a refined cut moves, and the first and
  // last steps end at the video's edges: a step can come out shorter than a
  // clip. Such a step has too little evidence to be found again: on
  // hand-washing take 004, a 0.7 s step (a quick move between two steps)
  // was "missing" against the same take re-encoded. So while a step is
  // shorter than min_step, the weaker of the cuts around it goes (the only
  // one for the first and last step), and the rest are refined again.
  auto strength = [&](double t) {
    double best = 0, nearest = std::numeric_limits<double>::infinity();
    for (const NoveltyPoint& p : curve) {
      if (std::abs(p.time_sec - t) < nearest) nearest = std::abs(p.time_sec - t), best = p.distance;
    }
    return best;
  };
  for (;;) {
    std::vector<double> refined = RefineBoundaries(v, clips, cuts, duration_sec, 0.0);
    int shortest = -1;
    double shortest_len = min_step - kEps;
    for (size_t k = 0; k <= refined.size(); ++k) {
      const double start = k == 0 ? 0.0 : refined[k - 1];
      const double end = k < refined.size() ? refined[k] : duration_sec;
      if (end - start < shortest_len) shortest = static_cast<int>(k), shortest_len = end - start;
    }
    if (shortest < 0 || refined.empty()) return StepsAt(refined, clips, duration_sec);
    size_t drop;
    if (shortest == 0) {
      drop = 0;
    } else if (shortest == static_cast<int>(refined.size())) {
      drop = refined.size() - 1;
    } else {
      drop = strength(cuts[shortest - 1]) <= strength(cuts[shortest]) ? shortest - 1 : shortest;
    }
    cuts.erase(cuts.begin() + static_cast<std::ptrdiff_t>(drop));
  }
}

}  // namespace

std::vector<Step> SegmentSteps(const FloatMatrix& v, const std::vector<ClipSpan>& clips,
                               double duration_sec, double clip_seconds, const ScoreOptions& o) {
  // The camera may have run before and after the work: that still time is
  // no step (work_span.h), and the steps are found in the time between.
  const TimeSpan work = FindWorkSpan(v, clips, duration_sec);
  if (work.start_sec <= 0 && work.end_sec >= duration_sec) {
    return SegmentWholeVideo(v, clips, duration_sec, clip_seconds, o);
  }
  const VideoPart part = PartOfVideo(v, clips, work);
  if (part.clips.size() < 2) return SegmentWholeVideo(v, clips, duration_sec, clip_seconds, o);
  std::vector<Step> steps = SegmentWholeVideo(part.vectors, part.clips, part.duration_sec, clip_seconds, o);
  for (Step& s : steps) {
    s.time = {s.time.start_sec + work.start_sec, s.time.end_sec + work.start_sec};
    s.clips = ClipsInside(clips, s.time);
  }
  return steps;
}

Result<std::vector<Step>> StepsFromSpecs(const std::vector<StepSpec>& specs,
                                         const std::vector<ClipSpan>& clips, double duration_sec) {
  std::vector<Step> steps;
  for (size_t k = 0; k < specs.size(); ++k) {
    const StepSpec& sp = specs[k];
    if (!sp.timed) return Status::InvalidArgument("step \"" + sp.name + "\" has no gold time");
    if (sp.gold_time.start_sec >= duration_sec) {
      return Status::InvalidArgument("step \"" + sp.name + "\" starts at " +
                                     std::to_string(sp.gold_time.start_sec) +
                                     " s, after the gold video ends (" + std::to_string(duration_sec) + " s)");
    }
    Step s;
    s.index = static_cast<int>(k);
    s.name = sp.name;
    s.rules = sp.rules;
    s.time = {sp.gold_time.start_sec, std::min(sp.gold_time.end_sec, duration_sec)};
    s.clips = ClipsInside(clips, s.time);
    steps.push_back(std::move(s));
  }
  return steps;
}

}  // namespace sopilot
