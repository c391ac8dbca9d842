#include "score/steps_file.h"

#include <cmath>
#include <set>

#include "base/text.h"

namespace sopilot {

namespace {

constexpr size_t kMaxSteps = 1000;
constexpr size_t kMaxNameBytes = 200;
constexpr size_t kMaxDescriptionBytes = 2000;
constexpr double kMaxTolerance = 10;  // 1000 % over: anything more is a typo

const std::set<std::string>& KnownStepKeys() {
  static const std::set<std::string> keys = {"name",     "start_sec", "end_sec",        "description",
                                             "critical", "optional",  "time_tolerance", "any_order_group"};
  return keys;
}

Result<double> Number(const nlohmann::json& s, const char* key, const std::string& where) {
  if (!s.contains(key)) return Status::InvalidArgument(where + ": " + key + " is required");
  if (!s[key].is_number()) return Status::InvalidArgument(where + ": " + key + " must be a number");
  return s[key].get<double>();
}

Result<std::string> Text(const nlohmann::json& s, const char* key, size_t max_bytes, const std::string& where) {
  if (!s.contains(key) || s[key].is_null()) return std::string();
  if (!s[key].is_string()) return Status::InvalidArgument(where + ": " + key + " must be a string");
  std::string v = s[key].get<std::string>();
  // A description may hold line breaks; no field may hold other control
  // characters (they would reach the report and the web page).
  std::string checked = v;
  if (std::string(key) == "description") {
    for (char& c : checked) {
      if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    }
  }
  SOPILOT_RETURN_IF_ERROR(CheckTextField(where + ": " + key, checked, max_bytes));
  return v;
}

Result<bool> Flag(const nlohmann::json& s, const char* key, const std::string& where) {
  if (!s.contains(key) || s[key].is_null()) return false;
  if (!s[key].is_boolean()) return Status::InvalidArgument(where + ": " + key + " must be true or false");
  return s[key].get<bool>();
}

Result<StepSpec> ParseStep(const nlohmann::json& s, size_t i) {
  std::string where = "step " + std::to_string(i + 1);
  if (!s.is_object()) return Status::InvalidArgument(where + ": must be an object");
  if (s.contains("name") && s["name"].is_string()) where += " (" + s["name"].get<std::string>() + ")";
  for (const auto& [key, value] : s.items()) {
    if (!KnownStepKeys().count(key)) {
      return Status::InvalidArgument(where + ": unknown field \"" + key +
                                     "\" (known: name, start_sec, end_sec, description, critical, optional, "
                                     "time_tolerance, any_order_group)");
    }
  }
  StepSpec spec;
  if (s.contains("name")) {
    SOPILOT_ASSIGN_OR_RETURN(spec.name, Text(s, "name", kMaxNameBytes, where));
    if (spec.name.empty()) return Status::InvalidArgument(where + ": empty name");
  } else {
    spec.name = "step " + std::to_string(i + 1);
  }
  // A step without start_sec and end_sec is named but not timed: the scorer
  // places it in the gold (score/step_placer.h).
  const bool has_start = s.contains("start_sec") && !s["start_sec"].is_null();
  const bool has_end = s.contains("end_sec") && !s["end_sec"].is_null();
  if (has_start != has_end) {
    return Status::InvalidArgument(where + ": give both start_sec and end_sec, or neither (the steps are then placed "
                                           "in the gold video)");
  }
  spec.timed = has_start;
  if (spec.timed) {
    SOPILOT_ASSIGN_OR_RETURN(spec.gold_time.start_sec, Number(s, "start_sec", where));
    SOPILOT_ASSIGN_OR_RETURN(spec.gold_time.end_sec, Number(s, "end_sec", where));
    const TimeSpan& t = spec.gold_time;
    if (!std::isfinite(t.start_sec) || !std::isfinite(t.end_sec) || t.start_sec < 0 || t.end_sec <= t.start_sec) {
      return Status::InvalidArgument(where + ": needs 0 <= start_sec < end_sec");
    }
  }
  SOPILOT_ASSIGN_OR_RETURN(spec.rules.description, Text(s, "description", kMaxDescriptionBytes, where));
  SOPILOT_ASSIGN_OR_RETURN(spec.rules.any_order_group, Text(s, "any_order_group", kMaxNameBytes, where));
  SOPILOT_ASSIGN_OR_RETURN(spec.rules.critical, Flag(s, "critical", where));
  SOPILOT_ASSIGN_OR_RETURN(spec.rules.optional, Flag(s, "optional", where));
  if (spec.rules.critical && spec.rules.optional) {
    return Status::InvalidArgument(where + ": a step cannot be both critical and optional");
  }
  if (s.contains("time_tolerance") && !s["time_tolerance"].is_null()) {
    SOPILOT_ASSIGN_OR_RETURN(double tol, Number(s, "time_tolerance", where));
    if (!std::isfinite(tol) || tol < 0 || tol > kMaxTolerance) {
      return Status::InvalidArgument(where + ": time_tolerance must be in [0, 10] (0.25 = 25 % over the gold time)");
    }
    spec.rules.time_tolerance = tol;
  }
  return spec;
}

}  // namespace

Result<std::vector<StepSpec>> StepsFromJson(const nlohmann::json& j) {
  const nlohmann::json* list = &j;
  if (j.is_object()) {
    if (!j.contains("steps")) return Status::InvalidArgument("\"steps\" is required");
    list = &j["steps"];
  }
  if (!list->is_array() || list->empty()) return Status::InvalidArgument("\"steps\" must be a non-empty array");
  if (list->size() > kMaxSteps) {
    return Status::InvalidArgument("\"steps\" has more than " + std::to_string(kMaxSteps) + " steps");
  }
  std::vector<StepSpec> steps;
  for (size_t i = 0; i < list->size(); ++i) {
    SOPILOT_ASSIGN_OR_RETURN(StepSpec spec, ParseStep((*list)[i], i));
    steps.push_back(std::move(spec));
  }
  std::set<std::string> names, closed_groups;
  for (size_t i = 0; i < steps.size(); ++i) {
    const std::string where = "step " + std::to_string(i + 1) + " (" + steps[i].name + ")";
    if (steps[i].timed != steps[0].timed) {
      return Status::InvalidArgument(where + ": give start_sec and end_sec on every step or on none (without "
                                             "times the steps are placed in the gold video)");
    }
    if (i > 0 && steps[i].timed && steps[i].gold_time.start_sec < steps[i - 1].gold_time.end_sec - 1e-9) {
      return Status::InvalidArgument(where + ": starts before the previous step ends");
    }
    if (!names.insert(steps[i].name).second) {
      return Status::InvalidArgument(where + ": another step has the same name");
    }
    // A group's steps are consecutive: "any order among these" names one
    // stretch of the procedure.
    const std::string& group = steps[i].rules.any_order_group;
    const std::string prev_group = i > 0 ? steps[i - 1].rules.any_order_group : "";
    if (!prev_group.empty() && prev_group != group) closed_groups.insert(prev_group);
    if (!group.empty() && closed_groups.count(group)) {
      return Status::InvalidArgument(where + ": the steps of any_order_group \"" + group +
                                     "\" must be consecutive");
    }
  }
  return steps;
}

Result<std::vector<StepSpec>> ParseStepsJson(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return Status::InvalidArgument("steps JSON: not valid JSON");
  auto steps = StepsFromJson(j);
  if (!steps.ok()) return steps.status().WithMessage("steps JSON: " + steps.status().message());
  return steps;
}

Result<std::vector<StepSpec>> ReadStepsFile(Env* env, const std::string& path) {
  auto text = env->ReadFile(path, 16 << 20);
  if (!text.ok()) return text.status();
  auto steps = ParseStepsJson(*text);
  if (!steps.ok()) return steps.status().WithContext(path);
  return steps;
}

nlohmann::json StepsToJson(const std::vector<StepSpec>& steps) {
  nlohmann::json out = nlohmann::json::array();
  for (const StepSpec& s : steps) {
    nlohmann::json o = {{"name", s.name}};
    if (s.timed) {
      o["start_sec"] = s.gold_time.start_sec;
      o["end_sec"] = s.gold_time.end_sec;
    }
    if (!s.rules.description.empty()) o["description"] = s.rules.description;
    if (s.rules.critical) o["critical"] = true;
    if (s.rules.optional) o["optional"] = true;
    if (s.rules.time_tolerance) o["time_tolerance"] = *s.rules.time_tolerance;
    if (!s.rules.any_order_group.empty()) o["any_order_group"] = s.rules.any_order_group;
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace sopilot
