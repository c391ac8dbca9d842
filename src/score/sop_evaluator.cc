#include "score/sop_evaluator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <optional>

#include "align/cost_matrix.h"
#include "align/drop_dtw.h"
#include "base/median.h"
#include "base/time_code.h"
#include "score/alike_runs.h"
#include "score/below_line.h"
#include "score/coarsen.h"
#include "score/comparison_space.h"
#include "score/crossing.h"
#include "score/step_matcher.h"
#include "score/step_placer.h"
#include "score/step_segmenter.h"
#include "score/work_span.h"
#include "score/structure_metrics.h"

namespace sopilot {

namespace {

constexpr double kEps = 1e-6;
// A trainee clip counts as the procedure when it is at least this fraction as
// alike to some step as the gold is to itself at another moment of a step:
// halfway between no resemblance (0 in the comparison space) and the gold's
// own clip-to-clip variation (doc/scoring.md).
constexpr double kRelatedFraction = 0.5;
// A trainee's steps are told apart when its typical match lies at least this
// fraction of the way from the gold's other-step level to its same-step
// level: nearer the second than the first (doc/scoring.md, section 6).
constexpr double kToldApartFraction = 0.5;

double Clamp01(double x) { return std::min(1.0, std::max(0.0, x)); }

std::string Severity(double magnitude) {
  if (magnitude >= 0.75) return "high";
  if (magnitude >= 0.4) return "medium";
  return "low";
}

std::string Fmt(const char* fmt, double a, double b = 0, double c = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, a, b, c);
  return buf;
}

// ": nothing in view moved for 5.5 s (1:14.0-1:19.5)": a still stretch of
// the trainee video, as the reasons say it.
std::string NothingMoved(const TimeSpan& t) {
  return Fmt(": nothing in view moved for %.1f s", t.duration()) + " (" + TimeCode(t.start_sec) + "-" +
         TimeCode(t.end_sec) + ")";
}

double VideoDuration(const EmbeddingSet& s) {
  double end = s.clips.empty() ? 0 : s.clips.back().end_sec;
  return std::max(end, s.source.duration_sec);
}

Status CheckComparable(const EmbeddingSet& g, const EmbeddingSet& t) {
  if (g.clips.empty() || t.clips.empty()) {
    return Status::InvalidArgument(std::string(g.clips.empty() ? "gold" : "trainee") + " video has no clips");
  }
  if (g.model != t.model || g.vectors.cols != t.vectors.cols) {
    return Status::InvalidArgument("gold and trainee were embedded with different models (" + g.model + ", " +
                                   std::to_string(g.vectors.cols) + " dims vs " + t.model + ", " +
                                   std::to_string(t.vectors.cols) + " dims); embed both with one model");
  }
  if (std::abs(g.sampling.clip_seconds - t.sampling.clip_seconds) > kEps ||
      std::abs(g.sampling.clip_stride_sec - t.sampling.clip_stride_sec) > kEps ||
      std::abs(g.sampling.target_fps - t.sampling.target_fps) > kEps) {
    return Status::InvalidArgument(
        "gold and trainee were embedded with different clip settings (" +
        Fmt("%g s clips every %g s at %g fps", g.sampling.clip_seconds, g.sampling.clip_stride_sec,
            g.sampling.target_fps) +
        " vs " +
        Fmt("%g s clips every %g s at %g fps", t.sampling.clip_seconds, t.sampling.clip_stride_sec,
            t.sampling.target_fps) +
        "); embed both with the same settings");
  }
  return Status::Ok();
}

// Clips of `clips` lying wholly inside `span` (no fallback).
std::vector<int> PureClips(const std::vector<ClipSpan>& clips, const TraineeSegment& seg) {
  std::vector<int> out;
  for (int i = seg.first_clip; i <= seg.last_clip; ++i) {
    if (clips[i].start_sec >= seg.time.start_sec - kEps && clips[i].end_sec <= seg.time.end_sec + kEps) {
      out.push_back(i);
    }
  }
  if (out.empty()) {
    for (int i = seg.first_clip; i <= seg.last_clip; ++i) out.push_back(i);
  }
  return out;
}

int BoundaryClip(const std::vector<ClipSpan>& clips, double t) {
  for (size_t i = 0; i < clips.size(); ++i) {
    if (clips[i].start_sec >= t - kEps) return static_cast<int>(i);
  }
  return static_cast<int>(clips.size());
}

// The engine's state for one evaluation.
class Evaluation {
 public:
  Evaluation(const EmbeddingSet& g, const EmbeddingSet& t, const ScoreOptions& o)
      : gold_(g), trainee_(t), o_(o) {}

  Status Run(const std::vector<StepSpec>* user_steps, ScoreReport* out);

