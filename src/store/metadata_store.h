// MetadataStore: SOPilot's metadata — videos, clips, jobs of the three
// kinds, and an append-only audit log — behind one contract with two
// implementations: SQLite (store/sqlite_metadata_store.h, the embedded
// default: one file in the data directory) and PostgreSQL
// (store/pg_metadata_store.h, `SOPILOT_DATABASE_URL=postgresql://...`).
//
// Open migrates the database to the current schema version
// (schema_migrations table; each migration runs in one transaction, and
// processes starting together migrate once). Every method is safe to call
// from several threads; several processes may share one database. The
// guarantees the comments below state (one statement or one transaction,
// guarded state changes, one lease holder) hold across processes on both
// backends. A write that cannot get a lock in time fails with
// IOError("database is locked"); each operation that waited on another
// connection's lock is recorded in lock_waits() for the metrics. A lost
// connection to a database server is Unavailable (or IOError) with the
// server's message; the next call connects again.
//
// Timestamps are ISO-8601 UTC with "+00:00", as the Python original wrote
// them, on both backends (the API's output does not depend on the backend).
// Job ids are UUID4 strings. Paths are relative to the data directory.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/lock_waits.h"
#include "base/status.h"
#include "store/job_kind.h"

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

// The audit row a change writes in its own transaction, so that a change
// that happened never lacks its record and one that did not happen has none:
// a job's insertion ("job.queued"), change of state ("job.running",
// "job.failed", "job.dead", "job.retrying", "job.requeued") or completion
// ("job.completed", "job.skipped"), subject the job's id; a video's deletion
// ("video.deleted"), subject the video's id; an SOP version saved
// ("sop.saved") or a task's setting changed ("task.webhook_set",
// "task.webhook_removed", "task.auto_score_set") or its videos switched to
// another embedder ("task.reembedded"), subject the task's id.
// An ingest's completion adds
// "video_id" (the video it inserted) to the detail, an SOP's save "version".
struct AuditRecord {
  std::string actor = "system";
  std::string action = "job.completed";
  std::string detail_json = "{}";  // a JSON object
};

class MetadataStore {
 public:
  // Opens and migrates the store `path_or_url` names: a PostgreSQL
  // connection URL ("postgresql://..." or "postgres://...", libpq's form;
  // the database must exist) or else the path of an SQLite file (created
  // when absent). `env` supplies the clock and must outlive the store.
  // `pg_connections`: how many connections a PostgreSQL store may open at
  // most, for calls that overlap (>= 1; SQLite ignores it).
  static Result<std::unique_ptr<MetadataStore>> Open(const std::string& path_or_url, Env* env,
                                                     int pg_connections = kDefaultPgConnections);
  static constexpr int kDefaultPgConnections = 4;
  // True when `path_or_url` names a PostgreSQL database.
  static bool IsPostgresUrl(const std::string& path_or_url);
  virtual ~MetadataStore() = default;

  // "sqlite" or "postgresql".
  virtual const char* backend() const = 0;

  virtual int schema_version() const = 0;
  // A cheap query that fails when the database is unusable (health checks).
  // SQLite: once any statement has met a damaged page (SQLITE_CORRUPT), Ping
  // fails with Corruption for the rest of the process's life: a store that
  // is known to be damaged is not healthy, whichever page a request touches.
  virtual Status Ping() = 0;
  // SQLite: PRAGMA quick_check: every page and record of the file is read
  // and checked (not the indexes against the tables), in time proportional
  // to the file's size. Corruption naming the file and the first problem, or
  // OK. PostgreSQL checks its own pages (data checksums, WAL): there this is
  // Ping.
  virtual Status QuickCheck() = 0;
  // The same check on a read-only connection of its own, for a periodic
  // check while serving: writers and readers go on meanwhile. Damage found
  // makes Ping fail from then on, as a damaged page met by a query does.
  // PostgreSQL: Ping.
  virtual Status BackgroundQuickCheck() = 0;

