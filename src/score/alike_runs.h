// Runs of neighbouring gold steps that the gold video cannot tell apart.
//
// The evaluator decides, from the gold alone, which neighbouring steps are
// alike (`alike_next[k]`: step k's clips find in step k + 1 a match as good
// as within their own step, or the other way round; doc/scoring.md section
// 2). Steps chained that way form one run; a step told apart from both
// neighbours is a run of its own. The step matcher labels each run as one
// step and shares its time in the gold's proportion; the evaluator measures
// "the other steps" outside a step's run and times a run done whole as one
// unit. This is the one place that turns the flags into runs.
//
// Immutable once built; safe to read from any thread.
#pragma once

#include <vector>

namespace sopilot {

class AlikeRuns {
 public:
  AlikeRuns() = default;  // no steps
  // `step_count` steps. `alike_next` may be shorter (the missing entries are
  // false) or longer (the last step has no next: entries from step_count - 1
  // on are ignored).
  AlikeRuns(const std::vector<bool>& alike_next, int step_count);

  int step_count() const { return static_cast<int>(run_of_.size()); }
  int run_count() const { return static_cast<int>(first_.size()); }

  // Whether step k is alike to step k + 1. False for any k outside
  // [0, step_count - 2], kNoStep included.
  bool AlikeNext(int k) const;
  // Whether steps a and b are neighbours in the gold order and alike.
  bool AlikeNeighbours(int a, int b) const;
  // The flags as given, one per step (the last false): for the step matcher,
  // which takes them as a vector.
  const std::vector<bool>& alike_next() const { return alike_next_; }

  // The run holding step k (0 <= k < step_count), and the first and last
  // steps of run r (0 <= r < run_count), inclusive.
  int RunOf(int k) const { return run_of_[k]; }
  int First(int r) const { return first_[r]; }
  int Last(int r) const { return r + 1 < run_count() ? first_[r + 1] - 1 : step_count() - 1; }

 private:
  std::vector<bool> alike_next_;  // exactly step_count entries, the last false
  std::vector<int> run_of_;
  std::vector<int> first_;
};

}  // namespace sopilot
