// Step: one step of the procedure, as found in the gold video (or given by
// the user), and StepSpec: what a user writes in a steps file.
#pragma once

#include <string>
#include <vector>

namespace sopilot {

struct TimeSpan {
  double start_sec = 0;
  double end_sec = 0;
  double duration() const { return end_sec - start_sec; }
};

struct StepSpec {
  std::string name;
  TimeSpan gold_time;
};

struct Step {
  int index = 0;
  std::string name;
  TimeSpan time;           // in the gold video
  std::vector<int> clips;  // gold clips lying wholly inside the step (at least one)
};

}  // namespace sopilot
