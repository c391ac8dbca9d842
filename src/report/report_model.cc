#include "report/report_model.h"

#include <algorithm>

namespace sopilot {

namespace {

std::optional<ReportSpan> Span(const nlohmann::json& o, const char* key) {
  if (!o.is_object() || !o.contains(key) || !o[key].is_object()) return std::nullopt;
  const nlohmann::json& s = o[key];
  if (!s.contains("start_sec") || !s.contains("end_sec") || !s["start_sec"].is_number() || !s["end_sec"].is_number()) {
    return std::nullopt;
  }
  return ReportSpan{s["start_sec"].get<double>(), s["end_sec"].get<double>()};
}

std::string Str(const nlohmann::json& o, const char* key) {
  return o.is_object() && o.contains(key) && o[key].is_string() ? o[key].get<std::string>() : "";
}

bool Flag(const nlohmann::json& o, const char* key) {
  return o.is_object() && o.contains(key) && o[key].is_boolean() && o[key].get<bool>();
}

}  // namespace

ReportModel ReadReportModel(const nlohmann::json& r) {
  ReportModel m;
  if (!r.is_object()) return m;
  if (r.contains("score") && r["score"].is_number()) m.score = r["score"].get<double>();
  m.verdict = Str(r, "verdict");
  m.verdict_reason = Str(r, "verdict_reason");
  auto extend = [&](const std::optional<ReportSpan>& s, double* duration) {
    if (s) *duration = std::max(*duration, s->end);
  };
  if (r.contains("steps") && r["steps"].is_array()) {
    for (const nlohmann::json& s : r["steps"]) {
      ReportStep step;
      step.index = s.is_object() && s.contains("index") && s["index"].is_number_integer() ? s["index"].get<int>()
                                                                                          : static_cast<int>(m.steps.size());
      step.name = Str(s, "name");
      step.status = Str(s, "status");
      step.description = Str(s, "description");
      step.critical = Flag(s, "critical");
      step.optional = Flag(s, "optional");
      step.gold = Span(s, "gold_time");
      step.trainee = Span(s, "trainee_time");
      extend(step.gold, &m.gold_duration);
      extend(step.trainee, &m.trainee_duration);
      m.steps.push_back(std::move(step));
    }
  }
  if (r.contains("deviations") && r["deviations"].is_array()) {
    for (const nlohmann::json& d : r["deviations"]) {
      ReportDeviation dev;
      dev.type = Str(d, "type");
      dev.step_name = Str(d, "gold_step_name");
      dev.severity = Str(d, "severity");
      dev.reason = Str(d, "reason");
      dev.critical = Flag(d, "critical");
      if (d.is_object() && d.contains("penalty") && d["penalty"].is_number()) dev.penalty = d["penalty"].get<double>();
      if (d.is_object() && d.contains("swapped_with")) dev.other_step_name = Str(d["swapped_with"], "gold_step_name");
      dev.gold = Span(d, "gold_time");
      dev.trainee = Span(d, "trainee_time");
      extend(dev.gold, &m.gold_duration);
      extend(dev.trainee, &m.trainee_duration);
      if (dev.type == "extra_segment" && dev.step_name.empty() && dev.trainee) m.extra.push_back(*dev.trainee);
      m.deviations.push_back(std::move(dev));
    }
  }
  if (r.contains("idle") && r["idle"].is_array()) {
    for (const nlohmann::json& i : r["idle"]) {
      if (auto s = Span(i, "trainee_time")) {
        m.idle.push_back(*s);
        extend(s, &m.trainee_duration);
      }
    }
  }
  if (r.contains("gold_idle") && r["gold_idle"].is_array()) {
    for (const nlohmann::json& i : r["gold_idle"]) {
      if (auto s = Span(i, "gold_time")) {
        m.gold_idle.push_back(*s);
        extend(s, &m.gold_duration);
      }
    }
  }
  return m;
}

Rgb StatusColour(const std::string& status) {
  if (status == "ok") return {0.26, 0.63, 0.28};
  if (status == "missing") return {0.83, 0.18, 0.18};
  if (status == "skipped") return {0.62, 0.62, 0.62};
  if (status == "deviation") return {0.93, 0.45, 0.0};
  if (status == "over_time") return {0.85, 0.65, 0.05};
  if (status == "out_of_order") return {0.52, 0.27, 0.68};
  return {0.45, 0.45, 0.45};
}

Rgb VerdictColour(const std::string& verdict) {
  if (verdict == "pass") return {0.26, 0.63, 0.28};
  if (verdict == "needs_review") return {0.85, 0.55, 0.0};
  return {0.83, 0.18, 0.18};
}

std::string StatusWords(const std::string& status) {
  if (status == "ok") return "done as the gold";
  if (status == "missing") return "not done";
  if (status == "skipped") return "optional, not done";
  if (status == "deviation") return "done unlike the gold";
  if (status == "over_time") return "over time";
  if (status == "out_of_order") return "out of order";
  return status;
}

}  // namespace sopilot
