// The score result as JSON, with the original's field names (score, metrics,
// step_boundaries, deviations, alignment_preview, clip_count,
// step_map_preview, embedding_model) plus verdict and steps.
#pragma once

#include <nlohmann/json.hpp>

#include "score/score_report.h"

namespace sopilot {

nlohmann::json ScoreReportToJson(const ScoreReport& report);

}  // namespace sopilot
