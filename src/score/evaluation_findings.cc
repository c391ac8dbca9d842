// The deviations and the words of their reasons (evaluation.h).
#include "score/evaluation.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "base/median.h"
#include "score/below_line.h"
#include "score/crossing.h"
#include "score/step_segmenter.h"
#include "score/work_span.h"

namespace sopilot {
namespace evaluation {

// What the trainee video showed instead of missing step k, in the words a
// supervisor checks against the video: the step seen too briefly to count,
// or the moment most like it and what that moment was taken for (another
// step, or nothing of the procedure: too faint a resemblance).
std::string Evaluation::MissingReason(int k, int best_clip, double best) const {
  const std::string head = "step \"" + steps_[k].name + "\" was not seen in the trainee video";
  const TraineeSegment* longest = nullptr;
  for (const TraineeSegment& seg : segments_) {
    if (seg.step != k || seg.time.duration() <= kEps) continue;
    if (!longest || seg.time.duration() > longest->time.duration()) longest = &seg;
  }
  if (longest) {
    return head + Fmt(": it showed for only %.1f s", longest->time.duration()) + " (" +
           TimeSpanCode(longest->time.start_sec, longest->time.end_sec) +
           Fmt("), less than the %.1f s it takes to count as done", MinRunSeconds(k));
  }
  if (space_.trainee_still) return head + StillTrainee();
  const ClipSpan& c = trainee_.clips[best_clip];
  const std::string moment =
      ": the moment most like it (" + TimeSpanCode(c.start_sec, c.end_sec) + ")";
  for (const TraineeSegment& seg : segments_) {
    if (best_clip < seg.first_clip || best_clip > seg.last_clip) continue;
    if (seg.step == kNoStep) break;
    return head + moment + " looked more like step \"" + steps_[seg.step].name + "\", done at " +
           TimeSpanCode(seg.time.start_sec, seg.time.end_sec);
  }
  // Counted as nothing of the procedure: say how faint, against how much the
  // gold's steps resemble themselves at another moment (half of that counts).
  if (best < none_level_ && same_step_ > kEps) {
    return head + moment +
           Fmt(" resembles it only %.0f%% as much as the gold's steps resemble themselves at another moment; "
               "%.0f%% counts as the procedure",
               100 * std::max(0.0, best) / same_step_, 100 * kRelatedFraction);
  }
  return head + moment + " was counted as time outside the procedure";
}

void Evaluation::FindMissingAndOrder() {
  const int k_count = static_cast<int>(steps_.size());
  swapped_.assign(k_count, false);
  for (int k = 0; k < k_count; ++k) {
    if (main_[k] >= 0) continue;
    if (steps_[k].rules.optional) continue;  // the SOP allows leaving it out (step status "skipped")
    double best = -1;
    int at = 0;
    for (int i = 0; i < ss_.sim.rows; ++i) {
      if (ss_.sim.at(i, k) > best) best = ss_.sim.at(i, k), at = i;
    }
    Deviation d;
    d.type = kStepMissing;
    d.step = Ref(k, nullptr);
    double gap = std::max(1e-6, typical_ - OtherLevel(k));
    d.confidence = Clamp01(0.5 + 0.5 * (typical_ - best) / gap);
    d.reason = MissingReason(k, at, best);
    Add(std::move(d), o_.weights.miss, 1.0);
  }
  // Consecutive present steps in gold order must start in that order.
  int prev = -1;
  for (int k = 0; k < k_count; ++k) {
    if (main_[k] < 0) continue;
    if (prev >= 0) {
      const TraineeSegment& a = segments_[main_[prev]];
      const TraineeSegment& b = segments_[main_[k]];
      const std::string& group = steps_[k].rules.any_order_group;
      const bool any_order = !group.empty() && group == steps_[prev].rules.any_order_group;
      if (b.time.start_sec < a.time.start_sec && !any_order) {
        Deviation d;
        d.type = kOrderSwap;
        d.step = Ref(prev, &a);
        d.other = Ref(k, &b);
        double overlap = std::min(a.time.duration(), b.time.duration());
        d.confidence = Clamp01(0.5 + 0.5 * (a.time.start_sec - b.time.start_sec) / std::max(kEps, overlap));
        d.reason = "steps \"" + steps_[prev].name + "\" and \"" + steps_[k].name +
                   "\" were done in the opposite order";
        swapped_[prev] = swapped_[k] = true;
        Add(std::move(d), o_.weights.swap, 1.0);
      }
    }
    prev = k;
  }
}

void Evaluation::FindOverTime() {
  over_.assign(steps_.size(), false);
  for (size_t k = 0; k < steps_.size(); ++k) {
    if (main_[k] < 0) continue;
    const TimedUnit u = TimedUnitOf(static_cast<int>(k));
    if (u.first != static_cast<int>(k)) continue;  // timed with its run
    if (u.holds_last_segment) continue;  // the camera may run on after the last step
    if (u.gold <= kEps) continue;
    const double ratio = u.took / u.gold;
    double tolerance = 0;
    for (int j = u.first; j <= u.last; ++j) {
      tolerance = std::max(tolerance, steps_[j].rules.time_tolerance.value_or(o_.time_tolerance));
    }
    // A step that starts the video may hold up to half a clip of time before
    // it: its first clip is taken for it when it holds more of the step than
    // not (TrimEdgeBlur cuts off only what looks unlike it). That time is
    // not held against it: a lead-in of a second made a 3 s first step over
    // time.
    const double unseen = u.trainee_time.start_sec <= kEps ? 0.5 * clip_seconds_ : 0.0;
    const double took = std::max(u.gold, u.took - unseen);
    if (took / u.gold <= 1 + tolerance + kEps || took - u.gold < o_.min_over_seconds) continue;
    double tol = std::max(0.1, tolerance);
    Deviation d;
    d.type = kOverTime;
    d.step = UnitRef(u);
    d.confidence = Clamp01(0.5 + 0.5 * (ratio - 1 - tolerance) / tol);
    const std::vector<int> inside = ClipsInside(trainee_.clips, u.trainee_time);
    d.reason = UnitName(u) + Fmt("took %.1f s against %.1f s in the gold video (%.0f%% longer", u.took, u.gold,
                                 100 * (ratio - 1)) +
               Fmt("; tolerance %.0f%%)", 100 * tolerance) +
               // Taken up again after an interruption (FindResumedSteps).
               (u.parts > u.last - u.first + 1 ? ", in " + std::to_string(u.parts) + " parts" : std::string()) +
               (inside.empty() ? "" : WhatStoodStill(u.first, u.last, inside.front(), inside.back(), false));
    for (int j = u.first; j <= u.last; ++j) over_[j] = true;
    Add(std::move(d), o_.weights.time, 0.5 + 0.5 * (ratio - 1) / (2 * tol));
  }
}

void Evaluation::FindExecutionDeviations() {
  deviating_.assign(steps_.size(), false);
  // Clips every stride, each a clip length long: two neighbours share all
  // but a stride of their frames, so a stretch of n clips holds n strides of
  // frames of its own. A finding rests on a clip's length of them, as a
  // change of label does (evidence_clips): at the default stride a run of
  // two clips below the line, 1 s of their own, was a moment of another
  // pace in a correct take (take 004 10 % slower was 55, `fail`).
  const double min_seconds = o_.min_deviation_seconds > 0 ? o_.min_deviation_seconds : clip_seconds_;
  const int wanted_clips = std::max(1, static_cast<int>(std::ceil(min_seconds / stride_ - kEps)));
  for (size_t k = 0; k < steps_.size(); ++k) {
    if (main_[k] < 0) continue;
    const TraineeSegment& seg = segments_[main_[k]];
    const double other = OtherLevel(static_cast<int>(k));
    const std::optional<double> unlike = UnlikeBelow(static_cast<int>(k));
    if (!unlike) continue;  // the steps cannot be told apart: nothing to measure against
    const double threshold = *unlike;
    std::vector<int> pure = PureClips(trainee_.clips, seg);
    // A step too short to hold that many clips: all of them, and at least
    // two (one clip alone never was a finding).
    const int min_clips = std::min(wanted_clips, std::max(2, static_cast<int>(pure.size())));
    // Stretches of consecutive pure clips below the threshold, judged by
    // the mean of min_clips clips at a time (below_line.h): a step whose
    // clips sit at the line, some a hair above it, is below it as a whole.
    // The maintenance wrong tool 10 % slower read 0.70-0.73 against a line
    // of 0.728, and no four clips in a row were under it.
    for (size_t c = 0; c < pure.size();) {
      size_t e = c;
      while (e + 1 < pure.size() && pure[e + 1] == pure[e] + 1) ++e;
      std::vector<double> sims;
      for (size_t i = c; i <= e; ++i) sims.push_back(ss_.sim.at(pure[i], k));
      for (const ClipStretch& run : StretchesBelowLine(sims, threshold, min_clips)) {
        const int first = pure[c + run.first], last = pure[c + run.last];
        TimeSpan t{trainee_.clips[first].start_sec, trainee_.clips[last].end_sec};
        // Where in the gold step: the same fraction of the step.
        const TimeSpan& gs = steps_[k].time;
        double scale = gs.duration() / std::max(kEps, seg.time.duration());
        TimeSpan g{gs.start_sec + (t.start_sec - seg.time.start_sec) * scale,
                   gs.start_sec + (t.end_sec - seg.time.start_sec) * scale};
        g.start_sec = std::clamp(g.start_sec, gs.start_sec, gs.end_sec);
        g.end_sec = std::clamp(g.end_sec, g.start_sec, gs.end_sec);
        Deviation d;
        d.type = kExecutionDeviation;
        d.step = Ref(static_cast<int>(k), &seg);
        d.step.gold_time = g;
        d.step.trainee_time = t;
        d.confidence = Clamp01(0.5 + 0.5 * (threshold - run.mean) / std::max(kEps, threshold - other));
        d.reason = Fmt("this step looked unlike the gold for %.1f s", t.duration()) + " (" +
                   TimeSpanCode(t.start_sec, t.end_sec) + Fmt("; %.0f%% as alike as the rest of the video",
                                                                             100 * run.mean / std::max(kEps, typical_)) + ")" +
                   WhatStoodStill(static_cast<int>(k), static_cast<int>(k), first, last, true);
        deviating_[k] = true;
        double share = t.duration() / std::max(kEps, seg.time.duration());
        Add(std::move(d), o_.weights.dev, std::max(0.5, share));
      }
      c = e + 1;
    }
  }
}

// Said of time of no step that holds a pause CutStillPauses took from a
// step's run: what the supervisor will see there. Empty otherwise.
std::string Evaluation::PauseIn(const TimeSpan& t) const {
  for (const Pause& p : pauses_) {
    if (p.still.start_sec < t.start_sec - kEps || p.still.end_sec > t.end_sec + kEps) continue;
    return NothingMoved(p.still) + ", beside step \"" + steps_[p.step].name +
           "\", which never stood still that long in the gold video";
  }
  return "";
}

// Said of a stretch of the trainee's steps first_step..last_step that looked
// unlike the gold or took too long: when nothing in view moved for a while
// in it (for most of it, if `most`), and the gold's steps never stood still
// as long, that is what the supervisor will see in the video (work_span.h
// measures stillness). Empty otherwise.
std::string Evaluation::WhatStoodStill(int first_step, int last_step, int first_clip, int last_clip,
                                       bool most) const {
  if (first_clip > last_clip) return "";
  const StillStretch still = LongestSeenStill(trainee_.vectors, trainee_.clips, first_clip, last_clip, trainee_still_);
  if (still.count == 0 || (most && 2 * still.count < last_clip - first_clip + 1)) return "";
  if (steps_[first_step].clips.empty() || steps_[last_step].clips.empty()) return "";
  // Only whether the gold stood still as long: the search stops there.
  const StillStretch gold = LongestSeenStill(gold_.vectors, gold_.clips, steps_[first_step].clips.front(),
                                             steps_[last_step].clips.back(), gold_still_, still.count);
  if (gold.count >= still.count) return "";
  const ClipSpan& a = trainee_.clips[still.first];
  const ClipSpan& b = trainee_.clips[still.first + still.count - 1];
  return NothingMoved({a.start_sec, b.end_sec}) + ", where the gold never stood still that long";
}

void Evaluation::FindRushedSteps() {
  if (o_.min_time_fraction <= 0) return;
  const int k_count = static_cast<int>(steps_.size());
  for (int k = 0; k < k_count; ++k) {
    if (main_[k] < 0) continue;
    const TimedUnit u = TimedUnitOf(k);
    if (u.first != k) continue;  // timed with its run
    // The first and last gold steps hold the idle time before and after the
    // work, which a trainee video need not repeat.
    if (u.first == 0 || u.last == k_count - 1) continue;
    bool reported = false;  // already reported as done unlike the gold
    for (int j = u.first; j <= u.last; ++j) reported = reported || deviating_[j];
    if (reported) continue;
    const double ratio = u.took / std::max(kEps, u.gold);
    if (ratio >= o_.min_time_fraction || u.gold - u.took < o_.min_rushed_seconds) continue;
    Deviation d;
    d.type = kExecutionDeviation;
    d.step = UnitRef(u);
    d.confidence = Clamp01(0.5 + 0.5 * (o_.min_time_fraction - ratio) / o_.min_time_fraction);
    d.reason = (u.first == u.last ? "done" : UnitName(u) + "were done") +
               Fmt(" in %.1f s against %.1f s in the gold video (%.0f%% of its time): part of the ", u.took, u.gold,
                   100 * ratio) +
               (u.first == u.last ? "step" : "work") + " may have been skipped";
    for (int j = u.first; j <= u.last; ++j) deviating_[j] = true;
    // Half the time gone is as bad as a step visibly done wrong all through.
    Add(std::move(d), o_.weights.dev, std::min(1.0, 2 * (1 - ratio)));
  }
}

void Evaluation::FindExtraSegments() {
  // By default longer than the blur SegmentLabels shares out: a clip plus a stride.
  const double min_extra = o_.min_extra_seconds > 0 ? o_.min_extra_seconds : clip_seconds_ + stride_ + kEps;
  std::vector<double> gold_durations;
  for (size_t k = 0; k < steps_.size(); ++k) gold_durations.push_back(GoldSeconds(static_cast<int>(k)));
  const double typical_step = std::max(kEps, Median(gold_durations));
  auto is_repeat = [&](size_t s) {
    return segments_[s].step != kNoStep && main_[segments_[s].step] != static_cast<int>(s) && !IsResumed(s);
  };
  const bool any_step = std::any_of(main_.begin(), main_.end(), [](int m) { return m >= 0; });
  for (size_t s = 0; s < segments_.size(); ++s) {
    TraineeSegment seg = segments_[s];
    const TraineeSegment first = seg;
    bool is_main = seg.step != kNoStep && !is_repeat(s);
    // Steps the gold cannot tell apart, done again one after the other, are
    // one run of them done again (ShareTimeAmongAlikeSteps shared its time).
    int last_step = seg.step;
    while (!is_main && seg.step != kNoStep && s + 1 < segments_.size() && is_repeat(s + 1) &&
           segments_[s + 1].step == last_step + 1 && alike_runs_.AlikeNext(last_step)) {
      ++s;
      last_step = segments_[s].step;
      seg.last_clip = segments_[s].last_clip;
      seg.time.end_sec = segments_[s].time.end_sec;
    }
    // A step done again counts once it is long enough to count as the step
    // done (ChooseMainSegments); unexplained time once it is longer than the
    // blur between two steps.
    const double need = seg.step == kNoStep
                            ? min_extra
                            : std::min(min_extra, std::min(clip_seconds_, 0.5 * GoldSeconds(seg.step)));
    // Before the first step and after the last: idle, not a deviation,
    // however short (TrimEdgeBlur leaves a lead-in of a second as such).
    if (seg.step == kNoStep && any_step && (s == 0 || s + 1 == segments_.size())) {
      if (seg.time.duration() > kEps) idle_.push_back({s == 0 ? kIdleLeadIn : kIdleTail, seg.time});
      continue;
    }
    if (is_main || seg.time.duration() < need - kEps) continue;
    Deviation d;
    d.type = kExtraSegment;
    if (seg.step == kNoStep) {
      d.step.index = -1;
      d.step.trainee_time = seg.time;
      d.reason = Fmt("%.1f s of the trainee video match no step of the procedure", seg.time.duration()) +
                 (space_.trainee_still ? StillTrainee() : PauseIn(seg.time));
    } else {
      d.step = Ref(seg.step, &seg);
      d.step.gold_time->end_sec = steps_[last_step].time.end_sec;
      const std::string& name = steps_[seg.step].name;
      // Where it was done the first time: its doing (to the last step's).
      TimeSpan before = DoingOf(seg.step).span;
      if (main_[last_step] >= 0) before.end_sec = std::max(before.end_sec, DoingOf(last_step).span.end_sec);
      d.reason = (last_step == seg.step ? "step \"" + name + "\""
                                        : "steps \"" + name + "\" to \"" + steps_[last_step].name + "\"") +
                 " done again (" + (last_step == seg.step ? "it is" : "they are") + " also done at " +
                 TimeSpanCode(before.start_sec, before.end_sec) + ")";
    }
    double best = 0;
    for (int i = seg.first_clip; i <= seg.last_clip; ++i) {
      double m = 0;
      for (int k = 0; k < ss_.sim.cols; ++k) m = std::max(m, static_cast<double>(ss_.sim.at(i, k)));
      best += m;
    }
    best /= (seg.last_clip - seg.first_clip + 1);
    d.confidence = seg.step == kNoStep
                       ? Clamp01(0.5 + 0.5 * (params_.none_threshold - best) /
                                           std::max(kEps, typical_ - params_.none_threshold))
                       : Clamp01(SegmentSimilarity(first, first.step));
    // Unexplained time costs in proportion to its length; a step done again
    // costs in full, however short the step: the supervisor must see why.
    Add(std::move(d), o_.weights.extra, seg.step == kNoStep ? seg.time.duration() / typical_step : 1.0);
  }
}

}  // namespace evaluation
}  // namespace sopilot
