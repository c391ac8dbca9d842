// Step matching: which gold step is the trainee doing at each moment?
//
// Every trainee clip is compared with every gold step (its best similarity
// to the step's clips). A Viterbi pass then labels each clip with a step, or
// with "none" when the clip is not like the procedure at all, paying a
// penalty for every change of label so that a single noisy clip does not
// split a step, and larger ones for a change that leaves the gold order (to
// any step but the next one) and for one that comes back to the procedure
// after time on no step (a clip's length of typical margins). Steps done
// out of order, twice or not at all, and time on no step, still show up as
// such when the clips say so for long enough; where the
// clips cannot tell two steps apart (repetitive content, a step shown twice
// in the gold) the gold order decides, so a video compared with itself is
// labelled exactly as the gold. Runs of equal labels become trainee
// segments; their boundaries are placed where the similarity to the two
// steps crosses. Neighbouring steps the gold itself cannot tell apart are
// labelled as one and share their time (LabelClipsByAlikeRuns).
#pragma once

#include <utility>
#include <vector>

#include "base/matrix.h"
#include "score/step.h"
#include "video/clip_windower.h"

namespace sopilot {

constexpr int kNoStep = -1;

struct StepSimilarity {
  FloatMatrix sim;                   // trainee clips x steps: best cosine to the step's gold clips
  std::vector<std::vector<int>> best_gold;  // [clip][step]: the gold clip giving it
  // Per trainee clip, its best cosine to a gold clip of no step (the gold's
  // own lead-in or tail, outside a user's timed steps); empty when the gold
  // has none. A clip is worth at least this much as "none": it looks like
  // what the gold shows when no step is done.
  std::vector<double> no_step;
  // Where each trainee clip's centre lies, as a share of the trainee video,
  // and where each step lies in the gold, as shares of the gold video. Only
  // for ties: where the clips cannot tell steps apart to
  // kSimilarityResolution, the labelling nearer the gold's proportions wins
  // (LabelClips). Empty: no preference.
  std::vector<double> clip_position;
  std::vector<std::pair<double, double>> step_share;
  // Per step, how alike the gold is to itself at two moments of that step
  // (its same-step level). A trainee clip reaching it is evidence of the
  // step, not the blur of a change between two others (SegmentLabels).
  // Empty: unknown.
  std::vector<double> self_level;
  // Per step, in gold seconds: its start less the centre of its first clip,
  // its end less the centre of its last. A trainee clip straddling a change
  // from a to b is equally like a's last clip and b's first where its
  // content lies midway between theirs, which is the change itself only
  // when the change lies midway between those centres; on the clip grid it
  // may be up to half a stride off (identity boundaries came out 0.25 s
  // early or late). SegmentLabels moves the crossing of a change the gold
  // shows (b follows a) by the mean of a's end offset and b's start offset.
  // Empty: no move.
  std::vector<std::pair<double, double>> edge_offset;
};

// `similarity` is gold clips x trainee clips (cosine).
StepSimilarity ComputeStepSimilarity(const FloatMatrix& similarity, const std::vector<Step>& steps);

// How alike the gold's steps are to each other: for step k, the median over
// its clips of the best similarity to any clip of another step. A trainee
// clip no closer than this to a step is not evidence of that step.
// `gold_self` is gold x gold cosine. Steps: at least two; else empty.
std::vector<double> OtherStepSimilarity(const FloatMatrix& gold_self, const std::vector<Step>& steps);

struct LabelingParams {
  double none_threshold = -1e9;  // similarity a "none" label is worth
  double switch_penalty = 0;     // cost of changing label between clips
  double jump_penalty = 0;       // added when the change leaves the gold order
  // Added when the change comes back to the procedure after time on no step
  // (an interruption between two steps; not after the lead-in).
  double resume_penalty = 0;
};

// Chooses the parameters from the data: "none" is worth `none_level`; a
// change costs about one clip's typical margin between the best and the
// second-best step, and leaving the gold order as much again (a swap leaves
// it up to three times: A C B D), so that ties follow the gold order and a
// step out of order needs a few clips of evidence. Coming back after time on
// no step costs that margin once for each of `evidence_clips` clips on top
// (at least 1): time on no step between two steps must be worth that many
// clips of typical evidence.
LabelingParams ChooseLabelingParams(const StepSimilarity& ss, double none_level, int evidence_clips);

// Best labelling (a step index or kNoStep per clip) under `params`. Leaving
// m steps out (a jump forward past them, starting after the first step,
// ending before the last) costs a change for each, capped at the resume
// penalty, and at least the jump penalty. Similarities closer than
// kSimilarityResolution are equal; ties go to the labelling nearer the
// gold's proportions (`clip_position`, `step_share`), then to the gold order.
std::vector<int> LabelClips(const StepSimilarity& ss, const LabelingParams& params);

struct TraineeSegment {
  int step = kNoStep;
  int first_clip = 0;
  int last_clip = 0;  // inclusive
  TimeSpan time;
};

// Runs of equal labels. A "none" run no longer than `merge_seconds` plus one
// stride (the blur where one step turns into the next) is shared out between
// its neighbouring steps; a run shorter than `merge_seconds` between two runs
// of one step is folded into that step. Boundaries between runs are
// refined to where the similarities to the two steps cross, moved by the
// gold's edge offsets (`edge_offset`); the first segment starts at 0 and
// the last ends at `duration_sec`. A short run of step k between runs of
// k - 1 and k + 1, all three of one alike run (`alike_next`, as for
// LabelClipsByAlikeRuns; empty: none), is never taken for a detour: it is
// that run shared in the gold's proportion, and its clips resemble its
// neighbours as much by definition. Nor is a short run any of whose clips
// resembles its step at the step's own `self_level`.
std::vector<TraineeSegment> SegmentLabels(const std::vector<int>& labels, const StepSimilarity& ss,
                                          const std::vector<ClipSpan>& clips, double duration_sec,
                                          double merge_seconds, const std::vector<bool>& alike_next = {});

// LabelClips for a gold whose neighbouring steps may be alike
// (`alike_next[k]`: the gold cannot tell step k from step k + 1). Each run of
// alike steps is labelled as one step (a clip's best similarity to any of
// them): between them the clips hold no evidence, and labelling them one by
// one lets ties decide, which can leave one out altogether. Each segment of
// such a run (SegmentLabels, `clips`, `duration_sec`, `merge_seconds`) is
// then shared among its steps in the proportion of their gold durations
// (`gold_seconds`, one per step), in clips; a step whose share holds no clip
// gets none. Without alike steps: exactly LabelClips with
// ChooseLabelingParams(ss, none_level, evidence_clips).
std::vector<int> LabelClipsByAlikeRuns(const StepSimilarity& ss, double none_level, int evidence_clips,
                                       const std::vector<bool>& alike_next, const std::vector<double>& gold_seconds,
                                       const std::vector<ClipSpan>& clips, double duration_sec,
                                       double merge_seconds);

// Where the gold cannot tell neighbouring steps apart (`alike_next[k]`: step
// k from step k + 1), the labels cannot place the trainee's change from one
// to the other: any split of the time scores the same, and the labelling
// settles ties by a rule, not by evidence (it may give one of the two a
// single clip). So wherever consecutive segments hold consecutive steps of
// one alike run (k, k + 1, ...), their time is shared in proportion to the
// steps' gold durations (`gold_seconds`, one per step) and each clip goes to
// the segment holding its centre. A split that would leave a segment without
// a clip is not made. `segments` as SegmentLabels returns them.
void ShareTimeAmongAlikeSteps(const std::vector<ClipSpan>& clips, const std::vector<double>& gold_seconds,
                              const std::vector<bool>& alike_next, std::vector<TraineeSegment>* segments);

}  // namespace sopilot
