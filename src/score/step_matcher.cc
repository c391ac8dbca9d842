#include "score/step_matcher.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "base/median.h"
#include "score/alike_runs.h"
#include "score/comparison_space.h"
#include "score/crossing.h"

namespace sopilot {

StepSimilarity ComputeStepSimilarity(const FloatMatrix& s, const std::vector<Step>& steps) {
  const int n = s.cols;
  const int k_count = static_cast<int>(steps.size());
  StepSimilarity out;
  out.sim = FloatMatrix(n, k_count);
  out.best_gold.assign(n, std::vector<int>(k_count, -1));
  for (int k = 0; k < k_count; ++k) {
    for (int i = 0; i < n; ++i) {
      float best = -std::numeric_limits<float>::infinity();
      int arg = -1;
      for (int g : steps[k].clips) {
        float v = s.at(g, i);
        if (v > best) best = v, arg = g;
      }
      out.sim.at(i, k) = best;
      out.best_gold[i][k] = arg;
    }
  }
  return out;
}

std::vector<double> OtherStepSimilarity(const FloatMatrix& gs, const std::vector<Step>& steps) {
  std::vector<double> out;
  if (steps.size() < 2) return out;
  for (size_t k = 0; k < steps.size(); ++k) {
    std::vector<double> best;
    for (int a : steps[k].clips) {
      double b = -1;
      for (size_t o = 0; o < steps.size(); ++o) {
        if (o == k) continue;
        for (int c : steps[o].clips) b = std::max(b, static_cast<double>(gs.at(a, c)));
      }
      best.push_back(b);
    }
    out.push_back(Median(best));
  }
  return out;
}

LabelingParams ChooseLabelingParams(const StepSimilarity& ss, double none_level, int evidence_clips) {
  LabelingParams p;
  p.none_threshold = none_level;
  std::vector<double> margins;
  for (int i = 0; i < ss.sim.rows; ++i) {
    double a = -1e9, b = -1e9;
    for (int k = 0; k < ss.sim.cols; ++k) {
      double v = ss.sim.at(i, k);
      if (v > a) b = a, a = v;
      else if (v > b) b = v;
    }
    if (ss.sim.cols < 2) b = p.none_threshold;
    if (b > -1e8) margins.push_back(a - b);
  }
  p.switch_penalty = std::max(0.005, Median(margins));
  p.jump_penalty = p.switch_penalty;
  p.resume_penalty = p.switch_penalty * std::max(1, evidence_clips);
  return p;
}

std::vector<int> LabelClips(const StepSimilarity& ss, const LabelingParams& p) {
  // States: steps 0..K-1; "none" after step k at K+k; "none" before any
  // step at 2K. A none state remembers the last step, so that the gold order
  // holds across an interruption.
  const int n = ss.sim.rows;
  const int K = ss.sim.cols;
  if (n == 0) return {};
  const int states = 2 * K + 1;
  const int kInitial = 2 * K;
  const double inf = std::numeric_limits<double>::infinity();
  // Similarities are read to kSimilarityResolution: closer is a tie, not
  // something the rounding of floats decides. A tie goes to the labelling
  // nearer the gold's proportions: a clip earns a little more for a step
  // the nearer its place in the trainee video lies to the step's place in
  // the gold, all of it together less than one resolution, so that it
  // never outweighs what the clips show. A periodic scene against itself,
  // its steps typed, lost steps where each clip matched its own step and a
  // later period equally and the order of candidates chose. Paths are
  // then equal when their sums differ by the rounding of adding the same
  // terms in another order.
  constexpr double kScoreTie = 1e-9;
  auto level = [](double v) { return std::round(v / kSimilarityResolution) * kSimilarityResolution; };
  const bool proportions =
      ss.clip_position.size() == static_cast<size_t>(n) && ss.step_share.size() == static_cast<size_t>(K);
  const double nudge = kSimilarityResolution / (4.0 * (n + 1));
  auto near_share = [&](int i, int s) {
    if (!proportions) return 0.0;
    const double at = ss.clip_position[i];
    const auto [lo, hi] = ss.step_share[s];
    const double off = at < lo ? lo - at : at > hi ? at - hi : 0.0;
    return nudge * (1.0 - std::min(1.0, off));
  };
  auto emit = [&](int i, int s) {
    if (s < K) return level(ss.sim.at(i, s)) + near_share(i, s);
    return level(ss.no_step.empty() ? p.none_threshold : std::max(p.none_threshold, ss.no_step[i]));
  };
  std::vector<double> score(states, -inf), next(states);
  std::vector<int> back(static_cast<size_t>(n) * states, -1);
  // Leaving m steps out costs a change for each, as going through them
  // would, up to a clip's length of evidence (the resume penalty: any
  // finding needs that much), and at least a jump. At one jump for any m,
  // skipping won wherever the clips could not tell those steps apart (a
  // periodic scene named as five steps, the last holding every pattern,
  // lost the middle ones against itself); as dear as going through, it is
  // a tie, and ties go to the gold's proportions. A jump past one step (a
  // swap) costs what it did, and a reversed procedure, which starts with
  // the last step, pays a clip's length for it, not a change per step.
  auto past = [&](int m) {
    return m <= 0 ? 0.0 : std::max(p.jump_penalty, std::min(m * p.switch_penalty, p.resume_penalty));
  };
  for (int k = 0; k < K; ++k) score[k] = emit(0, k) - past(k);
  score[kInitial] = emit(0, kInitial);
  // From this many steps left out on, a jump costs the same (the cap).
  const double cap = std::max(p.jump_penalty, p.resume_penalty);
  const int flat_from =
      p.switch_penalty > 0 ? std::min(K, static_cast<int>(std::ceil(cap / p.switch_penalty - 1e-9))) : 1;
  std::vector<int> later_step(K + 1), later_none(K + 1), best_step(K + 1), best_none(K + 1);
  std::vector<std::pair<int, double>> from;  // candidates: state, cost of the change
  for (int i = 1; i < n; ++i) {
    // The best states to leave the gold order from, for each step k. Later
    // steps (k done again, or before them: a swap): `later_*[k + 1]`, the
    // best of k + 1 .. K - 1. Earlier steps j, past which k - 1 - j steps
    // are left out: read one by one while that number changes the price,
    // then the best of all j further back (`best_*[x]`: of j < x). On a tie
    // the nearer step. Time on no step after a step apart, since coming back
    // from it costs more.
    later_step[K] = later_none[K] = -1;
    for (int k = K - 1; k >= 0; --k) {
      later_step[k] = later_step[k + 1] >= 0 && score[later_step[k + 1]] > score[k] ? later_step[k + 1] : k;
      later_none[k] = later_none[k + 1] >= 0 && score[later_none[k + 1]] > score[K + k] ? later_none[k + 1] : K + k;
    }
    const double change = p.switch_penalty;
    best_step[0] = best_none[0] = -1;
    for (int j = 0; j < K; ++j) {
      best_step[j + 1] = best_step[j] >= 0 && score[best_step[j]] > score[j] ? best_step[j] : j;
      best_none[j + 1] = best_none[j] >= 0 && score[best_none[j]] > score[K + j] ? best_none[j] : K + j;
    }
    int* bk = back.data() + static_cast<size_t>(i) * states;
    // Candidates in order of preference; ties keep the earlier one, so that
    // staying beats changing and the gold order beats a jump.
    auto pick = [&](int s) {
      double best = -inf;
      int arg = -1;
      for (auto [f, cost] : from) {
        if (f < 0 || score[f] == -inf) continue;
        double v = score[f] - cost;
        if (v > best + kScoreTie) best = v, arg = f;
      }
      next[s] = arg < 0 ? -inf : best + emit(i, s);
      bk[s] = arg;
    };
    // Coming back to the procedure after time on no step makes a finding
    // (that time is an extra_segment); the lead-in before the first step
    // and the tail after the last step are idle and cost a change only.
    const double resumed = change + p.resume_penalty;
    for (int k = 0; k < K; ++k) {
      from.clear();
      from.push_back({k, 0.0});
      from.push_back({k > 0 ? k - 1 : -1, change});
      from.push_back({k > 0 ? K + k - 1 : kInitial, k > 0 ? resumed : change});
      from.push_back({K + k, resumed});  // resumed after an interruption
      if (k + 1 < K) {
        from.push_back({later_step[k + 1], change + p.jump_penalty});
        from.push_back({later_none[k + 1], change + p.jump_penalty + p.resume_penalty});
      }
      // Forward past m = k - 1 - j steps.
      for (int m = 1; m < flat_from && k - 1 - m >= 0; ++m) {
        from.push_back({k - 1 - m, change + past(m)});
        from.push_back({K + k - 1 - m, change + past(m) + p.resume_penalty});
      }
      if (k - 1 - flat_from >= 0) {  // j <= k - 1 - flat_from: the cap
        from.push_back({best_step[k - flat_from], change + past(flat_from)});
        from.push_back({best_none[k - flat_from], change + past(flat_from) + p.resume_penalty});
      }
      if (k > 0) from.push_back({kInitial, change + past(k)});
      pick(k);
    }
    for (int k = 0; k < K; ++k) {
      from.assign({{K + k, 0.0}, {k, change}});
      pick(K + k);
    }
    from.assign({{kInitial, 0.0}});
    pick(kInitial);
    score.swap(next);
  }
  // The procedure ends with its last step. Ending at step k leaves out the
  // K - 1 - k steps after it, at the price above. Without this, leaving out
  // a short last step would cost nothing; with a single change for any
  // number, a periodic scene against itself ended three steps early, where
  // the clips could not tell those steps from earlier ones. On a tie the
  // state later in the gold order wins.
  auto last_step = [&](int st) { return st < K ? st : st < 2 * K ? st - K : -1; };
  int s = 0;
  for (int st = 0; st < states; ++st) {
    const int left_out = K - 1 - last_step(st);
    if (score[st] > -inf && left_out > 0) {
      score[st] -= past(left_out);
    }
    if (score[st] > score[s] + kScoreTie || (score[st] >= score[s] - kScoreTie && last_step(st) > last_step(s))) {
      s = st;
    }
  }
  std::vector<int> labels(n);
  for (int i = n - 1; i >= 0; --i) {
    labels[i] = s < K ? s : kNoStep;
    if (i > 0) s = back[static_cast<size_t>(i) * states + s];
  }
  return labels;
}

std::vector<TraineeSegment> SegmentLabels(const std::vector<int>& labels_in, const StepSimilarity& ss,
                                          const std::vector<ClipSpan>& clips, double duration_sec,
                                          double merge_seconds, const std::vector<bool>& alike_next) {
  const AlikeRuns alike(alike_next, ss.sim.cols);
  // Each clip stands for one stride of time around its centre; a run's
  // length is its clips' share, not the span of its overlapping clips.
  const double stride = clips.size() > 1 ? clips[1].start_sec - clips[0].start_sec
                                         : clips.empty() ? 0 : clips[0].end_sec - clips[0].start_sec;
  std::vector<int> labels = labels_in;
  auto build_runs = [&] {
    std::vector<TraineeSegment> runs;
    for (int i = 0; i < static_cast<int>(labels.size()); ++i) {
      if (runs.empty() || runs.back().step != labels[i]) runs.push_back({labels[i], i, i, {}});
      else runs.back().last_clip = i;
    }
    return runs;
  };
  auto length = [&](const TraineeSegment& r) { return (r.last_clip - r.first_clip + 1) * stride; };
  // A short "none" run next to steps is the blur where one step turns into
  // the next (clips that hold some of both): give each of its clips to the
  // neighbouring step it resembles more.
  // Clips that straddle a change hold both steps for up to a clip's length,
  // plus one stride of slack for where the change falls between samples.
  std::vector<TraineeSegment> runs = build_runs();
  for (size_t r = 0; r < runs.size(); ++r) {
    if (runs[r].step != kNoStep || length(runs[r]) > merge_seconds + stride + 1e-6 || runs.size() == 1) {
      continue;
    }
    int left = r > 0 ? runs[r - 1].step : kNoStep;
    int right = r + 1 < runs.size() ? runs[r + 1].step : kNoStep;
    for (int i = runs[r].first_clip; i <= runs[r].last_clip; ++i) {
      if (left != kNoStep && right != kNoStep) {
        labels[i] = ss.sim.at(i, left) >= ss.sim.at(i, right) ? left : right;
        continue;
      }
      // At the video's start or end the other side is the gold's own time
      // outside its steps, where it has some: a clip more like that stays
      // no step.
      const int step = left == kNoStep ? right : left;
      if (ss.no_step.empty() || ss.sim.at(i, step) > ss.no_step[i]) labels[i] = step;
    }
  }
  runs = build_runs();
  // A short run of a step between two others is a detour the gold order
  // took through the blur (going A -> B -> C costs less than leaving the
  // order A -> C) when none of its clips resembles B more than the steps
  // beside it, or when B comes between A and C in the gold and is done at
  // length elsewhere: give its clips to the neighbours.
  std::vector<double> longest(ss.sim.cols, 0.0);
  for (const TraineeSegment& r : runs) {
    if (r.step != kNoStep) longest[r.step] = std::max(longest[r.step], length(r));
  }
  // A neighbour in B's alike run, in the gold order, is no other step to
  // compare with: the run was labelled as one and its time shared in the
  // gold's proportion, so B's clips resemble it as much by definition. A
  // share between two such neighbours stays; a share beside one is a detour
  // only when its clips resemble the step on its other side as much (a
  // periodic scene whose run of alike steps ended in a short step lost that
  // step against itself).
  // Blur holds some of A and some of C, so it resembles B less than B's own
  // moments resemble each other; a clip at B's own level is B itself, even
  // where C looks the same (a periodic scene shows B's pattern again in C,
  // and lost a 2 s step against itself).
  auto at_own_level = [&](int i, int b) {
    return ss.self_level.size() == static_cast<size_t>(ss.sim.cols) &&
           ss.sim.at(i, b) >= ss.self_level[b] - kSimilarityResolution;
  };
  for (size_t r = 1; r + 1 < runs.size(); ++r) {
    int b = runs[r].step, left = runs[r - 1].step, right = runs[r + 1].step;
    const bool left_mate = left + 1 == b && alike.AlikeNeighbours(left, b);
    const bool right_mate = b + 1 == right && alike.AlikeNeighbours(b, right);
    if (b == kNoStep || left == kNoStep || right == kNoStep || left == b || right == b ||
        length(runs[r]) > merge_seconds + stride + 1e-6 || (left_mate && right_mate)) {
      continue;
    }
    bool detour = left < b && b < right && longest[b] > merge_seconds + stride + 1e-6;
    if (!detour) {
      detour = true;
      for (int i = runs[r].first_clip; i <= runs[r].last_clip && detour; ++i) {
        const double other = left_mate    ? ss.sim.at(i, right)
                             : right_mate ? ss.sim.at(i, left)
                                          : std::max(ss.sim.at(i, left), ss.sim.at(i, right));
        detour = other >= ss.sim.at(i, b) && !at_own_level(i, b);
      }
    }
    if (!detour) continue;
    for (int i = runs[r].first_clip; i <= runs[r].last_clip; ++i) {
      labels[i] = ss.sim.at(i, left) >= ss.sim.at(i, right) ? left : right;
    }
  }
  runs = build_runs();
  // Fold A x A into A when x is short: one step interrupted by a moment that
  // looked different is one step done with a deviation, not two.
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t r = 1; r + 1 < runs.size(); ++r) {
      if (runs[r - 1].step == runs[r + 1].step && runs[r - 1].step != kNoStep &&
          length(runs[r]) < merge_seconds) {
        runs[r - 1].last_clip = runs[r + 1].last_clip;
        runs.erase(runs.begin() + r, runs.begin() + r + 2);
        changed = true;
        break;
      }
    }
  }
  // Boundaries: where sim(a) - sim(b) changes sign between clip centres,
  // interpolated; else halfway between the two runs' facing clips.
  for (size_t r = 0; r < runs.size(); ++r) {
    runs[r].time.start_sec = r == 0 ? 0.0 : runs[r - 1].time.end_sec;
    if (r + 1 == runs.size()) {
      runs[r].time.end_sec = std::max(duration_sec, runs[r].time.start_sec);
      continue;
    }
    const TraineeSegment& a = runs[r];
    const TraineeSegment& b = runs[r + 1];
    double cut = 0.5 * (ClipCentre(clips[a.last_clip]) + ClipCentre(clips[b.first_clip]));
    if (a.step != kNoStep && b.step != kNoStep) {
      cut = CrossingTime(clips, std::max(a.first_clip, a.last_clip - 4), std::min(b.last_clip, b.first_clip + 4),
                         [&](int i) { return ss.sim.at(i, a.step) - ss.sim.at(i, b.step); }, cut);
      // Where the gold shows this change (b follows a), the clip equally
      // like a's last clip and b's first stands midway between their
      // centres in content; the change lies the mean of the edges' offsets
      // from it (gold seconds taken as trainee seconds: at another pace the
      // error is that share of half a stride). A change the gold does not
      // show (a swap, a step left out) has no straddling gold clip to
      // match, and is left where the clips cross.
      if (b.step == a.step + 1 && ss.edge_offset.size() == static_cast<size_t>(ss.sim.cols)) {
        cut += 0.5 * (ss.edge_offset[a.step].second + ss.edge_offset[b.step].first);
        cut = std::clamp(cut, ClipCentre(clips[a.first_clip]), ClipCentre(clips[b.last_clip]));
      }
    }
    runs[r].time.end_sec = std::max(cut, runs[r].time.start_sec);
  }
  return runs;
}

