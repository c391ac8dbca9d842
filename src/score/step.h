// Step: one step of the procedure, as found in the gold video (or given by
// the user), and StepSpec: what a user writes in a steps file.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace sopilot {

struct TimeSpan {
  double start_sec = 0;
  double end_sec = 0;
  double duration() const { return end_sec - start_sec; }
};

// What a user's SOP says of a step beyond its name and gold time. The
// defaults make a required step, held to ScoreOptions' time tolerance, done
// in the gold order.
struct StepRules {
  std::string description;
  // over_time tolerance of this step (0.25: 25 % over its gold time); unset:
  // ScoreOptions::time_tolerance.
  std::optional<double> time_tolerance;
  // Missing or done wrongly (execution_deviation): the verdict is fail
  // whatever the score.
  bool critical = false;
  // Not doing it is no deviation (reported as step status "skipped").
  bool optional = false;
  // Steps with the same non-empty group may be done in any order among
  // themselves; a group's steps are consecutive in the gold order.
  std::string any_order_group;
};

struct StepSpec {
  std::string name;
  TimeSpan gold_time;  // meaningful only when `timed`
  StepRules rules;
  // False when the user named the step without timing it in the gold: the
  // scorer then places the steps itself (score/step_placer.h).
  bool timed = true;
};

struct Step {
  int index = 0;
  std::string name;
  TimeSpan time;           // in the gold video
  std::vector<int> clips;  // gold clips lying wholly inside the step (at least one)
  StepRules rules;         // the user's (defaults for steps found in the gold)
};

}  // namespace sopilot
