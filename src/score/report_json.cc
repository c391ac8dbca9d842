#include "score/report_json.h"

#include <algorithm>
#include <cmath>

namespace sopilot {

namespace {

// Rounds to a decimal unit (1e-3, 1e-4) so that JSON shows 6.004, not
// 6.0040000000000004.
double Round(double x, double unit) {
  double scale = std::round(1.0 / unit);
  return std::round(x * scale) / scale;
}

nlohmann::json Span(const std::optional<TimeSpan>& t) {
  if (!t) return nullptr;
  return {{"start_sec", Round(t->start_sec, 1e-3)}, {"end_sec", Round(t->end_sec, 1e-3)}};
}

}  // namespace

nlohmann::json ScoreReportToJson(const ScoreReport& r) {
  nlohmann::json j;
  j["score"] = Round(r.score, 1e-4);
  j["verdict"] = r.verdict;
  j["verdict_reason"] = r.verdict_reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.verdict_reason);
  nlohmann::json metrics = nlohmann::json::object();
  for (const auto& [k, v] : r.metrics) {
    if (k == "miss" || k == "swap") metrics[k] = static_cast<int>(v);
    else metrics[k] = v;
  }
  j["metrics"] = metrics;
  j["step_boundaries"] = {{"gold", r.gold_boundaries}, {"trainee", r.trainee_boundaries}};
  nlohmann::json steps = nlohmann::json::array();
  for (const StepResult& s : r.steps) {
    steps.push_back({{"index", s.index},
                     {"name", s.name},
                     {"gold_time", Span(s.gold_time)},
                     {"trainee_time", Span(s.trainee_time)},
                     {"similarity", Round(s.similarity, 1e-4)},
                     {"duration_ratio", Round(s.duration_ratio, 1e-3)},
                     {"status", s.status},
                     {"critical", s.rules.critical},
                     {"optional", s.rules.optional}});
    if (!s.rules.description.empty()) steps.back()["description"] = s.rules.description;
    if (!s.rules.any_order_group.empty()) steps.back()["any_order_group"] = s.rules.any_order_group;
    if (s.rules.time_tolerance) steps.back()["time_tolerance"] = *s.rules.time_tolerance;
  }
  j["steps"] = steps;
  nlohmann::json devs = nlohmann::json::array();
  for (const Deviation& d : r.deviations) {
    nlohmann::json o = {{"type", d.type},
                        {"gold_step", d.step.index >= 0 ? nlohmann::json(d.step.index) : nlohmann::json(nullptr)},
                        {"gold_step_name", d.step.index >= 0 ? nlohmann::json(d.step.name) : nlohmann::json(nullptr)},
                        {"gold_time", Span(d.step.gold_time)},
                        {"trainee_time", Span(d.step.trainee_time)},
                        {"confidence", Round(d.confidence, 1e-3)},
                        {"severity", d.severity},
                        {"reason", d.reason},
                        {"penalty", Round(d.penalty, 1e-3)},
                        {"critical", d.critical}};
    if (d.other) {
      o["swapped_with"] = {{"gold_step", d.other->index},
                           {"gold_step_name", d.other->name},
                           {"gold_time", Span(d.other->gold_time)},
                           {"trainee_time", Span(d.other->trainee_time)}};
      o["gold_steps"] = {d.step.index, d.other->index};
      o["gold_step_names"] = {d.step.name, d.other->name};
    }
    devs.push_back(o);
  }
  j["deviations"] = devs;
  nlohmann::json idle = nlohmann::json::array();
  for (const IdleSpan& s : r.idle) idle.push_back({{"kind", s.kind}, {"trainee_time", Span(s.trainee_time)}});
  j["idle"] = idle;
  nlohmann::json gold_idle = nlohmann::json::array();
  for (const GoldIdleSpan& s : r.gold_idle) gold_idle.push_back({{"kind", s.kind}, {"gold_time", Span(s.gold_time)}});
  j["gold_idle"] = gold_idle;
  nlohmann::json preview = nlohmann::json::array();
  for (size_t i = 0; i < std::min<size_t>(300, r.alignment.size()); ++i) {
    const AlignedPair& p = r.alignment[i];
    preview.push_back({{"gold_clip", p.gold}, {"trainee_clip", p.trainee}, {"similarity", Round(p.similarity, 1e-4)}});
  }
  j["alignment_preview"] = preview;
  j["clip_count"] = {{"gold", r.gold_clips}, {"trainee", r.trainee_clips}};
  j["clips_merged"] = r.clips_merged;
  auto head = [](const std::vector<int>& v) { return std::vector<int>(v.begin(), v.begin() + std::min<size_t>(100, v.size())); };
  j["step_map_preview"] = {{"gold", head(r.gold_step_map)}, {"trainee", head(r.trainee_step_map)}};
  j["embedding_model"] = r.embedding_model;
  return j;
}

}  // namespace sopilot
