// SopilotService: the tasks' SOP definitions (versioned, audited) and the
// score history with its per-task statistics.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "base/json_text.h"
#include "base/median.h"
#include "base/text.h"
#include "score/sop_evaluator.h"
#include "score/step_placer.h"
#include "score/steps_file.h"
#include "service/sopilot_service.h"

namespace sopilot {

namespace {

// A step may end a little after the gold's last clip: times are typed or
// scrubbed by people.
constexpr double kStepEndSlackSec = 1.0;
// How many of an operator's scores the trend shows.
constexpr size_t kTrendScores = 30;

double Round3(double x) { return std::round(x * 1000) / 1000; }

// The task's newest ingested gold video (ids only grow), over all of its
// videos; none when it has no gold yet.
Result<std::optional<int64_t>> NewestGold(MetadataStore* store, const std::string& task_id) {
  SOPILOT_ASSIGN_OR_RETURN(std::vector<VideoRow> videos, store->VideosOfTask(task_id));
  for (auto v = videos.rbegin(); v != videos.rend(); ++v) {
    if (v->role == "gold") return std::optional<int64_t>(v->id);
  }
  return std::optional<int64_t>();
}

nlohmann::json OrNull(const std::optional<int64_t>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }
nlohmann::json OrNull(const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); }

}  // namespace

// ---------------------------------------------------------------- SOP

Result<nlohmann::json> SopilotService::GetSop(const std::string& task_id, int64_t version) {
  auto sop = store_->GetSopVersion(task_id, version);
  if (sop.ok()) {
    nlohmann::json definition = nlohmann::json::parse(sop->definition_json, nullptr, false);
    if (definition.is_discarded() || !definition.is_object()) {
      return Status::Corruption("task " + task_id + ": SOP version " + std::to_string(sop->version) +
                                " is not a JSON object");
    }
    return nlohmann::json{{"task_id", sop->task_id},         {"version", sop->version},
                          {"draft", false},                  {"gold_video_id", OrNull(sop->gold_video_id)},
                          {"created_by", sop->created_by},   {"created_at", sop->created_at},
                          {"steps", definition.value("steps", nlohmann::json::array())}};
  }
  if (sop.status().code() != Status::Code::kNotFound || version > 0) return sop.status();

  // No SOP yet: a draft of the steps the scorer finds in the newest gold,
  // the same steps a score would use without an SOP.
  SOPILOT_ASSIGN_OR_RETURN(std::optional<int64_t> gold, NewestGold(store_.get(), task_id));
  if (!gold) return Status::NotFound("task " + task_id + " has no SOP and no ingested gold video to draft one from");
  SOPILOT_ASSIGN_OR_RETURN(ScorePair pair, LoadScorePair(*gold, *gold));
  SOPILOT_ASSIGN_OR_RETURN(ScoreReport found, EvaluateSop(pair.gold_set, pair.gold_set, config_.score));
  std::vector<StepSpec> specs;
  // Times to the hundredth of a second: for people to read and edit (a
  // boundary is shared by two steps, so both round alike).
  auto hundredth = [](double t) { return std::round(t * 100) / 100; };
  for (const StepResult& s : found.steps) {
    specs.push_back(StepSpec{s.name, {hundredth(s.gold_time.start_sec), hundredth(s.gold_time.end_sec)}, StepRules{}});
  }
  return nlohmann::json{{"task_id", task_id},        {"version", 0},
                        {"draft", true},             {"gold_video_id", *gold},
                        {"created_by", nullptr},     {"created_at", nullptr},
                        {"steps", StepsToJson(specs)}};
}

