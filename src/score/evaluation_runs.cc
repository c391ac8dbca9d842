// The trainee's runs made ready to judge (evaluation.h).
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

void Evaluation::ChooseMainSegments() {
  const int k_count = static_cast<int>(steps_.size());
  main_.assign(k_count, -1);
  std::vector<std::vector<int>> runs(k_count);
  for (size_t s = 0; s < segments_.size(); ++s) {
    if (segments_[s].step != kNoStep) runs[segments_[s].step].push_back(static_cast<int>(s));
  }
  auto strength = [&](int s) {
    const TraineeSegment& seg = segments_[s];
    return SegmentSimilarity(seg, seg.step) * (seg.last_clip - seg.first_clip + 1);
  };
  // Only runs long enough to count as the step done are candidates (a
  // moment that resembled the step is not the step).
  for (int k = 0; k < k_count; ++k) {
    const double need = MinRunSeconds(k);
    std::erase_if(runs[k], [&](int s) { return segments_[s].time.duration() < need - kEps; });
    for (int s : runs[k]) {
      if (main_[k] < 0 || strength(s) > strength(main_[k])) main_[k] = s;
    }
  }
  // A repeated step: keep the occurrence that agrees with the gold order.
  auto inversions = [&](int k, int s) {
    int n = 0;
    for (int j = 0; j < k_count; ++j) {
      if (j == k || main_[j] < 0) continue;
      bool before_in_gold = j < k;
      bool before_in_trainee = main_[j] < s;
      n += before_in_gold != before_in_trainee;
    }
    return n;
  };
  for (int k = 0; k < k_count; ++k) {
    if (runs[k].size() < 2) continue;
    int best = main_[k];
    for (int s : runs[k]) {
      int a = inversions(k, s), b = inversions(k, best);
      if (a < b || (a == b && strength(s) > strength(best))) best = s;
    }
    main_[k] = best;
  }
}

void Evaluation::FindResumedSteps() {
  // A trainee who breaks off a step (time on no step, or a moment that
  // resembles another step done at its own place elsewhere) and then goes
  // on with it does the step once, interrupted: the interruption is the
  // finding, not a second doing of the step. Reported as "done again",
  // the step's second part doubled the one interruption into two findings
  // and cut the step's time short. So a run of step k that follows (or
  // precedes) k's main run with only such an interruption between them,
  // and the next one beyond it in the same way, is part of the main run's
  // doing. A run of another step's main run between them is a step done
  // in between: the run after it is k done again, as before.
  resumed_.assign(steps_.size(), {});
  const int n = static_cast<int>(segments_.size());
  auto interruption = [&](int s) {
    const int j = segments_[s].step;
    return j == kNoStep || main_[j] != s;
  };
  for (size_t k = 0; k < steps_.size(); ++k) {
    if (main_[k] < 0) continue;
    for (int dir : {-1, 1}) {
      for (int at = main_[k];;) {
        const int next = at + 2 * dir;
        if (next < 0 || next >= n || segments_[next].step != static_cast<int>(k) || !interruption(at + dir)) break;
        resumed_[k].push_back(next);
        at = next;
      }
    }
  }
}

