// SopilotService: the service's use cases, independent of HTTP.
//
// The HTTP layer (src/http) turns requests into these calls and statuses into
// HTTP codes: InvalidArgument 400, NotFound 404, Unavailable 503, anything
// else 500. Job execution (RunJob) is called by the worker pool; submitting a
// job writes its row first and then enqueues it, and Start() re-enqueues any
// job whose row says queued or running, so a crash between the two loses
// nothing.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/env.h"
#include "base/status.h"
#include "embed/embedder.h"
#include "embed/embedding_set.h"
#include "notify/webhook_dispatcher.h"
#include "metrics/registry.h"
#include "queue/job_queue.h"
#include "score/score_report.h"
#include "service/job_hold.h"
#include "service/service_config.h"
#include "store/blob_store.h"
#include "store/metadata_store.h"
#include "train/feature_adapter.h"

namespace sopilot {

struct ReportInput;  // report/report_input.h

class ServiceMetrics;
class NightlyRunner;

struct UploadRequest {
  std::string task_id;
  std::string role = "trainee";  // gold | trainee | audit
  std::string site_id, camera_id, operator_id_hash;
  std::string file_name;         // as uploaded; sanitised here
  // The ingest job's id, chosen by a caller that must be able to submit
  // again after a crash without making a second job (the watch folder);
  // "" = a new UUID4. [A-Za-z0-9_-], at most 64 characters. See SubmitUpload.
  std::string job_id;
};

// How the gold video of a score is picked (jobs.gold_selection).
enum class GoldSelection {
  kNamed,    // the request names it
  kChosen,   // the task's chosen gold (SopilotService::ChosenGold), fixed at submission
  kClosest,  // every gold of the task the trainee compares with, fixed when the
             // score runs; the score is the closest one's (score/closest_gold.h)
};
// "named", "chosen", "closest".
const char* GoldSelectionName(GoldSelection selection);
std::optional<GoldSelection> ParseGoldSelection(const std::string& name);

struct ScoreRequest {
  int64_t trainee_video_id = 0;
  GoldSelection gold_selection = GoldSelection::kNamed;
  int64_t gold_video_id = 0;  // with kNamed only
};

// What a running job may ask: has its time run out, is the service stopping?
class JobContext {
 public:
  virtual ~JobContext() = default;
  virtual bool ShouldStop() const = 0;
};

class SopilotService {
 public:
  // Opens the data directory (blob store, metadata store, queue) and repairs
  // what a crash may have left (see StartupCheck).
  static Result<std::unique_ptr<SopilotService>> Open(const ServiceConfig& config, Env* env);
  ~SopilotService();

  const ServiceConfig& config() const { return config_; }
  MetadataStore* store() { return store_.get(); }
  JobQueue* queue() { return queue_.get(); }
  BlobStore& blobs() { return blobs_; }
  Env* env() { return env_; }
  // The service's metrics (GET /metrics renders the registry).
  metrics::Registry* metrics_registry() { return registry_.get(); }
  ServiceMetrics* metrics() { return metrics_.get(); }

  // What the start-up check found and did, for the log.
  struct StartupReport {
    int incoming_removed = 0;        // half-received uploads
    int orphan_files_removed = 0;    // files no row refers to (a crash mid-delete)
    std::vector<std::string> missing_files;  // rows whose files are gone (reported)
    int jobs_requeued = 0;           // queued/running rows put back in the queue
    std::string queue_error;         // the queue was unreachable (left to ReconcileQueue)
  };
  // Runs under the store's "startup-repair" lock (MetadataStore::
  // RunExclusively): with a shared PostgreSQL database, one process repairs
  // at a time.
  Result<StartupReport> StartupCheck();
  // Puts every job whose row says queued or running back in the queue
  // unless it is there (a crash between row and queue, a queue that lost
  // data), and returns leases that ran out. The API process runs it at
  // start-up and every minute. Returns the rows checked.
  Result<int> ReconcileQueue();
  // Unavailable (with the reason) when the queue cannot take a job now:
  // submissions check it before accepting anything.
  Status QueueReady();