 private:
  Status ExplainWeakRepeats();
  Status ComputeRawLevels();
  void UnlabelRawOutliers();
  int RunsOfSteps(int a, int b, int min_clips) const;
  double TypicalMatch() const;
  void TrimEdgeBlur();
  void CutStillPauses();
  // Cuts a still pause out of segments first..last (one step's run, or a
  // chain of alike steps' runs, which is shared again); true if it did.
  bool CutStillPause(size_t first, size_t last);
  std::string PauseIn(const TimeSpan& t) const;
  // ": nothing in view moved in it (0:00.0-0:30.0)", said of a still
  // trainee (ComparisonSpace::trainee_still).
  std::string StillTrainee() const {
    return ": nothing in view moved in it (" + TimeCode(0) + "-" + TimeCode(VideoDuration(trainee_)) + ")";
  }
  std::string WhatStoodStill(int first_step, int last_step, int first_clip, int last_clip, bool most) const;
  // Below it a trainee clip of step k looks unlike the gold's step: under
  // the typical match by more than half the gap to the other steps, and by
  // more than the step differs from itself between two moments of the gold
  // (a correct performance varies that much). Nothing when the steps cannot
  // be told apart (no gap to measure against).
  std::optional<double> UnlikeBelow(int k) const {
    const double other = OtherLevel(k);
    if (typical_ <= other + kSimilarityResolution) return std::nullopt;
    return typical_ - std::max(o_.deviation_fraction * (typical_ - other), 1.0 - line_self_[k]);
  }
  void ChooseMainSegments();
  void FindMissingAndOrder();
  void FindOverTime();
  void FindExecutionDeviations();
  void FindRushedSteps();
  void FindExtraSegments();
  void Finish(ScoreReport* out);
  std::string MissingReason(int k, int best_clip, double best) const;
  // The trainee as a whole resembles the procedure: its median clip is at
  // least the none level to some step (section 3 of doc/scoring.md).
  bool IsTheProcedure() const {
    if (ss_.sim.rows == 0) return false;
    std::vector<double> best;
    for (int i = 0; i < ss_.sim.rows; ++i) {
      double b = -1;
      for (int k = 0; k < ss_.sim.cols; ++k) b = std::max<double>(b, ss_.sim.at(i, k));
      best.push_back(b);
    }
    return Median(best) >= none_level_;
  }
  // How long a run of step k must last to count as the step done.
  double MinRunSeconds(int k) const { return std::min(clip_seconds_, 0.5 * GoldSeconds(k)); }
  // How long the gold spends on step k: from its start to the next step's
  // (its own end for the last). A user's timed steps may leave time between
  // two steps; its clips are the step before's evidence (GoldStepOfClip), so
  // a trainee doing as the gold does spends it in that step's run, and it
  // is timed with it: timed apart, a gold compared with itself was over
  // time on every step before a gap.
  double GoldSeconds(int k) const {
    const double end = k + 1 < static_cast<int>(steps_.size()) ? steps_[k + 1].time.start_sec : steps_[k].time.end_sec;
    return std::max(steps_[k].time.duration(), end - steps_[k].time.start_sec);
  }
  void FindWhetherStepsCanBeToldApart();