void Evaluation::TrimEdgeBlur() {
  // A clip holds a clip length of time. Where the camera starts a moment
  // before the work, the first clips hold some of that moment and some of
  // the first step; the gold, which starts with the step, has no clip like
  // them, so they look unlike the step, and too few of them lie outside it
  // for the labels to leave them out (a "none" run this short is the blur
  // SegmentLabels shares out). Counted as the step, a lead-in of a second or
  // two made the first step over time and done wrongly. So the video's first
  // step starts with its first clip that looks like it, as the gold's first
  // step starts with its first clip, when the clips before it are no more
  // than that blur (a clip length plus a stride); the time before is idle.
  // The same at the end, after the last step's last clip that looks like it.
  // A longer stretch unlike the step is left to the other rules (a step done
  // wrongly at the start, or the raw-space rule of UnlabelRawOutliers).
  const double blur = clip_seconds_ + stride_ + kEps;
  const std::vector<ClipSpan>& clips = trainee_.clips;
  auto looks_like = [&](int i, int k) {
    std::optional<double> unlike = UnlikeBelow(k);
    return unlike && ss_.sim.at(i, k) >= *unlike;
  };
  // The first segment holding a step, with only "none" before it.
  size_t first = 0;
  while (first < segments_.size() && segments_[first].step == kNoStep) ++first;
  if (first < segments_.size() && UnlikeBelow(segments_[first].step)) {
    TraineeSegment& seg = segments_[first];
    const int k = seg.step;
    int good = seg.first_clip;
    while (good <= seg.last_clip && !looks_like(good, k)) ++good;
    const double start =
        good > seg.first_clip && good <= seg.last_clip
            ? CrossingTime(clips, good - 1, good, [&](int i) { return *UnlikeBelow(k) - ss_.sim.at(i, k); },
                           0.5 * (ClipCentre(clips[good - 1]) + ClipCentre(clips[good])))
            : seg.time.start_sec;
    if (start > seg.time.start_sec && (good - seg.first_clip) * stride_ <= blur && start < seg.time.end_sec) {
      TraineeSegment idle{kNoStep, seg.first_clip, good - 1, {seg.time.start_sec, start}};
      seg.first_clip = good;
      seg.time.start_sec = start;
      if (first > 0) {
        segments_[first - 1].last_clip = idle.last_clip;
        segments_[first - 1].time.end_sec = start;
      } else {
        segments_.insert(segments_.begin(), idle);
      }
    }
  }
  // The last segment holding a step, with only "none" after it.
  size_t last = segments_.size();
  while (last > 0 && segments_[last - 1].step == kNoStep) --last;
  if (last == 0) return;
  --last;
  if (!UnlikeBelow(segments_[last].step)) return;
  TraineeSegment& seg = segments_[last];
  const int k = seg.step;
  int good = seg.last_clip;
  while (good >= seg.first_clip && !looks_like(good, k)) --good;
  if (good < seg.first_clip || good == seg.last_clip) return;
  const double end =
      CrossingTime(clips, good, good + 1, [&](int i) { return ss_.sim.at(i, k) - *UnlikeBelow(k); },
                   0.5 * (ClipCentre(clips[good]) + ClipCentre(clips[good + 1])));
  if (end >= seg.time.end_sec || (seg.last_clip - good) * stride_ > blur || end <= seg.time.start_sec) return;
  TraineeSegment idle{kNoStep, good + 1, seg.last_clip, {end, seg.time.end_sec}};
  seg.last_clip = good;
  seg.time.end_sec = end;
  if (last + 1 < segments_.size()) {
    segments_[last + 1].first_clip = idle.first_clip;
    segments_[last + 1].time.start_sec = end;
  } else {
    segments_.push_back(idle);
  }
}

void Evaluation::CutStillPauses() {
  // A trainee who stops between two steps (hands held still, waiting for
  // someone) is filmed standing still, and that time looks like the step
  // beside it: the same hands in the same place. The labels gave it to the
  // step, which then ran over time. It is time spent on nothing the
  // procedure asks for: an extra segment between steps, idle before or
  // after the work. A still stretch of a step's run is such a pause when
  //   - it is seen still (work_span.h) and reaches the run's start or end
  //     (to within a clip): still in the middle of a step is the step done
  //     slowly, and stays the step's time;
  //   - the gold's step moves: it is still for less than half of it (a
  //     still step, a slide or a wait, held longer is the step over time);
  //   - it lasts longer than the gold's step ever stands still: as long as
  //     that stays the step's, the rest is the pause.
  // What is left of the run must still count as the step done.
  //
  // Steps the gold cannot tell apart (an alike run) had their time shared
  // in the gold's proportion (ShareTimeAmongAlikeSteps), and the sharing
  // can cut a pause into parts too short to be seen still. So where no
  // step's share holds a pause, it is looked for in the run's time as a
  // whole, judged against the gold's whole run.
  if (gold_still_ <= 0 || trainee_still_ <= 0) return;
  for (size_t last = segments_.size(); last-- > 0;) {
    // Segments first..last hold steps k, k + 1, ..., each alike to the
    // next: the chain ShareTimeAmongAlikeSteps shared (one segment when the
    // step is told apart from its neighbours).
    size_t first = last;
    while (first > 0 && segments_[first - 1].step != kNoStep &&
           segments_[first].step == segments_[first - 1].step + 1 && alike_runs_.AlikeNext(segments_[first - 1].step)) {
      --first;
    }
    bool cut = false;
    // Downwards: a pause inserted at s moves only the segments from s on.
    for (size_t s = last + 1; s-- > first;) cut = CutStillPause(s, s) || cut;
    if (!cut && last > first) CutStillPause(first, last);
    last = first;
  }
}