  // ---- submissions (each records an audit entry with the actor)
  // Takes a complete upload at `incoming_path` (absolute, under incoming/)
  // with its SHA-256; the file is moved into the store or removed.
  //
  // With a caller-chosen `request.job_id` the submission is idempotent:
  // - a job with that id exists already: no new job; the upload is dropped
  //   and the existing job is returned as EnsureQueued returns it (an id
  //   used by a score or training job is InvalidArgument);
  // - the row is written but the queue refuses the job: the row stays
  //   queued (not failed, as it does without an id) and the result is
  //   Unavailable; submitting again with the same id, or the next start-up
  //   check, puts it in the queue.
  Result<JobRow> SubmitUpload(const std::string& incoming_path, const std::string& sha256_hex,
                              const UploadRequest& request, const std::string& actor);
  // The ingest job `job_id` as it is now. If its row says queued it is put in
  // the queue again — a no-op when it is there already — which recovers a
  // submitter that died between writing the row and enqueuing it.
  // NotFound when there is no such ingest job; Unavailable when the queue is.
  Result<JobRow> EnsureQueued(const std::string& job_id);
  // Unknown video ids are NotFound; videos not yet ingested, of different
  // tasks or embedded with different models are InvalidArgument, and so is
  // a gold_video_id with another selection than kNamed, and a task without
  // a gold to score against (kChosen, kClosest).
  //
  // The SOP: the task's latest SOP version is fixed at submission (a retry
  // or an edit meanwhile does not change what the score uses) and applies
  // to the gold it was written over; any other gold is scored with the
  // steps found in it. With kClosest the job's sop_version is the SOP's
  // while it runs, and stays only if the SOP's gold is the closest.
  Result<JobRow> SubmitScore(const ScoreRequest& request, const std::string& actor);
  // The gold a score of `trainee_video_id` uses when none is named: the one
  // the task's latest SOP was written over, else the task's newest ingested
  // gold video. InvalidArgument when the task has none.
  Result<int64_t> ChosenGold(int64_t trainee_video_id);
  // The golds a score of `trainee` against the closest gold tries: the
  // task's ingested gold videos embedded with the trainee's model, oldest
  // first. InvalidArgument when there is none.
  Result<std::vector<VideoRow>> ClosestGoldCandidates(const VideoRow& trainee);
  Result<JobRow> SubmitTraining(const std::string& trigger, const std::string& actor);
  // Queues a re-embed of every video of `task_id` with `embedder` (a training
  // job, trigger "reembed"; service/reembed.cc). Checked before anything is
  // queued: an unknown embedder is InvalidArgument naming the known ones, one
  // whose models cannot be loaded InvalidArgument with the reason, a task
  // with no ingested video NotFound. While a re-embed of the task to the same
  // embedder is queued or running, that job is returned instead of a new one;
  // to another embedder, InvalidArgument.
  Result<JobRow> SubmitReembed(const std::string& task_id, const std::string& embedder, const std::string& actor);

  // ---- queries
  Result<JobRow> GetJob(JobKind kind, const std::string& id);
  Result<VideoRow> GetVideo(int64_t id);
  Result<std::vector<VideoRow>> ListVideos(const std::string& task_id, int limit);
  // The score result JSON of a completed job (null JSON when not completed).
  Result<nlohmann::json> ScoreResult(const JobRow& job);
  // Cosine top-k over a task's clips; the query is one clip of one video.
  Result<nlohmann::json> Search(const std::string& task_id, int64_t video_id, int clip_idx, int k);
  // {"video_id", "task_id", "removed_files", "reindexed_clips"}.
  Result<nlohmann::json> DeleteVideo(int64_t id, const std::string& actor);
  Result<nlohmann::json> QueueStatus();
  // An operator puts a dead job back in its queue with a fresh attempt
  // count. NotFound for an unknown job, InvalidArgument when it is not dead.
  Result<JobRow> RequeueDeadJob(JobKind kind, const std::string& job_id, const std::string& actor);
  Result<nlohmann::json> AuditTrail(int limit);
  // Writes a signed export under reports/; Unavailable without a signing key.
  // Its "audit.exported" row is written before the export is given out: an
  // export whose row cannot be written fails and its file is removed.
  Result<nlohmann::json> ExportAudit(int limit, const std::string& actor);
  // Absolute path of an export file; NotFound / InvalidArgument on bad ids.
  Result<std::string> AuditExportPath(const std::string& export_id);
  Status Health();
  // Reads every page of the metadata store on a connection of its own
  // (MetadataStore::BackgroundQuickCheck); damage found fails Health from
  // then on. For a periodic check while serving.
  Status CheckStoreIntegrity();