void ShareTimeAmongAlikeSteps(const std::vector<ClipSpan>& clips, const std::vector<double>& gold_seconds,
                              const std::vector<bool>& alike_next, std::vector<TraineeSegment>* segments) {
  std::vector<TraineeSegment>& segs = *segments;
  const int n = static_cast<int>(segs.size());
  const AlikeRuns alike(alike_next, static_cast<int>(gold_seconds.size()));
  for (int a = 0; a < n;) {
    // The longest chain a..b of segments holding steps k, k + 1, ... with
    // each step alike to the next.
    int b = a;
    while (b + 1 < n && segs[b].step != kNoStep && segs[b + 1].step == segs[b].step + 1 &&
           alike.AlikeNext(segs[b].step)) {
      ++b;
    }
    if (b == a) {
      ++a;
      continue;
    }
    double gold_total = 0;
    for (int s = a; s <= b; ++s) gold_total += gold_seconds[segs[s].step];
    const double start = segs[a].time.start_sec, end = segs[b].time.end_sec;
    std::vector<TraineeSegment> shared(segs.begin() + a, segs.begin() + b + 1);
    double at = start, gold_so_far = 0;
    int clip = segs[a].first_clip;
    bool every_segment_has_a_clip = gold_total > 0;
    for (int s = 0; s <= b - a && every_segment_has_a_clip; ++s) {
      gold_so_far += gold_seconds[shared[s].step];
      const double cut = s == b - a ? end : start + (end - start) * gold_so_far / gold_total;
      shared[s].time = {at, cut};
      shared[s].first_clip = clip;
      while (clip <= segs[b].last_clip && (s == b - a || ClipCentre(clips[clip]) < cut)) ++clip;
      shared[s].last_clip = clip - 1;
      every_segment_has_a_clip = shared[s].last_clip >= shared[s].first_clip;
      at = cut;
    }
    if (every_segment_has_a_clip) std::copy(shared.begin(), shared.end(), segs.begin() + a);
    a = b + 1;
  }
}

