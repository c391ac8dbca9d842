// The JSON shapes of the API's resources, with the Python original's field
// names and order (original-ops.md §3.1), so its clients keep working.
#pragma once

#include <nlohmann/json.hpp>

#include "store/metadata_store.h"

namespace sopilot {

// VideoInfo: video_id, task_id, role, site_id, camera_id, num_clips,
// embedding_model, created_at (+ file_name, duration_sec).
nlohmann::ordered_json VideoJson(const VideoRow& v);
// VideoIngestResult: ingest_job_id, status, task_id, role, requested_by,
// video_id, num_clips, source_fps, sampled_fps, embedding_model,
// error_message, queued_at, started_at, finished_at (+ attempts).
nlohmann::ordered_json IngestJobJson(const JobRow& j);
// ScoreResult: score_job_id, status, gold_video_id, trainee_video_id,
// requested_by, score, error_message, queued_at, started_at, finished_at,
// result (the full result JSON once completed, else null) (+ attempts,
// task_id, operator_id_hash, site_id, camera_id, sop_version, gold_selection).
nlohmann::ordered_json ScoreJobJson(const JobRow& j, const nlohmann::json& result);
// TrainingResult: training_job_id, trigger, status, requested_by,
// error_message, queued_at, started_at, finished_at, result.
nlohmann::ordered_json TrainingJobJson(const JobRow& j);

// Where a job of `kind` is polled: /videos/jobs/{id}, /score/{id} or
// /train/jobs/{id} (the Location of the 202 that queued it).
std::string JobLocation(JobKind kind, const std::string& id);

}  // namespace sopilot