  // Fault injection (testing alerts): from now on a fraction `rate` in [0, 1]
  // of `kind`'s job runs fail with a transient error (so they are retried and
  // may end dead). Unavailable unless the configuration enables it.
  Status SetFaultInjection(JobKind kind, double rate, const std::string& actor);
  // Test hook (service/job_hold.h): while on, `kind`'s jobs wait once marked
  // running until it is switched off or they must stop. Unavailable unless
  // the configuration enables fault injection.
  Status SetJobHold(JobKind kind, bool hold, const std::string& actor);
  // {"enabled", "failure_rate": {kind: rate}, "hold": {kind: bool},
  //  "held": {kind: jobs held now}}.
  nlohmann::json FaultInjection() const;

  // ---- SOP definitions and the score history (service/sop_history.cc)
  // The task's SOP, {"task_id", "version", "draft", "gold_video_id",
  // "created_by", "created_at", "steps": [...]}: the given version (0: the
  // latest). A task without one gets a draft (version 0, "draft": true) of
  // the steps found in its newest gold video, for the user to edit and save.
  // NotFound when there is neither an SOP nor an ingested gold video.
  Result<nlohmann::json> GetSop(const std::string& task_id, int64_t version);
  // Every task with an ingested video: {"items": [{"task_id", "gold_videos",
  // "sop_version" (null without one)}]}, by task id.
  Result<nlohmann::json> ListTasks();
  // Validates `body` ({"gold_video_id"?, "steps": [...]}, score/steps_file.h)
  // against the task's gold video and saves it as the next version
  // (audited, "sop.saved"). Later scores against that gold use it.
  Result<nlohmann::json> PutSop(const std::string& task_id, const nlohmann::json& body, const std::string& actor);
  // Completed scores, newest first: {"items": [...], "next_cursor"}. `cursor`
  // is a next_cursor of an earlier page ("" for the first); one this service
  // did not give is InvalidArgument.
  Result<nlohmann::json> ListScores(ScoreQuery query, const std::string& cursor);
  // Per task: pass rate, verdict counts, per step how often it was missed or
  // went wrong and its time against the gold, and per operator the count,
  // pass rate, mean score and the recent scores (the trend), over the newest
  // kStatsScores completed scores.
  static constexpr int kStatsScores = 500;
  Result<nlohmann::json> TaskStats(const std::string& task_id);

  // ---- per-task settings: webhook and automatic scoring (service/task_settings.cc)
  // {"task_id", "url" (null without one), "secret_set", "effective_url"
  // (the task's, else SOPILOT_WEBHOOK_URL, else null), "updated_by",
  // "updated_at"}. The secret itself is never shown.
  Result<nlohmann::json> GetTaskWebhook(const std::string& task_id);
  // Body {"url": "http://...", "secret"?: "..."}; a malformed or non-http
  // URL, a secret that is not a string of printable characters (at most 256)
  // are InvalidArgument. Audited ("task.webhook_set", without the secret) in
  // the change's transaction: a change whose row cannot be written is not made.
  Result<nlohmann::json> PutTaskWebhook(const std::string& task_id, const nlohmann::json& body,
                                        const std::string& actor);
  // NotFound when the task has no webhook of its own. Audited.
  Status DeleteTaskWebhook(const std::string& task_id, const std::string& actor);
  // {"task_id", "enabled", "updated_by", "updated_at"}.
  Result<nlohmann::json> GetTaskAutoScore(const std::string& task_id);
  // Body {"enabled": true|false}. Audited ("task.auto_score_set").
  Result<nlohmann::json> PutTaskAutoScore(const std::string& task_id, const nlohmann::json& body,
                                          const std::string& actor);
  // The webhook deliveries of a score job, newest first: {"score_job_id",
  // "items": [{"delivery_id", "event", "status", "attempts", "url",
  // "last_http_status", "last_error", "next_attempt_at", "created_at",
  // "finished_at"}]}. NotFound for an unknown score job.
  Result<nlohmann::json> ScoreWebhookDeliveries(const std::string& score_job_id);
  // The webhook delivery threads (notify/webhook_dispatcher.h): every
  // process that runs workers starts them. Stop is also done by the
  // destructor.
  void StartWebhookDelivery();
  void StopWebhookDelivery();
  WebhookDispatcher* webhooks() { return webhooks_.get(); }

