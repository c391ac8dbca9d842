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
#include "score/below_line.h"
#include "score/coarsen.h"
#include "score/crossing.h"
#include "score/evaluation.h"
#include "score/step_placer.h"
#include "score/step_segmenter.h"
#include "score/structure_metrics.h"
#include "score/work_span.h"

namespace sopilot {
namespace evaluation {

std::string Severity(double magnitude) {
  if (magnitude >= 0.75) return "high";
  if (magnitude >= 0.4) return "medium";
  return "low";
}

std::string Fmt(const char* fmt, double a, double b, double c) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, a, b, c);
  return buf;
}

std::string NothingMoved(const TimeSpan& t) {
  return Fmt(": nothing in view moved for %.1f s", t.duration()) + " (" + TimeCode(t.start_sec) + "-" +
         TimeCode(t.end_sec) + ")";
}

double VideoDuration(const EmbeddingSet& s) {
  double end = s.clips.empty() ? 0 : s.clips.back().end_sec;
  return std::max(end, s.source.duration_sec);
}

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

namespace {

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

int BoundaryClip(const std::vector<ClipSpan>& clips, double t) {
  for (size_t i = 0; i < clips.size(); ++i) {
    if (clips[i].start_sec >= t - kEps) return static_cast<int>(i);
  }
  return static_cast<int>(clips.size());
}

}  // namespace

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
  FindResumedSteps();
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
      // Taken up again after an interruption: the whole doing, its parts' time.
      const Doing doing = DoingOf(static_cast<int>(k));
      r.trainee_time = doing.span;
      r.similarity = SegmentSimilarity(segments_[main_[k]], static_cast<int>(k));
      r.duration_ratio = doing.took / std::max(kEps, GoldSeconds(k));
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

}  // namespace evaluation
Result<ScoreReport> EvaluateSop(const EmbeddingSet& gold, const EmbeddingSet& trainee,
                                const ScoreOptions& options, const std::vector<StepSpec>* user_steps) {
  SOPILOT_RETURN_IF_ERROR(ValidateScoreOptions(options));
  ScoreReport report;
  // Bounded work: long videos are scored at a coarser clip grid.
  const int k = CoarsenFactor(gold.vectors.rows, trainee.vectors.rows, options.max_pairs);
  if (k > 1) {
    const EmbeddingSet coarse_gold = Coarsened(gold, k), coarse_trainee = Coarsened(trainee, k);
    evaluation::Evaluation e(coarse_gold, coarse_trainee, options);
    SOPILOT_RETURN_IF_ERROR(e.Run(user_steps, &report));
  } else {
    evaluation::Evaluation e(gold, trainee, options);
    SOPILOT_RETURN_IF_ERROR(e.Run(user_steps, &report));
  }
  report.clips_merged = k;
  return report;
}

}  // namespace sopilot
