// MetadataStore: SOPilot's metadata in SQLite — videos, clips, jobs of the
// three kinds, and an append-only audit log.
//
// The database is opened with WAL, a busy timeout and foreign keys on, and
// migrated to the current schema version (schema_migrations table; each
// migration runs in one transaction). Every method is safe to call from
// several threads (one connection, serialised by a mutex); several processes
// may share the file (WAL). A write that meets a lock retries until the busy
// timeout and then fails with IOError("database is locked"); each lock wait
// operation that waited is recorded in lock_waits() for the metrics.
//
// Timestamps are ISO-8601 UTC with "+00:00", as the Python original wrote
// them. Job ids are UUID4 strings. Paths are relative to the data directory.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/lock_waits.h"
#include "base/status.h"
#include "store/job_kind.h"

struct sqlite3;

namespace sopilot {

// Job states. queued -> running -> completed | failed | skipped(training);
// failed -> queued again when retries remain (the queue decides), else dead.
inline constexpr const char* kJobQueued = "queued";
inline constexpr const char* kJobRunning = "running";
inline constexpr const char* kJobCompleted = "completed";
inline constexpr const char* kJobFailed = "failed";
inline constexpr const char* kJobDead = "dead";
inline constexpr const char* kJobSkipped = "skipped";

// The trigger of a training job that re-embeds a task's videos.
inline constexpr const char* kReembedTrigger = "reembed";

struct VideoRow {
  int64_t id = 0;
  std::string task_id;
  std::string role;  // gold | trainee | audit
  std::string site_id, camera_id, operator_id_hash;  // optional, "" when absent
  std::string file_name;       // the uploaded name, sanitised
  std::string file_path;       // raw video, relative to the data dir (content-addressed)
  std::string content_sha256;  // of the raw video
  std::string embedding_path;  // embedding file, relative; "" until ingested
  std::string embedding_model;
  int num_clips = 0;
  double duration_sec = 0;
  double source_fps = 0;
  double sampled_fps = 0;
  std::string created_at;
};

struct ClipRow {
  int64_t video_id = 0;
  int clip_idx = 0;
  double start_sec = 0;
  double end_sec = 0;
};

// One row of the jobs table; kind-specific fields are empty for other kinds.
struct JobRow {
  std::string id;
  JobKind kind = JobKind::kIngest;
  std::string status;
  std::string requested_by;
  int attempts = 0;  // times the job has started running
  std::string error_message;
  std::string created_at, updated_at, queued_at, started_at, finished_at;
  // ingest: what was uploaded, and the video it produced
  std::string task_id, role, file_name, file_path, site_id, camera_id, operator_id_hash;
  std::optional<int64_t> video_id;
  // score: the pair, the score and the result JSON file (relative path)
  std::optional<int64_t> gold_video_id, trainee_video_id;
  std::optional<double> score;
  std::string result_path;
  std::optional<int64_t> sop_version;  // the task's SOP version the score used (none: steps found in the gold)
  // How the gold was picked: "named" (by the request), "chosen" (the task's
  // chosen gold, when the job was submitted) or "closest" (every gold of the
  // task; gold_video_id is none until the score completes). "" on rows from
  // before it was recorded.
  std::string gold_selection;
  // training: trigger "manual" | "nightly" (the feature adapter) or
  // "reembed" (task_id's videos embedded again with `embedder`)
  std::string trigger;
  std::string summary_path;
  std::string embedder;
  // any kind: a JSON object of outputs (ingest: num_clips, fps...; training: summary)
  std::string result_json;
};

// One version of a task's SOP definition (the JSON of score/steps_file.h,
// with the gold video its times refer to).
struct SopVersionRow {
  std::string task_id;
  int64_t version = 0;                   // 1, 2, ... per task
  std::optional<int64_t> gold_video_id;  // none once that video was deleted
  std::string definition_json;           // {"steps": [...]}
  std::string created_by, created_at;
};

// The score history's filters: completed score jobs, newest first. An empty
// field does not filter.
struct ScoreQuery {
  std::string task_id, site_id, camera_id, operator_id_hash;
  std::string verdict;                          // pass | needs_review | fail
  std::string finished_from, finished_before;   // timestamps (IsoTimestamp form): from inclusive, before exclusive
  // Resume after this row of an earlier page: its finished_at and seq.
  std::string after_finished_at;
  int64_t after_seq = 0;
  int limit = 50;  // clamped to [1, 10000]
};

struct ScorePage {
  std::vector<JobRow> scores;
  // Per score, its job row's insertion number: with finished_at, the order
  // of the history (scores finished within one second keep the order they
  // were queued in) and the place a next page starts from. Stable while the
  // file is not VACUUMed.
  std::vector<int64_t> seqs;
  bool more = false;  // rows remain after the last one
};

// A task's own settings (store/webhooks.cc); a task never set has the
// defaults: no webhook, no automatic score.
struct TaskSettingsRow {
  std::string task_id;
  std::string webhook_url;     // "" = none (the global SOPILOT_WEBHOOK_URL applies)
  std::string webhook_secret;  // "" = none (the global SOPILOT_WEBHOOK_SECRET signs)
  bool auto_score = false;     // score each new trainee video against the task's chosen gold
  std::string updated_by, updated_at;  // "" when never set
};

// One webhook event in the outbox (store/webhooks.cc). A row is written by
// the database itself when a score job reaches completed, failed or dead.
struct WebhookDeliveryRow {
  int64_t seq = 0;
  std::string delivery_id;  // 32 hex digits, the same on every attempt
  std::string job_id;
  std::string event;        // score.completed | score.failed
  std::string status;       // pending | delivered | failed (gave up) | skipped (no URL)
  int attempts = 0;         // attempts started (a claim counts one)
  double next_attempt_at = 0;  // Unix seconds; due when <= now
  std::string url;          // where the last attempt went
  std::string payload;      // the JSON body, fixed at the first attempt ("" before)
  std::optional<int> last_http_status;
  std::string last_error;
  std::string created_at, finished_at;
};

struct AuditEntry {
  int64_t seq = 0;          // increasing
  std::string at;           // timestamp
  std::string actor;        // "token:admin", "basic:alice", "anonymous", "system"
  std::string action;       // "job.queued", "job.completed", "video.deleted", ...
  std::string subject;      // job id or video id
  std::string detail_json;  // a JSON object
};

class MetadataStore {
 public:
  // Opens (creating if needed) and migrates `path`. `env` supplies the clock.
  static Result<std::unique_ptr<MetadataStore>> Open(const std::string& path, Env* env);
  ~MetadataStore();

