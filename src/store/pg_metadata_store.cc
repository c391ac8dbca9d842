#include "store/pg_metadata_store.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <utility>

#include "store/pg_statement.h"
#include "store/sqlite_statement.h"  // CheckJsonObject
#include "store/store_rows.h"

namespace sopilot {

using namespace store_detail;  // the libpq helpers and row readers of the stores

namespace {

// ---------------------------------------------------------------- schema

struct Migration {
  int version;
  const char* sql;  // several statements, run in one transaction
};

// The schema of the SQLite store (sqlite_metadata_store.cc), migration for
// migration, in PostgreSQL's words: BIGSERIAL for AUTOINCREMENT, DOUBLE
// PRECISION for REAL, PL/pgSQL triggers for SQLite's. Timestamps stay ISO
// text. Optional text columns hold NULL rather than ''.
constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE videos (
  id BIGSERIAL PRIMARY KEY,
  task_id TEXT NOT NULL,
  role TEXT NOT NULL,
  site_id TEXT,
  camera_id TEXT,
  operator_id_hash TEXT,
  file_name TEXT NOT NULL,
  file_path TEXT NOT NULL,
  content_sha256 TEXT NOT NULL,
  embedding_path TEXT,
  embedding_model TEXT,
  num_clips INTEGER NOT NULL DEFAULT 0,
  duration_sec DOUBLE PRECISION NOT NULL DEFAULT 0,
  source_fps DOUBLE PRECISION NOT NULL DEFAULT 0,
  sampled_fps DOUBLE PRECISION NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);
CREATE INDEX idx_videos_task ON videos(task_id);
CREATE INDEX idx_videos_file_path ON videos(file_path);
CREATE INDEX idx_videos_embedding_path ON videos(embedding_path);

CREATE TABLE clips (
  video_id BIGINT NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
  clip_idx INTEGER NOT NULL,
  start_sec DOUBLE PRECISION NOT NULL,
  end_sec DOUBLE PRECISION NOT NULL,
  UNIQUE(video_id, clip_idx)
);
CREATE INDEX idx_clips_video ON clips(video_id);

CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  -- insertion order (SQLite's rowid): ties of created_at and finished_at
  seq BIGSERIAL NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK(kind IN ('ingest','score','training')),
  status TEXT NOT NULL
      CHECK(status IN ('queued','running','completed','failed','dead','skipped')),
  requested_by TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  error_message TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  queued_at TEXT,
  started_at TEXT,
  finished_at TEXT,
  task_id TEXT,
  role TEXT,
  file_name TEXT,
  file_path TEXT,
  site_id TEXT,
  camera_id TEXT,
  operator_id_hash TEXT,
  video_id BIGINT REFERENCES videos(id) ON DELETE SET NULL,
  gold_video_id BIGINT REFERENCES videos(id) ON DELETE SET NULL,
  trainee_video_id BIGINT REFERENCES videos(id) ON DELETE SET NULL,
  score DOUBLE PRECISION,
  result_path TEXT,
  "trigger" TEXT,
  summary_path TEXT,
  result_json TEXT
);
CREATE INDEX idx_jobs_kind_status ON jobs(kind, status);
CREATE INDEX idx_jobs_video ON jobs(video_id);
CREATE INDEX idx_jobs_gold_video ON jobs(gold_video_id);
CREATE INDEX idx_jobs_trainee_video ON jobs(trainee_video_id);
CREATE INDEX idx_jobs_file_path ON jobs(file_path);

CREATE TABLE audit_log (
  seq BIGSERIAL PRIMARY KEY,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL DEFAULT '',
  detail_json TEXT NOT NULL DEFAULT '{}'
);
-- The audit trail is evidence: the database itself refuses to rewrite it,
-- whichever program connects.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
)sql"},
    {2, R"sql(
CREATE TABLE index_versions (
  task_id TEXT NOT NULL,
  version BIGINT NOT NULL CHECK(version >= 1),
  adapter_path TEXT NOT NULL DEFAULT '',
  training_job_id TEXT,
  created_at TEXT NOT NULL,
  PRIMARY KEY (task_id, version)
);
CREATE INDEX idx_index_versions_adapter ON index_versions(adapter_path);
CREATE TABLE task_index (
  task_id TEXT PRIMARY KEY,
  current_version BIGINT NOT NULL,
  switched_at TEXT NOT NULL,
  FOREIGN KEY (task_id, current_version) REFERENCES index_versions(task_id, version)
);
CREATE TABLE version_embeddings (
  video_id BIGINT NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
  task_id TEXT NOT NULL,
  version BIGINT NOT NULL,
  embedding_path TEXT NOT NULL,
  PRIMARY KEY (video_id, version),
  FOREIGN KEY (task_id, version) REFERENCES index_versions(task_id, version) ON DELETE CASCADE
);
CREATE INDEX idx_version_embeddings_version ON version_embeddings(task_id, version);
CREATE INDEX idx_version_embeddings_path ON version_embeddings(embedding_path);
CREATE INDEX idx_videos_created ON videos(created_at);

CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_at DOUBLE PRECISION NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE scheduler_slots (
  slot TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  claimed_at TEXT NOT NULL
);
)sql"},
    {3, R"sql(
ALTER TABLE jobs ADD COLUMN embedder TEXT;
ALTER TABLE task_index ADD COLUMN embedder TEXT;
ALTER TABLE index_versions ADD COLUMN embedder TEXT NOT NULL DEFAULT '';
)sql"},
    {4, R"sql(
CREATE TABLE sop_versions (
  task_id TEXT NOT NULL,
  version BIGINT NOT NULL CHECK(version >= 1),
  gold_video_id BIGINT REFERENCES videos(id) ON DELETE SET NULL,
  definition_json TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (task_id, version)
);
CREATE FUNCTION sop_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'an SOP version is never rewritten; write the next one';
END $$;
CREATE TRIGGER sop_versions_immutable
  BEFORE UPDATE OF task_id, version, definition_json, created_by, created_at ON sop_versions
  FOR EACH ROW EXECUTE FUNCTION sop_versions_immutable();
ALTER TABLE jobs ADD COLUMN sop_version BIGINT;
CREATE INDEX idx_jobs_score_history ON jobs(kind, task_id, finished_at);
)sql"},
    // The outbox row is written by the trigger in the transaction that
    // changes the job's status, whichever process or code path changes it.
    {5, R"sql(
CREATE TABLE task_settings (
  task_id TEXT PRIMARY KEY,
  webhook_url TEXT,
  webhook_secret TEXT,
  auto_score INTEGER NOT NULL DEFAULT 0 CHECK(auto_score IN (0, 1)),
  updated_by TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE webhook_deliveries (
  seq BIGSERIAL PRIMARY KEY,
  delivery_id TEXT NOT NULL UNIQUE,
  job_id TEXT NOT NULL,
  event TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK(status IN ('pending', 'delivered', 'failed', 'skipped')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at DOUBLE PRECISION NOT NULL DEFAULT 0,
  lease_holder TEXT,
  lease_until DOUBLE PRECISION,
  url TEXT,
  payload TEXT,
  last_http_status INTEGER,
  last_error TEXT,
  created_at TEXT NOT NULL,
  finished_at TEXT
);
CREATE INDEX idx_webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
CREATE INDEX idx_webhook_deliveries_job ON webhook_deliveries(job_id);
CREATE FUNCTION jobs_score_ended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO webhook_deliveries (delivery_id, job_id, event, created_at)
  VALUES (replace(gen_random_uuid()::text, '-', ''), NEW.id,
          CASE NEW.status WHEN 'completed' THEN 'score.completed' ELSE 'score.failed' END, NEW.updated_at);
  RETURN NULL;
END $$;
CREATE TRIGGER jobs_score_ended AFTER UPDATE OF status ON jobs
  FOR EACH ROW
  WHEN (NEW.kind = 'score' AND NEW.status IN ('completed', 'failed', 'dead') AND OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION jobs_score_ended();
)sql"},
    {6, R"sql(
ALTER TABLE jobs ADD COLUMN gold_selection TEXT;
)sql"},
};

constexpr int kLatestVersion = kMigrations[std::size(kMigrations) - 1].version;

// The advisory lock key of the migrations (any constant of our own).
constexpr const char* kMigrationLock = "sopilot/schema_migrations";

bool IsKnownStatus(const std::string& s) {
  return s == kJobQueued || s == kJobRunning || s == kJobCompleted || s == kJobFailed || s == kJobDead ||
         s == kJobSkipped;
}

Status CheckVideo(const VideoRow& video) {
  if (video.task_id.empty()) return Status::InvalidArgument("video: task_id is empty");
  if (video.file_path.empty()) return Status::InvalidArgument("video: file_path is empty");
  if (video.role != "gold" && video.role != "trainee" && video.role != "audit") {
    return Status::InvalidArgument("video: role must be gold, trainee or audit, not '" + video.role + "'");
  }
  return Status::Ok();
}

std::vector<VideoRow> ReadVideos(const PgResult& r) {
  std::vector<VideoRow> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(ReadVideo(PgRow(r, i)));
  return out;
}

Result<std::vector<JobRow>> ReadJobs(const PgResult& r) {
  std::vector<JobRow> out;
  for (int i = 0; i < r.rows(); ++i) {
    SOPILOT_ASSIGN_OR_RETURN(JobRow job, ReadJob(PgRow(r, i)));
    out.push_back(std::move(job));
  }
  return out;
}

std::vector<std::string> ReadTexts(const PgResult& r) {
  std::vector<std::string> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(r.Text(i, 0));
  return out;
}

// The lock keys of what writers decide about.
std::string TaskKey(const std::string& task_id) { return "task/" + task_id; }
std::string PathKey(const std::string& path) { return "path/" + path; }
std::string SopKey(const std::string& task_id) { return "sop/" + task_id; }

// A task's current index version (0 when it has none yet).
Result<int64_t> CurrentVersionOf(PgSession& db, const std::string& task_id) {
  SOPILOT_ASSIGN_OR_RETURN(PgResult r, db.Exec("SELECT current_version FROM task_index WHERE task_id = $1",
                                               PgParams().Add(task_id)));
  return r.rows() ? r.Int(0, 0) : int64_t{0};
}

// A video's clips, several rows per statement; the caller holds a
// transaction.
Status InsertClips(PgSession& db, int64_t video_id, const std::vector<ClipRow>& clips) {
  constexpr size_t kPerStatement = 1000;  // 4 parameters each, well below libpq's 65535
  for (size_t start = 0; start < clips.size(); start += kPerStatement) {
    const size_t end = std::min(clips.size(), start + kPerStatement);
    std::string sql = "INSERT INTO clips (video_id, clip_idx, start_sec, end_sec) VALUES ";
    PgParams params;
    for (size_t i = start; i < end; ++i) {
      const int n = static_cast<int>(4 * (i - start));
      if (i > start) sql += ", ";
      sql += "($" + std::to_string(n + 1) + "::bigint, $" + std::to_string(n + 2) + "::integer, $" +
             std::to_string(n + 3) + "::double precision, $" + std::to_string(n + 4) + "::double precision)";
      params.Add(video_id).Add(clips[i].clip_idx).Add(clips[i].start_sec).Add(clips[i].end_sec);
    }
    SOPILOT_RETURN_IF_ERROR(db.Exec(sql, params).status());
  }
  return Status::Ok();
}

// The video row and its clips; the caller holds a transaction.
Result<int64_t> InsertVideoRows(PgSession& db, const VideoRow& video, const std::vector<ClipRow>& clips,
                                const std::string& created_at) {
  SOPILOT_ASSIGN_OR_RETURN(
      PgResult r, db.Exec("INSERT INTO videos (task_id, role, site_id, camera_id, operator_id_hash, file_name, "
                          "file_path, content_sha256, embedding_path, embedding_model, num_clips, duration_sec, "
                          "source_fps, sampled_fps, created_at) "
                          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
                          PgParams()
                              .Add(video.task_id)
                              .Add(video.role)
                              .AddOpt(video.site_id)
                              .AddOpt(video.camera_id)
                              .AddOpt(video.operator_id_hash)
                              .Add(video.file_name)
                              .Add(video.file_path)
                              .Add(video.content_sha256)
                              .AddOpt(video.embedding_path)
                              .AddOpt(video.embedding_model)
                              .Add(video.num_clips)
                              .Add(video.duration_sec)
                              .Add(video.source_fps)
                              .Add(video.sampled_fps)
                              .Add(created_at)));
  if (r.rows() != 1) return Status::Internal("inserting a video returned no id");
  const int64_t id = r.Int(0, 0);
  SOPILOT_RETURN_IF_ERROR(InsertClips(db, id, clips));
  return id;
}

// Why an UPDATE guarded by the state machine changed nothing.
Status ExplainUnchanged(PgSession& db, const std::string& id, const std::string& wanted) {
  auto r = db.Exec("SELECT status, kind FROM jobs WHERE id = $1", PgParams().Add(id));
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return Status::InvalidArgument("job " + id + " not found");
  return Status::InvalidArgument("job " + id + " (" + r->Text(0, 1) + ") is " + r->Text(0, 0) +
                                 "; cannot move it to " + wanted);
}

Status InsertAudit(PgSession& db, const std::string& at, const std::string& actor, const std::string& action,
                   const std::string& subject, const std::string& detail_json) {
  return db
      .Exec("INSERT INTO audit_log (at, actor, action, subject, detail_json) VALUES ($1, $2, $3, $4, $5)",
            PgParams()
                .Add(at)
                .Add(actor.empty() ? std::string("anonymous") : actor)
                .Add(action)
                .Add(subject)
                .Add(detail_json.empty() ? std::string("{}") : detail_json))
      .status();
}

// A change's audit row (AuditRecord) about `subject`, inside the transaction that makes the change.
Status InsertAuditRecord(PgSession& db, const std::string& at, const std::string& subject,
                         const std::optional<AuditRecord>& audit, std::optional<int64_t> added,
                         const char* added_key = "video_id") {
  if (!audit) return Status::Ok();
  SOPILOT_ASSIGN_OR_RETURN(std::string detail, AuditRecordDetail(*audit, added, added_key));
  return InsertAudit(db, at, audit->actor, audit->action, subject, detail);
}

// PathInUse's question, inside whatever transaction `db` is in.
Result<bool> ReferencedIn(PgSession& db, const std::string& relative_path) {
  SOPILOT_ASSIGN_OR_RETURN(
      PgResult r, db.Exec("SELECT EXISTS (SELECT 1 FROM videos WHERE file_path = $1 OR embedding_path = $1) "
                          "OR EXISTS (SELECT 1 FROM version_embeddings WHERE embedding_path = $1) "
                          "OR EXISTS (SELECT 1 FROM index_versions WHERE adapter_path = $1) "
                          "OR EXISTS (SELECT 1 FROM jobs WHERE file_path = $1 "
                          "AND status IN ('queued', 'running', 'dead'))",
                          PgParams().Add(relative_path)));
  return r.rows() == 1 && r.Bool(0, 0);
}

Status InsertJobRow(PgSession& db, const JobRow& job, const std::string& now) {
  if (job.id.empty()) return Status::InvalidArgument("job: id is empty");
  SOPILOT_RETURN_IF_ERROR(CheckJsonObject(job.result_json, "job result_json"));
  auto r = db.Exec(
      "INSERT INTO jobs (id, kind, status, requested_by, attempts, error_message, created_at, "
      "updated_at, queued_at, task_id, role, file_name, file_path, site_id, camera_id, "
      "operator_id_hash, video_id, gold_video_id, trainee_video_id, score, result_path, "
      "\"trigger\", summary_path, result_json, embedder, sop_version, gold_selection) "
      "VALUES ($1, $2, 'queued', $3, 0, NULL, $4, $4, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
      "$13, $14, $15, $16, $17, $18, $19, $20, $21, $22)",
      PgParams()
          .Add(job.id)
          .Add(JobKindName(job.kind))
          .AddOpt(job.requested_by)
          .Add(now)
          .AddOpt(job.task_id)
          .AddOpt(job.role)
          .AddOpt(job.file_name)
          .AddOpt(job.file_path)
          .AddOpt(job.site_id)
          .AddOpt(job.camera_id)
          .AddOpt(job.operator_id_hash)
          .AddOpt(job.video_id)
          .AddOpt(job.gold_video_id)
          .AddOpt(job.trainee_video_id)
          .AddOpt(job.score)
          .AddOpt(job.result_path)
          .AddOpt(job.trigger)
          .AddOpt(job.summary_path)
          .AddOpt(job.result_json)
          .AddOpt(job.embedder)
          .AddOpt(job.sop_version)
          .AddOpt(job.gold_selection));
  if (!r.ok()) return r.status().WithContext("job " + job.id);
  return Status::Ok();
}



}  // namespace

// ---------------------------------------------------------------- open

namespace {
// The store's sessions record their lock waits in the store's LockWaits.
PgPoolOptions WithLockWaits(PgPoolOptions options, LockWaits* waits) {
  options.lock_waits = waits;
  return options;
}
}  // namespace

PgMetadataStore::PgMetadataStore(Env* env, std::string url, PgPoolOptions options)
    : env_(env), pool_(std::move(url), WithLockWaits(options, lock_waits())) {}

PgMetadataStore::~PgMetadataStore() = default;

Result<std::unique_ptr<PgMetadataStore>> PgMetadataStore::Open(const std::string& url, Env* env,
                                                                PgPoolOptions options) {
  if (options.max_sessions < 1) return Status::InvalidArgument("PostgreSQL connections: at least 1");
  if (options.lock_timeout_ms < 0) return Status::InvalidArgument("PostgreSQL lock timeout: 0 or more");
  std::unique_ptr<PgMetadataStore> store(new PgMetadataStore(env, url, options));
  // The first connection, made here, says at once whether the server is there.
  SOPILOT_RETURN_IF_ERROR(store->Migrate());
  return store;
}

std::string PgMetadataStore::Now() { return IsoTimestamp(env_->NowUnixSeconds()); }

const char* PgMetadataStore::backend() const { return "postgresql"; }

int PgMetadataStore::schema_version() const { return schema_version_; }

Status PgMetadataStore::Migrate() {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  PgSession& db = *lease;
  auto current_version = [&]() -> Result<int> {
    SOPILOT_ASSIGN_OR_RETURN(PgResult t, db.Exec("SELECT to_regclass('schema_migrations') IS NOT NULL"));
    if (t.rows() == 0 || !t.Bool(0, 0)) return 0;
    SOPILOT_ASSIGN_OR_RETURN(PgResult v, db.Exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
    return v.rows() ? static_cast<int>(v.Int(0, 0)) : 0;
  };
  auto too_new = [](int version) {
    return Status::Unsupported("database schema version " + std::to_string(version) +
                               " is newer than this build supports (" + std::to_string(kLatestVersion) + ")");
  };
  // Fast path without a lock: an up-to-date database is not written.
  SOPILOT_ASSIGN_OR_RETURN(int version, current_version());
  if (version > kLatestVersion) return too_new(version);
  if (version == kLatestVersion) {
    schema_version_ = version;
    return Status::Ok();
  }
  for (const Migration& m : kMigrations) {
    // Processes starting together take turns (the advisory lock), and each
    // reads the version again under it: another may have migrated since.
    Status st = db.InTransaction([&]() -> Status {
      SOPILOT_RETURN_IF_ERROR(db.LockKey(kMigrationLock));
      SOPILOT_RETURN_IF_ERROR(
          db.Exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)")
              .status());
      SOPILOT_ASSIGN_OR_RETURN(int v, current_version());
      if (v > kLatestVersion) return too_new(v);
      if (v >= m.version) return Status::Ok();
      SOPILOT_RETURN_IF_ERROR(db.Script(m.sql));
      return db.Exec("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                     PgParams().Add(m.version).Add(Now()))
          .status();
    });
    if (!st.ok()) return st.WithContext("migration " + std::to_string(m.version));
  }
  schema_version_ = kLatestVersion;
  return Status::Ok();
}

Status PgMetadataStore::Ping() {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  SOPILOT_ASSIGN_OR_RETURN(PgResult r, lease->Exec("SELECT MAX(version) FROM schema_migrations"));
  if (r.rows() != 1) return Status::Internal("ping: no row");
  return Status::Ok();
}

// PostgreSQL checks its pages itself; what is left to check is that the
// database answers.
Status PgMetadataStore::QuickCheck() { return Ping(); }

Status PgMetadataStore::BackgroundQuickCheck() { return Ping(); }

Status PgMetadataStore::RunExclusively(const std::string& name, const std::function<Status()>& body) {
  // A connection of its own: the lock is the session's, held while `body`
  // uses the store's connection, and released by closing it (also when this
  // process dies).
  PgSession locker;
  SOPILOT_RETURN_IF_ERROR(locker.Connect(pool_.url()));
  // Without lock_timeout: waiting for another process's repair is the point.
  SOPILOT_RETURN_IF_ERROR(locker.Exec("SET lock_timeout = 0").status());
  SOPILOT_RETURN_IF_ERROR(
      locker.Exec("SELECT pg_advisory_lock(hashtextextended($1::text, 0))", PgParams().Add("sopilot/" + name))
          .status());
  Status st = body();
  // Closing the connection releases the lock in any case.
  (void)locker.Exec("SELECT pg_advisory_unlock(hashtextextended($1::text, 0))", PgParams().Add("sopilot/" + name));
  return st;
}

// ---------------------------------------------------------------- videos

Result<int64_t> PgMetadataStore::InsertVideo(const VideoRow& video, const std::vector<ClipRow>& clips) {
  SOPILOT_RETURN_IF_ERROR(CheckVideo(video));
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  PgSession& db = *lease;
  const std::string created_at = video.created_at.empty() ? Now() : video.created_at;
  int64_t id = 0;
  Status st = db.InTransaction([&]() -> Status {
    SOPILOT_ASSIGN_OR_RETURN(id, InsertVideoRows(db, video, clips, created_at));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return id;
}

Result<VideoRow> PgMetadataStore::GetVideo(int64_t id) {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  SOPILOT_ASSIGN_OR_RETURN(PgResult r, lease->Exec(std::string("SELECT ") + kVideoColumns +
                                                          " FROM videos WHERE id = $1",
                                                      PgParams().Add(id)));
  if (r.rows() == 0) return Status::NotFound("video " + std::to_string(id) + " not found");
  return ReadVideo(PgRow(r, 0));
}

Result<std::vector<VideoRow>> PgMetadataStore::ListVideos(const std::string& task_id, int limit) {
  limit = std::clamp(limit, 1, 500);
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  // Ids only grow, so id order is insertion order.
  auto r = task_id.empty()
               ? lease->Exec(std::string("SELECT ") + kVideoColumns + " FROM videos ORDER BY id DESC LIMIT $1",
                                PgParams().Add(limit))
               : lease->Exec(std::string("SELECT ") + kVideoColumns +
                                    " FROM videos WHERE task_id = $1 ORDER BY id DESC LIMIT $2",
                                PgParams().Add(task_id).Add(limit));
  if (!r.ok()) return r.status();
  return ReadVideos(*r);
}

Result<std::vector<ClipRow>> PgMetadataStore::GetClips(int64_t video_id) {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  SOPILOT_ASSIGN_OR_RETURN(PgResult r, lease->Exec("SELECT video_id, clip_idx, start_sec, end_sec FROM clips "
                                                      "WHERE video_id = $1 ORDER BY clip_idx",
                                                      PgParams().Add(video_id)));
  std::vector<ClipRow> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back(ClipRow{r.Int(i, 0), static_cast<int>(r.Int(i, 1)), r.Double(i, 2), r.Double(i, 3)});
  }
  return out;
}

Result<std::vector<VideoRow>> PgMetadataStore::VideosOfTask(const std::string& task_id) {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  SOPILOT_ASSIGN_OR_RETURN(PgResult r, lease->Exec(std::string("SELECT ") + kVideoColumns +
                                                          " FROM videos WHERE task_id = $1 AND embedding_path IS NOT "
                                                          "NULL AND embedding_path != '' ORDER BY id ASC",
                                                      PgParams().Add(task_id)));
  return ReadVideos(r);
}

Result<int64_t> PgMetadataStore::TotalClips() {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  SOPILOT_ASSIGN_OR_RETURN(PgResult r, lease->Exec("SELECT COUNT(*) FROM clips"));
  return r.rows() ? r.Int(0, 0) : int64_t{0};
}

Status PgMetadataStore::DeleteVideo(int64_t id, const std::optional<AuditRecord>& audit) {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  PgSession& db = *lease;
  const std::string now = Now();
  return db.InTransaction([&]() -> Status {
    // The foreign keys delete the clips and clear the jobs' references
    // within the statement.
    SOPILOT_ASSIGN_OR_RETURN(PgResult r, db.Exec("DELETE FROM videos WHERE id = $1", PgParams().Add(id)));
    if (r.affected() == 0) return Status::NotFound("video " + std::to_string(id) + " not found");
    return InsertAuditRecord(db, now, std::to_string(id), audit, std::nullopt);
  });
}

Result<bool> PgMetadataStore::PathInUse(const std::string& relative_path) {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  return ReferencedIn(*lease, relative_path);
}

Result<bool> PgMetadataStore::RemoveIfUnreferenced(const std::string& relative_path,
                                                   const std::function<Status()>& remove) {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  PgSession& db = *lease;
  bool removed = false;
  // The path's lock: an InsertJobPlacing of the same file waits until this
  // has decided (and removed), then places the file again; or this waits
  // for it and sees its row.
  Status st = db.InTransaction([&]() -> Status {
    SOPILOT_RETURN_IF_ERROR(db.LockKey(PathKey(relative_path)));
    SOPILOT_ASSIGN_OR_RETURN(bool used, ReferencedIn(db, relative_path));
    if (used) return Status::Ok();
    SOPILOT_RETURN_IF_ERROR(remove());
    removed = true;
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return removed;
}

Result<std::vector<std::string>> PgMetadataStore::AllReferencedPaths() {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  SOPILOT_ASSIGN_OR_RETURN(PgResult r, lease->Exec("SELECT path FROM (SELECT file_path FROM videos "
                                                      "UNION SELECT embedding_path FROM videos "
                                                      "WHERE embedding_path IS NOT NULL AND embedding_path != '' "
                                                      "UNION SELECT embedding_path FROM version_embeddings "
                                                      "UNION SELECT adapter_path FROM index_versions "
                                                      "WHERE adapter_path != '') AS referenced(path) "
                                                      "ORDER BY path COLLATE \"C\""));
  return ReadTexts(r);
}

// ---------------------------------------------------------------- jobs

Status PgMetadataStore::InsertJob(const JobRow& job, const std::optional<AuditRecord>& audit) {
  return InsertJobPlacing(job, [] { return Status::Ok(); }, audit);
}

Status PgMetadataStore::InsertJobPlacing(const JobRow& job, const std::function<Status()>& place,
                                         const std::optional<AuditRecord>& audit) {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  PgSession& db = *lease;
  const std::string now = Now();
  return db.InTransaction([&]() -> Status {
    if (!job.file_path.empty()) SOPILOT_RETURN_IF_ERROR(db.LockKey(PathKey(job.file_path)));
    SOPILOT_RETURN_IF_ERROR(InsertJobRow(db, job, now));
    SOPILOT_RETURN_IF_ERROR(InsertAuditRecord(db, now, job.id, audit, std::nullopt));
    return place();
  });
}

Result<JobRow> PgMetadataStore::GetJob(const std::string& id) {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  SOPILOT_ASSIGN_OR_RETURN(PgResult r, lease->Exec(std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = $1",
                                                      PgParams().Add(id)));
  if (r.rows() == 0) return Status::NotFound("job " + id + " not found");
  return ReadJob(PgRow(r, 0));
}

Status PgMetadataStore::SetJobStatus(const std::string& id, const std::string& status,
                                     const std::string& error_message, const std::optional<AuditRecord>& audit) {
  if (!IsKnownStatus(status)) return Status::InvalidArgument("unknown job status '" + status + "'");
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  PgSession& db = *lease;
  const std::string now = Now();
  return db.InTransaction([&]() -> Status {
    // The guard is in the WHERE clause: PostgreSQL evaluates it again on the
    // newest version of a row another transaction changed meanwhile, so
    // checking the state and changing it is one step.
    SOPILOT_ASSIGN_OR_RETURN(
        PgResult r,
        db.Exec("UPDATE jobs SET status = $2::text, updated_at = $3::text, "
                "attempts = attempts + (CASE WHEN $2::text = 'running' THEN 1 ELSE 0 END), "
                "started_at = CASE WHEN $2::text = 'running' THEN $3::text ELSE started_at END, "
                "queued_at = CASE WHEN $2::text = 'queued' THEN $3::text ELSE queued_at END, "
                "finished_at = CASE WHEN $2::text IN ('completed', 'failed', 'dead', 'skipped') THEN $3::text "
                "ELSE NULL END, "
                "error_message = CASE "
                "  WHEN $2::text IN ('queued', 'completed') THEN NULL "
                "  WHEN $2::text = 'running' THEN error_message "
                "  ELSE COALESCE(NULLIF($4::text, ''), error_message) END "
                "WHERE id = $1 AND status NOT IN ('completed', 'dead', 'skipped')",
                PgParams().Add(id).Add(status).Add(now).Add(error_message)));
    if (r.affected() == 0) return ExplainUnchanged(db, id, status);
    return InsertAuditRecord(db, now, id, audit, std::nullopt);
  });
}

Status PgMetadataStore::ReviveDeadJob(const std::string& id, const std::optional<AuditRecord>& audit) {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  PgSession& db = *lease;
  const std::string now = Now();
  return db.InTransaction([&]() -> Status {
    SOPILOT_ASSIGN_OR_RETURN(PgResult r,
                             db.Exec("UPDATE jobs SET status = 'queued', updated_at = $2, queued_at = $2, "
                                     "finished_at = NULL, error_message = NULL WHERE id = $1 AND status = 'dead'",
                                     PgParams().Add(id).Add(now)));
    if (r.affected() == 0) return Status::NotFound("no dead job " + id);
    return InsertAuditRecord(db, now, id, audit, std::nullopt);
  });
}

Status PgMetadataStore::CompleteIngestJob(const std::string& id, int64_t video_id, const std::string& result_json) {
  SOPILOT_RETURN_IF_ERROR(CheckJsonObject(result_json, "job result_json"));
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  PgSession& db = *lease;
  SOPILOT_ASSIGN_OR_RETURN(
      PgResult r, db.Exec("UPDATE jobs SET status = 'completed', video_id = $2, result_json = $3, "
                          "updated_at = $4, finished_at = $4, error_message = NULL "
                          "WHERE id = $1 AND kind = 'ingest' AND status IN ('queued', 'running')",
                          PgParams().Add(id).Add(video_id).AddOpt(result_json).Add(Now())));
  if (r.affected() == 0) return ExplainUnchanged(db, id, "completed (ingest)");
  return Status::Ok();
}

Result<int64_t> PgMetadataStore::CompleteIngestJobWithVideo(const std::string& id, const VideoRow& video,
                                                            const std::vector<ClipRow>& clips,
                                                            const std::string& result_json,
                                                            const std::optional<std::string>& task_embedder,
                                                            const std::optional<AuditRecord>& audit) {
  SOPILOT_RETURN_IF_ERROR(CheckVideo(video));
  SOPILOT_RETURN_IF_ERROR(CheckJsonObject(result_json, "job result_json"));
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  PgSession& db = *lease;
  const std::string now = Now();
  const std::string created_at = video.created_at.empty() ? now : video.created_at;
  int64_t video_id = 0;
  Status st = db.InTransaction([&]() -> Status {
    // The job's row first (FOR UPDATE): a second delivery of the same job
    // waits here and then finds it completed.
    SOPILOT_ASSIGN_OR_RETURN(PgResult job,
                             db.Exec("SELECT status FROM jobs WHERE id = $1 FOR UPDATE", PgParams().Add(id)));
    (void)job;
    if (task_embedder) {
      // The task's lock: a re-embed switching it (SwitchTaskEmbedder) either
      // finished before (and is seen here) or waits and then sees this video.
      SOPILOT_RETURN_IF_ERROR(db.LockKey(TaskKey(video.task_id)));
      SOPILOT_ASSIGN_OR_RETURN(PgResult e, db.Exec("SELECT COALESCE(embedder, '') FROM task_index WHERE task_id = $1",
                                                   PgParams().Add(video.task_id)));
      const std::string now_embedder = e.rows() ? e.Text(0, 0) : std::string();
      if (now_embedder != *task_embedder) {
        return Status::Unavailable("task " + video.task_id + " was switched to embedder " + now_embedder +
                                   " during the ingest");
      }
    }
    SOPILOT_ASSIGN_OR_RETURN(video_id, InsertVideoRows(db, video, clips, created_at));
    SOPILOT_ASSIGN_OR_RETURN(
        PgResult r, db.Exec("UPDATE jobs SET status = 'completed', video_id = $2, result_json = $3, "
                            "updated_at = $4, finished_at = $4, error_message = NULL "
                            "WHERE id = $1 AND kind = 'ingest' AND status IN ('queued', 'running')",
                            PgParams().Add(id).Add(video_id).AddOpt(result_json).Add(now)));
    if (r.affected() == 0) return ExplainUnchanged(db, id, "completed (ingest)");
    return InsertAuditRecord(db, now, id, audit, video_id);
  });
  if (!st.ok()) return st;
  return video_id;
}

Status PgMetadataStore::CompleteScoreJob(const std::string& id, double score, const std::string& result_path,
                                         const std::string& result_json, const std::optional<ScoredGold>& gold,
                                         const std::optional<AuditRecord>& audit) {
  if (!std::isfinite(score)) return Status::InvalidArgument("job " + id + ": score is not finite");
  SOPILOT_RETURN_IF_ERROR(CheckJsonObject(result_json, "job result_json"));
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  PgSession& db = *lease;
  const std::string now = Now();
  return db.InTransaction([&]() -> Status {
    SOPILOT_ASSIGN_OR_RETURN(
        // $6: the gold and SOP version the score settled on replace the row's.
        PgResult r, db.Exec("UPDATE jobs SET status = 'completed', score = $2, result_path = $3, "
                            "result_json = $4, updated_at = $5, finished_at = $5, error_message = NULL, "
                            "gold_video_id = CASE WHEN $6::boolean THEN $7::bigint ELSE gold_video_id END, "
                            "sop_version = CASE WHEN $6::boolean THEN $8::bigint ELSE sop_version END "
                            "WHERE id = $1 AND kind = 'score' AND status IN ('queued', 'running')",
                            PgParams()
                                .Add(id)
                                .Add(score)
                                .AddOpt(result_path)
                                .AddOpt(result_json)
                                .Add(now)
                                .Add(std::string(gold ? "true" : "false"))
                                .AddOpt(gold ? std::optional<int64_t>(gold->gold_video_id) : std::nullopt)
                                .AddOpt(gold ? gold->sop_version : std::nullopt)));
    if (r.affected() == 0) return ExplainUnchanged(db, id, "completed (score)");
    return InsertAuditRecord(db, now, id, audit, std::nullopt);
  });
}

Status PgMetadataStore::CompleteTrainingJob(const std::string& id, const std::string& status,
                                            const std::string& summary_path, const std::string& result_json,
                                            const std::optional<AuditRecord>& audit) {
  if (status != kJobCompleted && status != kJobSkipped) {
    return Status::InvalidArgument("training job " + id + ": status must be completed or skipped, not '" + status +
                                   "'");
  }
  SOPILOT_RETURN_IF_ERROR(CheckJsonObject(result_json, "job result_json"));
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  PgSession& db = *lease;
  const std::string now = Now();
  return db.InTransaction([&]() -> Status {
    SOPILOT_ASSIGN_OR_RETURN(
        PgResult r, db.Exec("UPDATE jobs SET status = $2, summary_path = $3, result_json = $4, "
                            "updated_at = $5, finished_at = $5, error_message = NULL "
                            "WHERE id = $1 AND kind = 'training' AND status IN ('queued', 'running')",
                            PgParams().Add(id).Add(status).AddOpt(summary_path).AddOpt(result_json).Add(now)));
    if (r.affected() == 0) return ExplainUnchanged(db, id, status + " (training)");
    return InsertAuditRecord(db, now, id, audit, std::nullopt);
  });
}

Result<std::vector<JobRow>> PgMetadataStore::JobsWithStatus(JobKind kind, const std::string& status, int limit) {
  limit = std::clamp(limit, 1, 10000);
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  SOPILOT_ASSIGN_OR_RETURN(PgResult r, lease->Exec(std::string("SELECT ") + kJobColumns +
                                                          " FROM jobs WHERE kind = $1 AND status = $2 "
                                                          "ORDER BY created_at ASC, seq ASC LIMIT $3",
                                                      PgParams().Add(JobKindName(kind)).Add(status).Add(limit)));
  return ReadJobs(r);
}

Result<std::vector<std::pair<std::string, int64_t>>> PgMetadataStore::JobStatusCounts(JobKind kind) {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  SOPILOT_ASSIGN_OR_RETURN(PgResult r, lease->Exec("SELECT status, COUNT(*) FROM jobs WHERE kind = $1 "
                                                      "GROUP BY status ORDER BY status COLLATE \"C\"",
                                                      PgParams().Add(JobKindName(kind))));
  std::vector<std::pair<std::string, int64_t>> out;
  for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.Text(i, 0), r.Int(i, 1));
  return out;
}

// ---------------------------------------------------------------- audit

Status PgMetadataStore::AppendAudit(const std::string& actor, const std::string& action, const std::string& subject,
                                    const std::string& detail_json) {
  if (action.empty()) return Status::InvalidArgument("audit: action is empty");
  SOPILOT_RETURN_IF_ERROR(CheckJsonObject(detail_json, "audit detail_json"));
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  return InsertAudit(*lease, Now(), actor, action, subject, detail_json);
}

Result<std::vector<AuditEntry>> PgMetadataStore::AuditTrail(int limit) {
  limit = std::clamp(limit, 1, 5000);
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  SOPILOT_ASSIGN_OR_RETURN(PgResult r, lease->Exec("SELECT seq, at, actor, action, subject, detail_json "
                                                      "FROM audit_log ORDER BY seq DESC LIMIT $1",
                                                      PgParams().Add(limit)));
  std::vector<AuditEntry> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back(AuditEntry{r.Int(i, 0), r.Text(i, 1), r.Text(i, 2), r.Text(i, 3), r.Text(i, 4), r.Text(i, 5)});
  }
  return out;
}

// ---------------------------------------------------------------- SOP definitions

Result<int64_t> PgMetadataStore::AppendSopVersion(const std::string& task_id, std::optional<int64_t> gold_video_id,
                                                  const std::string& definition_json, const std::string& created_by,
                                                  const std::optional<AuditRecord>& audit) {
  if (task_id.empty()) return Status::InvalidArgument("SOP: task_id is empty");
  if (definition_json.empty()) return Status::InvalidArgument("SOP: the definition is empty");
  SOPILOT_RETURN_IF_ERROR(CheckJsonObject(definition_json, "SOP definition"));
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  PgSession& db = *lease;
  int64_t version = 0;
  // The task's lock, then the next number, the insert and its audit row:
  // two editors saving at once get two versions, never one number twice.
  const std::string now = Now();
  Status st = db.InTransaction([&]() -> Status {
    SOPILOT_RETURN_IF_ERROR(db.LockKey(SopKey(task_id)));
    SOPILOT_ASSIGN_OR_RETURN(
        PgResult r, db.Exec("INSERT INTO sop_versions (task_id, version, gold_video_id, definition_json, created_by, "
                            "created_at) SELECT $1::text, COALESCE(MAX(version), 0) + 1, $2::bigint, $3::text, "
                            "$4::text, $5::text FROM sop_versions WHERE task_id = $1::text RETURNING version",
                            PgParams().Add(task_id).AddOpt(gold_video_id).Add(definition_json).Add(created_by).Add(now)));
    if (r.rows() != 1) return Status::Internal("saving an SOP version returned no number");
    version = r.Int(0, 0);
    return InsertAuditRecord(db, now, task_id, audit, version, "version");
  });
  if (!st.ok()) return st;
  return version;
}

Result<SopVersionRow> PgMetadataStore::GetSopVersion(const std::string& task_id, int64_t version) {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  auto r = version > 0 ? lease->Exec("SELECT task_id, version, gold_video_id, definition_json, created_by, "
                                        "created_at FROM sop_versions WHERE task_id = $1 AND version = $2",
                                        PgParams().Add(task_id).Add(version))
                       : lease->Exec("SELECT task_id, version, gold_video_id, definition_json, created_by, "
                                        "created_at FROM sop_versions WHERE task_id = $1 ORDER BY version DESC LIMIT 1",
                                        PgParams().Add(task_id));
  if (!r.ok()) return r.status();
  if (r->rows() == 0) {
    return Status::NotFound(version > 0 ? "task " + task_id + " has no SOP version " + std::to_string(version)
                                        : "task " + task_id + " has no SOP yet");
  }
  PgRow s(*r, 0);
  SopVersionRow out;
  out.task_id = s.Text(0);
  out.version = s.Int(1);
  out.gold_video_id = s.OptInt(2);
  out.definition_json = s.Text(3);
  out.created_by = s.Text(4);
  out.created_at = s.Text(5);
  return out;
}

// ---------------------------------------------------------------- task settings and webhooks

Result<TaskSettingsRow> PgMetadataStore::GetTaskSettings(const std::string& task_id) {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  SOPILOT_ASSIGN_OR_RETURN(PgResult r, lease->Exec("SELECT webhook_url, webhook_secret, auto_score, updated_by, "
                                                      "updated_at FROM task_settings WHERE task_id = $1",
                                                      PgParams().Add(task_id)));
  TaskSettingsRow out;
  out.task_id = task_id;
  if (r.rows() == 0) return out;
  out.webhook_url = r.Text(0, 0);
  out.webhook_secret = r.Text(0, 1);
  out.auto_score = r.Int(0, 2) != 0;
  out.updated_by = r.Text(0, 3);
  out.updated_at = r.Text(0, 4);
  return out;
}

Status PgMetadataStore::PutTaskWebhook(const std::string& task_id, const std::string& url, const std::string& secret,
                                       const std::string& actor, const std::optional<AuditRecord>& audit) {
  if (task_id.empty()) return Status::InvalidArgument("task_id is empty");
  if (url.empty()) return Status::InvalidArgument("webhook url is empty");
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  PgSession& db = *lease;
  const std::string now = Now();
  return db.InTransaction([&]() -> Status {
    SOPILOT_RETURN_IF_ERROR(
        db.Exec("INSERT INTO task_settings (task_id, webhook_url, webhook_secret, updated_by, updated_at) "
                "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (task_id) DO UPDATE SET "
                "webhook_url = EXCLUDED.webhook_url, webhook_secret = EXCLUDED.webhook_secret, "
                "updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at",
                PgParams().Add(task_id).Add(url).AddOpt(secret).Add(actor).Add(now))
            .status());
    return InsertAuditRecord(db, now, task_id, audit, std::nullopt);
  });
}

Status PgMetadataStore::ClearTaskWebhook(const std::string& task_id, const std::string& actor,
                                         const std::optional<AuditRecord>& audit) {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  PgSession& db = *lease;
  const std::string now = Now();
  return db.InTransaction([&]() -> Status {
    SOPILOT_ASSIGN_OR_RETURN(
        PgResult r, db.Exec("UPDATE task_settings SET webhook_url = NULL, webhook_secret = NULL, "
                            "updated_by = $2, updated_at = $3 WHERE task_id = $1 AND webhook_url IS NOT NULL",
                            PgParams().Add(task_id).Add(actor).Add(now)));
    if (r.affected() == 0) return Status::NotFound("task " + task_id + " has no webhook");
    return InsertAuditRecord(db, now, task_id, audit, std::nullopt);
  });
}

Status PgMetadataStore::SetTaskAutoScore(const std::string& task_id, bool on, const std::string& actor,
                                         const std::optional<AuditRecord>& audit) {
  if (task_id.empty()) return Status::InvalidArgument("task_id is empty");
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  PgSession& db = *lease;
  const std::string now = Now();
  return db.InTransaction([&]() -> Status {
    SOPILOT_RETURN_IF_ERROR(
        db.Exec("INSERT INTO task_settings (task_id, auto_score, updated_by, updated_at) VALUES ($1, $2, $3, $4) "
                "ON CONFLICT (task_id) DO UPDATE SET auto_score = EXCLUDED.auto_score, "
                "updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at",
                PgParams().Add(task_id).Add(on ? 1 : 0).Add(actor).Add(now))
            .status());
    return InsertAuditRecord(db, now, task_id, audit, std::nullopt);
  });
}

Result<std::optional<WebhookDeliveryRow>> PgMetadataStore::ClaimWebhookDelivery(const std::string& holder,
                                                                                double now, double lease_sec) {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  // Choosing the row and leasing it in one statement; a row another process
  // is claiming right now is skipped (SKIP LOCKED), not waited for.
  SOPILOT_ASSIGN_OR_RETURN(
      PgResult r,
      lease->Exec(std::string("UPDATE webhook_deliveries SET lease_holder = $2, lease_until = $3, "
                                 "attempts = attempts + 1 WHERE seq = (SELECT seq FROM webhook_deliveries "
                                 "WHERE status = 'pending' AND next_attempt_at <= $1 "
                                 "AND (lease_until IS NULL OR lease_until <= $1) "
                                 "ORDER BY next_attempt_at, seq LIMIT 1 FOR UPDATE SKIP LOCKED) "
                                 "AND status = 'pending' AND (lease_until IS NULL OR lease_until <= $1) RETURNING ") +
                         kDeliveryColumns,
                     PgParams().Add(now).Add(holder).Add(now + lease_sec)));
  std::optional<WebhookDeliveryRow> out;
  if (r.rows() > 0) out = ReadDelivery(PgRow(r, 0));
  return out;
}

Status PgMetadataStore::RecordWebhookAttempt(int64_t seq, const std::string& holder, const WebhookOutcome& o) {
  if (!KnownDeliveryStatus(o.status)) return Status::InvalidArgument("unknown delivery status '" + o.status + "'");
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  SOPILOT_ASSIGN_OR_RETURN(
      PgResult r,
      lease->Exec("UPDATE webhook_deliveries SET status = $3::text, url = COALESCE($4, url), "
                     "payload = COALESCE(payload, $5), last_http_status = $6, last_error = $7, "
                     "next_attempt_at = $8, lease_holder = NULL, lease_until = NULL, "
                     "finished_at = CASE WHEN $3::text = 'pending' THEN NULL ELSE $9::text END "
                     "WHERE seq = $1 AND lease_holder = $2 AND status = 'pending'",
                     PgParams()
                         .Add(seq)
                         .Add(holder)
                         .Add(o.status)
                         .AddOpt(o.url)
                         .AddOpt(o.payload)
                         .AddOpt(o.http_status)
                         .AddOpt(o.error)
                         .Add(o.next_attempt_at)
                         .Add(Now())));
  if (r.affected() == 0) {
    return Status::InvalidArgument("webhook delivery " + std::to_string(seq) + " is no longer leased by " + holder);
  }
  return Status::Ok();
}

Result<std::vector<WebhookDeliveryRow>> PgMetadataStore::ListWebhookDeliveries(const std::string& job_id, int limit) {
  limit = std::max(1, std::min(limit, 10000));
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  SOPILOT_ASSIGN_OR_RETURN(PgResult r, lease->Exec(std::string("SELECT ") + kDeliveryColumns +
                                                          " FROM webhook_deliveries WHERE ($1::text = '' OR job_id = "
                                                          "$1::text) ORDER BY seq DESC LIMIT $2",
                                                      PgParams().Add(job_id).Add(limit)));
  std::vector<WebhookDeliveryRow> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(ReadDelivery(PgRow(r, i)));
  return out;
}

Result<int64_t> PgMetadataStore::PruneWebhookDeliveries(const std::string& before) {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  SOPILOT_ASSIGN_OR_RETURN(PgResult r, lease->Exec("DELETE FROM webhook_deliveries WHERE status != 'pending' "
                                                      "AND finished_at < $1",
                                                      PgParams().Add(before)));
  return r.affected();
}

// ---------------------------------------------------------------- score history

Result<ScorePage> PgMetadataStore::ListScores(const ScoreQuery& q) {
  const int limit = std::clamp(q.limit, 1, 10000);
  // Every filter is bound; an empty one matches everything.
  const std::string sql =
      std::string("SELECT ") + kJobColumns +
      ", seq FROM jobs WHERE kind = 'score' AND status = 'completed' "
      "AND ($1::text = '' OR task_id = $1::text) "
      "AND ($2::text = '' OR site_id = $2::text) "
      "AND ($3::text = '' OR camera_id = $3::text) "
      "AND ($4::text = '' OR operator_id_hash = $4::text) "
      "AND ($5::text = '' OR (CASE WHEN result_json IS NOT NULL AND result_json::jsonb ? 'verdict' "
      "THEN result_json::jsonb ->> 'verdict' END) = $5::text) "
      "AND ($6::text = '' OR finished_at >= $6::text) "
      "AND ($7::text = '' OR finished_at < $7::text) "
      "AND ($8::text = '' OR finished_at < $8::text OR (finished_at = $8::text AND seq < $9::bigint)) "
      "ORDER BY finished_at DESC, seq DESC LIMIT $10";
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  SOPILOT_ASSIGN_OR_RETURN(PgResult r, lease->Exec(sql, PgParams()
                                                               .Add(q.task_id)
                                                               .Add(q.site_id)
                                                               .Add(q.camera_id)
                                                               .Add(q.operator_id_hash)
                                                               .Add(q.verdict)
                                                               .Add(q.finished_from)
                                                               .Add(q.finished_before)
                                                               .Add(q.after_finished_at)
                                                               .Add(q.after_seq)
                                                               .Add(limit + 1)));
  ScorePage page;
  for (int i = 0; i < r.rows(); ++i) {
    if (static_cast<int>(page.scores.size()) == limit) {
      page.more = true;
      break;
    }
    PgRow row(r, i);
    SOPILOT_ASSIGN_OR_RETURN(JobRow job, ReadJob(row));
    page.scores.push_back(std::move(job));
    page.seqs.push_back(row.Int(kJobColumnCount));  // after the job columns
  }
  return page;
}

// ---------------------------------------------------------------- index versions

Result<std::vector<std::pair<std::string, int>>> PgMetadataStore::TaskGoldCounts() {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  SOPILOT_ASSIGN_OR_RETURN(PgResult r,
                           lease->Exec("SELECT task_id, SUM(CASE WHEN role = 'gold' THEN 1 ELSE 0 END) FROM videos "
                                          "WHERE embedding_path IS NOT NULL AND embedding_path != '' "
                                          "GROUP BY task_id ORDER BY task_id COLLATE \"C\""));
  std::vector<std::pair<std::string, int>> out;
  for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.Text(i, 0), static_cast<int>(r.Int(i, 1)));
  return out;
}

Result<int64_t> PgMetadataStore::ReserveIndexVersion(const std::string& task_id, const std::string& training_job_id) {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  PgSession& db = *lease;
  int64_t version = 0;
  // The task's lock, then the number and the row: two trainings (even in
  // two processes) never get the same one.
  Status st = db.InTransaction([&]() -> Status {
    SOPILOT_RETURN_IF_ERROR(db.LockKey(TaskKey(task_id)));
    SOPILOT_ASSIGN_OR_RETURN(
        PgResult r, db.Exec("INSERT INTO index_versions (task_id, version, adapter_path, training_job_id, created_at) "
                            "SELECT $1::text, COALESCE(MAX(version), 0) + 1, '', $2::text, $3::text "
                            "FROM index_versions WHERE task_id = $1::text RETURNING version",
                            PgParams().Add(task_id).AddOpt(training_job_id).Add(Now())));
    if (r.rows() != 1) return Status::Internal("reserving an index version returned nothing");
    version = r.Int(0, 0);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return version;
}

Status PgMetadataStore::SetIndexVersionAdapter(const std::string& task_id, int64_t version,
                                               const std::string& adapter_path) {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  SOPILOT_ASSIGN_OR_RETURN(PgResult r, lease->Exec("UPDATE index_versions SET adapter_path = $3 "
                                                      "WHERE task_id = $1 AND version = $2",
                                                      PgParams().Add(task_id).Add(version).Add(adapter_path)));
  if (r.affected() == 0) {
    return Status::NotFound("index version " + std::to_string(version) + " of task " + task_id + " not found");
  }
  return Status::Ok();
}

Status PgMetadataStore::PutVersionEmbedding(int64_t video_id, const std::string& task_id, int64_t version,
                                            const std::string& embedding_path) {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  return lease
      ->Exec("INSERT INTO version_embeddings (video_id, task_id, version, embedding_path) VALUES ($1, $2, $3, $4) "
             "ON CONFLICT (video_id, version) DO UPDATE SET embedding_path = EXCLUDED.embedding_path",
             PgParams().Add(video_id).Add(task_id).Add(version).Add(embedding_path))
      .status();
}

Result<bool> PgMetadataStore::PutVersionEmbeddingIfCurrent(int64_t video_id, const std::string& task_id,
                                                           int64_t version, const std::string& embedding_path) {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  PgSession& db = *lease;
  bool put = false;
  // Under the task's lock, so that a switch cannot pass between the check
  // and the insert.
  Status st = db.InTransaction([&]() -> Status {
    SOPILOT_RETURN_IF_ERROR(db.LockKey(TaskKey(task_id)));
    SOPILOT_ASSIGN_OR_RETURN(
        PgResult r, db.Exec("INSERT INTO version_embeddings (video_id, task_id, version, embedding_path) "
                            "SELECT $1::bigint, $2::text, $3::bigint, $4::text WHERE EXISTS (SELECT 1 FROM task_index "
                            "WHERE task_id = $2::text AND current_version = $3::bigint) "
                            "AND EXISTS (SELECT 1 FROM videos WHERE id = $1::bigint) "
                            "ON CONFLICT (video_id, version) DO NOTHING",
                            PgParams().Add(video_id).Add(task_id).Add(version).Add(embedding_path)));
    put = r.affected() > 0;
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return put;
}

Result<MetadataStore::VersionSwitch> PgMetadataStore::SwitchIndexVersion(const std::string& task_id,
                                                                         int64_t version) {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  PgSession& db = *lease;
  VersionSwitch result;
  Status st = db.InTransaction([&]() -> Status {
    SOPILOT_RETURN_IF_ERROR(db.LockKey(TaskKey(task_id)));
    SOPILOT_ASSIGN_OR_RETURN(result.previous, CurrentVersionOf(db, task_id));
    if (version <= result.previous) return Status::Ok();
    SOPILOT_RETURN_IF_ERROR(db.Exec("INSERT INTO task_index (task_id, current_version, switched_at) "
                                    "VALUES ($1, $2, $3) ON CONFLICT (task_id) DO UPDATE SET "
                                    "current_version = EXCLUDED.current_version, switched_at = EXCLUDED.switched_at",
                                    PgParams().Add(task_id).Add(version).Add(Now()))
                                .status());
    result.switched = true;
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return result;
}

Result<int64_t> PgMetadataStore::CurrentIndexVersion(const std::string& task_id) {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  return CurrentVersionOf(*lease, task_id);
}

Result<std::vector<VideoRow>> PgMetadataStore::VideosMissingFromVersion(const std::string& task_id,
                                                                        int64_t version) {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  SOPILOT_ASSIGN_OR_RETURN(PgResult r,
                           lease->Exec(std::string("SELECT ") + kVideoColumns +
                                              " FROM videos WHERE task_id = $1 AND embedding_path IS NOT NULL "
                                              "AND embedding_path != '' AND NOT EXISTS (SELECT 1 FROM "
                                              "version_embeddings ve WHERE ve.video_id = videos.id AND ve.version = "
                                              "$2) ORDER BY id ASC",
                                          PgParams().Add(task_id).Add(version)));
  return ReadVideos(r);
}

Result<std::vector<std::string>> PgMetadataStore::DropOldIndexVersions(const std::string& task_id,
                                                                       int keep_previous) {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  PgSession& db = *lease;
  std::vector<std::string> unreferenced;
  Status st = db.InTransaction([&]() -> Status {
    SOPILOT_RETURN_IF_ERROR(db.LockKey(TaskKey(task_id)));
    // Versions below the current one, newest first; the first keep_previous
    // stay. Versions above the current one are left alone.
    SOPILOT_ASSIGN_OR_RETURN(PgResult old, db.Exec("SELECT iv.version, iv.adapter_path FROM index_versions iv "
                                                   "JOIN task_index ti ON ti.task_id = iv.task_id "
                                                   "WHERE iv.task_id = $1 AND iv.version < ti.current_version "
                                                   "ORDER BY iv.version DESC OFFSET $2",
                                                   PgParams().Add(task_id).Add(std::max(keep_previous, 0))));
    std::vector<std::string> candidates;
    for (int i = 0; i < old.rows(); ++i) {
      const int64_t v = old.Int(i, 0);
      if (!old.Text(i, 1).empty()) candidates.push_back(old.Text(i, 1));
      SOPILOT_ASSIGN_OR_RETURN(PgResult files, db.Exec("SELECT embedding_path FROM version_embeddings "
                                                       "WHERE task_id = $1 AND version = $2",
                                                       PgParams().Add(task_id).Add(v)));
      for (std::string& f : ReadTexts(files)) candidates.push_back(std::move(f));
      // version_embeddings rows go with it (CASCADE).
      SOPILOT_RETURN_IF_ERROR(db.Exec("DELETE FROM index_versions WHERE task_id = $1 AND version = $2",
                                      PgParams().Add(task_id).Add(v))
                                  .status());
    }
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    for (const std::string& path : candidates) {
      SOPILOT_ASSIGN_OR_RETURN(
          PgResult used, db.Exec("SELECT EXISTS (SELECT 1 FROM videos WHERE file_path = $1 OR embedding_path = $1) "
                                 "OR EXISTS (SELECT 1 FROM version_embeddings WHERE embedding_path = $1) "
                                 "OR EXISTS (SELECT 1 FROM index_versions WHERE adapter_path = $1)",
                                 PgParams().Add(path)));
      if (used.rows() == 1 && !used.Bool(0, 0)) unreferenced.push_back(path);
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return unreferenced;
}

Result<std::string> PgMetadataStore::TaskEmbedder(const std::string& task_id) {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  SOPILOT_ASSIGN_OR_RETURN(PgResult r, lease->Exec("SELECT COALESCE(embedder, '') FROM task_index WHERE task_id = $1",
                                                      PgParams().Add(task_id)));
  return r.rows() ? r.Text(0, 0) : std::string();
}

Result<int64_t> PgMetadataStore::IndexVersionOfJob(const std::string& task_id, const std::string& job_id) {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  SOPILOT_ASSIGN_OR_RETURN(PgResult r, lease->Exec("SELECT COALESCE(MAX(version), 0) FROM index_versions "
                                                      "WHERE task_id = $1 AND training_job_id = $2",
                                                      PgParams().Add(task_id).Add(job_id)));
  return r.rows() ? r.Int(0, 0) : int64_t{0};
}

Result<MetadataStore::EmbedderSwitch> PgMetadataStore::SwitchTaskEmbedder(const std::string& task_id, int64_t version,
                                                                          const std::string& embedder,
                                                                          const std::vector<ReembeddedVideo>& videos,
                                                                          const std::optional<AuditRecord>& audit) {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  PgSession& db = *lease;
  EmbedderSwitch result;
  const std::string now = Now();
  Status st = db.InTransaction([&]() -> Status {
    // The task's lock: an ingest of the task (CompleteIngestJobWithVideo)
    // waits, and finds the new embedder.
    SOPILOT_RETURN_IF_ERROR(db.LockKey(TaskKey(task_id)));
    SOPILOT_ASSIGN_OR_RETURN(result.previous, CurrentVersionOf(db, task_id));
    if (version <= result.previous) return Status::Ok();
    SOPILOT_ASSIGN_OR_RETURN(PgResult list, db.Exec("SELECT id, embedding_path FROM videos WHERE task_id = $1 "
                                                    "AND embedding_path IS NOT NULL AND embedding_path != '' "
                                                    "ORDER BY id FOR UPDATE",
                                                    PgParams().Add(task_id)));
    std::vector<const ReembeddedVideo*> updates;
    for (int i = 0; i < list.rows(); ++i) {
      const int64_t id = list.Int(i, 0);
      const std::string path = list.Text(i, 1);
      auto it = std::find_if(videos.begin(), videos.end(), [&](const ReembeddedVideo& r) { return r.video_id == id; });
      if (it == videos.end() || it->old_embedding_path != path) {
        result.missing.push_back(id);
        continue;
      }
      updates.push_back(&*it);
    }
    if (!result.missing.empty()) return Status::Ok();
    for (const ReembeddedVideo* v : updates) {
      SOPILOT_RETURN_IF_ERROR(db.Exec("UPDATE videos SET embedding_path = $2, embedding_model = $3, num_clips = $4, "
                                      "sampled_fps = $5 WHERE id = $1",
                                      PgParams()
                                          .Add(v->video_id)
                                          .Add(v->embedding_path)
                                          .Add(v->embedding_model)
                                          .Add(static_cast<int64_t>(v->clips.size()))
                                          .Add(v->sampled_fps))
                                  .status());
      SOPILOT_RETURN_IF_ERROR(db.Exec("DELETE FROM clips WHERE video_id = $1", PgParams().Add(v->video_id)).status());
      SOPILOT_RETURN_IF_ERROR(InsertClips(db, v->video_id, v->clips));
      if (v->old_embedding_path != v->embedding_path) result.replaced_paths.push_back(v->old_embedding_path);
    }
    SOPILOT_ASSIGN_OR_RETURN(PgResult ver, db.Exec("UPDATE index_versions SET embedder = $3 "
                                                   "WHERE task_id = $1 AND version = $2",
                                                   PgParams().Add(task_id).Add(version).Add(embedder)));
    if (ver.affected() == 0) {
      return Status::NotFound("index version " + std::to_string(version) + " of task " + task_id + " not found");
    }
    SOPILOT_RETURN_IF_ERROR(db.Exec("INSERT INTO task_index (task_id, current_version, switched_at, embedder) "
                                    "VALUES ($1, $2, $3, $4) ON CONFLICT (task_id) DO UPDATE SET "
                                    "current_version = EXCLUDED.current_version, switched_at = EXCLUDED.switched_at, "
                                    "embedder = EXCLUDED.embedder",
                                    PgParams().Add(task_id).Add(version).Add(now).Add(embedder))
                                .status());
    result.switched = true;
    return InsertAuditRecord(db, now, task_id, audit, result.previous, "old_index_version");
  });
  if (!st.ok()) return st;
  std::sort(result.replaced_paths.begin(), result.replaced_paths.end());
  result.replaced_paths.erase(std::unique(result.replaced_paths.begin(), result.replaced_paths.end()),
                              result.replaced_paths.end());
  return result;
}

Result<std::vector<std::string>> PgMetadataStore::VersionPathsOfVideo(int64_t video_id) {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  SOPILOT_ASSIGN_OR_RETURN(PgResult r, lease->Exec("SELECT DISTINCT embedding_path COLLATE \"C\" FROM version_embeddings "
                                                      "WHERE video_id = $1 ORDER BY 1",
                                                      PgParams().Add(video_id)));
  return ReadTexts(r);
}

Result<std::vector<MetadataStore::EffectiveEmbedding>> PgMetadataStore::ResolveEmbeddings(
    const std::vector<int64_t>& video_ids) {
  if (video_ids.empty()) return std::vector<EffectiveEmbedding>{};
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  // One statement: it reads one snapshot, so a version switched by another
  // connection meanwhile is seen by all of the rows or by none.
  std::string in = "$1";
  PgParams params;
  params.Add(video_ids[0]);
  for (size_t i = 1; i < video_ids.size(); ++i) {
    in += ", $" + std::to_string(i + 1);
    params.Add(video_ids[i]);
  }
  SOPILOT_ASSIGN_OR_RETURN(PgResult r, lease->Exec(ResolveSql("WHERE v.id IN (" + in + ")"), params));
  std::vector<EffectiveEmbedding> rows;
  for (int i = 0; i < r.rows(); ++i) rows.push_back(ReadEffective(PgRow(r, i)));
  std::vector<EffectiveEmbedding> out;
  for (int64_t id : video_ids) {
    auto it = std::find_if(rows.begin(), rows.end(), [&](const EffectiveEmbedding& e) { return e.video.id == id; });
    if (it == rows.end()) return Status::NotFound("video " + std::to_string(id) + " not found");
    out.push_back(*it);
  }
  return out;
}

Result<std::vector<MetadataStore::EffectiveEmbedding>> PgMetadataStore::ResolveTaskEmbeddings(
    const std::string& task_id) {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  SOPILOT_ASSIGN_OR_RETURN(PgResult r, lease->Exec(ResolveSql("WHERE v.task_id = $1 AND v.embedding_path IS NOT NULL "
                                                                 "AND v.embedding_path != '' ORDER BY v.id ASC"),
                                                      PgParams().Add(task_id)));
  std::vector<EffectiveEmbedding> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(ReadEffective(PgRow(r, i)));
  return out;
}

Result<int64_t> PgMetadataStore::CountVideosCreatedAfter(const std::string& since) {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  // Timestamps are all "YYYY-MM-DDTHH:MM:SS+00:00": text order is time order.
  SOPILOT_ASSIGN_OR_RETURN(PgResult r, lease->Exec("SELECT COUNT(*) FROM videos WHERE created_at > $1 COLLATE \"C\"",
                                                      PgParams().Add(since)));
  return r.rows() ? r.Int(0, 0) : int64_t{0};
}

Result<std::string> PgMetadataStore::LastCompletedTrainingFinishedAt() {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  SOPILOT_ASSIGN_OR_RETURN(PgResult r, lease->Exec("SELECT COALESCE(MAX(finished_at COLLATE \"C\"), '') FROM jobs "
                                                      "WHERE kind = 'training' AND status = 'completed' "
                                                      "AND COALESCE(\"trigger\", '') != 'reembed'"));
  return r.rows() ? r.Text(0, 0) : std::string();
}

// ---------------------------------------------------------------- leases

Result<bool> PgMetadataStore::AcquireLease(const std::string& name, const std::string& holder, double now,
                                           double ttl) {
  if (holder.empty()) return Status::InvalidArgument("lease: holder is empty");
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  // Checking who holds it and taking it are one statement: two processes
  // racing for a free lease cannot both win (the loser's ON CONFLICT waits
  // for the winner's row and then finds the guard false).
  SOPILOT_ASSIGN_OR_RETURN(
      PgResult r, lease->Exec("INSERT INTO leases (name, holder, expires_at, updated_at) VALUES ($1, $2, $3, $4) "
                                 "ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, "
                                 "expires_at = EXCLUDED.expires_at, updated_at = EXCLUDED.updated_at "
                                 "WHERE leases.holder = EXCLUDED.holder OR leases.expires_at <= $5",
                                 PgParams().Add(name).Add(holder).Add(now + ttl).Add(Now()).Add(now)));
  return r.affected() > 0;
}

Status PgMetadataStore::ReleaseLease(const std::string& name, const std::string& holder) {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  return lease->Exec("DELETE FROM leases WHERE name = $1 AND holder = $2", PgParams().Add(name).Add(holder)).status();
}

Result<MetadataStore::LeaseRow> PgMetadataStore::GetLease(const std::string& name) {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  SOPILOT_ASSIGN_OR_RETURN(PgResult r,
                           lease->Exec("SELECT holder, expires_at FROM leases WHERE name = $1", PgParams().Add(name)));
  LeaseRow out;
  if (r.rows()) out = LeaseRow{r.Text(0, 0), r.Double(0, 1)};
  return out;
}

Result<bool> PgMetadataStore::ClaimSchedulerSlot(const std::string& slot, const std::string& holder) {
  SOPILOT_ASSIGN_OR_RETURN(PgSessionPool::Lease lease, pool_.Acquire());
  SOPILOT_ASSIGN_OR_RETURN(PgResult r, lease->Exec("INSERT INTO scheduler_slots (slot, holder, claimed_at) "
                                                      "VALUES ($1, $2, $3) ON CONFLICT (slot) DO NOTHING",
                                                      PgParams().Add(slot).Add(holder).Add(Now())));
  return r.affected() > 0;
}

}  // namespace sopilot
