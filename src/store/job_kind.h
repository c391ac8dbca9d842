// JobKind: the three kinds of work, each with its own queue.
#pragma once

#include <optional>
#include <string>

namespace sopilot {

enum class JobKind { kIngest, kScore, kTraining };

inline const char* JobKindName(JobKind kind) {
  switch (kind) {
    case JobKind::kIngest: return "ingest";
    case JobKind::kScore: return "score";
    case JobKind::kTraining: return "training";
  }
  return "unknown";
}

inline std::optional<JobKind> ParseJobKind(const std::string& name) {
  if (name == "ingest") return JobKind::kIngest;
  if (name == "score") return JobKind::kScore;
  if (name == "training") return JobKind::kTraining;
  return std::nullopt;
}

inline constexpr JobKind kAllJobKinds[] = {JobKind::kIngest, JobKind::kScore, JobKind::kTraining};

}  // namespace sopilot
