#include "report/report_input.h"

namespace sopilot {

namespace {
std::optional<double> Middle(const nlohmann::json& span) {
  if (!span.is_object() || !span.contains("start_sec") || !span.contains("end_sec")) return std::nullopt;
  if (!span["start_sec"].is_number() || !span["end_sec"].is_number()) return std::nullopt;
  return 0.5 * (span["start_sec"].get<double>() + span["end_sec"].get<double>());
}
}  // namespace

std::vector<FrameMoments> DeviationMoments(const nlohmann::json& result) {
  std::vector<FrameMoments> out;
  if (!result.is_object() || !result.contains("deviations") || !result["deviations"].is_array()) return out;
  for (const nlohmann::json& d : result["deviations"]) {
    if (out.size() >= kReportMaxDeviations) break;
    FrameMoments m;
    if (d.is_object()) {
      m.gold = Middle(d.value("gold_time", nlohmann::json()));
      m.trainee = Middle(d.value("trainee_time", nlohmann::json()));
    }
    out.push_back(m);
  }
  return out;
}

}  // namespace sopilot