  StepRef Ref(int k, const TraineeSegment* seg) const {
    StepRef r;
    r.index = k;
    r.name = steps_[k].name;
    r.gold_time = steps_[k].time;
    if (seg) r.trainee_time = seg->time;
    return r;
  }
  double SegmentSimilarity(const TraineeSegment& seg, int k) const {
    double s = 0;
    for (int i = seg.first_clip; i <= seg.last_clip; ++i) s += ss_.sim.at(i, k);
    return s / (seg.last_clip - seg.first_clip + 1);
  }
  // What is timed for step k: the run of alike steps holding it when every
  // one of them was done (the gold cannot tell them apart, so the trainee's
  // boundaries between them are as good as arbitrary and only their total
  // time means anything), else step k alone.
  struct TimedUnit {
    int first = 0, last = 0;  // gold steps
    double gold = 0, took = 0;
    TimeSpan gold_time, trainee_time;
    bool holds_last_segment = false;  // a main run is the trainee's last segment
  };
  TimedUnit TimedUnitOf(int k) const {
    const int run = alike_runs_.RunOf(k);
    int lo = alike_runs_.First(run), hi = alike_runs_.Last(run);
    for (int j = lo; j <= hi; ++j) {
      if (main_[j] < 0) lo = hi = k;
    }
    TimedUnit u;
    u.first = lo;
    u.last = hi;
    u.gold_time = {steps_[lo].time.start_sec, steps_[hi].time.end_sec};
    u.trainee_time = segments_[main_[k]].time;
    for (int j = lo; j <= hi; ++j) {
      const TraineeSegment& seg = segments_[main_[j]];
      u.gold += GoldSeconds(j);
      u.took += seg.time.duration();
      u.trainee_time.start_sec = std::min(u.trainee_time.start_sec, seg.time.start_sec);
      u.trainee_time.end_sec = std::max(u.trainee_time.end_sec, seg.time.end_sec);
      u.holds_last_segment = u.holds_last_segment || main_[j] + 1 == static_cast<int>(segments_.size());
    }
    return u;
  }
  // The unit as a deviation's step: a run is named by its first and last steps.
  StepRef UnitRef(const TimedUnit& u) const {
    StepRef r = Ref(u.first, &segments_[main_[u.first]]);
    r.gold_time = u.gold_time;
    r.trainee_time = u.trainee_time;
    return r;
  }
  std::string UnitName(const TimedUnit& u) const {
    if (u.first == u.last) return "";
    return "steps \"" + steps_[u.first].name + "\" to \"" + steps_[u.last].name +
           "\", which the gold video cannot tell apart, ";
  }
  // OtherStepSimilarity, with each run of alike steps taken as one step:
  // "the other steps" are those the gold can tell apart from step k (its
  // alike neighbours would put the level at the step's own). `gold_self` is
  // gold x gold similarity.
  std::vector<double> OtherLevelsOutsideAlikeRuns(const FloatMatrix& gold_self) const {
    std::vector<Step> runs;
    for (int r = 0; r < alike_runs_.run_count(); ++r) {
      runs.push_back(steps_[alike_runs_.First(r)]);
      for (int k = alike_runs_.First(r) + 1; k <= alike_runs_.Last(r); ++k) {
        runs.back().clips.insert(runs.back().clips.end(), steps_[k].clips.begin(), steps_[k].clips.end());
      }
    }
    std::vector<double> by_run = OtherStepSimilarity(gold_self, runs);
    if (by_run.empty()) return {};
    std::vector<double> out;
    for (int k = 0; k < alike_runs_.step_count(); ++k) out.push_back(by_run[alike_runs_.RunOf(k)]);
    return out;
  }
  double OtherLevel(int k) const { return other_.empty() ? none_level_ : std::max(none_level_, other_[k]); }
  // The step holding each gold clip's centre; -1 (kNoStep) before the first
  // step or after the last. A user's timed steps may leave out a lead-in or
  // a tail (the camera started early), and found and placed steps leave out
  // a still one (work_span.h); that time is evidence of no step: counted as
  // the first step's, a gold compared with itself took its first step for
  // over time.
  std::vector<int> GoldStepOfClip() const {
    std::vector<int> out;
    for (const ClipSpan& c : gold_.clips) {
      double centre = 0.5 * (c.start_sec + c.end_sec);
      if (centre < steps_.front().time.start_sec || centre >= steps_.back().time.end_sec) {
        out.push_back(kNoStep);
        continue;
      }
      int k = 0;
      while (k + 1 < static_cast<int>(steps_.size()) && centre >= steps_[k + 1].time.start_sec) ++k;
      out.push_back(k);
    }
    return out;
  }
  void Add(Deviation d, double weight, double magnitude) {
    d.penalty = weight * Clamp01(magnitude);
    d.severity = d.type == kStepMissing ? "high" : Severity(magnitude);
    // A critical step missing or done wrongly fails the verdict (Finish).
    d.critical = d.step.index >= 0 && steps_[d.step.index].rules.critical &&
                 (d.type == kStepMissing || d.type == kExecutionDeviation);
    if (d.critical) d.severity = "high";
    deviations_.push_back(std::move(d));
  }

