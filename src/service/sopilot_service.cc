#include "service/sopilot_service.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <tuple>

#include "audit/audit_export.h"
#include "base/digest.h"
#include "base/json_text.h"
#include "base/log.h"
#include "base/text.h"
#include "embed/embedding_file.h"
#include "embed/embedder_registry.h"
#include "ingest/ingest.h"
#include "score/report_json.h"
#include "score/sop_evaluator.h"
#include "score/steps_file.h"
#include "service/nightly_runner.h"
#include "service/service_metrics.h"

namespace sopilot {

namespace {

constexpr uint64_t kMaxJsonFile = 256u << 20;

bool ValidRole(const std::string& r) { return r == "gold" || r == "trainee" || r == "audit"; }

bool ValidJobId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; });
}

std::string Trim(std::string s) {
  size_t a = s.find_first_not_of(" \t\r\n");
  size_t b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// Export ids: a UTC time tag plus random hex, so two exports in one second
// never overwrite each other (the original's could).
std::string ExportId(double now) {
  time_t t = static_cast<time_t>(now);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return std::string(buf) + "_" + NewUuid4().substr(0, 8);
}

}  // namespace

bool IsPermanentJobError(const Status& st) {
  switch (st.code()) {
    case Status::Code::kInvalidArgument:
    case Status::Code::kNotFound:
    case Status::Code::kCorruption:
    case Status::Code::kUnsupported:
      return true;
    default:
      return false;
  }
}

std::string SafeFileName(const std::string& name) {
  std::string base = std::filesystem::path(name).filename().string();
  std::string out;
  for (char c : base) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.' || c == '-';
    out += ok ? c : '_';
  }
  if (out.size() > 120) out.resize(120);
  if (out.empty() || out == "." || out == "..") out = "upload.mp4";
  return out;
}

SopilotService::SopilotService(ServiceConfig config, Env* env, BlobStore blobs)
    : config_(std::move(config)), env_(env), blobs_(std::move(blobs)) {
  if (config_.fault_injection_enabled) {
    for (JobKind kind : config_.test_hold_jobs) hold_.Set(kind, true);
  }
}

SopilotService::~SopilotService() = default;

Result<std::unique_ptr<SopilotService>> SopilotService::Open(const ServiceConfig& config, Env* env) {
  SOPILOT_RETURN_IF_ERROR(ValidateServiceConfig(config));
  // A learned embedder's models are loaded and checked (manifest, sha256,
  // shapes) once here, so a missing or damaged model stops the start with
  // its reason instead of failing every ingest.
  if (auto embedder = MakeEmbedder(config.ingest.embedder, config.embedders); !embedder.ok()) {
    return embedder.status().WithMessage("SOPILOT_EMBEDDER=" + config.ingest.embedder + ": " +
                                         embedder.status().message());
  }
  SOPILOT_ASSIGN_OR_RETURN(BlobStore blobs, BlobStore::Open(config.data_dir, env));
  std::unique_ptr<SopilotService> s(new SopilotService(config, env, std::move(blobs)));
  const std::string db = s->blobs_.Absolute("sopilot.db");
  SOPILOT_ASSIGN_OR_RETURN(s->store_, MetadataStore::Open(config.database_url.empty() ? db : config.database_url, env,
                                                      config.pg_connections));
  // A damaged metadata store stops the start here, with one line naming the
  // file, before anything writes to it (the queue creates its tables) and
  // rather than failing requests at random later.
  if (config.startup_quick_check) SOPILOT_RETURN_IF_ERROR(s->store_->QuickCheck());
  const bool redis = config.queue_backend == QueueBackend::kRedis;
  if (redis) {
    SopilotService* self = s.get();
    SOPILOT_ASSIGN_OR_RETURN(s->queue_, OpenRedisJobQueue(config.redis_url, config.queue_prefix, config.queue,
                                                          [self](const std::string&) { ++self->redis_errors_; }));
  } else {
    SOPILOT_ASSIGN_OR_RETURN(s->queue_, OpenSqliteJobQueue(db, env, config.queue));
  }
  s->registry_ = std::make_unique<metrics::Registry>();
  s->metrics_ = std::make_unique<ServiceMetrics>(s->registry_.get(), s->store_.get(), s->queue_.get(),
                                                 redis ? &s->redis_errors_ : nullptr);
  s->webhooks_ = std::make_unique<WebhookDispatcher>(s->store_.get(), env, config.webhooks);
  return s;
}

