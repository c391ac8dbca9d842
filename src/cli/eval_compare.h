// EvalComparison: what changed between two `sopilot eval` runs over the same
// labels files, for a developer judging a change to the scoring rules (or a
// user judging a new release, or another embedder) on their labelled sets.
// Both runs are read as `sopilot eval --json` writes them: the earlier one
// from a file (`--baseline FILE`), this one built in memory.
//
// Files are matched by their labels path, else by task_id and the kind of
// steps (found, labelled, named); pairs by video name. A file or pair in
// only one run is listed as such, never an error: labels files grow.
//
// Pure functions; no I/O but the printing.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace sopilot::cli {

// found / missed / false of a file, a pair or the whole run.
struct EvalCounts {
  int found = 0, missed = 0, false_count = 0;
  bool operator==(const EvalCounts& o) const {
    return found == o.found && missed == o.missed && false_count == o.false_count;
  }
  std::string Text() const;  // "5/2/37"
};

struct PairChange {
  std::string video;
  EvalCounts before, after;
  std::string verdict_before, verdict_after;
};

struct FileChange {
  std::string name;       // the task id and the kind of steps, or the labels path
  bool in_before = true;  // false: new in this run
  bool in_after = true;   // false: gone from this run
  EvalCounts before, after;
  std::vector<PairChange> changed;  // pairs whose counts or verdict changed, or that are in one run only
};

struct EvalComparison {
  std::vector<FileChange> files;  // in this run's order, then those gone
  EvalCounts before, after;       // over the whole runs
};

// InvalidArgument when `run` is not a `sopilot eval --json` output (checked
// before anything is embedded).
Status CheckEvalRun(const nlohmann::json& run);

// InvalidArgument when `before` is not a `sopilot eval --json` output.
Result<EvalComparison> CompareEvalRuns(const nlohmann::json& before, const nlohmann::json& after);

// The comparison as text, after the table: a line per labels file (found /
// missed / false before -> after) and, under it, a line per changed pair.
std::string ComparisonText(const EvalComparison& c, const std::string& baseline_name);

// The comparison as JSON ("baseline" of `sopilot eval --json --baseline`).
nlohmann::json ComparisonJson(const EvalComparison& c, const std::string& baseline_name);

}  // namespace sopilot::cli