  int schema_version() const;
  // A cheap query that fails when the database is unusable (health checks).
  // Once any statement has met a damaged page (SQLITE_CORRUPT), Ping fails
  // with Corruption for the rest of the process's life: a store that is
  // known to be damaged is not healthy, whichever page a request touches.
  Status Ping();
  // PRAGMA quick_check: every page and record of the file is read and
  // checked (not the indexes against the tables), in time proportional to
  // the file's size. Corruption naming the file and the first problem, or OK.
  Status QuickCheck();
  // The same check on a read-only connection of its own, for a periodic
  // check while serving: writers and readers go on meanwhile. Damage found
  // makes Ping fail from then on, as a damaged page met by a query does.
  Status BackgroundQuickCheck();

  // ---- videos and clips
  // Inserts the video (id assigned) and its clips in one transaction.
  Result<int64_t> InsertVideo(const VideoRow& video, const std::vector<ClipRow>& clips);
  Result<VideoRow> GetVideo(int64_t id);  // NotFound when absent
  // Newest first; task_id "" means all tasks; limit clamped to [1, 500].
  Result<std::vector<VideoRow>> ListVideos(const std::string& task_id, int limit);
  Result<std::vector<ClipRow>> GetClips(int64_t video_id);
  // Videos of a task that have embeddings, oldest first.
  Result<std::vector<VideoRow>> VideosOfTask(const std::string& task_id);
  Result<int64_t> TotalClips();
  // Deletes the video and its clips in one transaction; jobs that refer to
  // it keep their rows (their video references become NULL).
  Status DeleteVideo(int64_t id);
  // Another row still using this raw file, embedding file (a video's, or
  // an adapted one of an index version) or adapter file, or an unfinished
  // job (queued, running, or dead: an operator may requeue it) its upload?
  Result<bool> PathInUse(const std::string& relative_path);
  // Blob lifetime, decided here and nowhere else: runs `remove` (which
  // deletes the file) only when PathInUse is false, inside one write
  // transaction. InsertJobPlacing puts an upload's file in place inside the
  // transaction that inserts its job, so a delete and an identical upload
  // that race cannot lose the upload: whichever takes the write lock second
  // sees what the first did. True when `remove` ran and succeeded.
  Result<bool> RemoveIfUnreferenced(const std::string& relative_path, const std::function<Status()>& remove);
  // Every file path the videos and index-version tables refer to (for the
  // start-up check). Job rows' result_path/summary_path are not included.
  Result<std::vector<std::string>> AllReferencedPaths();

