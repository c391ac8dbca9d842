#include "score/steps_file.h"

#include <cmath>

#include <nlohmann/json.hpp>

namespace sopilot {

Result<std::vector<StepSpec>> ParseStepsJson(const std::string& text) {
  std::vector<StepSpec> steps;
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    const nlohmann::json& list = j.is_array() ? j : j.at("steps");
    if (!list.is_array() || list.empty()) return Status::InvalidArgument("\"steps\" must be a non-empty array");
    for (size_t i = 0; i < list.size(); ++i) {
      const auto& s = list[i];
      StepSpec spec;
      spec.name = s.value("name", "step " + std::to_string(i + 1));
      spec.gold_time.start_sec = s.at("start_sec").get<double>();
      spec.gold_time.end_sec = s.at("end_sec").get<double>();
      steps.push_back(spec);
    }
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("steps JSON: ") + e.what());
  }
  for (size_t i = 0; i < steps.size(); ++i) {
    const TimeSpan& t = steps[i].gold_time;
    std::string where = "step " + std::to_string(i + 1) + " (" + steps[i].name + ")";
    if (!std::isfinite(t.start_sec) || !std::isfinite(t.end_sec) || t.start_sec < 0 ||
        t.end_sec <= t.start_sec) {
      return Status::InvalidArgument(where + ": needs 0 <= start_sec < end_sec");
    }
    if (steps[i].name.empty()) return Status::InvalidArgument(where + ": empty name");
    if (i > 0 && t.start_sec < steps[i - 1].gold_time.end_sec - 1e-9) {
      return Status::InvalidArgument(where + ": starts before the previous step ends");
    }
  }
  return steps;
}

Result<std::vector<StepSpec>> ReadStepsFile(Env* env, const std::string& path) {
  auto text = env->ReadFile(path, 16 << 20);
  if (!text.ok()) return text.status();
  auto steps = ParseStepsJson(*text);
  if (!steps.ok()) return steps.status().WithContext(path);
  return steps;
}

}  // namespace sopilot
