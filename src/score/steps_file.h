// Steps files: the user's names and gold times for a task's steps, JSON:
//   {"steps": [{"name": "REMOVE", "start_sec": 0, "end_sec": 6}, ...]}
// (a bare array of the same objects is accepted too). Steps must be in order,
// must not overlap and must have positive length.
#pragma once

#include <string>
#include <vector>

#include "base/env.h"
#include "base/status.h"
#include "score/step.h"

namespace sopilot {

Result<std::vector<StepSpec>> ParseStepsJson(const std::string& text);
Result<std::vector<StepSpec>> ReadStepsFile(Env* env, const std::string& path);

}  // namespace sopilot