bool Evaluation::CutStillPause(size_t first, size_t last) {
  // A clip straddling the change from the pause to the next step is still
  // when most of it is, and the labels put the boundary where the clips
  // cross: the two meet to within a clip.
  const double reach = clip_seconds_ + kEps;
  const double min_pause = o_.min_extra_seconds > 0 ? o_.min_extra_seconds : clip_seconds_ + stride_ + kEps;
  const std::vector<ClipSpan>& clips = trainee_.clips;
  const int first_step = segments_[first].step, last_step = segments_[last].step;
  if (first_step == kNoStep || steps_[first_step].clips.empty() || steps_[last_step].clips.empty()) return false;
  TraineeSegment whole = segments_[first];
  whole.last_clip = segments_[last].last_clip;
  whole.time.end_sec = segments_[last].time.end_sec;
  const std::vector<int> pure = PureClips(clips, whole);
  if (pure.empty()) return false;
  const StillStretch still = LongestSeenStill(trainee_.vectors, clips, pure.front(), pure.back(), trainee_still_);
  if (still.count == 0) return false;
  const int gold_first = steps_[first_step].clips.front(), gold_last = steps_[last_step].clips.back();
  // The search stops once the gold is as still as the trainee: no pause.
  const StillStretch gold =
      LongestSeenStill(gold_.vectors, gold_.clips, gold_first, gold_last, gold_still_, still.count);
  if (2 * gold.count >= gold_last - gold_first + 1 || gold.count >= still.count) return false;
  const int a = still.first, b = still.first + still.count - 1;
  TraineeSegment pause{kNoStep, 0, 0, {}}, rest = whole;
  TimeSpan seen;
  const bool at_end = clips[b].end_sec >= whole.time.end_sec - reach;
  if (at_end) {
    const int c = a + gold.count;  // the pause's first clip
    pause = {kNoStep, c, whole.last_clip, {clips[c].start_sec, whole.time.end_sec}};
    seen = {clips[c].start_sec, clips[b].end_sec};
    rest.last_clip = c - 1;
    rest.time.end_sec = pause.time.start_sec;
  } else if (clips[a].start_sec <= whole.time.start_sec + reach) {
    const int c = b - gold.count;  // the pause's last clip
    pause = {kNoStep, whole.first_clip, c, {whole.time.start_sec, clips[c].end_sec}};
    seen = {clips[a].start_sec, clips[c].end_sec};
    rest.first_clip = c + 1;
    rest.time.start_sec = pause.time.end_sec;
  } else {
    return false;
  }
  if (pause.time.duration() < min_pause - kEps) return false;
  // What is left, a run's time shared again as in the gold.
  std::vector<TraineeSegment> kept(segments_.begin() + static_cast<std::ptrdiff_t>(first),
                                   segments_.begin() + static_cast<std::ptrdiff_t>(last) + 1);
  kept.front().first_clip = rest.first_clip;
  kept.front().time.start_sec = rest.time.start_sec;
  kept.back().last_clip = rest.last_clip;
  kept.back().time.end_sec = rest.time.end_sec;
  if (kept.size() > 1) ShareTimeAmongAlikeSteps(clips, gold_seconds_, alike_runs_.alike_next(), &kept);
  for (const TraineeSegment& part : kept) {
    const bool counts = part.first_clip <= part.last_clip && part.first_clip >= rest.first_clip &&
                        part.last_clip <= rest.last_clip && part.time.start_sec >= rest.time.start_sec - kEps &&
                        part.time.end_sec <= rest.time.end_sec + kEps &&
                        part.time.duration() >= MinRunSeconds(part.step) - kEps;
    if (!counts) return false;
  }
  pauses_.push_back({seen, at_end ? last_step : first_step});
  std::copy(kept.begin(), kept.end(), segments_.begin() + static_cast<std::ptrdiff_t>(first));
  // Beside time of no step already, the pause joins it.
  const bool none_beside = at_end ? last + 1 < segments_.size() && segments_[last + 1].step == kNoStep
                                  : first > 0 && segments_[first - 1].step == kNoStep;
  if (none_beside) {
    TraineeSegment& none = segments_[at_end ? last + 1 : first - 1];
    if (at_end) {
      none.first_clip = pause.first_clip;
      none.time.start_sec = pause.time.start_sec;
    } else {
      none.last_clip = pause.last_clip;
      none.time.end_sec = pause.time.end_sec;
    }
  } else {
    segments_.insert(segments_.begin() + static_cast<std::ptrdiff_t>(at_end ? last + 1 : first), pause);
  }
  return true;
}