  const EmbeddingSet& gold_;
  const EmbeddingSet& trainee_;
  const ScoreOptions& o_;
  double clip_seconds_ = 0;
  double stride_ = 0;
  std::vector<Step> steps_;
  FloatMatrix similarity_;  // gold x trainee cosine
  StepSimilarity ss_;
  ComparisonSpace space_;
  std::vector<double> other_;  // per step: similarity level of other steps
  StepSimilarity raw_ss_;      // trainee clips x steps, the embeddings as given
  std::vector<double> raw_other_;
  double same_step_ = 1;       // gold: median best similarity within a step, at another moment
  std::vector<double> step_self_;  // the same, per step
  // Per step, the same-step level its execution_deviation line allows for:
  // step_self_, or for a step too short to be measured on its own
  // (ShortStepSelf) the median of the measured steps'.
  std::vector<double> line_self_;
  AlikeRuns alike_runs_;           // neighbouring steps the gold cannot tell apart
  double none_level_ = 0;      // below it a trainee clip is not the procedure
  double gold_still_ = 0, trainee_still_ = 0;  // StillDistance of each video (work_span.h)
  struct Pause {
    TimeSpan still;  // the part of it seen still
    int step = 0;    // the step beside it, whose run held it
  };
  std::vector<double> gold_seconds_;  // GoldSeconds of each step, for sharing an alike run's time
  std::vector<Pause> pauses_;  // still stretches cut from a step's run (CutStillPauses)
  LabelingParams params_;
  std::vector<int> labels_;
  std::vector<TraineeSegment> segments_;
  std::vector<int> main_;  // per step: index into segments_, or -1
  std::vector<bool> swapped_;
  double typical_ = 1.0;  // typical similarity of a trainee clip to its step
  std::vector<Deviation> deviations_;
  std::vector<IdleSpan> idle_;
  std::vector<bool> deviating_, over_;
  std::string weak_evidence_;  // set when the trainee's steps cannot be told apart: why
};

Status Evaluation::Run(const std::vector<StepSpec>* user_steps, ScoreReport* out) {
  SOPILOT_RETURN_IF_ERROR(CheckComparable(gold_, trainee_));
  clip_seconds_ = gold_.sampling.clip_seconds > 0 ? gold_.sampling.clip_seconds
                                                  : gold_.clips[0].end_sec - gold_.clips[0].start_sec;
  stride_ = gold_.sampling.clip_stride_sec > 0 ? gold_.sampling.clip_stride_sec : clip_seconds_;

  // Steps are found in the gold as it is (the raw embeddings separate a
  // gold's steps better: its lighting does not change within it); clips are
  // compared in the space where a camera's day-to-day changes are gone
  // (comparison_space.h).
  const double gold_duration = VideoDuration(gold_);
  if (user_steps != nullptr && !user_steps->empty() && !user_steps->front().timed) {
    // Named but not timed: placed where the gold's clips split best into
    // that many steps.
    const double min_step = o_.min_step_seconds > 0 ? o_.min_step_seconds : clip_seconds_;
    SOPILOT_ASSIGN_OR_RETURN(std::vector<StepSpec> placed,
                             PlaceSteps(*user_steps, gold_.vectors, gold_.clips, gold_duration, min_step));
    SOPILOT_ASSIGN_OR_RETURN(steps_, StepsFromSpecs(placed, gold_.clips, gold_duration));
  } else if (user_steps != nullptr && !user_steps->empty()) {
    SOPILOT_ASSIGN_OR_RETURN(steps_, StepsFromSpecs(*user_steps, gold_.clips, gold_duration));
  } else {
    steps_ = SegmentSteps(gold_.vectors, gold_.clips, gold_duration, clip_seconds_, o_);
  }
  std::vector<int> step_of = GoldStepOfClip();
  // Every gold clip belongs to the step holding its centre, so that each
  // moment of the gold is some step's evidence (the clips that straddle a
  // boundary included: a trainee clip straddling the same change matches
  // them, and a video compared with itself matches clip for clip).
  for (Step& s : steps_) s.clips.clear();
  for (size_t i = 0; i < step_of.size(); ++i) {
    if (step_of[i] != kNoStep) steps_[step_of[i]].clips.push_back(static_cast<int>(i));
  }
  for (Step& s : steps_) {
    if (s.clips.empty()) s.clips = ClipsInside(gold_.clips, s.time);  // shorter than a stride
  }
  // The whole-video centring, or, where the light changed during a
  // recording, each video centred over windows of a few steps each way
  // (comparison_space.h).
  FloatMatrix cost;  // 1 - cosine, gold x trainee, in that space
  {
    std::vector<double> step_seconds;
    for (const Step& s : steps_) step_seconds.push_back(s.time.duration());
    const double step = Median(step_seconds);
    const double longest = std::max(VideoDuration(gold_), VideoDuration(trainee_));
    const double window = LocalWindowSeconds(step, longest, stride_);
    space_ = ChooseComparisonSpace(gold_.vectors, gold_.clips, trainee_.vectors, trainee_.clips, window, &cost);
  }
  if (cost.rows == 0) {
    SOPILOT_ASSIGN_OR_RETURN(cost, CosineCostMatrix(space_.gold, space_.trainee));
  }
  similarity_ = FloatMatrix(cost.rows, cost.cols);
  for (size_t i = 0; i < cost.data.size(); ++i) similarity_.data[i] = 1.0f - cost.data[i];
  MarkZeroPairsAlike(space_.gold, space_.trainee, &similarity_);
  for (size_t i = 0; i < cost.data.size(); ++i) cost.data[i] = 1.0f - similarity_.data[i];

  ss_ = ComputeStepSimilarity(similarity_, steps_);
  {
    // For ties only (LabelClips): where each clip and step lie in their videos.
    const double trainee_seconds = std::max(1e-9, VideoDuration(trainee_));
    const double gold_seconds = std::max(1e-9, VideoDuration(gold_));
    for (const ClipSpan& c : trainee_.clips) ss_.clip_position.push_back(ClipCentre(c) / trainee_seconds);
    for (const Step& st : steps_) {
      ss_.step_share.push_back({st.time.start_sec / gold_seconds, st.time.end_sec / gold_seconds});
    }
  }
  for (const Step& st : steps_) {
    // How far the step's edges lie from its outer clips' centres (step_matcher.h).
    std::pair<double, double> offset{0, 0};
    if (!st.clips.empty()) {
      offset.first = st.time.start_sec - ClipCentre(gold_.clips[st.clips.front()]);
      offset.second = st.time.end_sec - ClipCentre(gold_.clips[st.clips.back()]);
    }
    ss_.edge_offset.push_back(offset);
  }
  for (size_t g = 0; g < step_of.size(); ++g) {
    if (step_of[g] != kNoStep) continue;
    ss_.no_step.resize(trainee_.clips.size(), -1.0);
    for (int i = 0; i < similarity_.cols; ++i) {
      ss_.no_step[i] = std::max(ss_.no_step[i], static_cast<double>(similarity_.at(static_cast<int>(g), i)));
    }
  }
  SOPILOT_ASSIGN_OR_RETURN(FloatMatrix gold_cost, CosineCostMatrix(space_.gold, space_.gold));
  for (float& c : gold_cost.data) c = 1.0f - c;  // now gold x gold similarity
  MarkZeroPairsAlike(space_.gold, space_.gold, &gold_cost);
  // How alike the gold is to itself at another moment of one step; a
  // trainee clip less than half as alike to every step is not the procedure.
  {
    std::vector<double> per_clip = SameStepSimilarity(gold_cost, gold_.clips, step_of);
    std::vector<double> all;
    std::vector<std::vector<double>> by_step(steps_.size());
    for (size_t i = 0; i < per_clip.size(); ++i) {
      if (std::isnan(per_clip[i]) || step_of[i] == kNoStep) continue;
      all.push_back(per_clip[i]);
      by_step[step_of[i]].push_back(per_clip[i]);
    }
    // A static or very short gold has no two moments apart: alike as itself.
    same_step_ = all.empty() ? 1.0 : Median(all);
    for (auto& v : by_step) step_self_.push_back(v.empty() ? same_step_ : Median(v));
    ss_.self_level = step_self_;
  }
  none_level_ = kRelatedFraction * same_step_;
  std::vector<TimeSpan> spans;
  for (const Step& st : steps_) spans.push_back(st.time);
  const std::vector<int> core_of = CoreStepOfClip(gold_.clips, spans);
  const std::vector<ShortStepSelf> core_self = ShortStepSelfSimilarity(gold_cost, gold_.clips, core_of, spans.size());
  {
    // A step shorter than two clips that share no time (ShortStepSelf) has
    // no two moments of its own: its same-step pairs hold clips straddling
    // its boundaries, half a neighbour, so they read how unlike its
    // neighbours are, not how it varies. Its execution_deviation line allows
    // for the variation of the gold's other steps instead (their median);
    // on its own reading a 3 s step of mandelbrot played negated matched at
    // 0.29 against a line of 0.15 and passed.
    std::vector<double> measured;
    for (size_t k = 0; k < steps_.size(); ++k) {
      if (!core_self[k].short_step) measured.push_back(step_self_[k]);
    }
    const double typical_self = measured.empty() ? same_step_ : Median(measured);
    line_self_ = step_self_;
    for (size_t k = 0; k < steps_.size(); ++k) {
      if (core_self[k].short_step) line_self_[k] = typical_self;
    }
  }
  {
    // Neighbours the gold cannot tell apart: the clips of one of them find
    // in the other a match as good as within their own step. A step whose
    // clips are not even related to one another (below the none level) says
    // nothing of its neighbours. Beside a step shorter than two clips, both
    // are read on the clips lying wholly inside their step (ShortStepSelf):
    // there every pair of the step's clips apart in time holds a clip
    // straddling a boundary, half the neighbour, and distinct 3 s steps of
    // 2 s clips were taken for alike.
    NeighbourSimilarity all = NeighbourStepSimilarity(gold_cost, gold_.clips, step_of, static_cast<int>(steps_.size()));
    NeighbourSimilarity core = NeighbourStepSimilarity(gold_cost, gold_.clips, core_of, static_cast<int>(steps_.size()));
    std::vector<bool> alike_next(steps_.size(), false);
    for (size_t k = 0; k + 1 < steps_.size(); ++k) {
      double into_next = all.into_next[k], into_previous = all.into_previous[k];
      double self = step_self_[k], next_self = step_self_[k + 1];
      if (core_self[k].short_step || core_self[k + 1].short_step) {
        if (!std::isnan(core.into_next[k])) into_next = core.into_next[k];
        if (!std::isnan(core.into_previous[k])) into_previous = core.into_previous[k];
        if (core_self[k].short_step && !std::isnan(core_self[k].value)) self = core_self[k].value;
        if (core_self[k + 1].short_step && !std::isnan(core_self[k + 1].value)) next_self = core_self[k + 1].value;
      }
      const bool forward = into_next >= std::max(self, none_level_) - kSimilarityResolution;
      const bool backward = into_previous >= std::max(next_self, none_level_) - kSimilarityResolution;
      alike_next[k] = forward || backward;
    }
    alike_runs_ = AlikeRuns(alike_next, static_cast<int>(steps_.size()));
  }
  other_ = OtherLevelsOutsideAlikeRuns(gold_cost);

  // A finding in the labels (leaving the gold order, or coming back to the
  // procedure after time on no step) must be worth a clip's length of
  // clips at their typical margin: a clip is the unit of evidence, and a
  // step counts as done once it lasts a clip (less only for a step shorter
  // than two). At one clip's margin, as before 2026-12-06, stretches of
  // another correct take that favoured a wrong step for a moment became
  // swaps, repeats and time on no step (doc/scoring.md, section 4).
  const int evidence_clips = std::max(1, static_cast<int>(std::lround(clip_seconds_ / stride_)));
  params_ = ChooseLabelingParams(ss_, none_level_, evidence_clips);
  for (size_t k = 0; k < steps_.size(); ++k) gold_seconds_.push_back(GoldSeconds(static_cast<int>(k)));
  labels_ = LabelClipsByAlikeRuns(ss_, none_level_, evidence_clips, alike_runs_.alike_next(), gold_seconds_,
                                  trainee_.clips, VideoDuration(trainee_), clip_seconds_);
  SOPILOT_RETURN_IF_ERROR(ComputeRawLevels());
  UnlabelRawOutliers();
  segments_ = SegmentLabels(labels_, ss_, trainee_.clips, VideoDuration(trainee_), clip_seconds_, alike_runs_.alike_next());
  ShareTimeAmongAlikeSteps(trainee_.clips, gold_seconds_, alike_runs_.alike_next(), &segments_);


  typical_ = TypicalMatch();
  TrimEdgeBlur();
  gold_still_ = StillDistance(gold_.vectors, gold_.clips);
  trainee_still_ = StillDistance(trainee_.vectors, trainee_.clips);
  CutStillPauses();
  typical_ = TypicalMatch();
  FindWhetherStepsCanBeToldApart();

  ChooseMainSegments();
  SOPILOT_RETURN_IF_ERROR(ExplainWeakRepeats());
  FindMissingAndOrder();
  FindOverTime();
  FindExecutionDeviations();
  FindRushedSteps();
  FindExtraSegments();

  // Monotone alignment for the preview and the original's path metrics:
  // Drop-DTW with the "none" level as the price of leaving a clip out.
  DropDtwOptions drop;
  if (params_.none_threshold > -1) {
    double c = std::max(0.0, 1.0 - params_.none_threshold);
    drop.gold_drop = DropCost::Constant(c);
    drop.trainee_drop = DropCost::Constant(c);
  }
  const auto align_start = std::chrono::steady_clock::now();
  SOPILOT_ASSIGN_OR_RETURN(DropDtwAlignment alignment, AlignDropDtwFromCost(cost, drop));
  out->alignment_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - align_start).count();
  out->alignment = alignment.path;
  out->metrics = StructureMetrics(similarity_, alignment.path, static_cast<int>(
      std::count_if(deviations_.begin(), deviations_.end(), [](const Deviation& d) { return d.type == kStepMissing; })),
      static_cast<int>(std::count_if(deviations_.begin(), deviations_.end(),
                                     [](const Deviation& d) { return d.type == kOrderSwap; })));
  Finish(out);
  return Status::Ok();
}

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