  // ---- videos and clips
  // Inserts the video (id assigned) and its clips in one transaction.
  virtual Result<int64_t> InsertVideo(const VideoRow& video, const std::vector<ClipRow>& clips) = 0;
  virtual Result<VideoRow> GetVideo(int64_t id) = 0;  // NotFound when absent
  // Newest first; task_id "" means all tasks; limit clamped to [1, 500].
  virtual Result<std::vector<VideoRow>> ListVideos(const std::string& task_id, int limit) = 0;
  virtual Result<std::vector<ClipRow>> GetClips(int64_t video_id) = 0;
  // Videos of a task that have embeddings, oldest first.
  virtual Result<std::vector<VideoRow>> VideosOfTask(const std::string& task_id) = 0;
  virtual Result<int64_t> TotalClips() = 0;
  // Deletes the video and its clips in one transaction; jobs that refer to
  // it keep their rows (their video references become NULL). Given `audit`,
  // writes it in the same transaction. NotFound when there is no such video.
  virtual Status DeleteVideo(int64_t id, const std::optional<AuditRecord>& audit = std::nullopt) = 0;
  // Another row still using this raw file, embedding file (a video's, or
  // an adapted one of an index version) or adapter file, or an unfinished
  // job (queued, running, or dead: an operator may requeue it) its upload?
  virtual Result<bool> PathInUse(const std::string& relative_path) = 0;
  // Blob lifetime, decided here and nowhere else: runs `remove` (which
  // deletes the file) only when PathInUse is false, inside one write
  // transaction. InsertJobPlacing puts an upload's file in place inside the
  // transaction that inserts its job, so a delete and an identical upload
  // that race cannot lose the upload: whichever takes the write lock second
  // sees what the first did. True when `remove` ran and succeeded.
  virtual Result<bool> RemoveIfUnreferenced(const std::string& relative_path, const std::function<Status()>& remove) = 0;
  // Every file path the videos and index-version tables refer to (for the
  // start-up check). Job rows' result_path/summary_path are not included.
  virtual Result<std::vector<std::string>> AllReferencedPaths() = 0;

