#include "score/work_span.h"

#include <algorithm>
#include <cmath>

#include "base/median.h"

namespace sopilot {

namespace {

// A still stretch is closer to its first clip than this share of the
// video's typical change over a clip's length. Measured (doc/scoring.md,
// section 2): still lead-ins reach 0.02 to 0.16 of it, under sensor noise
// too; the ends of real work 0.34 (a slow start) and more.
constexpr double kStillShare = 0.25;

constexpr double kEps = 1e-6;

double Distance(const FloatMatrix& m, int a, int b) {
  const float* x = m.row(a);
  const float* y = m.row(b);
  double s = 0;
  for (int j = 0; j < m.cols; ++j) {
    const double d = static_cast<double>(x[j]) - y[j];
    s += d * d;
  }
  return std::sqrt(s);
}

// The first clip after i that shares no frame with it, or -1.
int NextApart(const std::vector<ClipSpan>& clips, int i) {
  for (int j = i + 1; j < static_cast<int>(clips.size()); ++j) {
    if (clips[j].start_sec >= clips[i].end_sec - kEps) return j;
  }
  return -1;
}

// How many clips from `from`, stepping by `dir` and staying within
// [lo, hi], lie within `still` of clip `from`; counting stops at `cap`.
int StillRun(const FloatMatrix& v, int from, int dir, int lo, int hi, double still, int cap) {
  int n = 0;
  for (int i = from; i >= lo && i <= hi && n < cap; i += dir) {
    if (Distance(v, from, i) > still) break;
    ++n;
  }
  return n;
}

}  // namespace

double StillDistance(const FloatMatrix& v, const std::vector<ClipSpan>& clips) {
  const int n = static_cast<int>(clips.size());
  if (v.rows != n) return 0;
  std::vector<double> change;
  for (int i = 0; i < n; ++i) {
    const int j = NextApart(clips, i);
    if (j >= 0) change.push_back(Distance(v, i, j));
  }
  return change.empty() ? 0 : kStillShare * Median(change);
}

StillStretch LongestSeenStill(const FloatMatrix& v, const std::vector<ClipSpan>& clips, int first, int last,
                              double still, int enough) {
  StillStretch longest;
  if (still <= 0 || v.rows != static_cast<int>(clips.size())) return longest;
  first = std::max(first, 0);
  last = std::min(last, static_cast<int>(clips.size()) - 1);
  const int cap = enough > 0 ? enough : last - first + 1;
  for (int s = first; s <= last && longest.count < cap; ++s) {
    const int run = StillRun(v, s, +1, first, last, still, cap);
    if (run > longest.count && clips[s + run - 1].start_sec >= clips[s].end_sec - kEps) longest = {s, run};
  }
  return longest;
}

TimeSpan FindWorkSpan(const FloatMatrix& v, const std::vector<ClipSpan>& clips, double duration_sec) {
  const TimeSpan whole{0.0, duration_sec};
  const int n = static_cast<int>(clips.size());
  if (n < 3 || v.rows != n) return whole;
  const double still = StillDistance(v, clips);
  if (still <= 0) return whole;  // nothing changes anywhere: a static video

  // Seen still: the stretch holds two clips that share no frame.
  auto seen = [&](int first, int last) { return clips[last].start_sec >= clips[first].end_sec - kEps; };
  const int lead = StillRun(v, 0, +1, 0, n - 1, still, n);
  const int tail = StillRun(v, n - 1, -1, 0, n - 1, still, n);
  if (lead >= n) return whole;
  const bool lead_seen = lead >= 2 && seen(0, lead - 1);
  const bool tail_seen = tail >= 2 && seen(n - tail, n - 1);
  if (!lead_seen && !tail_seen) return whole;

  // No stretch of the work between them may stand still as long.
  const int lo = lead_seen ? lead : 0;
  const int hi = tail_seen ? n - tail - 1 : n - 1;
  if (lo > hi) return whole;
  const int cap = std::max(lead_seen ? lead : 0, tail_seen ? tail : 0);
  int longest = 0;
  for (int s = lo; s <= hi && longest < cap; ++s) longest = std::max(longest, StillRun(v, s, +1, lo, hi, still, cap));

  TimeSpan work = whole;
  if (lead_seen && longest < lead) work.start_sec = clips[lead - 1].end_sec;
  if (tail_seen && longest < tail) work.end_sec = std::min(duration_sec, clips[n - tail].start_sec);
  const double clip_seconds = clips.front().end_sec - clips.front().start_sec;
  if (work.duration() < clip_seconds) return whole;
  return work;
}

VideoPart PartOfVideo(const FloatMatrix& v, const std::vector<ClipSpan>& clips, const TimeSpan& span) {
  VideoPart part;
  std::vector<int> rows;
  for (int i = 0; i < static_cast<int>(clips.size()); ++i) {
    if (clips[i].start_sec >= span.start_sec - kEps && clips[i].end_sec <= span.end_sec + kEps) rows.push_back(i);
  }
  part.vectors = FloatMatrix(static_cast<int>(rows.size()), v.cols);
  for (size_t r = 0; r < rows.size(); ++r) {
    std::copy(v.row(rows[r]), v.row(rows[r]) + v.cols, part.vectors.row(static_cast<int>(r)));
    part.clips.push_back({static_cast<int>(r), clips[rows[r]].start_sec - span.start_sec,
                          clips[rows[r]].end_sec - span.start_sec});
  }
  part.duration_sec = span.duration();
  return part;
}

}  // namespace sopilot
