#include "http/views.h"

#include "base/json_text.h"

namespace sopilot {

namespace {
nlohmann::json OrNull(const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); }
template <typename T>
nlohmann::json OrNull(const std::optional<T>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }
nlohmann::json Parsed(const std::string& s) {
  if (s.empty()) return nlohmann::json::object();
  nlohmann::json j = nlohmann::json::parse(s, nullptr, false);
  return j.is_discarded() ? nlohmann::json::object() : j;
}
}  // namespace

nlohmann::ordered_json VideoJson(const VideoRow& v) {
  nlohmann::ordered_json o;
  o["video_id"] = v.id;
  o["task_id"] = v.task_id;
  o["role"] = v.role;
  o["site_id"] = OrNull(v.site_id);
  o["camera_id"] = OrNull(v.camera_id);
  o["num_clips"] = v.num_clips;
  o["embedding_model"] = v.embedding_model;
  o["created_at"] = OrNull(v.created_at);
  o["file_name"] = v.file_name;
  o["duration_sec"] = v.duration_sec;
  o["operator_id_hash"] = OrNull(v.operator_id_hash);
  return o;
}

nlohmann::ordered_json IngestJobJson(const JobRow& j) {
  nlohmann::json r = Parsed(j.result_json);
  nlohmann::ordered_json o;
  o["ingest_job_id"] = j.id;
  o["status"] = j.status;
  o["task_id"] = j.task_id;
  o["role"] = j.role;
  o["requested_by"] = OrNull(j.requested_by);
  o["video_id"] = OrNull(j.video_id);
  o["num_clips"] = r.contains("num_clips") ? r["num_clips"] : nlohmann::json(nullptr);
  o["source_fps"] = r.contains("source_fps") ? r["source_fps"] : nlohmann::json(nullptr);
  o["sampled_fps"] = r.contains("sampled_fps") ? r["sampled_fps"] : nlohmann::json(nullptr);
  o["embedding_model"] = r.contains("embedding_model") ? r["embedding_model"] : nlohmann::json(nullptr);
  o["error_message"] = OrNull(j.error_message);
  o["queued_at"] = OrNull(j.queued_at);
  o["started_at"] = OrNull(j.started_at);
  o["finished_at"] = OrNull(j.finished_at);
  o["attempts"] = j.attempts;
  return o;
}

nlohmann::ordered_json ScoreJobJson(const JobRow& j, const nlohmann::json& result) {
  nlohmann::ordered_json o;
  o["score_job_id"] = j.id;
  o["status"] = j.status;
  o["gold_video_id"] = OrNull(j.gold_video_id);
  o["trainee_video_id"] = OrNull(j.trainee_video_id);
  o["requested_by"] = OrNull(j.requested_by);
  o["score"] = OrNull(j.score);
  o["error_message"] = OrNull(j.error_message);
  o["queued_at"] = OrNull(j.queued_at);
  o["started_at"] = OrNull(j.started_at);
  o["finished_at"] = OrNull(j.finished_at);
  o["attempts"] = j.attempts;
  o["task_id"] = OrNull(j.task_id);
  o["operator_id_hash"] = OrNull(j.operator_id_hash);
  o["site_id"] = OrNull(j.site_id);
  o["camera_id"] = OrNull(j.camera_id);
  o["sop_version"] = OrNull(j.sop_version);
  o["gold_selection"] = OrNull(j.gold_selection);
  o["result"] = nlohmann::ordered_json::parse(JsonText(result));
  return o;
}

nlohmann::ordered_json TrainingJobJson(const JobRow& j) {
  nlohmann::ordered_json o;
  o["training_job_id"] = j.id;
  o["trigger"] = j.trigger;
  o["status"] = j.status;
  // A re-embed's task and embedder (null for the feature adapter's runs).
  o["task_id"] = OrNull(j.task_id);
  o["embedder"] = OrNull(j.embedder);
  o["requested_by"] = OrNull(j.requested_by);
  o["error_message"] = OrNull(j.error_message);
  o["queued_at"] = OrNull(j.queued_at);
  o["started_at"] = OrNull(j.started_at);
  o["finished_at"] = OrNull(j.finished_at);
  nlohmann::json r = Parsed(j.result_json);
  o["result"] = j.result_json.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json::parse(JsonText(r));
  return o;
}

std::string JobLocation(JobKind kind, const std::string& id) {
  switch (kind) {
    case JobKind::kIngest: return "/videos/jobs/" + id;
    case JobKind::kScore: return "/score/" + id;
    case JobKind::kTraining: return "/train/jobs/" + id;
  }
  return "/";
}

}  // namespace sopilot