  // ---- score reports (service/score_reports.cc)
  // A completed score drawn for people (report/pdf_report.h,
  // report/html_report.h), with frames of the stored uploads at each
  // deviation. NotFound for an unknown job; InvalidArgument while it is not
  // completed. The footer carries the SHA-256 of the stored result file,
  // which GET /score/{id}/result.json serves byte for byte.
  Result<std::string> ScoreReportPdf(const std::string& score_job_id);
  Result<std::string> ScoreReportHtml(const std::string& score_job_id);
  // The stored result file of a completed score (absolute path).
  Result<std::string> ScoreResultPath(const std::string& score_job_id);

  // ---- training (service/training.cc)
  // The two videos of a score job with their effective embeddings, all
  // from one and the same index version of their task (resolved in one
  // read; see doc/architecture.md, "Training"): adapted in that version
  // when the adapter is enabled and the task has trained, raw otherwise.
  struct ScorePair {
    VideoRow gold, trainee;
    EmbeddingSet gold_set, trainee_set;
    int64_t index_version = 0;     // the task's current version (0: never trained nor re-embedded)
    bool feature_adapter = false;  // the sets are adapted by that version's adapter
  };
  Result<ScorePair> LoadScorePair(int64_t gold_video_id, int64_t trainee_video_id);
  // The same for several golds of one trainee, all from one index version
  // (scores against them compare); golds and gold_sets in the order of
  // `gold_video_ids`.
  struct ScoreInputs {
    std::vector<VideoRow> golds;
    std::vector<EmbeddingSet> gold_sets;
    VideoRow trainee;
    EmbeddingSet trainee_set;
    int64_t index_version = 0;
    bool feature_adapter = false;
  };
  Result<ScoreInputs> LoadScoreInputs(const std::vector<int64_t>& gold_video_ids, int64_t trainee_video_id);
  Result<ReportInput> GatherReport(const std::string& score_job_id);
  // The score job, when it is completed (InvalidArgument otherwise).
  Result<JobRow> CompletedScoreJob(const std::string& score_job_id);
  // GET /train/nightly/status: the original's enabled, next_run_local,
  // hour_local, min_new_videos, and what this process's scheduler sees.
  Result<nlohmann::json> NightlyStatus();
  // Runs this process's nightly scheduler (a thread) when
  // SOPILOT_NIGHTLY_ENABLED; Stop ends it and gives its lease up.
  void StartNightlyScheduler();
  void StopNightlyScheduler();

  // ---- execution (the worker pool's side)
  Status RunJob(const LeasedJob& job, const JobContext& context);
  // A job failed for good (bad input, or out of retries): record it and
  // drop what it alone stored (an ingest's uploaded file), so nothing
  // half-stored is left behind.
  void RecordFailure(const std::string& job_id, const std::string& status, const std::string& message);
  // Appends to the audit log, once more when the store was unavailable (a
  // pooled PostgreSQL session finds its connection closed after a restart,
  // and the pool reconnects for the next statement). For a change not made
  // yet: the caller makes it only when this returns OK.
  Status AuditBefore(const std::string& actor, const std::string& action, const std::string& target,
                     const std::string& detail);
  // AuditBefore after the fact it records has happened: a failure cannot
  // undo the fact, so it is logged (stderr) rather than returned. `detail`
  // is a JSON object's text.
  void Audit(const std::string& actor, const std::string& action, const std::string& target,
             const std::string& detail);
  // Counts a job entering `status` (sopilot_<kind>_jobs_total); the leased
  // form reads a training job's trigger from its row.
  void CountJobState(const JobRow& job, const std::string& status);
  void CountJobState(const LeasedJob& job, const std::string& status);