Status Evaluation::ComputeRawLevels() {
  // The embeddings as given, where the light changed during a recording
  // with that change taken out (comparison_space.h): the rules below rely
  // on one video sharing one light.
  const FloatMatrix& gold = space_.gold_levelled.rows > 0 ? space_.gold_levelled : gold_.vectors;
  const FloatMatrix& trainee = space_.trainee_levelled.rows > 0 ? space_.trainee_levelled : trainee_.vectors;
  SOPILOT_ASSIGN_OR_RETURN(FloatMatrix raw_cost, CosineCostMatrix(gold, trainee));
  for (float& c : raw_cost.data) c = 1.0f - c;
  MarkZeroPairsAlike(gold, trainee, &raw_cost);
  raw_ss_ = ComputeStepSimilarity(raw_cost, steps_);
  SOPILOT_ASSIGN_OR_RETURN(FloatMatrix raw_gold, CosineCostMatrix(gold, gold));
  for (float& c : raw_gold.data) c = 1.0f - c;
  MarkZeroPairsAlike(gold, gold, &raw_gold);
  raw_other_ = OtherLevelsOutsideAlikeRuns(raw_gold);
  return Status::Ok();
}

// The typical match: the median similarity of trainee clips wholly inside a
// segment of their step to that step.
double Evaluation::TypicalMatch() const {
  std::vector<double> matched;
  for (const TraineeSegment& seg : segments_) {
    if (seg.step == kNoStep) continue;
    for (int i : PureClips(trainee_.clips, seg)) matched.push_back(ss_.sim.at(i, seg.step));
  }
  return matched.empty() ? 1.0 : Median(matched);
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
           TimeCode(longest->time.start_sec) + "-" + TimeCode(longest->time.end_sec) +
           Fmt("), less than the %.1f s it takes to count as done", MinRunSeconds(k));
  }
  if (space_.trainee_still) return head + StillTrainee();
  const ClipSpan& c = trainee_.clips[best_clip];
  const std::string moment =
      ": the moment most like it (" + TimeCode(c.start_sec) + "-" + TimeCode(c.end_sec) + ")";
  for (const TraineeSegment& seg : segments_) {
    if (best_clip < seg.first_clip || best_clip > seg.last_clip) continue;
    if (seg.step == kNoStep) break;
    return head + moment + " looked more like step \"" + steps_[seg.step].name + "\", done at " +
           TimeCode(seg.time.start_sec) + "-" + TimeCode(seg.time.end_sec);
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

// A trainee that is the procedure (its typical clip resembles some gold step
// at least at the none level) but whose clips resemble the step they were
// matched to closer to how much the gold's steps resemble one another than
// to how much each resembles itself at another moment: which step a moment
// is cannot be told, so no step-by-step finding, and no pass, can be
// trusted. The levels are measured on the two videos (doc/scoring.md,
// section 6). Unrelated footage is below the none level and fails as such.
void Evaluation::FindWhetherStepsCanBeToldApart() {
  if (steps_.size() < 2 || ss_.sim.rows == 0) return;
  if (!IsTheProcedure()) return;  // its own rules
  // A typical match of 1 (the gold itself) is as alike as clips can be;
  // nothing could tell the steps apart better. Said here because where the
  // gold's steps resemble one another as much as that (periodic content,
  // a pattern shown again in a later step), the halfway line is 1 too.
  if (typical_ >= 1.0 - kSimilarityResolution) return;
  std::vector<double> other;
  for (size_t k = 0; k < steps_.size(); ++k) other.push_back(OtherLevel(static_cast<int>(k)));
  const double other_level = Median(other);
  // Halfway from the other steps to the step itself: nearer the first, a
  // moment looks like its step as one step looks like another.
  const double told_apart = other_level + kToldApartFraction * std::max(0.0, same_step_ - other_level);
  if (typical_ > told_apart + kSimilarityResolution) return;
  weak_evidence_ = "this video's steps cannot be told apart well enough to judge them one by one: its moments " +
                   Fmt("resemble the gold step they were matched to (typically %.2f) closer to how much the gold's "
                       "steps resemble one another (%.2f) than to how much each step resembles itself ",
                       typical_, other_level) +
                   Fmt("at another moment (%.2f), so the findings are guesses to check against the video", same_step_);
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
                   TimeCode(t.start_sec) + "-" + TimeCode(t.end_sec) + Fmt("; %.0f%% as alike as the rest of the video",
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
    return segments_[s].step != kNoStep && main_[segments_[s].step] != static_cast<int>(s);
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
      d.reason = (last_step == seg.step ? "step \"" + name + "\""
                                        : "steps \"" + name + "\" to \"" + steps_[last_step].name + "\"") +
                 " done again (" + (last_step == seg.step ? "it is" : "they are") + " also done at " +
                 Fmt("%.1f s)", segments_[main_[seg.step]].time.start_sec);
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

void Evaluation::Finish(ScoreReport* out) {
  // Order: by gold step (missing first within a step), extras by trainee time at the end.
  auto rank = [](const Deviation& d) {
    if (d.type == kStepMissing) return 0;
    if (d.type == kOrderSwap) return 1;
    if (d.type == kExecutionDeviation) return 2;
    if (d.type == kOverTime) return 3;
    return 4;
  };
  std::stable_sort(deviations_.begin(), deviations_.end(), [&](const Deviation& a, const Deviation& b) {
    bool ea = a.type == kExtraSegment, eb = b.type == kExtraSegment;
    if (ea != eb) return eb;
    if (ea) return a.step.trainee_time->start_sec < b.step.trainee_time->start_sec;
    if (a.step.index != b.step.index) return a.step.index < b.step.index;
    return rank(a) < rank(b);
  });
  double penalty = 0;
  for (const Deviation& d : deviations_) penalty += d.penalty;
  out->score = std::clamp(100.0 - penalty, 0.0, 100.0);
  out->verdict = out->score >= o_.pass_score ? "pass" : out->score >= o_.review_score ? "needs_review" : "fail";
  for (const Deviation& d : deviations_) {
    if (!d.critical) continue;
    out->verdict = "fail";
    out->verdict_reason = "critical step \"" + d.step.name + "\" " +
                          (d.type == kStepMissing ? "was not done" : "was done unlike the gold");
    break;
  }
  // Findings that cannot be trusted neither pass nor fail the video: a
  // person looks.
  if (!weak_evidence_.empty()) {
    out->verdict = "needs_review";
    out->verdict_reason = weak_evidence_;
  }
  // Not one step seen: say so once, above the list of every step missing.
  const bool none_seen = std::all_of(main_.begin(), main_.end(), [](int s) { return s < 0; });
  if (none_seen && out->verdict_reason.empty()) {
    out->verdict_reason =
        space_.trainee_still
            ? "no step of the procedure was seen in this video" + StillTrainee() + ", where the gold's steps move"
            : "no step of the procedure was seen in this video: it shows another task, or this one filmed so "
              "differently (another place or camera view) that nothing in it matches the gold";
  }
  out->deviations = std::move(deviations_);
  out->idle = std::move(idle_);
  // Less than a clip stride is finer than the scoring places anything (a
  // steps file whose last step ends 0.07 s before the video does): not
  // worth a line of its own.
  const double gold_end = VideoDuration(gold_), least = std::max(stride_, kEps);
  if (steps_.front().time.start_sec >= least) {
    out->gold_idle.push_back({kIdleLeadIn, {0, steps_.front().time.start_sec}});
  }
  if (steps_.back().time.end_sec <= gold_end - least) {
    out->gold_idle.push_back({kIdleTail, {steps_.back().time.end_sec, gold_end}});
  }

  for (size_t k = 0; k < steps_.size(); ++k) {
    StepResult r;
    r.index = static_cast<int>(k);
    r.name = steps_[k].name;
    r.gold_time = steps_[k].time;
    if (main_[k] >= 0) {
      const TraineeSegment& seg = segments_[main_[k]];
      r.trainee_time = seg.time;
      r.similarity = SegmentSimilarity(seg, static_cast<int>(k));
      r.duration_ratio = seg.time.duration() / std::max(kEps, GoldSeconds(k));
    }
    r.status = main_[k] < 0 ? (steps_[k].rules.optional ? "skipped" : "missing")
               : swapped_[k] ? "out_of_order" : deviating_[k] ? "deviation"
               : over_[k] ? "over_time" : "ok";
    r.rules = steps_[k].rules;
    out->steps.push_back(r);
  }
  for (const Step& s : steps_) out->gold_boundaries.push_back(BoundaryClip(gold_.clips, s.time.start_sec));
  out->gold_boundaries.push_back(static_cast<int>(gold_.clips.size()));
  for (const TraineeSegment& seg : segments_) out->trainee_boundaries.push_back(seg.first_clip);
  out->trainee_boundaries.push_back(static_cast<int>(trainee_.clips.size()));
  out->gold_step_map = GoldStepOfClip();
  out->trainee_step_map = labels_;
  for (const TraineeSegment& seg : segments_) {
    for (int i = seg.first_clip; i <= seg.last_clip; ++i) out->trainee_step_map[i] = seg.step;
  }
  out->gold_clips = static_cast<int>(gold_.clips.size());
  out->trainee_clips = static_cast<int>(trainee_.clips.size());
  out->embedding_model = gold_.model;
}

}  // namespace

Result<ScoreReport> EvaluateSop(const EmbeddingSet& gold, const EmbeddingSet& trainee,
                                const ScoreOptions& options, const std::vector<StepSpec>* user_steps) {
  SOPILOT_RETURN_IF_ERROR(ValidateScoreOptions(options));
  ScoreReport report;
  // Bounded work: long videos are scored at a coarser clip grid.
  const int k = CoarsenFactor(gold.vectors.rows, trainee.vectors.rows, options.max_pairs);
  if (k > 1) {
    const EmbeddingSet coarse_gold = Coarsened(gold, k), coarse_trainee = Coarsened(trainee, k);
    Evaluation e(coarse_gold, coarse_trainee, options);
    SOPILOT_RETURN_IF_ERROR(e.Run(user_steps, &report));
  } else {
    Evaluation e(gold, trainee, options);
    SOPILOT_RETURN_IF_ERROR(e.Run(user_steps, &report));
  }
  report.clips_merged = k;
  return report;
}

}  // namespace sopilot
