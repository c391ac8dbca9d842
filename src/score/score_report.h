// ScoreReport: everything a score says about one trainee video.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "align/alignment.h"
#include "score/step.h"

namespace sopilot {

// Deviation types, as they appear in JSON.
inline constexpr const char* kStepMissing = "step_missing";
inline constexpr const char* kOrderSwap = "order_swap";
inline constexpr const char* kOverTime = "over_time";
inline constexpr const char* kExecutionDeviation = "execution_deviation";
inline constexpr const char* kExtraSegment = "extra_segment";

struct StepRef {
  int index = -1;  // -1: no gold step (an unexplained trainee segment)
  std::string name;
  std::optional<TimeSpan> gold_time;
  std::optional<TimeSpan> trainee_time;
};

struct Deviation {
  std::string type;
  StepRef step;                   // the gold step it concerns
  std::optional<StepRef> other;   // order_swap: the step it was swapped with
  double confidence = 0;          // 0..1
  std::string severity;           // "low", "medium", "high"
  std::string reason;             // one sentence for a person
  double penalty = 0;             // points it took off the score
  bool critical = false;          // a critical step missing or done wrongly: the verdict is fail
};

struct StepResult {
  int index = 0;
  std::string name;
  TimeSpan gold_time;
  std::optional<TimeSpan> trainee_time;
  double similarity = 0;      // mean similarity of the trainee's clips to the step
  double duration_ratio = 0;  // trainee duration / gold duration (0 when missing)
  std::string status;         // ok | missing | skipped (optional) | out_of_order | deviation | over_time
  StepRules rules;            // the SOP's (defaults for steps found in the gold)
};

// Trainee time before the first step or after the last where nothing of the
// procedure happens (the camera started early, or ran on): reported with its
// times, never a deviation, costs nothing.
inline constexpr const char* kIdleLeadIn = "lead_in";
inline constexpr const char* kIdleTail = "tail";

struct IdleSpan {
  std::string kind;  // kIdleLeadIn or kIdleTail
  TimeSpan trainee_time;
};

// Gold time before its first step or after its last: no step, so a trainee
// need not repeat it. The user's timed steps leave it out, and found or
// placed steps leave out a still lead-in and tail (score/work_span.h); the
// supervisor sees what the scoring took for the camera running.
struct GoldIdleSpan {
  std::string kind;  // kIdleLeadIn or kIdleTail
  TimeSpan gold_time;
};

struct ScoreReport {
  double score = 0;
  std::string verdict;  // pass | needs_review | fail
  std::string verdict_reason;  // set when a rule, not the score, decided it (a critical step)
  std::vector<StepResult> steps;
  std::vector<Deviation> deviations;
  std::vector<IdleSpan> idle;  // lead-in and tail, in trainee time order
  std::vector<GoldIdleSpan> gold_idle;  // the gold's lead-in and tail, in gold time order
  // The original's 15 metrics, in its order (informational; the score is
  // the sum of deviation penalties).
  std::vector<std::pair<std::string, double>> metrics;
  std::vector<int> gold_boundaries;     // first clip of each step, then the clip count
  std::vector<int> trainee_boundaries;  // first clip of each trainee segment, then the count
  std::vector<int> gold_step_map;       // step per gold clip (-1: before the first step or after the last)
  std::vector<int> trainee_step_map;    // step per trainee clip (-1: none)
  std::vector<AlignedPair> alignment;   // monotone alignment (Drop-DTW)
  double alignment_seconds = 0;         // wall time of the Drop-DTW (for metrics; not in the JSON)
  int gold_clips = 0;     // as scored: after merging (clips_merged)
  int trainee_clips = 0;
  int clips_merged = 1;   // clips merged into one to bound the work (score/coarsen.h); 1: none
  std::string embedding_model;
};

}  // namespace sopilot