// How many different steps (an alike run counting as one) hold a run of at
// least `min_clips` consecutive clips among labels_[a..b].
int Evaluation::RunsOfSteps(int a, int b, int min_clips) const {
  std::vector<int> runs;
  for (int i = a; i <= b;) {
    int j = i;
    while (j + 1 <= b && labels_[j + 1] == labels_[i]) ++j;
    if (labels_[i] != kNoStep && j - i + 1 >= min_clips) {
      const int run = alike_runs_.RunOf(labels_[i]);
      if (std::find(runs.begin(), runs.end(), run) == runs.end()) runs.push_back(run);
    }
    i = j + 1;
  }
  return static_cast<int>(runs.size());
}

void Evaluation::UnlabelRawOutliers() {
  // Before the work starts and after it ends the camera often shows an empty
  // scene, which the comparison space can make look like a flat step. The
  // embeddings as they are cannot, and within one trainee video they share
  // its lighting: a stretch at the start or the end (a clip length at least)
  // whose raw match to its step falls below the video's typical raw match
  // by more than half the gap to the gold's other steps is not that step.
  // (Inside the video such a stretch is left to the execution-deviation
  // rule: a step done wrongly looks unlike the gold too.) A stretch the
  // comparison space sees as two steps or more, one after another, is work
  // filmed in another light (a lamp switched on during the recording), not
  // an empty scene, which looks like one step at most.
  if (raw_other_.empty()) return;
  std::vector<double> matched;
  for (size_t i = 0; i < labels_.size(); ++i) {
    if (labels_[i] != kNoStep) matched.push_back(raw_ss_.sim.at(static_cast<int>(i), labels_[i]));
  }
  if (matched.empty()) return;
  const double typical = Median(matched);
  const double other = Median(raw_other_);
  if (typical <= other + kSimilarityResolution) return;  // the steps cannot be told apart this way
  const double floor = typical - 0.5 * (typical - other);
  const int window = std::max(1, static_cast<int>(std::lround(clip_seconds_ / stride_)));
  const int n = static_cast<int>(labels_.size());
  auto low = [&](int i) { return labels_[i] != kNoStep && raw_ss_.sim.at(i, labels_[i]) < floor; };
  for (int a = 0; a < n;) {
    if (!low(a)) {
      ++a;
      continue;
    }
    int b = a;
    while (b + 1 < n && low(b + 1)) ++b;
    if (b - a + 1 >= window && (a == 0 || b == n - 1) && RunsOfSteps(a, b, window) < 2) {
      for (int i = a; i <= b; ++i) labels_[i] = kNoStep;
    }
    a = b + 1;
  }
}

Status Evaluation::ExplainWeakRepeats() {
  // A second run of a step is that step done again only when it looks like
  // the step as much as the step's main run does. The comparison space can
  // make a flat blank screen look like a flat step; the embeddings as they
  // are cannot, and two parts of one trainee video share its lighting, so
  // here they compare fairly: a repeat must come within half the gap
  // between the main run and the other steps (the gold's, as given).
  std::vector<int> repeats;
  for (size_t s = 0; s < segments_.size(); ++s) {
    int k = segments_[s].step;
    if (k != kNoStep && main_[k] >= 0 && main_[k] != static_cast<int>(s)) repeats.push_back(static_cast<int>(s));
  }
  if (repeats.empty()) return Status::Ok();
  const StepSimilarity& raw = raw_ss_;
  const std::vector<double>& raw_other = raw_other_;
  // Over the clips wholly inside the run: its edges hold the steps beside
  // it, which differ between a repeat and the main run.
  auto mean_raw = [&](const TraineeSegment& seg) {
    std::vector<int> pure = PureClips(trainee_.clips, seg);
    double m = 0;
    for (int i : pure) m += raw.sim.at(i, seg.step);
    return m / static_cast<double>(pure.size());
  };
  for (int s : repeats) {
    TraineeSegment& seg = segments_[s];
    const int k = seg.step;
    const double main_level = mean_raw(segments_[main_[k]]);
    const double other = raw_other.empty() ? 0.0 : raw_other[k];
    if (main_level <= other + kSimilarityResolution) continue;  // nothing to tell them apart with
    if (mean_raw(seg) < main_level - 0.5 * (main_level - other)) seg.step = kNoStep;
  }
  return Status::Ok();
}

}  // namespace evaluation
}  // namespace sopilot
