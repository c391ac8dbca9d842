// One scoring of a trainee video against a gold: the state EvaluateSop
// (sop_evaluator.h) builds and the stages that fill it, in the order Run
// calls them. Internal to the score module; the rules and where each level
// comes from are in doc/scoring.md.
//
//   sop_evaluator.cc        the run: gold steps, comparison space, levels,
//                           labels; the score and the verdict (Finish)
//   evaluation_runs.cc      the trainee's runs made ready to judge: edges,
//                           still pauses, outliers, repeats, main runs
//   evaluation_findings.cc  the deviations and the words of their reasons
//
// Not thread-safe: one Evaluation per call, on the caller's thread.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "base/matrix.h"
#include "base/median.h"
#include "base/status.h"
#include "base/time_code.h"
#include "embed/embedding_set.h"
#include "score/alike_runs.h"
#include "score/comparison_space.h"
#include "score/score_options.h"
#include "score/score_report.h"
#include "score/step.h"
#include "score/step_matcher.h"

namespace sopilot {
namespace evaluation {

inline constexpr double kEps = 1e-6;
// A trainee clip counts as the procedure when it is at least this fraction as
// alike to some step as the gold is to itself at another moment of a step:
// halfway between no resemblance (0 in the comparison space) and the gold's
// own clip-to-clip variation (doc/scoring.md).
inline constexpr double kRelatedFraction = 0.5;
// A trainee's steps are told apart when its typical match lies at least this
// fraction of the way from the gold's other-step level to its same-step
// level: nearer the second than the first (doc/scoring.md, section 6).
inline constexpr double kToldApartFraction = 0.5;

inline double Clamp01(double x) { return std::min(1.0, std::max(0.0, x)); }

// "high", "medium" or "low", for a deviation's magnitude in [0, 1].
std::string Severity(double magnitude);

// printf of up to three numbers, for the reasons' words.
std::string Fmt(const char* fmt, double a, double b = 0, double c = 0);

// ": nothing in view moved for 5.5 s (1:14.0-1:19.5)": a still stretch of
// the trainee video, as the reasons say it.
std::string NothingMoved(const TimeSpan& t);

// The video's length: its last clip's end or its source's duration, the later.
double VideoDuration(const EmbeddingSet& s);

// The clips of `seg` lying wholly inside its time; all of its clips when
// none does.
std::vector<int> PureClips(const std::vector<ClipSpan>& clips, const TraineeSegment& seg);

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
    return ": nothing in view moved in it (" + TimeSpanCode(0, VideoDuration(trainee_)) + ")";
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
  void FindResumedSteps();
  // Is segments_[s] step k's main run taken up again after an interruption?
  bool IsResumed(size_t s) const {
    const int k = segments_[s].step;
    return k != kNoStep && std::find(resumed_[k].begin(), resumed_[k].end(), static_cast<int>(s)) != resumed_[k].end();
  }
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
  // Step k's doing (main_[k] >= 0): its main run with the runs that took
  // it up again after an interruption (FindResumedSteps).
  struct Doing {
    double took = 0;  // the runs' time, without the interruptions
    int parts = 0;    // how many runs
    TimeSpan span;    // from the first run's start to the last one's end
    bool holds_last_segment = false;  // a run is the trainee's last segment
  };
  Doing DoingOf(int k) const {
    Doing d;
    d.span = segments_[main_[k]].time;
    std::vector<int> runs = resumed_.empty() ? std::vector<int>{} : resumed_[k];
    runs.push_back(main_[k]);
    for (int s : runs) {
      const TraineeSegment& seg = segments_[s];
      d.took += seg.time.duration();
      ++d.parts;
      d.span.start_sec = std::min(d.span.start_sec, seg.time.start_sec);
      d.span.end_sec = std::max(d.span.end_sec, seg.time.end_sec);
      d.holds_last_segment = d.holds_last_segment || s + 1 == static_cast<int>(segments_.size());
    }
    return d;
  }
  // What is timed for step k: the run of alike steps holding it when every
  // one of them was done (the gold cannot tell them apart, so the trainee's
  // boundaries between them are as good as arbitrary and only their total
  // time means anything), else step k alone.
  struct TimedUnit {
    int first = 0, last = 0;  // gold steps
    double gold = 0, took = 0;
    int parts = 0;  // trainee runs timed: a step taken up again has more than one
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
      const Doing d = DoingOf(j);
      u.gold += GoldSeconds(j);
      u.took += d.took;
      u.parts += d.parts;
      u.trainee_time.start_sec = std::min(u.trainee_time.start_sec, d.span.start_sec);
      u.trainee_time.end_sec = std::max(u.trainee_time.end_sec, d.span.end_sec);
      u.holds_last_segment = u.holds_last_segment || d.holds_last_segment;
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
  // Per step: the runs that take its main run up again after an
  // interruption (FindResumedSteps), part of the same doing of the step.
  std::vector<std::vector<int>> resumed_;
  std::vector<bool> swapped_;
  double typical_ = 1.0;  // typical similarity of a trainee clip to its step
  std::vector<Deviation> deviations_;
  std::vector<IdleSpan> idle_;
  std::vector<bool> deviating_, over_;
  std::string weak_evidence_;  // set when the trainee's steps cannot be told apart: why
};

}  // namespace evaluation
}  // namespace sopilot