std::vector<int> LabelClipsByAlikeRuns(const StepSimilarity& ss, double none_level, int evidence_clips,
                                       const std::vector<bool>& alike_next, const std::vector<double>& gold_seconds,
                                       const std::vector<ClipSpan>& clips, double duration_sec,
                                       double merge_seconds) {
  const AlikeRuns runs(alike_next, ss.sim.cols);
  const int run_count = runs.run_count();
  if (run_count >= runs.step_count()) return LabelClips(ss, ChooseLabelingParams(ss, none_level, evidence_clips));

  StepSimilarity by_run;
  by_run.no_step = ss.no_step;
  by_run.sim = FloatMatrix(ss.sim.rows, run_count);
  by_run.best_gold.assign(ss.sim.rows, std::vector<int>(run_count, -1));
  by_run.clip_position = ss.clip_position;
  if (ss.self_level.size() == static_cast<size_t>(ss.sim.cols)) {
    for (int r = 0; r < run_count; ++r) {
      by_run.self_level.push_back(*std::min_element(ss.self_level.begin() + runs.First(r),
                                                    ss.self_level.begin() + runs.Last(r) + 1));
    }
  }
  if (ss.step_share.size() == static_cast<size_t>(ss.sim.cols)) {
    for (int r = 0; r < run_count; ++r) {
      by_run.step_share.push_back({ss.step_share[runs.First(r)].first, ss.step_share[runs.Last(r)].second});
    }
  }
  for (int i = 0; i < ss.sim.rows; ++i) {
    for (int r = 0; r < run_count; ++r) {
      int best = runs.First(r);
      for (int k = runs.First(r) + 1; k <= runs.Last(r); ++k) {
        if (ss.sim.at(i, k) > ss.sim.at(i, best)) best = k;
      }
      by_run.sim.at(i, r) = ss.sim.at(i, best);
      by_run.best_gold[i][r] = ss.best_gold.empty() ? -1 : ss.best_gold[i][best];
    }
  }
  const std::vector<int> run_labels = LabelClips(by_run, ChooseLabelingParams(by_run, none_level, evidence_clips));
  std::vector<int> labels(ss.sim.rows, kNoStep);
  for (const TraineeSegment& seg : SegmentLabels(run_labels, by_run, clips, duration_sec, merge_seconds)) {
    if (seg.step == kNoStep) continue;
    const int lo = runs.First(seg.step), hi = runs.Last(seg.step);
    double gold_total = 0;
    for (int k = lo; k <= hi; ++k) gold_total += std::max(0.0, gold_seconds[k]);
    const int count = seg.last_clip - seg.first_clip + 1;
    double gold_so_far = 0;
    int at = seg.first_clip;
    for (int k = lo; k <= hi; ++k) {
      gold_so_far += std::max(0.0, gold_seconds[k]);
      const int end = k == hi || gold_total <= 0
                          ? seg.last_clip + 1
                          : seg.first_clip + static_cast<int>(std::lround(count * gold_so_far / gold_total));
      for (; at < end; ++at) labels[at] = k;
    }
  }
  return labels;
}

}  // namespace sopilot