Result<SopilotService::StartupReport> SopilotService::StartupCheck() {
  StartupReport report;
  // One process at a time across every process sharing the database
  // (PostgreSQL: an advisory lock), so that API processes starting together
  // do not repair at once.
  Status st = store_->RunExclusively("startup-repair", [&]() -> Status {
    auto r = StartupRepair();
    if (!r.ok()) return r.status();
    report = *r;
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return report;
}

Result<SopilotService::StartupReport> SopilotService::StartupRepair() {
  StartupReport report;
  // Uploads that were still arriving when the process died.
  SOPILOT_ASSIGN_OR_RETURN(std::vector<std::string> incoming, blobs_.ListIncoming());
  for (const std::string& f : incoming) {
    if (blobs_.Remove(f).ok()) ++report.incoming_removed;
  }
  // Files referenced by rows, and files on disk.
  SOPILOT_ASSIGN_OR_RETURN(std::vector<std::string> referenced, store_->AllReferencedPaths());
  std::set<std::string> keep(referenced.begin(), referenced.end());
  for (JobKind kind : kAllJobKinds) {
    for (const char* status : {kJobQueued, kJobRunning, kJobFailed, kJobDead}) {
      SOPILOT_ASSIGN_OR_RETURN(std::vector<JobRow> jobs, store_->JobsWithStatus(kind, status, 10000));
      for (const JobRow& j : jobs) {
        if (!j.file_path.empty()) keep.insert(j.file_path);
      }
    }
  }
  SOPILOT_ASSIGN_OR_RETURN(std::vector<std::string> files, blobs_.ListManagedFiles());
  for (const std::string& f : files) {
    // Only raw videos and embeddings are owned by rows; reports are kept.
    bool owned = f.rfind("raw/", 0) == 0 || f.rfind("embeddings/", 0) == 0;
    if (!owned || keep.count(f)) continue;
    // Checked again and removed under the store's lock on the path: an
    // upload another process is placing right now is not taken from it.
    auto removed = store_->RemoveIfUnreferenced(f, [&] { return blobs_.Remove(f); });
    if (removed.ok() && *removed) ++report.orphan_files_removed;
  }
  for (const std::string& f : referenced) {
    if (!blobs_.Exists(f)) report.missing_files.push_back(f);
  }
  // Rows that say queued or running must be in the queue (a crash between
  // writing the row and enqueuing, or a worker that died). With Redis down
  // at start-up this waits for the periodic reconciliation instead.
  auto requeued = ReconcileQueue();
  if (requeued.ok()) report.jobs_requeued = *requeued;
  else report.queue_error = requeued.status().message();
  return report;
}

Result<int> SopilotService::ReconcileQueue() {
  // Leases that ran out first: on a last attempt they make the job dead.
  {
    auto expired = queue_->RecoverExpired();
    SOPILOT_RETURN_IF_ERROR(expired.status());
    if (metrics_) metrics_->Redeliveries(*expired);
  }
  int n = 0;
  for (JobKind kind : kAllJobKinds) {
    // A row that says running while the queue holds the job dead: its worker
    // died on the last attempt (a crash, kill -9) and never wrote the end.
    // The row follows the queue; enqueuing it would revive it and let a job
    // that kills its process do so at every restart.
    SOPILOT_ASSIGN_OR_RETURN(std::vector<std::string> dead_ids, queue_->DeadJobs(kind, 100000));
    const std::set<std::string> dead(dead_ids.begin(), dead_ids.end());
    for (const char* status : {kJobQueued, kJobRunning}) {
      SOPILOT_ASSIGN_OR_RETURN(std::vector<JobRow> jobs, store_->JobsWithStatus(kind, status, 10000));
      for (const JobRow& j : jobs) {
        if (status == std::string(kJobRunning) && dead.count(j.id)) {
          RecordFailure(j.id, kJobDead,
                        "its worker stopped without finishing it on the last attempt (crashed or killed); " +
                            std::string("requeue it once the cause is fixed"));
          continue;
        }
        // Enqueue is a no-op for a job the queue holds (ready, backing off or
        // leased); a job that finished since the listing is skipped at run.
        SOPILOT_RETURN_IF_ERROR(queue_->Enqueue(kind, j.id));
        ++n;
      }
    }
  }
  return n;
}

Status SopilotService::QueueReady() {
  Status st = queue_->Ping();
  if (st.ok()) return st;
  return Status::Unavailable("the job queue (" + queue_->backend() + ") is unavailable, nothing was accepted: " +
                             st.message());
}

Result<JobRow> SopilotService::RequeueDeadJob(JobKind kind, const std::string& job_id, const std::string& actor) {
  SOPILOT_ASSIGN_OR_RETURN(JobRow job, GetJob(kind, job_id));
  if (job.status != kJobDead) {
    return Status::InvalidArgument("job " + job_id + " is " + job.status + ", not dead: only dead jobs are requeued");
  }
  SOPILOT_RETURN_IF_ERROR(QueueReady());
  // The row first: a worker that took the job before the row said queued
  // would find it dead and drop it.
  SOPILOT_RETURN_IF_ERROR(store_->ReviveDeadJob(
      job_id, AuditRecord{actor, "job.requeued", JsonText(nlohmann::json({{"kind", JobKindName(kind)}}))}));
  // The answer is the row as requeued: once enqueued, a worker may already
  // be running it.
  SOPILOT_ASSIGN_OR_RETURN(JobRow requeued, store_->GetJob(job_id));
  Status st = queue_->Requeue(kind, job_id);
  // Not in the dead set any more (trimmed after a week, or Redis lost it):
  // a fresh queue entry does the same.
  if (st.code() == Status::Code::kNotFound) st = queue_->Enqueue(kind, job_id);
  if (!st.ok()) {
    // The row says queued; the periodic reconciliation enqueues it.
    return Status::Unavailable("requeue of " + job_id + " is recorded but the queue is unavailable: " + st.message());
  }
  CountJobState(job, kJobQueued);
  return requeued;
}

Status SopilotService::Enqueue(const JobRow& job) {
  Status st = queue_->Enqueue(job.kind, job.id);
  if (!st.ok()) {
    const std::string error = "enqueue failed: " + st.message();
    if (Status set = store_->SetJobStatus(job.id, kJobFailed, error,
                                          AuditRecord{"system", "job.failed", JsonText(nlohmann::json({{"error", error}}))});
        !set.ok()) {
      // The row stays queued and the reconciler enqueues it once the queue is back.
      LogWarn("job: cannot mark it failed after its enqueue failed", {{"job_id", job.id}, {"error", set.message()}});
    }
    CountJobState(job, kJobFailed);
    return Status::Unavailable("the job queue is unavailable: " + st.message());
  }
  return Status::Ok();
}

Result<JobRow> SopilotService::SubmitUpload(const std::string& incoming_path, const std::string& sha256_hex,
                                            const UploadRequest& request, const std::string& actor) {
  auto discard = [&](Status st) {
    std::error_code ec;
    std::filesystem::remove(incoming_path, ec);
    return st;
  };
  if (Status ready = QueueReady(); !ready.ok()) return discard(ready);
  std::string task_id = Trim(request.task_id);
  std::string role = Trim(request.role);
  std::transform(role.begin(), role.end(), role.begin(), ::tolower);
  if (role.empty()) role = "trainee";
  if (task_id.empty()) return discard(Status::InvalidArgument("task_id is required"));
  // Text fields end up in JSON, SQL rows, logs and file names: UTF-8, no
  // control characters, bounded (a 400 naming the field).
  for (auto [field, value, max] : {std::tuple<const char*, const std::string*, size_t>{"task_id", &task_id, 200},
                                   {"role", &role, 200},
                                   {"site_id", &request.site_id, 200},
                                   {"camera_id", &request.camera_id, 200},
                                   {"operator_id_hash", &request.operator_id_hash, 200},
                                   {"file name", &request.file_name, 1024}}) {
    if (Status st = CheckTextField(field, *value, max); !st.ok()) return discard(st);
  }
  if (!ValidRole(role)) return discard(Status::InvalidArgument("invalid role: " + role + " (gold, trainee or audit)"));
  const bool chosen_id = !request.job_id.empty();
  if (chosen_id) {
    if (!ValidJobId(request.job_id)) {
      return discard(Status::InvalidArgument("invalid job id '" + request.job_id +
                                             "' ([A-Za-z0-9_-], at most 64 characters)"));
    }
    // Submitted before (a submitter that restarted): that job, not a new one.
    auto existing = EnsureQueued(request.job_id);
    if (existing.ok() || existing.status().code() != Status::Code::kNotFound) {
      std::error_code ec;
      std::filesystem::remove(incoming_path, ec);
      return existing;
    }
  }
  std::string name = SafeFileName(request.file_name);
  auto raw = blobs_.RawPathFor(name, sha256_hex);
  if (!raw.ok()) return discard(raw.status());

  JobRow job;
  job.id = chosen_id ? request.job_id : NewUuid4();
  job.kind = JobKind::kIngest;
  job.requested_by = actor;
  job.task_id = task_id;
  job.role = role;
  job.file_name = name;
  job.file_path = *raw;
  job.site_id = request.site_id;
  job.camera_id = request.camera_id;
  job.operator_id_hash = request.operator_id_hash;
  // The file is put in place inside the transaction that inserts its job
  // and its "job.queued" row, so a delete of a video with the same content
  // cannot remove it between the two (MetadataStore::RemoveIfUnreferenced).
  const nlohmann::json detail = {{"kind", "ingest"}, {"task_id", task_id}, {"role", role}, {"file", name},
                                 {"sha256", sha256_hex}};
  Status inserted = store_->InsertJobPlacing(
      job,
      [&]() -> Status {
        auto adopted = blobs_.AdoptRaw(incoming_path, name, sha256_hex);
        if (!adopted.ok()) return adopted.status();
        if (*adopted != job.file_path) return Status::Internal("upload stored at " + *adopted + ", not " + job.file_path);
        return Status::Ok();
      },
      AuditRecord{actor, "job.queued", JsonText(detail)});
  if (!inserted.ok()) {
    (void)discard(Status::Ok());  // the incoming file, if it was not adopted
    // Two submitters raced with the same id: the other one's job stands.
    if (chosen_id && store_->GetJob(job.id).ok()) return EnsureQueued(job.id);
    // No row (a full disk, a damaged store): nothing of the upload remains
    // (the commit may have failed after the file was placed).
    RemoveUploadIfUnused(job.file_path);
    return inserted;
  }
  CountJobState(job, kJobQueued);
  if (chosen_id) {
    // The caller will submit again with this id: keep the row queued.
    Status st = queue_->Enqueue(job.kind, job.id);
    if (!st.ok()) {
      return Status::Unavailable("the job queue is unavailable: " + st.message() + " (job " + job.id +
                                 " stays queued; submit again with the same job id)");
    }
  } else {
    SOPILOT_RETURN_IF_ERROR(Enqueue(job));
  }
  return store_->GetJob(job.id);
}

void SopilotService::RemoveUploadIfUnused(const std::string& file_path) {
  // The same content may belong to a video or wait in another upload's job.
  // Best effort: the start-up check removes what is left.
  if (auto removed = RemoveBlobIfUnreferenced(file_path); !removed.ok()) {
    LogWarn("cannot remove an unused upload", {{"file", file_path}, {"error", removed.status().message()}});
  }
}

Result<bool> SopilotService::RemoveBlobIfUnreferenced(const std::string& relative_path) {
  return store_->RemoveIfUnreferenced(relative_path, [&]() -> Status {
    if (!blobs_.Exists(relative_path)) return Status::NotFound(relative_path + ": already gone");
    return blobs_.Remove(relative_path);
  });
}

Result<JobRow> SopilotService::EnsureQueued(const std::string& job_id) {
  auto job = store_->GetJob(job_id);
  if (!job.ok()) {
    if (job.status().code() == Status::Code::kNotFound) return Status::NotFound("ingest job not found: " + job_id);
    return job.status();
  }
  if (job->kind != JobKind::kIngest) {
    return Status::InvalidArgument("job id " + job_id + " belongs to a " + JobKindName(job->kind) + " job");
  }
  if (job->status == kJobQueued) {
    Status st = queue_->Enqueue(job->kind, job->id);
    if (!st.ok()) return Status::Unavailable("the job queue is unavailable: " + st.message());
  }
  return job;
}

Result<JobRow> SopilotService::SubmitScore(const ScoreRequest& request, const std::string& actor) {
  const int64_t trainee_id = request.trainee_video_id;
  const bool named = request.gold_selection == GoldSelection::kNamed;
  if (!named && request.gold_video_id != 0) {
    return Status::InvalidArgument(std::string("gold_video_id names the gold; gold_selection \"") +
                                   GoldSelectionName(request.gold_selection) + "\" picks it: give one of them");
  }
  if (trainee_id < 1 || (named && request.gold_video_id < 1)) return Status::InvalidArgument("video ids must be >= 1");
  SOPILOT_RETURN_IF_ERROR(QueueReady());
  auto find_video = [this](int64_t id) -> Result<VideoRow> {
    auto v = store_->GetVideo(id);
    if (!v.ok() && v.status().code() == Status::Code::kNotFound) {
      return Status::NotFound("video not found: " + std::to_string(id));
    }
    return v;
  };
  // A named gold is looked up first: an unknown one is named as before.
  std::optional<VideoRow> gold;
  if (named) {
    SOPILOT_ASSIGN_OR_RETURN(gold, find_video(request.gold_video_id));
  }
  SOPILOT_ASSIGN_OR_RETURN(const VideoRow trainee, find_video(trainee_id));
  if (trainee.embedding_path.empty()) {
    return Status::InvalidArgument("artifacts missing for video: " + std::to_string(trainee_id));
  }
  JobRow job;
  job.id = NewUuid4();
  job.kind = JobKind::kScore;
  job.requested_by = actor;
  job.task_id = trainee.task_id;
  job.trainee_video_id = trainee_id;
  job.gold_selection = GoldSelectionName(request.gold_selection);
  // Who and where, from the trainee video: the score history is filtered by
  // them, and they stay with the score after the video is deleted.
  job.site_id = trainee.site_id;
  job.camera_id = trainee.camera_id;
  job.operator_id_hash = trainee.operator_id_hash;
  // The task's latest SOP, when it was written over the gold (or one of
  // the golds tried): fixed now, so a retry or an edit meanwhile does not
  // change what the score used.
  auto sop = store_->GetSopVersion(trainee.task_id, 0);
  if (!sop.ok() && sop.status().code() != Status::Code::kNotFound) return sop.status();
  // 0: no SOP, or its gold was deleted (video ids are >= 1).
  const int64_t sop_gold = sop.ok() ? sop->gold_video_id.value_or(0) : 0;

  if (request.gold_selection == GoldSelection::kClosest) {
    // Checked now so that a task without a gold is a 400, not a failed job;
    // the golds tried are the task's when the score runs.
    SOPILOT_ASSIGN_OR_RETURN(std::vector<VideoRow> golds, ClosestGoldCandidates(trainee));
    for (const VideoRow& g : golds) {
      if (g.id == sop_gold) job.sop_version = sop->version;
    }
  } else {
    if (!gold) {
      SOPILOT_ASSIGN_OR_RETURN(int64_t chosen, ChosenGold(trainee_id));
      SOPILOT_ASSIGN_OR_RETURN(gold, find_video(chosen));
    }
    const int64_t gold_id = gold->id;
    if (gold->task_id != trainee.task_id) {
      return Status::InvalidArgument("gold and trainee task_id must match (" + gold->task_id + " vs " +
                                     trainee.task_id + ")");
    }
    if (gold->embedding_path.empty()) return Status::InvalidArgument("artifacts missing for video: " + std::to_string(gold_id));
    // Embeddings of two models are not comparable: never a score from them.
    if (gold->embedding_model != trainee.embedding_model) {
      return Status::InvalidArgument("gold video " + std::to_string(gold_id) + " is embedded with " +
                                     gold->embedding_model + " and trainee video " + std::to_string(trainee_id) +
                                     " with " + trainee.embedding_model +
                                     "; re-embed the task with one embedder (POST /tasks/{task_id}/reembed)");
    }
    job.gold_video_id = gold_id;
    if (sop_gold == gold_id) job.sop_version = sop->version;
  }
  auto or_null = [](const std::optional<int64_t>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  const nlohmann::json detail = {{"kind", "score"},
                                 {"gold_selection", job.gold_selection},
                                 {"gold_video_id", or_null(job.gold_video_id)},
                                 {"trainee_video_id", trainee_id},
                                 {"sop_version", or_null(job.sop_version)}};
  SOPILOT_RETURN_IF_ERROR(store_->InsertJob(job, AuditRecord{actor, "job.queued", JsonText(detail)}));
  CountJobState(job, kJobQueued);
  SOPILOT_RETURN_IF_ERROR(Enqueue(job));
  return store_->GetJob(job.id);
}

Result<JobRow> SopilotService::SubmitTraining(const std::string& trigger, const std::string& actor) {
  SOPILOT_RETURN_IF_ERROR(QueueReady());
  JobRow job;
  job.id = NewUuid4();
  job.kind = JobKind::kTraining;
  job.requested_by = actor;
  job.trigger = trigger;
  SOPILOT_RETURN_IF_ERROR(store_->InsertJob(
      job, AuditRecord{actor, "job.queued", JsonText(nlohmann::json({{"kind", "training"}, {"trigger", trigger}}))}));
  CountJobState(job, kJobQueued);
  SOPILOT_RETURN_IF_ERROR(Enqueue(job));
  return store_->GetJob(job.id);
}

Result<JobRow> SopilotService::GetJob(JobKind kind, const std::string& id) {
  auto job = store_->GetJob(id);
  if (!job.ok() || job->kind != kind) {
    if (job.ok() || job.status().code() == Status::Code::kNotFound) {
      return Status::NotFound(std::string(JobKindName(kind)) + " job not found");
    }
    return job.status();
  }
  return job;
}

Result<VideoRow> SopilotService::GetVideo(int64_t id) {
  auto v = store_->GetVideo(id);
  if (!v.ok() && v.status().code() == Status::Code::kNotFound) return Status::NotFound("video not found");
  return v;
}

Result<std::vector<VideoRow>> SopilotService::ListVideos(const std::string& task_id, int limit) {
  return store_->ListVideos(task_id, limit);
}

Result<nlohmann::json> SopilotService::ScoreResult(const JobRow& job) {
  if (job.status != kJobCompleted || job.result_path.empty()) return nlohmann::json(nullptr);
  SOPILOT_ASSIGN_OR_RETURN(std::string text, blobs_.Get(job.result_path, kMaxJsonFile));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return Status::Corruption("score result file is not JSON: " + job.result_path);
  return j;
}

Result<nlohmann::json> SopilotService::Search(const std::string& task_id, int64_t video_id, int clip_idx, int k) {
  if (k < 1 || k > 50) return Status::InvalidArgument("k must be in [1, 50]");
  auto query_video = store_->GetVideo(video_id);
  if (!query_video.ok()) return Status::InvalidArgument("video not found: " + std::to_string(video_id));
  if (query_video->embedding_path.empty()) return Status::InvalidArgument("artifacts missing for video: " + std::to_string(video_id));
  if (query_video->task_id != task_id) return Status::InvalidArgument("requested task_id does not match query video");
  // The query and the index from one index version of the task: one read.
  SOPILOT_ASSIGN_OR_RETURN(std::vector<MetadataStore::EffectiveEmbedding> index, store_->ResolveTaskEmbeddings(task_id));
  // The query first; then one video's embeddings at a time, so a search
  // holds one set and the k best hits, never the whole task.
  const MetadataStore::EffectiveEmbedding* query_entry = nullptr;
  for (const auto& e : index) {
    if (e.video.id == video_id) query_entry = &e;
  }
  if (query_entry == nullptr) return Status::InvalidArgument("artifacts missing for video: " + std::to_string(video_id));
  bool query_gone = false;
  auto query_set = LoadEffective(*query_entry, &query_gone);
  if (!query_set.ok()) {
    return query_gone ? Status::Unavailable("the index changed during the search; try again") : query_set.status();
  }
  if (clip_idx < 0 || clip_idx >= query_set->vectors.rows) {
    return Status::InvalidArgument("clip_idx out of range: " + std::to_string(clip_idx));
  }
  const std::vector<float> q(query_set->vectors.row(clip_idx), query_set->vectors.row(clip_idx) + query_set->vectors.cols);
  struct Hit {
    double sim;
    size_t order;  // position in the scan: equal similarities keep video and clip order
    int64_t video_id;
    int clip;
    double start, end;
    std::string role;
  };
  // Best first: higher similarity, then earlier in the scan.
  auto better = [](const Hit& a, const Hit& b) { return a.sim > b.sim || (a.sim == b.sim && a.order < b.order); };
  std::vector<Hit> best;  // a heap whose top is the worst kept hit
  size_t order = 0;
  int64_t scanned = 0;
  bool truncated = false;
  auto scan = [&](const VideoRow& v, const EmbeddingSet& set) {
    if (set.model != query_set->model || set.vectors.cols != query_set->vectors.cols) return;  // not comparable
    for (int i = 0; i < set.vectors.rows; ++i, ++order) {
      if (v.id == video_id && i == clip_idx) continue;
      double dot = 0;
      const float* r = set.vectors.row(i);
      for (int j = 0; j < set.vectors.cols; ++j) dot += static_cast<double>(q[j]) * r[j];
      Hit h{dot, order, v.id, i, set.clips[i].start_sec, set.clips[i].end_sec, v.role};
      if (static_cast<int>(best.size()) < k) {
        best.push_back(std::move(h));
        std::push_heap(best.begin(), best.end(), better);
      } else if (better(h, best.front())) {
        std::pop_heap(best.begin(), best.end(), better);
        best.back() = std::move(h);
        std::push_heap(best.begin(), best.end(), better);
      }
    }
    scanned += set.vectors.rows;
  };
  int videos_searched = 0;
  for (const auto& e : index) {
    // Bounded work per request: past the clip budget the rest of the task
    // is not searched, and the answer says so.
    if (scanned >= config_.search_max_clips) {
      truncated = true;
      break;
    }
    if (&e == query_entry) {
      scan(e.video, *query_set);
    } else {
      bool gone = false;
      auto set = LoadEffective(e, &gone);
      if (!set.ok()) continue;  // unreadable: not comparable
      scan(e.video, *set);
    }
    ++videos_searched;
  }
  std::sort_heap(best.begin(), best.end(), better);
  nlohmann::json items = nlohmann::json::array();
  for (const Hit& h : best) {
    items.push_back({{"similarity", h.sim}, {"video_id", h.video_id}, {"clip_idx", h.clip},
                     {"start_sec", h.start}, {"end_sec", h.end}, {"role", h.role}});
  }
  return nlohmann::json{{"task_id", task_id}, {"query_video_id", video_id}, {"query_clip_idx", clip_idx},
                        {"items", items}, {"videos_searched", videos_searched}, {"truncated", truncated}};
}

Result<nlohmann::json> SopilotService::DeleteVideo(int64_t id, const std::string& actor) {
  auto video = store_->GetVideo(id);
  if (!video.ok()) {
    if (video.status().code() == Status::Code::kNotFound) return Status::NotFound("video not found: " + std::to_string(id));
    return video.status();
  }
  SOPILOT_ASSIGN_OR_RETURN(std::vector<ClipRow> clips, store_->GetClips(id));
  SOPILOT_ASSIGN_OR_RETURN(std::vector<std::string> version_files, store_->VersionPathsOfVideo(id));
  std::vector<std::string> files;
  for (const std::string& f : {video->file_path, video->embedding_path}) {
    if (!f.empty()) files.push_back(f);
  }
  for (const std::string& f : version_files) {
    if (!f.empty()) files.push_back(f);
  }
  // Rows first, with their audit row in the same transaction: once they are
  // gone nothing points at the files, and a crash before the files are
  // removed leaves only orphans the start-up check deletes. The row names
  // the video's files (relative to the data directory); those no other row
  // uses are removed next.
  const nlohmann::json detail = {{"video_id", id}, {"task_id", video->task_id}, {"files", files},
                                 {"reindexed_clips", static_cast<int64_t>(clips.size())}};
  SOPILOT_RETURN_IF_ERROR(store_->DeleteVideo(id, AuditRecord{actor, "video.deleted", JsonText(detail)}));
  nlohmann::json removed = nlohmann::json::array();
  for (const std::string& f : files) {
    auto gone = RemoveBlobIfUnreferenced(f);
    if (gone.ok() && *gone) removed.push_back(blobs_.Absolute(f));
  }
  return nlohmann::json{{"video_id", id}, {"task_id", video->task_id}, {"removed_files", removed},
                        {"reindexed_clips", static_cast<int64_t>(clips.size())}};
}

Result<nlohmann::json> SopilotService::QueueStatus() {
  nlohmann::json queues = nlohmann::json::array();
  nlohmann::json jobs = nlohmann::json::object();
  // The queue may be down (Redis): the answer says so, with the job counts
  // from the store, rather than failing.
  Status reachable = queue_->Ping();
  for (JobKind kind : kAllJobKinds) {
    if (reachable.ok()) {
      auto stats = queue_->Stats(kind);
      auto workers = stats.ok() ? queue_->ActiveWorkers(kind) : Result<int64_t>(stats.status());
      auto dead_ids = workers.ok() ? queue_->DeadJobs(kind, 50) : Result<std::vector<std::string>>(workers.status());
      if (!dead_ids.ok()) {
        reachable = dead_ids.status();
      } else {
        nlohmann::json dead = nlohmann::json::array();
        for (const std::string& id : *dead_ids) {
          auto row = store_->GetJob(id);
          dead.push_back({{"job_id", id},
                          {"error_message", row.ok() ? nlohmann::json(row->error_message) : nlohmann::json(nullptr)},
                          {"finished_at", row.ok() ? nlohmann::json(row->finished_at) : nlohmann::json(nullptr)}});
        }
        queues.push_back({{"key", JobKindName(kind)},
                          {"name", queue_->QueueName(kind)},
                          {"depth", stats->queued},
                          {"queued", stats->queued},
                          {"running", stats->running},
                          {"retrying", stats->retrying},
                          {"dead", stats->dead},
                          {"active_workers", *workers},
                          {"workers", config_.workers(kind)},
                          {"timeout_sec", config_.timeout_sec(kind)},
                          {"dead_jobs", dead}});
      }
    }
    SOPILOT_ASSIGN_OR_RETURN(auto counts, store_->JobStatusCounts(kind));
    nlohmann::json c = nlohmann::json::object();
    int64_t total = 0;
    for (const auto& [status, n] : counts) {
      c[status] = n;
      total += n;
    }
    c["total"] = total;
    jobs[JobKindName(kind)] = c;
  }
  if (!reachable.ok()) queues = nlohmann::json::array();  // as the original: no partial list
  const bool redis = config_.queue_backend == QueueBackend::kRedis;
  nlohmann::json queue = {{"backend", queue_->backend()},
                          {"redis_ok", redis ? nlohmann::json(reachable.ok()) : nlohmann::json(nullptr)},
                          {"error", reachable.ok() ? nlohmann::json(nullptr) : nlohmann::json(reachable.message())},
                          {"queues", queues}};
  return nlohmann::json{{"generated_at", IsoTimestamp(env_->NowUnixSeconds())},
                        {"runtime_mode", "api"},
                        {"queue", queue},
                        {"jobs", jobs}};
}

Result<nlohmann::json> SopilotService::AuditTrail(int limit) {
  SOPILOT_ASSIGN_OR_RETURN(std::vector<AuditEntry> entries, store_->AuditTrail(limit));
  nlohmann::json items = nlohmann::json::array();
  for (const AuditEntry& e : entries) {
    nlohmann::json detail = nlohmann::json::parse(e.detail_json, nullptr, false);
    items.push_back({{"seq", e.seq}, {"at", e.at}, {"actor", e.actor}, {"action", e.action},
                     {"subject", e.subject}, {"detail", detail.is_discarded() ? nlohmann::json(nullptr) : detail}});
  }
  return nlohmann::json{{"items", items}};
}

Result<nlohmann::json> SopilotService::ExportAudit(int limit, const std::string& actor) {
  if (config_.audit_signing_key.empty()) return Status::Unavailable("audit signing key is not configured");
  if (limit < 1 || limit > 5000) return Status::InvalidArgument("limit must be in [1, 5000]");
  SOPILOT_ASSIGN_OR_RETURN(nlohmann::json trail, AuditTrail(limit));
  const double now = env_->NowUnixSeconds();
  nlohmann::json payload = {{"generated_at", IsoTimestamp(now)},
                            {"limit", limit},
                            {"item_count", trail["items"].size()},
                            {"items", trail["items"]}};
  nlohmann::json signed_export = SignAuditExport(payload, config_.audit_signing_key, config_.audit_key_id);
  std::string id = ExportId(now);
  std::string rel = "reports/audit_export_" + id + ".json";
  SOPILOT_RETURN_IF_ERROR(blobs_.Put(rel, JsonText(signed_export, 2)));
  // No export is given out without its row: an auditor must see every copy
  // of the log that left the service.
  if (Status st = AuditBefore(actor, "audit.exported", id,
                              JsonText(nlohmann::json({{"item_count", payload["item_count"]}})));
      !st.ok()) {
    (void)blobs_.Remove(rel);  // best effort; nobody was told its id
    // The request was sound whatever the store said: ask again later.
    return Status::Unavailable("the audit export was not recorded, so it is not given out: " + st.message());
  }
  return nlohmann::json{{"export_id", id},
                        {"generated_at", payload["generated_at"]},
                        {"item_count", payload["item_count"]},
                        {"file_path", blobs_.Absolute(rel)},
                        {"signature", signed_export["signature"]}};
}

Result<std::string> SopilotService::AuditExportPath(const std::string& export_id) {
  std::string clean;
  for (char c : export_id) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-') clean += c;
  }
  if (clean.empty() || clean != export_id) return Status::InvalidArgument("invalid export_id");
  std::string rel = "reports/audit_export_" + clean + ".json";
  if (!blobs_.Exists(rel)) return Status::NotFound("audit export not found");
  return blobs_.Absolute(rel);
}

Status SopilotService::Health() { return store_->Ping(); }

Status SopilotService::CheckStoreIntegrity() { return store_->BackgroundQuickCheck(); }

Status SopilotService::SetFaultInjection(JobKind kind, double rate, const std::string& actor) {
  if (!config_.fault_injection_enabled) {
    return Status::Unavailable("fault injection is disabled (start with SOPILOT_ENABLE_FAULT_INJECTION=1)");
  }
  if (!(rate >= 0 && rate <= 1)) return Status::InvalidArgument("failure_rate must be in [0, 1]");
  SOPILOT_RETURN_IF_ERROR(
      AuditBefore(actor, "ops.fault_injection", JobKindName(kind), JsonText(nlohmann::json({{"failure_rate", rate}}))));
  fault_rate_[static_cast<int>(kind)] = rate;
  return Status::Ok();
}

Status SopilotService::SetJobHold(JobKind kind, bool hold, const std::string& actor) {
  if (!config_.fault_injection_enabled) {
    return Status::Unavailable("fault injection is disabled (start with SOPILOT_ENABLE_FAULT_INJECTION=1)");
  }
  SOPILOT_RETURN_IF_ERROR(
      AuditBefore(actor, "ops.fault_injection", JobKindName(kind), JsonText(nlohmann::json({{"hold", hold}}))));
  hold_.Set(kind, hold);
  return Status::Ok();
}

nlohmann::json SopilotService::FaultInjection() const {
  nlohmann::json rates = nlohmann::json::object(), hold = nlohmann::json::object(), held = nlohmann::json::object();
  for (JobKind kind : kAllJobKinds) {
    rates[JobKindName(kind)] = fault_rate_[static_cast<int>(kind)].load();
    hold[JobKindName(kind)] = hold_.on(kind);
    held[JobKindName(kind)] = hold_.held(kind);
  }
  return {{"enabled", config_.fault_injection_enabled}, {"failure_rate", rates}, {"hold", hold}, {"held", held}};
}

void SopilotService::RecordFailure(const std::string& job_id, const std::string& status,
                                   const std::string& raw_message) {
  // Viewers read job errors: they name stored files relative to the data
  // directory, never by the server's absolute paths.
  std::string message = raw_message;
  const std::string prefix = blobs_.data_dir() + "/";
  for (size_t at = message.find(prefix); at != std::string::npos; at = message.find(prefix, at)) {
    message.erase(at, prefix.size());
  }
  const AuditRecord audit{"system", status == kJobDead ? "job.dead" : "job.failed",
                          JsonText(nlohmann::json({{"error", message}}))};
  if (Status set = store_->SetJobStatus(job_id, status, message, audit); !set.ok()) {
    LogError("job: cannot record its end", {{"job_id", job_id}, {"outcome", status}, {"error", message},
                                            {"store_error", set.message()}});
    return;  // its lease runs out and it runs again, or the reconciler settles it
  }
  auto job = store_->GetJob(job_id);
  if (job.ok()) CountJobState(*job, status);
  if (job.ok() && job->kind == JobKind::kScore) webhooks_->Wake();  // the store wrote its score.failed event
  // A dead job may be requeued by an operator: its upload stays.
  if (!job.ok() || job->kind != JobKind::kIngest || job->file_path.empty() || status == kJobDead) return;
  // The same content may be waiting in another upload's job. Best effort: a
  // file left behind is an orphan the start-up check removes.
  (void)RemoveBlobIfUnreferenced(job->file_path);
}

Status SopilotService::AuditBefore(const std::string& actor, const std::string& action, const std::string& target,
                                   const std::string& detail) {
  Status st = store_->AppendAudit(actor, action, target, detail);
  // Once more on a store that was unavailable: after a PostgreSQL restart
  // the first statement on a pooled session finds its connection closed
  // (the server never saw it) and the pool reconnects for the next one.
  // Without this, the row of a job completed just after a restart was lost.
  if (st.code() == Status::Code::kUnavailable) st = store_->AppendAudit(actor, action, target, detail);
  return st;
}

void SopilotService::Audit(const std::string& actor, const std::string& action, const std::string& target,
                           const std::string& detail) {
  Status st = AuditBefore(actor, action, target, detail);
  if (!st.ok()) {
    LogError("audit entry not written", {{"action", action}, {"target", target}, {"actor", actor},
                                         {"error", st.message()}});
  }
}

Status SopilotService::RunJob(const LeasedJob& leased, const JobContext& context) {
  SOPILOT_ASSIGN_OR_RETURN(JobRow job, store_->GetJob(leased.job_id));
  // Delivered again after it finished (a worker died between recording the
  // result and acknowledging it): nothing to do.
  if (job.status == kJobCompleted || job.status == kJobSkipped || job.status == kJobDead) return Status::Ok();
  SOPILOT_RETURN_IF_ERROR(store_->SetJobStatus(
      job.id, kJobRunning, "", AuditRecord{"system", "job.running", JsonText(nlohmann::json({{"attempt", leased.attempt}}))}));
  CountJobState(job, kJobRunning);
  // Test hook (fault injection only): a held job waits here, running.
  if (config_.fault_injection_enabled && !hold_.Wait(job.kind, [&] { return context.ShouldStop(); })) {
    return Status::Unavailable("stopped while held by fault injection");
  }
  // Injected failures are spread evenly: run n fails when the running share
  // of failures falls behind the requested rate.
  const int k = static_cast<int>(job.kind);
  const double rate = fault_rate_[k].load();
  if (rate > 0) {
    uint64_t n = ++fault_counter_[k];
    if (static_cast<uint64_t>(n * rate) != static_cast<uint64_t>((n - 1) * rate)) {
      return Status::Internal("injected failure (fault injection is on for " + std::string(JobKindName(job.kind)) +
                              " jobs)");
    }
  }
  if (config_.fault_injection_enabled && config_.throw_in_jobs == JobKindName(job.kind)) {
    throw std::runtime_error("injected exception (SOPILOT_FAULT_THROW_IN=" + config_.throw_in_jobs + ")");
  }
  switch (job.kind) {
    case JobKind::kIngest: return RunIngest(job, context);
    case JobKind::kScore: return RunScore(job);
    case JobKind::kTraining: return RunTraining(job, context);
  }
  return Status::Internal("unknown job kind");
}

Result<SopilotService::StoredEmbedding> SopilotService::EmbedUpload(const std::string& file_path,
                                                                    const std::string& file_name, Embedder* embedder,
                                                                    const JobContext& context) {
  const std::string path = blobs_.Absolute(file_path);
  if (!blobs_.Exists(file_path)) return Status::NotFound("uploaded file missing: " + file_name);
  const auto started = std::chrono::steady_clock::now();
  auto set = IngestVideo(path, config_.ingest, embedder, [&](double, double) { return !context.ShouldStop(); });
  if (!set.ok()) {
    // Name the upload, not the content-addressed path, in the message.
    std::string msg = set.status().message();
    size_t at = msg.find(path);
    if (at != std::string::npos) msg.replace(at, path.size(), file_name);
    return set.status().WithMessage(msg);
  }
  metrics_->EmbeddingSeconds(embedder->name(),
                             std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
                             static_cast<int64_t>(set->clips.size()));
  set->source.path = file_name;
  // Content-addressed: the same video with the same settings and model gives
  // the same file, so a retried job rewrites identical bytes.
  std::string sha = std::filesystem::path(file_path).stem().string();
  std::string key = Sha256Hex(sha + "|" + set->model + "|" + std::to_string(set->sampling.target_fps) + "|" +
                              std::to_string(set->sampling.clip_seconds) + "|" +
                              std::to_string(set->sampling.clip_stride_sec) + "|" +
                              std::to_string(set->sampling.max_side) + "|" +
                              std::to_string(set->sampling.min_clip_coverage));
  std::string emb_rel = "embeddings/" + key.substr(0, 32) + ".emb";
  SOPILOT_ASSIGN_OR_RETURN(std::string bytes, EncodeEmbeddingSet(*set));
  SOPILOT_RETURN_IF_ERROR(blobs_.Put(emb_rel, bytes));
  return StoredEmbedding{std::move(*set), emb_rel};
}

Status SopilotService::RunIngest(const JobRow& job, const JobContext& context) {
  if (!blobs_.Exists(job.file_path)) return Status::NotFound("ingest file missing: " + job.file_name);
  // A task re-embedded with another embedder keeps it for its new videos;
  // if a re-embed switches the task while this one embeds, the video is not
  // recorded and is embedded again with the task's new embedder.
  constexpr int kEmbedderAttempts = 3;
  Status last;
  for (int attempt = 0; attempt < kEmbedderAttempts; ++attempt) {
    SOPILOT_ASSIGN_OR_RETURN(std::string task_embedder, store_->TaskEmbedder(job.task_id));
    const std::string name = task_embedder.empty() ? config_.ingest.embedder : task_embedder;
    SOPILOT_ASSIGN_OR_RETURN(std::unique_ptr<Embedder> embedder, MakeEmbedder(name, config_.embedders));
    SOPILOT_ASSIGN_OR_RETURN(StoredEmbedding stored, EmbedUpload(job.file_path, job.file_name, embedder.get(), context));
    const EmbeddingSet& set = stored.set;

    VideoRow v;
    v.task_id = job.task_id;
    v.role = job.role;
    v.site_id = job.site_id;
    v.camera_id = job.camera_id;
    v.operator_id_hash = job.operator_id_hash;
    v.file_name = job.file_name;
    v.file_path = job.file_path;
    v.content_sha256 = std::filesystem::path(job.file_path).stem().string();
    v.embedding_path = stored.path;
    v.embedding_model = set.model;
    v.num_clips = static_cast<int>(set.clips.size());
    v.duration_sec = set.source.duration_sec;
    v.source_fps = set.source.fps;
    v.sampled_fps = set.sampling.target_fps;
    std::vector<ClipRow> clips;
    for (const ClipSpan& c : set.clips) clips.push_back({0, c.index, c.start_sec, c.end_sec});
    nlohmann::json result = {{"num_clips", v.num_clips}, {"source_fps", v.source_fps}, {"sampled_fps", v.sampled_fps},
                             {"embedding_model", v.embedding_model}, {"duration_sec", v.duration_sec}};
    // The store adds "video_id" to the job.completed row it writes with the completion.
    auto video_id =
        store_->CompleteIngestJobWithVideo(job.id, v, clips, JsonText(result), task_embedder, AuditRecord{});
    if (!video_id.ok()) {
      last = video_id.status();
      auto now = store_->TaskEmbedder(job.task_id);
      // The file just written may be left unused: the start-up check
      // removes orphans (removing it here could race another ingest of the
      // same content).
      if (last.code() == Status::Code::kUnavailable && now.ok() && *now != task_embedder) continue;
      return last;
    }
    CountJobState(job, kJobCompleted);
    AdaptNewVideo(*video_id);
    if (job.role == "trainee") AutoScore(job, *video_id);
    return Status::Ok();
  }
  return last;
}

Status SopilotService::RunScore(const JobRow& job) {
  if (job.gold_selection == GoldSelectionName(GoldSelection::kClosest)) return RunClosestScore(job);
  if (!job.gold_video_id || !job.trainee_video_id) {
    return Status::NotFound("a video of this score job was deleted");
  }
  // Both sides from one index version of the task (training may switch
  // versions at any moment).
  SOPILOT_ASSIGN_OR_RETURN(ScorePair pair, LoadScorePair(*job.gold_video_id, *job.trainee_video_id));
  SOPILOT_ASSIGN_OR_RETURN(ScoreReport report,
                           ScoreAgainstGold(job.task_id, pair.gold_set, pair.trainee_set, job.sop_version));
  return CompleteScore(job, report,
                       ScoreResultJson(report, pair.gold, pair.trainee, job.sop_version, job, pair.index_version,
                                       pair.feature_adapter),
                       std::nullopt);
}

nlohmann::json SopilotService::ScoreResultJson(const ScoreReport& report, const VideoRow& gold,
                                               const VideoRow& trainee, std::optional<int64_t> sop_version,
                                               const JobRow& job, int64_t index_version, bool feature_adapter) {
  nlohmann::json result = ScoreReportToJson(report);
  result["sop_version"] = sop_version ? nlohmann::json(*sop_version) : nlohmann::json(nullptr);
  result["gold_video_id"] = gold.id;
  result["trainee_video_id"] = trainee.id;
  result["task_id"] = gold.task_id;
  result["neural_mode"] = false;
  result["index_version"] = index_version;
  result["feature_adapter"] = feature_adapter;
  if (!job.gold_selection.empty()) result["gold_selection"] = job.gold_selection;
  return result;
}

Result<ScoreReport> SopilotService::ScoreAgainstGold(const std::string& task_id, const EmbeddingSet& gold,
                                                     const EmbeddingSet& trainee, std::optional<int64_t> sop_version) {
  const int need = config_.min_scoring_clips;
  if (gold.vectors.rows < need || trainee.vectors.rows < need) {
    return Status::InvalidArgument("insufficient clip coverage for scoring: gold=" + std::to_string(gold.vectors.rows) +
                                   ", trainee=" + std::to_string(trainee.vectors.rows) + ", min=" + std::to_string(need));
  }
  std::vector<StepSpec> sop_steps;
  if (sop_version) {
    SOPILOT_ASSIGN_OR_RETURN(SopVersionRow sop, store_->GetSopVersion(task_id, *sop_version));
    auto steps = ParseStepsJson(sop.definition_json);
    if (!steps.ok()) return steps.status().WithContext("task " + task_id + ", SOP version " + std::to_string(*sop_version));
    sop_steps = std::move(*steps);
  }
  SOPILOT_ASSIGN_OR_RETURN(ScoreReport report,
                           EvaluateSop(gold, trainee, config_.score, sop_steps.empty() ? nullptr : &sop_steps));
  metrics_->DtwSeconds(report.alignment_seconds);
  return report;
}

Status SopilotService::CompleteScore(const JobRow& job, const ScoreReport& report, const nlohmann::json& result,
                                     const std::optional<MetadataStore::ScoredGold>& gold) {
  std::string rel = "reports/score_" + job.id + ".json";
  SOPILOT_RETURN_IF_ERROR(blobs_.Put(rel, JsonText(result, 2)));
  nlohmann::json summary = {{"verdict", report.verdict}, {"deviations", report.deviations.size()}};
  if (!report.verdict_reason.empty()) summary["verdict_reason"] = report.verdict_reason;
  nlohmann::json detail = {{"score", report.score}, {"verdict", report.verdict}};
  if (gold) detail["gold_video_id"] = gold->gold_video_id;
  SOPILOT_RETURN_IF_ERROR(store_->CompleteScoreJob(job.id, report.score, rel, JsonText(summary), gold,
                                                   AuditRecord{"system", "job.completed", JsonText(detail)}));
  webhooks_->Wake();  // the store wrote the event and the audit row with the completion
  CountJobState(job, kJobCompleted);
  return Status::Ok();
}

void SopilotService::CountJobState(const JobRow& job, const std::string& status) {
  metrics_->JobState(job.kind, job.trigger, status);
}

void SopilotService::CountJobState(const LeasedJob& leased, const std::string& status) {
  std::string trigger;
  if (leased.kind == JobKind::kTraining) {
    auto row = store_->GetJob(leased.job_id);
    if (row.ok()) trigger = row->trigger;
  }
  metrics_->JobState(leased.kind, trigger, status);
}

}  // namespace sopilot