  // ---- jobs
  Status InsertJob(const JobRow& job);  // status queued, timestamps set by the store
  // InsertJob, then `place` (putting job.file_path's file in place), in one
  // transaction: no row without its file, and no removal in between.
  Status InsertJobPlacing(const JobRow& job, const std::function<Status()>& place);
  Result<JobRow> GetJob(const std::string& id);  // NotFound when absent
  // Moves a job to `status` (running sets started_at and attempts+1;
  // completed/failed/dead/skipped set finished_at; queued sets queued_at and
  // clears the error). Fails with InvalidArgument when the job is in a final
  // state (completed, dead, skipped) or absent, so that a result is never
  // recorded twice.
  Status SetJobStatus(const std::string& id, const std::string& status, const std::string& error_message = "");
  // A dead job (out of retries) back to queued, for an operator's requeue:
  // the one way out of a final state. NotFound when `id` is not a dead job.
  Status ReviveDeadJob(const std::string& id);
  // Records outputs with status completed (or skipped) in one transaction.
  Status CompleteIngestJob(const std::string& id, int64_t video_id, const std::string& result_json);
  // Inserts the ingested video with its clips and completes the ingest job
  // `id` with it, in one transaction: a job delivered twice (the queue is at
  // least once) or found in a final state adds no video. Returns the video id.
  // With `task_embedder` set, the video goes in only while its task's
  // embedder (TaskEmbedder) is still that one; otherwise nothing is written
  // and the result is Unavailable (a re-embed switched the task meanwhile:
  // embed again with the new one).
  Result<int64_t> CompleteIngestJobWithVideo(const std::string& id, const VideoRow& video,
                                             const std::vector<ClipRow>& clips, const std::string& result_json,
                                             const std::optional<std::string>& task_embedder = std::nullopt);
  // The gold a score settled on, with the SOP version it used with that
  // gold (none: the steps found in it).
  struct ScoredGold {
    int64_t gold_video_id = 0;
    std::optional<int64_t> sop_version;
  };
  // With `gold`, the row's gold_video_id and sop_version become its (a
  // score against the closest of several golds); otherwise they stay.
  Status CompleteScoreJob(const std::string& id, double score, const std::string& result_path,
                          const std::string& result_json, const std::optional<ScoredGold>& gold = std::nullopt);
  Status CompleteTrainingJob(const std::string& id, const std::string& status, const std::string& summary_path,
                             const std::string& result_json);
  // Jobs in `status` of `kind`, oldest first (limit clamped to [1, 10000]).
  Result<std::vector<JobRow>> JobsWithStatus(JobKind kind, const std::string& status, int limit);
  // Per kind, count per status (only statuses present) — for /ops/queue.
  Result<std::vector<std::pair<std::string, int64_t>>> JobStatusCounts(JobKind kind);

  // ---- audit (append-only: the table refuses UPDATE and DELETE)
  Status AppendAudit(const std::string& actor, const std::string& action, const std::string& subject,
                     const std::string& detail_json);
  // Newest first, limit clamped to [1, 5000].
  Result<std::vector<AuditEntry>> AuditTrail(int limit);

  // ---- SOP definitions (store/sop_versions.cc)
  // Writes the task's next version (1 for the first) and returns its number.
  // `definition_json` must be a JSON object; it is stored as given.
  Result<int64_t> AppendSopVersion(const std::string& task_id, std::optional<int64_t> gold_video_id,
                                   const std::string& definition_json, const std::string& created_by);
  // `version` 0: the latest. NotFound when the task has none (or not that one).
  Result<SopVersionRow> GetSopVersion(const std::string& task_id, int64_t version);