Result<int64_t> SopilotService::ChosenGold(int64_t trainee_id) {
  auto trainee = store_->GetVideo(trainee_id);
  if (!trainee.ok()) {
    return trainee.status().code() == Status::Code::kNotFound
               ? Status::NotFound("video not found: " + std::to_string(trainee_id))
               : trainee.status();
  }
  auto sop = store_->GetSopVersion(trainee->task_id, 0);
  if (!sop.ok() && sop.status().code() != Status::Code::kNotFound) return sop.status();
  if (sop.ok() && sop->gold_video_id) {
    auto gold = store_->GetVideo(*sop->gold_video_id);
    if (gold.ok() && !gold->embedding_path.empty()) return gold->id;
  }
  SOPILOT_ASSIGN_OR_RETURN(std::optional<int64_t> newest, NewestGold(store_.get(), trainee->task_id));
  if (newest) return *newest;
  return Status::InvalidArgument("task " + trainee->task_id + " has no ingested gold video to score against");
}

Result<nlohmann::json> SopilotService::ListTasks() {
  SOPILOT_ASSIGN_OR_RETURN(auto tasks, store_->TaskGoldCounts());
  nlohmann::json items = nlohmann::json::array();
  for (const auto& [task, golds] : tasks) {
    auto sop = store_->GetSopVersion(task, 0);
    if (!sop.ok() && sop.status().code() != Status::Code::kNotFound) return sop.status();
    items.push_back({{"task_id", task},
                     {"gold_videos", golds},
                     {"sop_version", sop.ok() ? nlohmann::json(sop->version) : nlohmann::json(nullptr)}});
  }
  return nlohmann::json{{"items", items}};
}

Result<nlohmann::json> SopilotService::PutSop(const std::string& task_id, const nlohmann::json& body,
                                              const std::string& actor) {
  if (!body.is_object()) return Status::InvalidArgument("body must be a JSON object");
  for (const auto& [key, value] : body.items()) {
    // What GET returns may be sent back as it is.
    static const std::set<std::string> known = {"steps",      "gold_video_id", "task_id", "version",
                                                "draft",      "created_by",    "created_at"};
    if (!known.count(key)) return Status::InvalidArgument("unknown field \"" + key + "\" (send gold_video_id and steps)");
  }
  if (body.contains("task_id") && body["task_id"] != task_id) {
    return Status::InvalidArgument("task_id in the body (" + JsonText(body["task_id"]) + ") is not the task of the path (" +
                                   task_id + ")");
  }
  auto specs = StepsFromJson(body);
  if (!specs.ok()) return specs.status();

  // The gold the times refer to: the one named, else the latest SOP's, else
  // the task's newest gold.
  std::optional<int64_t> gold_id;
  if (body.contains("gold_video_id") && !body["gold_video_id"].is_null()) {
    if (!body["gold_video_id"].is_number_integer() || body["gold_video_id"].get<int64_t>() < 1) {
      return Status::InvalidArgument("gold_video_id must be an integer >= 1");
    }
    gold_id = body["gold_video_id"].get<int64_t>();
  } else {
    auto latest = store_->GetSopVersion(task_id, 0);
    if (latest.ok() && latest->gold_video_id) {
      gold_id = latest->gold_video_id;
    } else {
      SOPILOT_ASSIGN_OR_RETURN(gold_id, NewestGold(store_.get(), task_id));
    }
    if (!gold_id) return Status::InvalidArgument("task " + task_id + " has no ingested gold video; upload one first");
  }
  auto gold = store_->GetVideo(*gold_id);
  if (!gold.ok()) {
    return gold.status().code() == Status::Code::kNotFound
               ? Status::InvalidArgument("gold_video_id " + std::to_string(*gold_id) + ": no such video")
               : gold.status();
  }
  if (gold->task_id != task_id) {
    return Status::InvalidArgument("gold_video_id " + std::to_string(*gold_id) + " belongs to task " + gold->task_id +
                                   ", not " + task_id);
  }
  if (gold->role != "gold") {
    return Status::InvalidArgument("video " + std::to_string(*gold_id) + " is a " + gold->role + " video, not a gold one");
  }
  if (gold->embedding_path.empty()) {
    return Status::InvalidArgument("gold video " + std::to_string(*gold_id) + " is not ingested yet");
  }
  for (size_t i = 0; i < specs->size(); ++i) {
    const StepSpec& s = (*specs)[i];
    if (s.gold_time.end_sec > gold->duration_sec + kStepEndSlackSec) {
      char buf[160];
      std::snprintf(buf, sizeof buf, ": ends at %.1f s, after the gold video ends (%.1f s)", s.gold_time.end_sec,
                    gold->duration_sec);
      return Status::InvalidArgument("step " + std::to_string(i + 1) + " (" + s.name + ")" + buf);
    }
  }
  if (!specs->front().timed) {
    // Named without times: placed in this gold now, so that the saved
    // version, the draft the user edits next and every score agree.
    // The embeddings a score of this gold uses, as the draft does.
    SOPILOT_ASSIGN_OR_RETURN(ScorePair pair, LoadScorePair(*gold_id, *gold_id));
    const EmbeddingSet& set = pair.gold_set;
    const double clip = set.sampling.clip_seconds > 0 ? set.sampling.clip_seconds : 2.0;
    auto placed = PlaceSteps(*specs, set.vectors, set.clips, gold->duration_sec, clip);
    if (!placed.ok()) return Status::InvalidArgument("gold video " + std::to_string(*gold_id) + ": " + placed.status().message());
    // To the hundredth of a second, as the draft's times.
    for (StepSpec& p : *placed) {
      p.gold_time = {std::round(p.gold_time.start_sec * 100) / 100, std::round(p.gold_time.end_sec * 100) / 100};
    }
    *specs = std::move(*placed);
  }
  nlohmann::json definition = {{"steps", StepsToJson(*specs)}};
  nlohmann::json critical = nlohmann::json::array();
  for (const StepSpec& s : *specs) {
    if (s.rules.critical) critical.push_back(s.name);
  }
  // Its audit row in the same transaction; the store adds "version".
  const AuditRecord saved{actor, "sop.saved",
                          JsonText(nlohmann::json{{"gold_video_id", *gold_id}, {"steps", specs->size()},
                                                  {"critical_steps", critical}})};
  SOPILOT_ASSIGN_OR_RETURN(int64_t version,
                           store_->AppendSopVersion(task_id, gold_id, JsonText(definition), actor, saved));
  return GetSop(task_id, version);
}

