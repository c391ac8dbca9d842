#include "score/score_options.h"

#include <cmath>
#include <cstdlib>
#include <string>

namespace sopilot {

Status ValidateScoreOptions(const ScoreOptions& o) {
  std::string errors;
  auto check = [&](bool ok, const std::string& what) {
    if (!ok) errors += (errors.empty() ? "" : "; ") + what;
  };
  const ScoreWeights& w = o.weights;
  for (double x : {w.miss, w.swap, w.dev, w.time, w.extra}) {
    check(std::isfinite(x) && x >= 0, "weights must be finite and >= 0");
  }
  check(o.pass_score >= 0 && o.pass_score <= 100, "pass score must be in [0, 100]");
  check(o.review_score >= 0 && o.review_score <= o.pass_score,
        "review score must be in [0, pass score]");
  check(o.time_tolerance >= 0 && o.time_tolerance <= 10, "time tolerance must be in [0, 10]");
  check(o.min_over_seconds >= 0, "min over seconds must be >= 0");
  check(o.min_time_fraction >= 0 && o.min_time_fraction < 1, "min time fraction must be in [0, 1)");
  check(o.min_rushed_seconds >= 0, "min rushed seconds must be >= 0");
  check(o.min_boundary_prominence >= 0 && o.min_boundary_prominence < 2,
        "boundary prominence must be in [0, 2)");
  check(o.boundary_peak_ratio >= 1, "boundary peak ratio must be >= 1");
  check(o.boundary_shoulder_ratio >= 1, "boundary shoulder ratio must be >= 1");
  check(o.min_step_seconds >= 0, "min step seconds must be >= 0");
  check(o.deviation_fraction > 0 && o.deviation_fraction < 1, "deviation fraction must be in (0, 1)");
  check(o.min_deviation_seconds >= 0, "min deviation seconds must be >= 0");
  check(o.min_extra_seconds >= 0, "min extra seconds must be >= 0");
  check(o.max_pairs == 0 || o.max_pairs >= 10'000, "SOPILOT_MAX_SCORE_PAIRS must be 0 (no bound) or >= 10000");
  if (!errors.empty()) return Status::InvalidArgument(errors);
  return Status::Ok();
}

Status ScoreOptionsFromEnvironment(ScoreOptions* o) {
  std::string errors;
  auto read = [&](const char* name, double* target) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') return;
    char* end = nullptr;
    double x = std::strtod(v, &end);
    if (end == v || *end != '\0' || !std::isfinite(x)) {
      errors += (errors.empty() ? "" : "; ") + std::string(name) + "='" + v + "' is not a number";
      return;
    }
    *target = x;
  };
  read("SOPILOT_WEIGHT_MISS", &o->weights.miss);
  read("SOPILOT_WEIGHT_SWAP", &o->weights.swap);
  read("SOPILOT_WEIGHT_DEV", &o->weights.dev);
  read("SOPILOT_WEIGHT_TIME", &o->weights.time);
  read("SOPILOT_WEIGHT_EXTRA", &o->weights.extra);
  read("SOPILOT_PASS_SCORE", &o->pass_score);
  read("SOPILOT_REVIEW_SCORE", &o->review_score);
  read("SOPILOT_TIME_TOLERANCE", &o->time_tolerance);
  read("SOPILOT_MIN_TIME_FRACTION", &o->min_time_fraction);
  double max_pairs = static_cast<double>(o->max_pairs);
  read("SOPILOT_MAX_SCORE_PAIRS", &max_pairs);
  if (max_pairs != std::floor(max_pairs) || max_pairs < 0 || max_pairs > 1e15) {
    errors += (errors.empty() ? "" : "; ") + std::string("SOPILOT_MAX_SCORE_PAIRS must be a whole number in [0, 1e15]");
  } else {
    o->max_pairs = static_cast<int64_t>(max_pairs);
  }
  if (!errors.empty()) return Status::InvalidArgument(errors);
  return ValidateScoreOptions(*o);
}

}  // namespace sopilot