  // ---- task settings and the webhook outbox (store/webhooks.cc)
  // The task's settings; the defaults (task_id set, nothing else) when it
  // has none.
  Result<TaskSettingsRow> GetTaskSettings(const std::string& task_id);
  // Sets the task's webhook (url must not be empty; secret may be), keeping
  // its other settings.
  Status PutTaskWebhook(const std::string& task_id, const std::string& url, const std::string& secret,
                        const std::string& actor);
  // Removes the task's webhook; NotFound when it had none.
  Status ClearTaskWebhook(const std::string& task_id, const std::string& actor);
  Status SetTaskAutoScore(const std::string& task_id, bool on, const std::string& actor);
  // Takes the oldest due delivery (pending, next_attempt_at <= now, no live
  // lease) for `holder` until now + lease_sec and counts an attempt, in one
  // write transaction, so two processes never send one delivery at once.
  // nullopt when none is due. `now` is the caller's Unix clock.
  Result<std::optional<WebhookDeliveryRow>> ClaimWebhookDelivery(const std::string& holder, double now,
                                                                 double lease_sec);
  // Records the outcome of `holder`'s attempt at delivery `seq`: `status`
  // pending (retry at next_attempt_at), delivered, failed or skipped; the
  // payload is kept from the first attempt, the url is the latest. InvalidArgument when the
  // lease was lost (another holder has it now: its outcome counts).
  struct WebhookOutcome {
    std::string status;
    std::string url, payload;
    std::optional<int> http_status;
    std::string error;
    double next_attempt_at = 0;
  };
  Status RecordWebhookAttempt(int64_t seq, const std::string& holder, const WebhookOutcome& outcome);
  // The deliveries of one job ("": every job), newest first.
  Result<std::vector<WebhookDeliveryRow>> ListWebhookDeliveries(const std::string& job_id, int limit);
  // Deletes finished deliveries (not pending) finished before `before` (a
  // timestamp); returns how many.
  Result<int64_t> PruneWebhookDeliveries(const std::string& before);

  // ---- score history (store/score_history.cc)
  Result<ScorePage> ListScores(const ScoreQuery& query);

  // ---- index versions (training; see doc/architecture.md, "Training")
  // A task's current version is 0 until its first training: its videos'
  // raw embeddings are the effective ones. Version N >= 1 has an adapter
  // file and, per video, an adapted embedding file built before N became
  // current; a video ingested after N was built has none (its effective
  // embedding is the adapter applied to its raw one).

  // Every task with ingested videos, and how many of them are gold.
  Result<std::vector<std::pair<std::string, int>>> TaskGoldCounts();
  // Takes the task's next version number (one more than any it ever had),
  // not current; its adapter path is set afterwards.
  Result<int64_t> ReserveIndexVersion(const std::string& task_id, const std::string& training_job_id);
  Status SetIndexVersionAdapter(const std::string& task_id, int64_t version, const std::string& adapter_path);
  // Records the video's adapted embedding file in a version (replacing one
  // recorded before for that version).
  Status PutVersionEmbedding(int64_t video_id, const std::string& task_id, int64_t version,
                             const std::string& embedding_path);
  // The same, only while `version` is the task's current one (ingest-time
  // catch-up); false when it is not (nothing recorded).
  Result<bool> PutVersionEmbeddingIfCurrent(int64_t video_id, const std::string& task_id, int64_t version,
                                            const std::string& embedding_path);
  struct VersionSwitch {
    bool switched = false;  // false: a newer version was current already
    int64_t previous = 0;   // the version current before (0: none)
  };
  // Makes `version` the task's current one, in one transaction, if it is
  // newer than the current one (versions never go back).
  Result<VersionSwitch> SwitchIndexVersion(const std::string& task_id, int64_t version);
  Result<int64_t> CurrentIndexVersion(const std::string& task_id);
  // Videos of the task with embeddings and no adapted file in `version`.
  Result<std::vector<VideoRow>> VideosMissingFromVersion(const std::string& task_id, int64_t version);
  // Deletes the task's versions below the current one except the newest
  // `keep_previous` of them, with their rows, in one transaction; returns
  // the files (adapted embeddings, adapters) no row refers to any more.
  Result<std::vector<std::string>> DropOldIndexVersions(const std::string& task_id, int keep_previous);
  // ---- re-embedding (see doc/architecture.md, "Re-embedding a task")
  // The embedder a task was switched to by a re-embed; "" when it never was
  // (its videos use the service's SOPILOT_EMBEDDER).
  Result<std::string> TaskEmbedder(const std::string& task_id);
  // The newest version reserved by training job `job_id` for `task_id`, or 0
  // (a retried job reuses its version instead of reserving another).
  Result<int64_t> IndexVersionOfJob(const std::string& task_id, const std::string& job_id);
  // One video embedded again: the file it was embedded from (the guard), its
  // new embedding file and clips.
  struct ReembeddedVideo {
    int64_t video_id = 0;
    std::string old_embedding_path;
    std::string embedding_path, embedding_model;
    double sampled_fps = 0;
    std::vector<ClipRow> clips;
  };
  struct EmbedderSwitch {
    bool switched = false;
    int64_t previous = 0;  // the version current before (0: none)
    // Videos of the task now not in `videos`, or whose embedding file is no
    // longer the one they were re-embedded from: nothing was switched.
    std::vector<int64_t> missing;
    // Embedding files the switched videos used before (the caller removes
    // those PathInUse no longer reports).
    std::vector<std::string> replaced_paths;
  };
  // In one transaction: when `version` is newer than the task's current one
  // and `videos` covers every video of the task with embeddings (as they are
  // now), points each video at its new embedding file, model and clips,
  // records `embedder` as the task's (and the version's) embedder, and makes
  // `version` current. Otherwise changes nothing and says why (`switched`
  // false with `previous` >= `version`, or `missing` not empty).
  Result<EmbedderSwitch> SwitchTaskEmbedder(const std::string& task_id, int64_t version, const std::string& embedder,
                                            const std::vector<ReembeddedVideo>& videos);