  // ---- jobs
  // Status queued, timestamps set by the store; with `audit`, its row is
  // written in the same transaction (neither is written without the other).
  virtual Status InsertJob(const JobRow& job, const std::optional<AuditRecord>& audit = std::nullopt) = 0;
  // InsertJob, then `place` (putting job.file_path's file in place), in one
  // transaction: no row without its file, and no removal in between.
  virtual Status InsertJobPlacing(const JobRow& job, const std::function<Status()>& place,
                                  const std::optional<AuditRecord>& audit = std::nullopt) = 0;
  virtual Result<JobRow> GetJob(const std::string& id) = 0;  // NotFound when absent
  // Moves a job to `status` (running sets started_at and attempts+1;
  // completed/failed/dead/skipped set finished_at; queued sets queued_at and
  // clears the error). Fails with InvalidArgument when the job is in a final
  // state (completed, dead, skipped) or absent, so that a result is never
  // recorded twice. Given `audit` ("job.running", "job.failed", ...), writes
  // that row in the same transaction: both or neither.
  virtual Status SetJobStatus(const std::string& id, const std::string& status, const std::string& error_message = "",
                              const std::optional<AuditRecord>& audit = std::nullopt) = 0;
  // A dead job (out of retries) back to queued, for an operator's requeue:
  // the one way out of a final state. NotFound when `id` is not a dead job.
  // Given `audit` ("job.requeued"), writes it in the same transaction.
  virtual Status ReviveDeadJob(const std::string& id, const std::optional<AuditRecord>& audit = std::nullopt) = 0;
  // Records outputs with status completed (or skipped) in one transaction.
  // Each Complete*Job given `audit` writes that row in the same transaction.
  virtual Status CompleteIngestJob(const std::string& id, int64_t video_id, const std::string& result_json) = 0;
  // Inserts the ingested video with its clips and completes the ingest job
  // `id` with it, in one transaction: a job delivered twice (the queue is at
  // least once) or found in a final state adds no video. Returns the video id.
  // With `task_embedder` set, the video goes in only while its task's
  // embedder (TaskEmbedder) is still that one; otherwise nothing is written
  // and the result is Unavailable (a re-embed switched the task meanwhile:
  // embed again with the new one).
  virtual Result<int64_t> CompleteIngestJobWithVideo(const std::string& id, const VideoRow& video,
                                             const std::vector<ClipRow>& clips, const std::string& result_json,
                                             const std::optional<std::string>& task_embedder = std::nullopt,
                                             const std::optional<AuditRecord>& audit = std::nullopt) = 0;
  // The gold a score settled on, with the SOP version it used with that
  // gold (none: the steps found in it).
  struct ScoredGold {
    int64_t gold_video_id = 0;
    std::optional<int64_t> sop_version;
  };
  // With `gold`, the row's gold_video_id and sop_version become its (a
  // score against the closest of several golds); otherwise they stay.
  // (Callers without a gold use the overload below.)
  virtual Status CompleteScoreJob(const std::string& id, double score, const std::string& result_path,
                                  const std::string& result_json, const std::optional<ScoredGold>& gold,
                                  const std::optional<AuditRecord>& audit = std::nullopt) = 0;
  Status CompleteScoreJob(const std::string& id, double score, const std::string& result_path,
                          const std::string& result_json) {
    return CompleteScoreJob(id, score, result_path, result_json, std::nullopt);
  }
  virtual Status CompleteTrainingJob(const std::string& id, const std::string& status, const std::string& summary_path,
                             const std::string& result_json,
                             const std::optional<AuditRecord>& audit = std::nullopt) = 0;
  // Jobs in `status` of `kind`, oldest first (limit clamped to [1, 10000]).
  virtual Result<std::vector<JobRow>> JobsWithStatus(JobKind kind, const std::string& status, int limit) = 0;
  // Per kind, count per status (only statuses present) — for /ops/queue.
  virtual Result<std::vector<std::pair<std::string, int64_t>>> JobStatusCounts(JobKind kind) = 0;

  // ---- audit (append-only: the table refuses UPDATE and DELETE)
  virtual Status AppendAudit(const std::string& actor, const std::string& action, const std::string& subject,
                     const std::string& detail_json) = 0;
  // Newest first, limit clamped to [1, 5000].
  virtual Result<std::vector<AuditEntry>> AuditTrail(int limit) = 0;

  // ---- SOP definitions (store/sop_versions.cc)
  // Writes the task's next version (1 for the first) and returns its number.
  // `definition_json` must be a JSON object; it is stored as given. `audit`
  // ("sop.saved"), when given, is written in the same transaction, subject
  // the task, with "version" added to its detail: a row that cannot be
  // written saves no version.
  virtual Result<int64_t> AppendSopVersion(const std::string& task_id, std::optional<int64_t> gold_video_id,
                                   const std::string& definition_json, const std::string& created_by,
                                   const std::optional<AuditRecord>& audit = std::nullopt) = 0;
  // `version` 0: the latest. NotFound when the task has none (or not that one).
  virtual Result<SopVersionRow> GetSopVersion(const std::string& task_id, int64_t version) = 0;