 private:
  Result<StartupReport> StartupRepair();  // StartupCheck's work, under the lock
  SopilotService(ServiceConfig config, Env* env, BlobStore blobs);
  // Removes an adopted upload that no video and no queued or running job
  // uses (its job row could not be written).
  void RemoveUploadIfUnused(const std::string& file_path);
  // Removes a raw, embedding or adapter file unless a row or an unfinished
  // job still refers to it (MetadataStore::RemoveIfUnreferenced); true when
  // it was removed.
  Result<bool> RemoveBlobIfUnreferenced(const std::string& relative_path);
  Status RunIngest(const JobRow& job, const JobContext& context);
  Status RunScore(const JobRow& job);
  // A score with gold_selection "closest": the trainee against each
  // candidate gold, reported against the closest.
  Status RunClosestScore(const JobRow& job);
  // `trainee` scored against `gold` with the steps of the task's SOP
  // `sop_version` (none: the steps found in the gold). InvalidArgument when
  // either has fewer clips than scoring needs.
  Result<ScoreReport> ScoreAgainstGold(const std::string& task_id, const EmbeddingSet& gold,
                                       const EmbeddingSet& trainee, std::optional<int64_t> sop_version);
  // The result file's JSON: the report with what was scored and how.
  static nlohmann::json ScoreResultJson(const ScoreReport& report, const VideoRow& gold, const VideoRow& trainee,
                                        std::optional<int64_t> sop_version, const JobRow& job,
                                        int64_t index_version, bool feature_adapter);
  // Writes the result file and completes the job (with `gold`: the gold and
  // SOP version the score settled on).
  Status CompleteScore(const JobRow& job, const ScoreReport& report, const nlohmann::json& result,
                       const std::optional<MetadataStore::ScoredGold>& gold);
  Status RunTraining(const JobRow& job, const JobContext& context);
  Result<nlohmann::json> TrainTask(const std::string& task_id, const JobRow& job, const JobContext& context);
  // A training job with trigger "reembed" (service/reembed.cc).
  Status RunReembed(const JobRow& job, const JobContext& context);
  // Embeds the stored upload `file_path` (named `file_name` in messages) with
  // `embedder` and the configured sampling, and writes the embedding file,
  // content-addressed by upload, model and sampling (a retry rewrites the
  // same bytes). Returns the set and the file's relative path.
  struct StoredEmbedding {
    EmbeddingSet set;
    std::string path;
  };
  Result<StoredEmbedding> EmbedUpload(const std::string& file_path, const std::string& file_name, Embedder* embedder,
                                      const JobContext& context);
  // A video's effective embedding in the version `e` names (raw at 0 or
  // with the adapter disabled). `version_file_missing` is set when a file of
  // that version is gone (a later training dropped it): resolve again.
  Result<EmbeddingSet> LoadEffective(const MetadataStore::EffectiveEmbedding& e, bool* version_file_missing);
  // Writes `raw` adapted by `adapter` (of `version`) for `video` and returns
  // its relative path (named by video file, adapter and version).
  Result<std::string> WriteAdapted(const VideoRow& video, const EmbeddingSet& raw, const FeatureAdapter& adapter,
                                   int64_t version);
  // After an ingest: the new video's adapted file for its task's current
  // version, if there is one (best effort; scoring adapts on the fly).
  void AdaptNewVideo(int64_t video_id);
  Status Enqueue(const JobRow& job);
  // After a trainee video of a task with auto_score on was ingested: queues
  // its score against the task's chosen gold (best effort; audited either
  // way, "score.auto_queued" or "score.auto_skipped" with the reason).
  void AutoScore(const JobRow& ingest_job, int64_t video_id);

  ServiceConfig config_;
  Env* env_;
  BlobStore blobs_;
  std::unique_ptr<MetadataStore> store_;
  std::atomic<uint64_t> redis_errors_{0};  // failed Redis connections (sopilot_redis_connection_errors_total)
  std::unique_ptr<JobQueue> queue_;
  std::atomic<double> fault_rate_[3] = {0.0, 0.0, 0.0};
  std::atomic<uint64_t> fault_counter_[3] = {0, 0, 0};
  JobHold hold_;  // a test hook, only with fault injection enabled
  std::unique_ptr<metrics::Registry> registry_;
  std::unique_ptr<ServiceMetrics> metrics_;
  std::unique_ptr<NightlyRunner> nightly_;
  // Last: stopped (its threads joined) before the store it reads goes.
  std::unique_ptr<WebhookDispatcher> webhooks_;
};

// Index versions kept below a task's current one (training, re-embed), so
// that a score job that resolved a version just before a switch still finds
// its files (it resolves again if they are gone anyway).
inline constexpr int kKeepPreviousIndexVersions = 2;

// Errors a retry cannot fix (the input is wrong): the job fails at once.
bool IsPermanentJobError(const Status& status);

// Keeps [A-Za-z0-9_.-], the rest becomes '_', at most 120 characters
// ("upload.mp4" when nothing is left), as the original's safe_filename.
std::string SafeFileName(const std::string& name);

}  // namespace sopilot
