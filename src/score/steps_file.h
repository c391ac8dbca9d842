// Steps files, also the SOP definitions the service keeps per task: the
// user's names, gold times and rules for a task's steps, JSON:
//   {"steps": [{"name": "REMOVE", "start_sec": 0, "end_sec": 6,
//               "description": "...", "critical": true, "optional": false,
//               "time_tolerance": 0.3, "any_order_group": "checks"}, ...]}
// (a bare array of the same objects is accepted too). Only name, start_sec
// and end_sec are required, and the times may be left out of every step:
// the steps are then named but not timed (StepSpec::timed false), and the
// scorer places them in the gold (score/step_placer.h). Steps must be in order, must not overlap and
// must have positive length; the steps of an any_order_group must be
// consecutive; an unknown key is an error (a misspelt "critical" must not be
// silently ignored). Other top-level keys (task_id, version, gold_video_id,
// ...) are the service's and are ignored here.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/env.h"
#include "base/status.h"
#include "score/step.h"

namespace sopilot {

// Errors name the step ("step 2 (CLEAN): ...") and the field.
Result<std::vector<StepSpec>> ParseStepsJson(const std::string& text);
Result<std::vector<StepSpec>> StepsFromJson(const nlohmann::json& j);
Result<std::vector<StepSpec>> ReadStepsFile(Env* env, const std::string& path);

// The "steps" array of the format above; rules at their defaults are left out.
nlohmann::json StepsToJson(const std::vector<StepSpec>& steps);

}  // namespace sopilot