  // The adapted files recorded for a video in any version (for deletes).
  Result<std::vector<std::string>> VersionPathsOfVideo(int64_t video_id);

  // What a score job or a search reads for one video: resolved for several
  // videos in one statement, so that all come from one and the same index
  // version of their task whatever a training switches meanwhile.
  struct EffectiveEmbedding {
    VideoRow video;
    int64_t index_version = 0;  // the task's current version (0: raw)
    std::string adapter_path;   // that version's adapter ("" at 0)
    std::string adapted_path;   // this video's file in that version ("" when not built)
  };
  // In the order of `video_ids`; NotFound naming the first absent id.
  Result<std::vector<EffectiveEmbedding>> ResolveEmbeddings(const std::vector<int64_t>& video_ids);
  // Every video of the task with embeddings, oldest first.
  Result<std::vector<EffectiveEmbedding>> ResolveTaskEmbeddings(const std::string& task_id);

  // ---- what the training job and the nightly schedule ask
  // Videos created strictly after `since` (an ISO timestamp; "" = all).
  Result<int64_t> CountVideosCreatedAfter(const std::string& since);
  // finished_at of the latest completed training job, re-embeds aside
  // ("" when none).
  Result<std::string> LastCompletedTrainingFinishedAt();

  // ---- leases (one holder at a time across every process on the file)
  // Takes `name` for `holder` until now + ttl when it is free, expired or
  // already `holder`'s (a renewal), in one statement; true when `holder`
  // holds it afterwards. `now` is the caller's Unix clock.
  Result<bool> AcquireLease(const std::string& name, const std::string& holder, double now, double ttl);
  Status ReleaseLease(const std::string& name, const std::string& holder);
  struct LeaseRow {
    std::string holder;  // "" when nobody ever held it
    double expires_at = 0;
  };
  Result<LeaseRow> GetLease(const std::string& name);
  // Records that `slot` fired; false when it had been claimed already.
  Result<bool> ClaimSchedulerSlot(const std::string& slot, const std::string& holder);

  // The operations (statements, transactions) that waited on another
  // connection's lock, and their waits (sopilot_database_locked_errors_total,
  // sopilot_database_lock_wait_seconds).
  LockWaits* lock_waits() { return &lock_waits_; }

 private:
  MetadataStore(sqlite3* db, Env* env, std::string path);
  Status Migrate();  // called by Open, before the store is shared
  std::string Now();

  sqlite3* db_;
  Env* env_;
  std::string path_;
  std::mutex mu_;
  int schema_version_ = 0;  // set by Migrate
  LockWaits lock_waits_;
  std::atomic<bool> corrupt_{false};  // a statement met SQLITE_CORRUPT / SQLITE_NOTADB
};

// "2026-02-08T09:45:59+00:00" for a Unix time.
std::string IsoTimestamp(double unix_seconds);
// The inverse of IsoTimestamp for what it writes ("YYYY-MM-DDTHH:MM:SS+00:00");
// nullopt for anything else.
std::optional<double> UnixFromIsoTimestamp(const std::string& iso);
// A random UUID4 string.
std::string NewUuid4();

}  // namespace sopilot