// ---------------------------------------------------------------- history

namespace {

nlohmann::json ScoreItemJson(const JobRow& j) {
  nlohmann::json summary = nlohmann::json::parse(j.result_json.empty() ? "{}" : j.result_json, nullptr, false);
  if (summary.is_discarded() || !summary.is_object()) summary = nlohmann::json::object();
  return {{"score_job_id", j.id},
          {"task_id", j.task_id},
          {"gold_video_id", OrNull(j.gold_video_id)},
          {"trainee_video_id", OrNull(j.trainee_video_id)},
          {"score", j.score ? nlohmann::json(*j.score) : nlohmann::json(nullptr)},
          {"verdict", summary.value("verdict", nlohmann::json(nullptr))},
          {"verdict_reason", summary.value("verdict_reason", nlohmann::json(nullptr))},
          {"deviations", summary.value("deviations", nlohmann::json(nullptr))},
          {"sop_version", OrNull(j.sop_version)},
          {"site_id", OrNull(j.site_id)},
          {"camera_id", OrNull(j.camera_id)},
          {"operator_id_hash", OrNull(j.operator_id_hash)},
          {"requested_by", OrNull(j.requested_by)},
          {"finished_at", OrNull(j.finished_at)}};
}

// The history's cursor: the last row's finish time and seq, in hex so that
// it passes through a query string untouched.
std::string EncodeCursor(const std::string& finished_at, int64_t seq) {
  static const char* kHex = "0123456789abcdef";
  std::string plain = finished_at + "|" + std::to_string(seq), out;
  for (unsigned char c : plain) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

bool DecodeCursor(const std::string& hex, ScoreQuery* q) {
  if (hex.empty() || hex.size() % 2 || hex.size() > 256) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string plain;
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    plain.push_back(static_cast<char>(hi * 16 + lo));
  }
  const size_t bar = plain.rfind('|');
  if (bar == std::string::npos || bar == 0 || bar + 1 == plain.size() || plain.size() - bar > 20) return false;
  int64_t seq = 0;
  for (size_t i = bar + 1; i < plain.size(); ++i) {
    if (plain[i] < '0' || plain[i] > '9') return false;
    seq = seq * 10 + (plain[i] - '0');
  }
  q->after_finished_at = plain.substr(0, bar);
  q->after_seq = seq;
  return IsValidUtf8(q->after_finished_at);
}

}  // namespace