  // ---- task settings and the webhook outbox (store/webhooks.cc)
  // The task's settings; the defaults (task_id set, nothing else) when it
  // has none.
  virtual Result<TaskSettingsRow> GetTaskSettings(const std::string& task_id) = 0;
  // Each change below writes `audit`, when given, in its own transaction:
  // a change whose row cannot be written is not made.
  // Sets the task's webhook (url must not be empty; secret may be), keeping
  // its other settings.
  virtual Status PutTaskWebhook(const std::string& task_id, const std::string& url, const std::string& secret,
                                const std::string& actor, const std::optional<AuditRecord>& audit = std::nullopt) = 0;
  // Removes the task's webhook; NotFound when it had none (and no row).
  virtual Status ClearTaskWebhook(const std::string& task_id, const std::string& actor,
                                  const std::optional<AuditRecord>& audit = std::nullopt) = 0;
  virtual Status SetTaskAutoScore(const std::string& task_id, bool on, const std::string& actor,
                                  const std::optional<AuditRecord>& audit = std::nullopt) = 0;
  // Takes the oldest due delivery (pending, next_attempt_at <= now, no live
  // lease) for `holder` until now + lease_sec and counts an attempt, in one
  // write transaction, so two processes never send one delivery at once.
  // nullopt when none is due. `now` is the caller's Unix clock.
  virtual Result<std::optional<WebhookDeliveryRow>> ClaimWebhookDelivery(const std::string& holder, double now,
                                                                 double lease_sec) = 0;
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
  virtual Status RecordWebhookAttempt(int64_t seq, const std::string& holder, const WebhookOutcome& outcome) = 0;
  // The deliveries of one job ("": every job), newest first.
  virtual Result<std::vector<WebhookDeliveryRow>> ListWebhookDeliveries(const std::string& job_id, int limit) = 0;
  // Deletes finished deliveries (not pending) finished before `before` (a
  // timestamp); returns how many.
  virtual Result<int64_t> PruneWebhookDeliveries(const std::string& before) = 0;

  // ---- score history (store/score_history.cc)
  virtual Result<ScorePage> ListScores(const ScoreQuery& query) = 0;

  // ---- index versions (training; see doc/architecture.md, "Training")
  // A task's current version is 0 until its first training: its videos'
  // raw embeddings are the effective ones. Version N >= 1 has an adapter
  // file and, per video, an adapted embedding file built before N became
  // current; a video ingested after N was built has none (its effective
  // embedding is the adapter applied to its raw one).

  // Every task with ingested videos, and how many of them are gold.
  virtual Result<std::vector<std::pair<std::string, int>>> TaskGoldCounts() = 0;
  // Takes the task's next version number (one more than any it ever had),
  // not current; its adapter path is set afterwards.
  virtual Result<int64_t> ReserveIndexVersion(const std::string& task_id, const std::string& training_job_id) = 0;
  virtual Status SetIndexVersionAdapter(const std::string& task_id, int64_t version, const std::string& adapter_path) = 0;
  // Records the video's adapted embedding file in a version (replacing one
  // recorded before for that version).
  virtual Status PutVersionEmbedding(int64_t video_id, const std::string& task_id, int64_t version,
                             const std::string& embedding_path) = 0;
  // The same, only while `version` is the task's current one (ingest-time
  // catch-up); false when it is not (nothing recorded).
  virtual Result<bool> PutVersionEmbeddingIfCurrent(int64_t video_id, const std::string& task_id, int64_t version,
                                            const std::string& embedding_path) = 0;
  struct VersionSwitch {
    bool switched = false;  // false: a newer version was current already
    int64_t previous = 0;   // the version current before (0: none)
  };
  // Makes `version` the task's current one, in one transaction, if it is
  // newer than the current one (versions never go back).
  virtual Result<VersionSwitch> SwitchIndexVersion(const std::string& task_id, int64_t version) = 0;
  virtual Result<int64_t> CurrentIndexVersion(const std::string& task_id) = 0;
  // Videos of the task with embeddings and no adapted file in `version`.
  virtual Result<std::vector<VideoRow>> VideosMissingFromVersion(const std::string& task_id, int64_t version) = 0;
  // Deletes the task's versions below the current one except the newest
  // `keep_previous` of them, with their rows, in one transaction; returns
  // the files (adapted embeddings, adapters) no row refers to any more.
  virtual Result<std::vector<std::string>> DropOldIndexVersions(const std::string& task_id, int keep_previous) = 0;
  // ---- re-embedding (see doc/architecture.md, "Re-embedding a task")
  // The embedder a task was switched to by a re-embed; "" when it never was
  // (its videos use the service's SOPILOT_EMBEDDER).
  virtual Result<std::string> TaskEmbedder(const std::string& task_id) = 0;
  // The newest version reserved by training job `job_id` for `task_id`, or 0
  // (a retried job reuses its version instead of reserving another).
  virtual Result<int64_t> IndexVersionOfJob(const std::string& task_id, const std::string& job_id) = 0;
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
  // `version` current, with `audit` (when given; subject the task, the
  // version it replaced added as "old_index_version"). Otherwise changes
  // nothing, writes no row and says why (`switched` false with `previous` >=
  // `version`, or `missing` not empty).
  virtual Result<EmbedderSwitch> SwitchTaskEmbedder(const std::string& task_id, int64_t version, const std::string& embedder,
                                                    const std::vector<ReembeddedVideo>& videos,
                                                    const std::optional<AuditRecord>& audit = std::nullopt) = 0;

