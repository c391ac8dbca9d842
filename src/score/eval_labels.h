// Eval labels: a person's expected findings for a set of videos of one
// procedure, and how a ScoreReport compares with them (`sopilot eval`).
//
// A labels file (JSON; the format of ../shared/fixtures/*/labels.json):
//   {"steps": ["REMOVE", "CLEAN", ...],            names in gold order
//    "gold": "gold",                               optional, default "gold"
//    "use_labelled_steps": false,                  optional: true scores with
//                                                  the gold's timeline as the
//                                                  steps (like `score --steps`);
//                                                  "names": with the step names
//                                                  only, placed by the scorer
//                                                  (score/step_placer.h)
//    "videos": {
//      "gold": {"timeline": [["REMOVE", 0, 6], ["CLEAN", 6, 12], ...],
//               "expected_deviations": []},
//      "missing": {"file": "takes/missing.mp4",    optional, relative to the
//                                                  labels file; default
//                                                  "<name>.mp4" beside it (an
//                                                  embedding file is fine too)
//                  "timeline": [...],              optional except for the gold
//                  "idle": [[20, 24]],             optional, informational
//                  "expected_deviations": [{"type": "step_missing", "gold_step": "CLEAN"}],
//                  "allowed_deviations": [...]}}}  optional
// A deviation label is {"type": "step_missing" | "over_time" |
// "execution_deviation", "gold_step": NAME}, {"type": "order_swap",
// "gold_steps": [A, B]} (either order) or {"type": "extra_segment",
// "trainee_time": [start, end]}, each with an optional "note". Other keys
// ("about", "task_id", "source") are ignored. Every video, the gold included,
// is scored against the gold.
//
// Matching (MatchDeviations): a found deviation's gold step is mapped to a
// labelled step name: with labelled steps by its index; otherwise to the
// labelled gold step whose interval overlaps the deviation's gold time the
// most (none when nothing overlaps). A found deviation is "true" when it
// matches an expected label, "allowed" when it matches only an allowed one,
// "false" otherwise; an expected label no found deviation matches is
// "missed". Several found deviations matching one label count once as found,
// and the extras are not false.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/status.h"
#include "score/score_report.h"
#include "score/step.h"

namespace sopilot {

struct LabelledStep {
  std::string name;
  TimeSpan time;
};

struct DeviationLabel {
  std::string type;                      // one of the kStepMissing... names
  std::vector<std::string> gold_steps;   // one name; two for order_swap; none for extra_segment
  std::optional<TimeSpan> trainee_time;  // extra_segment only
  std::string note;
};

struct LabelledVideo {
  std::string name;
  std::string file;  // the labels file's directory joined with "file"
  std::vector<LabelledStep> timeline;
  std::vector<TimeSpan> idle;
  std::vector<DeviationLabel> expected;
  std::vector<DeviationLabel> allowed;
};

struct EvalLabels {
  std::string task_id;  // "task_id" when present, else ""
  std::vector<std::string> steps;
  std::string gold = "gold";
  bool use_labelled_steps = false;
  // "use_labelled_steps": "names": the labelled step names without their
  // times, which the scorer places in the gold (use_labelled_steps is false).
  bool place_labelled_names = false;  // MeasureSegmentation then compares by index
  // Steps are given (timed or placed), so a found step's index is its label.
  bool steps_given() const { return use_labelled_steps || place_labelled_names; }
  std::vector<LabelledVideo> videos;  // the gold first, then the others in file order

  const LabelledVideo& gold_video() const { return videos.front(); }
  // The gold's timeline as user steps (for use_labelled_steps), untimed
  // with place_labelled_names.
  std::vector<StepSpec> GoldSteps() const;
};

// Parses and validates a labels file's text. Relative "file" fields are
// joined to `base_dir` ("" keeps them as they are). InvalidArgument names
// the field at fault, e.g. `videos.swap.expected_deviations[0]: unknown step
// "CLAEN"`.
Result<EvalLabels> ParseEvalLabels(const std::string& text, const std::string& base_dir);

// Reads `path`, parses it with its directory as base_dir and checks that
// every video's file exists. Errors start with `path`.
Result<EvalLabels> ReadEvalLabels(Env* env, const std::string& path);

// "true", "allowed" or "false" (see the top of this file).
struct FoundDeviation {
  Deviation deviation;
  std::vector<std::string> labelled_steps;  // the labelled name of each gold step it names ("" none)
  std::string outcome;
};

struct PairOutcome {
  std::string video;
  double score = 0;
  std::string verdict;
  int expected = 0;  // expected labels
  int found = 0;     // expected labels matched by at least one found deviation
  int missed = 0;    // expected - found
  int false_count = 0;  // found deviations matching no label
  int allowed = 0;      // found deviations matching only an allowed label
  std::vector<DeviationLabel> missed_labels;
  std::vector<FoundDeviation> deviations;  // every found deviation, in the report's order
  // What the labels say of the verdict: true (pass) when nothing is
  // expected, false (not pass) when a step_missing or order_swap is,
  // nothing otherwise. verdict_agrees is set when should_pass is.
  std::optional<bool> should_pass;
  std::optional<bool> verdict_agrees;
};

PairOutcome MatchDeviations(const EvalLabels& labels, const LabelledVideo& video, const ScoreReport& report);

// How near the gold steps the scorer used lie to the labelled ones: for each
// labelled boundary (the start of every labelled gold step after the first),
// the distance to the nearest start of a step in `gold_report.steps`.
struct BoundaryError {
  std::string step;  // the labelled step that starts at the boundary
  double labelled_sec = 0;
  double found_sec = 0;  // the nearest found step start
  double error_sec = 0;
};

// A found boundary this near a labelled one is the same boundary. Clips are
// 2 s long, so a change is seen to about half a clip either way; and a
// supervisor reading the steps puts a change where it is within a second.
inline constexpr double kBoundaryToleranceSec = 1.0;

struct SegmentationAccuracy {
  int found_steps = 0;
  int labelled_steps = 0;
  std::vector<BoundaryError> boundaries;
  double mean_error_sec = 0;  // 0 when there is no labelled boundary
  double max_error_sec = 0;
  // Counted with kBoundaryToleranceSec: the labelled boundaries that have a
  // found one that near (by index with placed names, as `boundaries`), and
  // the found boundaries (step starts after the first) that have no
  // labelled one that near, the steps split where the labels do not.
  int labelled_found = 0;
  int extra_found = 0;
};

SegmentationAccuracy MeasureSegmentation(const EvalLabels& labels, const ScoreReport& gold_report);

// Sums over pairs.
struct EvalTotals {
  int pairs = 0;
  int expected = 0;
  int found = 0;
  int missed = 0;
  int false_count = 0;
  int allowed = 0;
  int verdicts_checked = 0;  // pairs with should_pass
  int verdicts_agree = 0;

  void Add(const PairOutcome& p);
  void Add(const EvalTotals& t);
};

}  // namespace sopilot