Result<nlohmann::json> SopilotService::ListScores(ScoreQuery query, const std::string& cursor) {
  if (!cursor.empty() && !DecodeCursor(cursor, &query)) {
    return Status::InvalidArgument("cursor is not one this server gave (pass next_cursor as it is)");
  }
  SOPILOT_ASSIGN_OR_RETURN(ScorePage page, store_->ListScores(query));
  nlohmann::json items = nlohmann::json::array();
  for (const JobRow& j : page.scores) items.push_back(ScoreItemJson(j));
  nlohmann::json next = nullptr;
  if (page.more && !page.scores.empty()) next = EncodeCursor(page.scores.back().finished_at, page.seqs.back());
  return nlohmann::json{{"items", items}, {"next_cursor", next}};
}

Result<nlohmann::json> SopilotService::TaskStats(const std::string& task_id) {
  ScoreQuery q;
  q.task_id = task_id;
  q.limit = kStatsScores;
  SOPILOT_ASSIGN_OR_RETURN(ScorePage page, store_->ListScores(q));

  struct StepStats {
    int index = 0;
    int scored = 0, missing = 0, skipped = 0, deviation = 0, over_time = 0, out_of_order = 0;
    std::vector<double> duration_ratio;
    double gold_sec = 0;
  };
  struct OperatorStats {
    int scores = 0, passed = 0;
    double score_sum = 0;
    std::string last_finished_at;
    std::vector<nlohmann::json> trend;  // newest first, as read
  };
  std::map<std::string, StepStats> steps;  // by step name
  std::map<std::string, OperatorStats> operators;
  std::map<std::string, int> verdicts;
  double score_sum = 0;
  int unreadable = 0;
  for (const JobRow& j : page.scores) {
    const double score = j.score.value_or(0);
    score_sum += score;
    nlohmann::json item = ScoreItemJson(j);
    const std::string verdict = item["verdict"].is_string() ? item["verdict"].get<std::string>() : "";
    if (!verdict.empty()) ++verdicts[verdict];
    const std::string op = j.operator_id_hash.empty() ? "(none)" : j.operator_id_hash;
    OperatorStats& o = operators[op];
    ++o.scores;
    o.passed += verdict == "pass";
    o.score_sum += score;
    if (o.last_finished_at.empty()) o.last_finished_at = j.finished_at;
    if (o.trend.size() < kTrendScores) {
      o.trend.push_back({{"finished_at", j.finished_at}, {"score", score}, {"verdict", item["verdict"]},
                         {"score_job_id", j.id}});
    }
    // Per step, from the result file.
    auto result = ScoreResult(j);
    if (!result.ok() || !result->is_object() || !(*result).contains("steps") || !(*result)["steps"].is_array()) {
      ++unreadable;
      continue;
    }
    for (const nlohmann::json& s : (*result)["steps"]) {
      if (!s.is_object() || !s.contains("name") || !s["name"].is_string()) continue;
      StepStats& st = steps[s["name"].get<std::string>()];
      st.index = s.value("index", 0);
      ++st.scored;
      const std::string status = s.value("status", "");
      st.missing += status == "missing";
      st.skipped += status == "skipped";
      st.deviation += status == "deviation";
      st.over_time += status == "over_time";
      st.out_of_order += status == "out_of_order";
      if (s.contains("duration_ratio") && s["duration_ratio"].is_number() && status != "missing" &&
          status != "skipped") {
        st.duration_ratio.push_back(s["duration_ratio"].get<double>());
      }
      if (s.contains("gold_time") && s["gold_time"].is_object()) {
        st.gold_sec = s["gold_time"].value("end_sec", 0.0) - s["gold_time"].value("start_sec", 0.0);
      }
    }
  }

  const int n = static_cast<int>(page.scores.size());
  const int passed = verdicts.count("pass") ? verdicts.at("pass") : 0;
  nlohmann::json step_list = nlohmann::json::array();
  std::vector<std::pair<std::string, const StepStats*>> ordered;
  for (const auto& [name, st] : steps) ordered.emplace_back(name, &st);
  std::stable_sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) { return a.second->index < b.second->index; });
  for (const auto& [name, st] : ordered) {
    const double ratio = Median(st->duration_ratio);
    step_list.push_back({{"name", name},
                         {"index", st->index},
                         {"scored", st->scored},
                         {"missing", st->missing},
                         {"skipped", st->skipped},
                         {"deviation", st->deviation},
                         {"over_time", st->over_time},
                         {"out_of_order", st->out_of_order},
                         {"missed_rate", st->scored ? Round3(static_cast<double>(st->missing) / st->scored) : 0.0},
                         {"gold_sec", Round3(st->gold_sec)},
                         {"median_duration_ratio", st->duration_ratio.empty() ? nlohmann::json(nullptr)
                                                                              : nlohmann::json(Round3(ratio))},
                         {"median_sec", st->duration_ratio.empty() ? nlohmann::json(nullptr)
                                                                   : nlohmann::json(Round3(ratio * st->gold_sec))}});
  }
  // The steps most often missed first (then most often wrong).
  std::vector<std::pair<std::string, const StepStats*>> missed = ordered;
  std::stable_sort(missed.begin(), missed.end(), [](const auto& a, const auto& b) {
    if (a.second->missing != b.second->missing) return a.second->missing > b.second->missing;
    return a.second->deviation > b.second->deviation;
  });
  nlohmann::json most_missed = nlohmann::json::array();
  for (const auto& [name, st] : missed) {
    if (st->missing == 0 || most_missed.size() >= 5) break;
    most_missed.push_back({{"name", name}, {"missing", st->missing}, {"scored", st->scored}});
  }
  nlohmann::json op_list = nlohmann::json::array();
  for (auto& [op, o] : operators) {
    std::reverse(o.trend.begin(), o.trend.end());  // oldest first: a chart's x axis
    op_list.push_back({{"operator_id_hash", op == "(none)" ? nlohmann::json(nullptr) : nlohmann::json(op)},
                       {"scores", o.scores},
                       {"pass_rate", Round3(static_cast<double>(o.passed) / o.scores)},
                       {"mean_score", Round3(o.score_sum / o.scores)},
                       {"last_finished_at", o.last_finished_at},
                       {"trend", o.trend}});
  }
  return nlohmann::json{{"task_id", task_id},
                        {"scores", n},
                        {"limited_to_newest", page.more ? nlohmann::json(kStatsScores) : nlohmann::json(nullptr)},
                        {"verdicts", verdicts},
                        {"pass_rate", n ? nlohmann::json(Round3(static_cast<double>(passed) / n))
                                        : nlohmann::json(nullptr)},
                        {"mean_score", n ? nlohmann::json(Round3(score_sum / n)) : nlohmann::json(nullptr)},
                        {"steps", step_list},
                        {"most_missed", most_missed},
                        {"operators", op_list},
                        {"unreadable_results", unreadable}};
}

}  // namespace sopilot
