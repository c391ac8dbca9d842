// SopilotService's re-embed side: a training job (trigger "reembed") that
// embeds every video of a task again, from its stored upload, with another
// embedder, and switches the task to the new embeddings in a new index
// version at once, only when every video succeeded. See doc/architecture.md,
// "Re-embedding a task".
#include <algorithm>
#include <chrono>
#include <map>

#include "base/json_text.h"
#include "base/text.h"
#include "embed/embedder_registry.h"
#include "service/sopilot_service.h"

namespace sopilot {

namespace {

// Rounds of "embed what is new, try to switch": videos ingested while the
// job runs are embedded in the next round; past this the job is retried.
constexpr int kSwitchRounds = 5;

}  // namespace

Result<JobRow> SopilotService::SubmitReembed(const std::string& task_id, const std::string& embedder,
                                             const std::string& actor) {
  SOPILOT_RETURN_IF_ERROR(CheckTextField("task_id", task_id, 200));
  if (embedder.empty()) return Status::InvalidArgument("embedder is required (known: " + KnownEmbedderList() + ")");
  SOPILOT_RETURN_IF_ERROR(CheckTextField("embedder", embedder, 200));
  if (Status st = CheckEmbedderName(embedder); !st.ok()) return st;
  SOPILOT_ASSIGN_OR_RETURN(std::vector<VideoRow> videos, store_->VideosOfTask(task_id));
  if (videos.empty()) return Status::NotFound("task not found: " + task_id + " has no ingested video");
  // A learned embedder whose models are missing or damaged is refused now,
  // with the reason, rather than failing the job later.
  if (auto e = MakeEmbedder(embedder, config_.embedders); !e.ok()) {
    return Status::InvalidArgument("embedder " + embedder + " cannot be used: " + e.status().message());
  }
  SOPILOT_RETURN_IF_ERROR(QueueReady());
  // One re-embed of a task at a time: the same request again is answered
  // with the job already under way.
  for (const char* active : {kJobQueued, kJobRunning}) {
    SOPILOT_ASSIGN_OR_RETURN(std::vector<JobRow> jobs, store_->JobsWithStatus(JobKind::kTraining, active, 10000));
    for (const JobRow& j : jobs) {
      if (j.trigger != kReembedTrigger || j.task_id != task_id) continue;
      if (j.embedder != embedder) {
        return Status::InvalidArgument("task " + task_id + " is being re-embedded with " + j.embedder +
                                       " (training job " + j.id + "); wait until it has finished");
      }
      if (j.status == kJobQueued) {
        // A no-op when the queue holds it; recovers a submitter that died
        // between the row and the queue.
        Status st = queue_->Enqueue(j.kind, j.id);
        if (!st.ok()) return Status::Unavailable("the job queue is unavailable: " + st.message());
      }
      return j;
    }
  }
  JobRow job;
  job.id = NewUuid4();
  job.kind = JobKind::kTraining;
  job.requested_by = actor;
  job.trigger = kReembedTrigger;
  job.task_id = task_id;
  job.embedder = embedder;
  SOPILOT_RETURN_IF_ERROR(store_->InsertJob(
      job, AuditRecord{actor, "job.queued",
                       JsonText(nlohmann::json({{"kind", "training"}, {"trigger", kReembedTrigger}, {"task_id", task_id},
                                                {"embedder", embedder}, {"videos", videos.size()}}))}));
  CountJobState(job, kJobQueued);
  SOPILOT_RETURN_IF_ERROR(Enqueue(job));
  return store_->GetJob(job.id);
}

Status SopilotService::RunReembed(const JobRow& job, const JobContext& context) {
  const auto started = std::chrono::steady_clock::now();
  const std::string& task_id = job.task_id;
  if (task_id.empty() || job.embedder.empty()) {
    return Status::InvalidArgument("re-embed job " + job.id + " names no task or no embedder");
  }
  SOPILOT_ASSIGN_OR_RETURN(std::unique_ptr<Embedder> embedder, MakeEmbedder(job.embedder, config_.embedders));
  // A retried job reuses the version its first attempt reserved.
  SOPILOT_ASSIGN_OR_RETURN(int64_t version, store_->IndexVersionOfJob(task_id, job.id));
  if (version == 0) {
    SOPILOT_ASSIGN_OR_RETURN(version, store_->ReserveIndexVersion(task_id, job.id));
  }

  std::vector<MetadataStore::ReembeddedVideo> done;
  std::vector<std::string> written;
  // Until the switch nothing reads the new files: on failure those no row
  // uses go (best effort; the start-up check removes what is left).
  auto fail = [&](const Status& st) {
    for (const std::string& f : written) (void)RemoveBlobIfUnreferenced(f);
    return st;
  };
  std::map<std::string, int> previous_models;
  MetadataStore::EmbedderSwitch sw;
  bool switched_before = false;  // an earlier attempt of this job switched
  for (int round = 0;; ++round) {
    if (round == kSwitchRounds) {
      return fail(Status::Unavailable("the videos of task " + task_id + " kept changing while they were re-embedded"));
    }
    SOPILOT_ASSIGN_OR_RETURN(std::vector<VideoRow> videos, store_->VideosOfTask(task_id));
    if (videos.empty()) return fail(Status::NotFound("task " + task_id + " has no ingested video any more"));
    previous_models.clear();
    for (const VideoRow& v : videos) {
      ++previous_models[v.embedding_model];
      auto it = std::find_if(done.begin(), done.end(), [&](const auto& r) { return r.video_id == v.id; });
      if (it != done.end() && it->old_embedding_path == v.embedding_path) continue;
      if (context.ShouldStop()) return fail(Status::Unavailable("re-embed stopped (timeout or shutdown)"));
      auto stored = EmbedUpload(v.file_path, v.file_name, embedder.get(), context);
      if (!stored.ok()) {
        return fail(stored.status().WithMessage("video " + std::to_string(v.id) + " (" + v.file_name +
                                                "): " + stored.status().message()));
      }
      written.push_back(stored->path);
      MetadataStore::ReembeddedVideo r;
      r.video_id = v.id;
      r.old_embedding_path = v.embedding_path;
      r.embedding_path = stored->path;
      r.embedding_model = stored->set.model;
      r.sampled_fps = stored->set.sampling.target_fps;
      for (const ClipSpan& c : stored->set.clips) r.clips.push_back({v.id, c.index, c.start_sec, c.end_sec});
      if (it != done.end()) *it = std::move(r);
      else done.push_back(std::move(r));
    }
    // The task's row is written by the switch itself, so a switch is never
    // without it and a retry of a job that switched does not write it again.
    const AuditRecord reembedded{"system", "task.reembedded",
                                 JsonText(nlohmann::json({{"training_job_id", job.id},
                                                          {"requested_by", job.requested_by},
                                                          {"embedder", job.embedder},
                                                          {"previous_models", previous_models},
                                                          {"new_index_version", version},
                                                          {"videos", done.size()}}))};
    auto attempt = store_->SwitchTaskEmbedder(task_id, version, job.embedder, done, reembedded);
    if (!attempt.ok()) return fail(attempt.status());
    sw = std::move(*attempt);
    if (sw.switched) break;
    if (!sw.missing.empty()) continue;  // videos ingested meanwhile: embed them too
    if (sw.previous == version) {
      switched_before = true;
      break;
    }
    // Another training or re-embed made a newer version current meanwhile:
    // this one goes on top of it.
    SOPILOT_ASSIGN_OR_RETURN(version, store_->ReserveIndexVersion(task_id, job.id));
  }

  // The old embedding files nothing uses any more, and versions past keeping.
  int64_t files_removed = 0;
  for (const std::string& f : sw.replaced_paths) {
    auto gone = RemoveBlobIfUnreferenced(f);
    if (gone.ok() && *gone) ++files_removed;
  }
  SOPILOT_ASSIGN_OR_RETURN(std::vector<std::string> unused,
                           store_->DropOldIndexVersions(task_id, kKeepPreviousIndexVersions));
  for (const std::string& f : unused) {
    if (blobs_.Remove(f).ok()) ++files_removed;  // best effort, as above
  }

  int64_t clips = 0;
  for (const auto& r : done) clips += static_cast<int64_t>(r.clips.size());
  nlohmann::json summary = {{"status", kJobCompleted},
                            {"mode", "reembed"},
                            {"trigger", kReembedTrigger},
                            {"task_id", task_id},
                            {"embedder", job.embedder},
                            {"embedding_model", embedder->name()},
                            {"embedding_dim", embedder->dim()},
                            {"previous_models", previous_models},
                            {"old_index_version", switched_before ? nlohmann::json(nullptr) : nlohmann::json(sw.previous)},
                            {"new_index_version", version},
                            {"videos_reembedded", done.size()},
                            {"clips_indexed", clips},
                            {"files_removed", files_removed}};
  summary["duration_sec"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const std::string rel = "reports/training_" + job.id + ".json";
  SOPILOT_RETURN_IF_ERROR(blobs_.Put(rel, JsonText(summary, 2)));
  SOPILOT_RETURN_IF_ERROR(store_->CompleteTrainingJob(
      job.id, kJobCompleted, rel, JsonText(summary),
      AuditRecord{"system", "job.completed",
                  JsonText(nlohmann::json({{"status", kJobCompleted}, {"trigger", kReembedTrigger}}))}));
  CountJobState(job, kJobCompleted);
  return Status::Ok();
}

}  // namespace sopilot