  // The adapted files recorded for a video in any version (for deletes).
  virtual Result<std::vector<std::string>> VersionPathsOfVideo(int64_t video_id) = 0;

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
  virtual Result<std::vector<EffectiveEmbedding>> ResolveEmbeddings(const std::vector<int64_t>& video_ids) = 0;
  // Every video of the task with embeddings, oldest first.
  virtual Result<std::vector<EffectiveEmbedding>> ResolveTaskEmbeddings(const std::string& task_id) = 0;

  // ---- what the training job and the nightly schedule ask
  // Videos created strictly after `since` (an ISO timestamp; "" = all).
  virtual Result<int64_t> CountVideosCreatedAfter(const std::string& since) = 0;
  // finished_at of the latest completed training job, re-embeds aside
  // ("" when none).
  virtual Result<std::string> LastCompletedTrainingFinishedAt() = 0;

  // ---- leases (one holder at a time across every process on the database)
  // Takes `name` for `holder` until now + ttl when it is free, expired or
  // already `holder`'s (a renewal), in one statement; true when `holder`
  // holds it afterwards. `now` is the caller's Unix clock.
  virtual Result<bool> AcquireLease(const std::string& name, const std::string& holder, double now, double ttl) = 0;
  virtual Status ReleaseLease(const std::string& name, const std::string& holder) = 0;
  struct LeaseRow {
    std::string holder;  // "" when nobody ever held it
    double expires_at = 0;
  };
  virtual Result<LeaseRow> GetLease(const std::string& name) = 0;
  // Records that `slot` fired; false when it had been claimed already.
  virtual Result<bool> ClaimSchedulerSlot(const std::string& slot, const std::string& holder) = 0;
  // Runs `body` while holding the database-wide lock `name`: across every
  // process on the database, one runs it at a time and the others wait (the
  // start-up repair). PostgreSQL: a session-level advisory lock on a
  // connection of its own, so `body` may use the store. SQLite: the file has
  // one host and this runs `body` (the repair is idempotent there). The
  // status is body's, or why the lock could not be taken.
  virtual Status RunExclusively(const std::string& name, const std::function<Status()>& body) = 0;

  // The operations (statements, transactions) that waited on another
  // connection's lock, and their waits (sopilot_database_locked_errors_total,
  // sopilot_database_lock_wait_seconds).
  LockWaits* lock_waits() { return &lock_waits_; }

 protected:
  MetadataStore() = default;
  LockWaits lock_waits_;
};

// "2026-02-08T09:45:59+00:00" for a Unix time.
std::string IsoTimestamp(double unix_seconds);
// The inverse of IsoTimestamp for what it writes ("YYYY-MM-DDTHH:MM:SS+00:00");
// nullopt for anything else.
std::optional<double> UnixFromIsoTimestamp(const std::string& iso);
// A random UUID4 string.
std::string NewUuid4();

}  // namespace sopilot
