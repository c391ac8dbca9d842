// ReportModel: a score result JSON read once into what a report draws — the
// steps on two time lanes, the unexplained and idle trainee time, and the
// deviations — so the PDF and the HTML page show the same thing. Tolerant:
// a field missing from an older result is drawn as absent, never an error.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sopilot {

struct ReportSpan {
  double start = 0, end = 0;
};

struct ReportStep {
  int index = 0;
  std::string name, status, description;
  bool critical = false, optional = false;
  std::optional<ReportSpan> gold, trainee;
};

struct ReportDeviation {
  std::string type, step_name, other_step_name, severity, reason;
  bool critical = false;
  double penalty = 0;
  std::optional<ReportSpan> gold, trainee;
};

struct ReportModel {
  double score = 0;
  std::string verdict, verdict_reason;
  std::vector<ReportStep> steps;
  std::vector<ReportSpan> extra;  // trainee time matching no step
  std::vector<ReportSpan> idle;   // lead-in and tail
  std::vector<ReportSpan> gold_idle;  // the gold's lead-in and tail (no step)
  std::vector<ReportDeviation> deviations;
  double gold_duration = 0, trainee_duration = 0;  // the lanes' lengths
};

ReportModel ReadReportModel(const nlohmann::json& result);

// The colour of a step status (ok, missing, skipped, deviation, over_time,
// out_of_order) and of a verdict, as 0..1 RGB.
struct Rgb {
  double r, g, b;
};
Rgb StatusColour(const std::string& status);
Rgb VerdictColour(const std::string& verdict);
// "ok" -> "done as the gold", ...: the legend's words.
std::string StatusWords(const std::string& status);

}  // namespace sopilot
