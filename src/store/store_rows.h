// Reading videos, jobs, effective embeddings and webhook deliveries: the column lists and the readers that go
// with them, shared by the parts of the metadata stores (SQLite and
// PostgreSQL). A reader takes any row with the column accessors of
// store_detail::Stmt (Int, Double, Text, OptInt, OptDouble). Internal to
// src/store.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/metadata_store.h"
#include "store/sqlite_statement.h"

namespace sopilot::store_detail {

inline constexpr const char* kVideoColumns =
    "id, task_id, role, site_id, camera_id, operator_id_hash, file_name, file_path, content_sha256, "
    "embedding_path, embedding_model, num_clips, duration_sec, source_fps, sampled_fps, created_at";

template <typename Row>
VideoRow ReadVideo(const Row& s) {
  VideoRow v;
  v.id = s.Int(0);
  v.task_id = s.Text(1);
  v.role = s.Text(2);
  v.site_id = s.Text(3);
  v.camera_id = s.Text(4);
  v.operator_id_hash = s.Text(5);
  v.file_name = s.Text(6);
  v.file_path = s.Text(7);
  v.content_sha256 = s.Text(8);
  v.embedding_path = s.Text(9);
  v.embedding_model = s.Text(10);
  v.num_clips = static_cast<int>(s.Int(11));
  v.duration_sec = s.Double(12);
  v.source_fps = s.Double(13);
  v.sampled_fps = s.Double(14);
  v.created_at = s.Text(15);
  return v;
}

inline Result<std::vector<VideoRow>> ReadVideos(Stmt& s) {
  std::vector<VideoRow> out;
  for (;;) {
    SOPILOT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return out;
    out.push_back(ReadVideo(s));
  }
}

// kJobColumnCount columns: a query may select more after them.
inline constexpr int kJobColumnCount = 29;
inline constexpr const char* kJobColumns =
    "id, kind, status, requested_by, attempts, error_message, created_at, updated_at, queued_at, "
    "started_at, finished_at, task_id, role, file_name, file_path, site_id, camera_id, "
    "operator_id_hash, video_id, gold_video_id, trainee_video_id, score, result_path, \"trigger\", "
    "summary_path, result_json, embedder, sop_version, gold_selection";

template <typename Row>
Result<JobRow> ReadJob(const Row& s) {
  JobRow j;
  j.id = s.Text(0);
  auto kind = ParseJobKind(s.Text(1));
  if (!kind) return Status::Corruption("job " + j.id + ": unknown kind '" + s.Text(1) + "'");
  j.kind = *kind;
  j.status = s.Text(2);
  j.requested_by = s.Text(3);
  j.attempts = static_cast<int>(s.Int(4));
  j.error_message = s.Text(5);
  j.created_at = s.Text(6);
  j.updated_at = s.Text(7);
  j.queued_at = s.Text(8);
  j.started_at = s.Text(9);
  j.finished_at = s.Text(10);
  j.task_id = s.Text(11);
  j.role = s.Text(12);
  j.file_name = s.Text(13);
  j.file_path = s.Text(14);
  j.site_id = s.Text(15);
  j.camera_id = s.Text(16);
  j.operator_id_hash = s.Text(17);
  j.video_id = s.OptInt(18);
  j.gold_video_id = s.OptInt(19);
  j.trainee_video_id = s.OptInt(20);
  j.score = s.OptDouble(21);
  j.result_path = s.Text(22);
  j.trigger = s.Text(23);
  j.summary_path = s.Text(24);
  j.result_json = s.Text(25);
  j.embedder = s.Text(26);
  j.sop_version = s.OptInt(27);
  j.gold_selection = s.Text(28);
  return j;
}

// kVideoColumns with every column prefixed by `alias.` (for joins).
inline std::string QualifiedVideoColumns(const std::string& alias) {
  std::string out = alias + ".";
  for (const char* p = kVideoColumns; *p; ++p) {
    out += *p;
    if (*p == ' ') out += alias + ".";
  }
  return out;
}

// The effective-embedding query; `where` selects the videos (alias v). The
// same SQL on both backends.
inline std::string ResolveSql(const std::string& where) {
  return "SELECT " + QualifiedVideoColumns("v") +
         ", COALESCE(ti.current_version, 0), COALESCE(iv.adapter_path, ''), COALESCE(ve.embedding_path, '') "
         "FROM videos v "
         "LEFT JOIN task_index ti ON ti.task_id = v.task_id "
         "LEFT JOIN index_versions iv ON iv.task_id = v.task_id AND iv.version = ti.current_version "
         "LEFT JOIN version_embeddings ve ON ve.video_id = v.id AND ve.version = ti.current_version " +
         where;
}

template <typename Row>
MetadataStore::EffectiveEmbedding ReadEffective(const Row& s) {
  MetadataStore::EffectiveEmbedding e;
  e.video = ReadVideo(s);
  e.index_version = s.Int(16);
  e.adapter_path = s.Text(17);
  e.adapted_path = s.Text(18);
  return e;
}

inline constexpr const char* kDeliveryColumns =
    "seq, delivery_id, job_id, event, status, attempts, next_attempt_at, url, payload, last_http_status, "
    "last_error, created_at, finished_at";

template <typename Row>
WebhookDeliveryRow ReadDelivery(const Row& s) {
  WebhookDeliveryRow r;
  r.seq = s.Int(0);
  r.delivery_id = s.Text(1);
  r.job_id = s.Text(2);
  r.event = s.Text(3);
  r.status = s.Text(4);
  r.attempts = static_cast<int>(s.Int(5));
  r.next_attempt_at = s.Double(6);
  r.url = s.Text(7);
  r.payload = s.Text(8);
  if (auto code = s.OptInt(9)) r.last_http_status = static_cast<int>(*code);
  r.last_error = s.Text(10);
  r.created_at = s.Text(11);
  r.finished_at = s.Text(12);
  return r;
}

inline bool KnownDeliveryStatus(const std::string& s) {
  return s == "pending" || s == "delivered" || s == "failed" || s == "skipped";
}

// The detail of an AuditRecord's row: the caller's JSON object, with
// `added_key` set to `added` when the change made a number the caller could
// not know ("video_id" of a video inserted, "version" of an SOP saved).
inline Result<std::string> AuditRecordDetail(const AuditRecord& audit, std::optional<int64_t> added,
                                             const char* added_key = "video_id") {
  if (audit.action.empty()) return Status::InvalidArgument("audit: action is empty");
  SOPILOT_RETURN_IF_ERROR(CheckJsonObject(audit.detail_json, "audit detail_json"));
  if (!added) return audit.detail_json.empty() ? std::string("{}") : audit.detail_json;
  nlohmann::json detail = audit.detail_json.empty() ? nlohmann::json::object() : nlohmann::json::parse(audit.detail_json);
  detail[added_key] = *added;
  return detail.dump();
}

}  // namespace sopilot::store_detail
