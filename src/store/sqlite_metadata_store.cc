#include "store/sqlite_metadata_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "store/sqlite_audit.h"
#include "store/sqlite_statement.h"
#include "store/store_rows.h"

namespace sopilot {

using namespace store_detail;  // the statement helpers and row readers of this store

namespace {


// ---------------------------------------------------------------- schema

struct Migration {
  int version;
  const char* sql;  // several statements, run in one transaction
};

// Optional text columns hold NULL rather than '' so that "absent" has one
// spelling in the database; the row structs read NULL back as "".
constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE videos (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
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
  duration_sec REAL NOT NULL DEFAULT 0,
  source_fps REAL NOT NULL DEFAULT 0,
  sampled_fps REAL NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);
CREATE INDEX idx_videos_task ON videos(task_id);

CREATE TABLE clips (
  video_id INTEGER NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
  clip_idx INTEGER NOT NULL,
  start_sec REAL NOT NULL,
  end_sec REAL NOT NULL,
  UNIQUE(video_id, clip_idx)
);
CREATE INDEX idx_clips_video ON clips(video_id);

CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
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
  video_id INTEGER REFERENCES videos(id) ON DELETE SET NULL,
  gold_video_id INTEGER REFERENCES videos(id) ON DELETE SET NULL,
  trainee_video_id INTEGER REFERENCES videos(id) ON DELETE SET NULL,
  score REAL,
  result_path TEXT,
  "trigger" TEXT,
  summary_path TEXT,
  result_json TEXT
);
CREATE INDEX idx_jobs_kind_status ON jobs(kind, status);
-- ON DELETE SET NULL looks up the referencing rows; without these indexes
-- every video deletion would scan the jobs table three times.
CREATE INDEX idx_jobs_video ON jobs(video_id);
CREATE INDEX idx_jobs_gold_video ON jobs(gold_video_id);
CREATE INDEX idx_jobs_trainee_video ON jobs(trainee_video_id);

CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL DEFAULT '',
  detail_json TEXT NOT NULL DEFAULT '{}'
);
-- The audit trail is evidence: the database itself refuses to rewrite it,
-- whichever program holds the file.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
)sql"},
    // Training: per task, numbered index versions (each with its feature
    // adapter file), the adapted embedding file of each video in a version,
    // and which version is current. A version is built on the side and made
    // current by one UPDATE; the current one cannot be deleted (foreign key).
    // Leases and claimed slots keep the nightly scheduler to one process.
    {2, R"sql(
CREATE TABLE index_versions (
  task_id TEXT NOT NULL,
  version INTEGER NOT NULL CHECK(version >= 1),
  adapter_path TEXT NOT NULL DEFAULT '',
  training_job_id TEXT,
  created_at TEXT NOT NULL,
  PRIMARY KEY (task_id, version)
);
CREATE TABLE task_index (
  task_id TEXT PRIMARY KEY,
  current_version INTEGER NOT NULL,
  switched_at TEXT NOT NULL,
  FOREIGN KEY (task_id, current_version) REFERENCES index_versions(task_id, version)
);
CREATE TABLE version_embeddings (
  video_id INTEGER NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
  task_id TEXT NOT NULL,
  version INTEGER NOT NULL,
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
  expires_at REAL NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE scheduler_slots (
  slot TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  claimed_at TEXT NOT NULL
);
)sql"},
    // Re-embedding: a task may be switched to another embedder (a training
    // job with trigger "reembed" names it in jobs.embedder). task_index
    // records the task's embedder ('' or NULL: the service's default), which
    // every later ingest of the task uses; index_versions records the
    // embedder a re-embed version switched to ('' for an adapter version).
    {3, R"sql(
ALTER TABLE jobs ADD COLUMN embedder TEXT;
ALTER TABLE task_index ADD COLUMN embedder TEXT;
ALTER TABLE index_versions ADD COLUMN embedder TEXT NOT NULL DEFAULT '';
)sql"},
    // SOP definitions (score/steps_file.h): per task, numbered versions of
    // the user's steps over one gold video. A version is never rewritten; an
    // edit writes the next one, so a score names the version it used
    // (jobs.sop_version). The score history is filtered by task and time.
    {4, R"sql(
CREATE TABLE sop_versions (
  task_id TEXT NOT NULL,
  version INTEGER NOT NULL CHECK(version >= 1),
  gold_video_id INTEGER REFERENCES videos(id) ON DELETE SET NULL,
  definition_json TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (task_id, version)
);
CREATE TRIGGER sop_versions_immutable BEFORE UPDATE OF task_id, version, definition_json, created_by, created_at
ON sop_versions BEGIN SELECT RAISE(ABORT, 'an SOP version is never rewritten; write the next one'); END;
ALTER TABLE jobs ADD COLUMN sop_version INTEGER;
CREATE INDEX idx_jobs_score_history ON jobs(kind, task_id, finished_at);
)sql"},
    // Notifications (store/webhooks.cc). task_settings: per task, a webhook
    // URL (with its own signing secret, optional) and whether a new trainee
    // video is scored automatically. webhook_deliveries: the outbox. The
    // trigger writes one row whenever a score job reaches completed, failed
    // or dead, in the transaction that changes the job's status, whichever
    // process or code path changes it: a score never ends without its
    // event, and an event is never written for a change that rolled back.
    // The delivery component (notify/webhook_dispatcher.h) takes due rows
    // under a lease, sends them and records the outcome.
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
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  delivery_id TEXT NOT NULL UNIQUE,
  job_id TEXT NOT NULL,
  event TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK(status IN ('pending', 'delivered', 'failed', 'skipped')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at REAL NOT NULL DEFAULT 0,
  lease_holder TEXT,
  lease_until REAL,
  url TEXT,
  payload TEXT,
  last_http_status INTEGER,
  last_error TEXT,
  created_at TEXT NOT NULL,
  finished_at TEXT
);
CREATE INDEX idx_webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
CREATE INDEX idx_webhook_deliveries_job ON webhook_deliveries(job_id);
CREATE TRIGGER jobs_score_ended AFTER UPDATE OF status ON jobs
WHEN NEW.kind = 'score' AND NEW.status IN ('completed', 'failed', 'dead') AND OLD.status IS NOT NEW.status
BEGIN
  INSERT INTO webhook_deliveries (delivery_id, job_id, event, created_at)
  VALUES (lower(hex(randomblob(16))), NEW.id,
          CASE NEW.status WHEN 'completed' THEN 'score.completed' ELSE 'score.failed' END, NEW.updated_at);
END;
)sql"},
    // Several gold videos per task: how a score's gold is picked (jobs.
    // gold_selection: 'named' by the request, the task's 'chosen' one, or
    // the 'closest' of all of them, whose gold_video_id is set when the
    // score completes). NULL on rows from before: not recorded.
    {6, R"sql(
ALTER TABLE jobs ADD COLUMN gold_selection TEXT;
)sql"},
};

constexpr int kLatestVersion = kMigrations[std::size(kMigrations) - 1].version;


// A task's current index version (0 when it has none yet), inside whatever
// transaction `conn` is in.
Result<int64_t> CurrentVersionOf(Conn conn, const std::string& task_id) {
  SOPILOT_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(conn, "SELECT current_version FROM task_index WHERE task_id = ?1"));
  s.Bind(1, task_id);
  SOPILOT_ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? s.Int(0) : int64_t{0};
}

// ---------------------------------------------------------------- rows

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

// The video row and its clips; the caller holds a write transaction.
Result<int64_t> InsertVideoRows(Conn conn, const VideoRow& video, const std::vector<ClipRow>& clips,
                                const std::string& created_at) {
  SOPILOT_ASSIGN_OR_RETURN(
      Stmt ins, Stmt::Prepare(conn,
                              "INSERT INTO videos (task_id, role, site_id, camera_id, operator_id_hash, file_name, "
                              "file_path, content_sha256, embedding_path, embedding_model, num_clips, duration_sec, "
                              "source_fps, sampled_fps, created_at) "
                              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"));
  ins.Bind(1, video.task_id)
      .Bind(2, video.role)
      .BindOpt(3, video.site_id)
      .BindOpt(4, video.camera_id)
      .BindOpt(5, video.operator_id_hash)
      .Bind(6, video.file_name)
      .Bind(7, video.file_path)
      .Bind(8, video.content_sha256)
      .BindOpt(9, video.embedding_path)
      .BindOpt(10, video.embedding_model)
      .Bind(11, video.num_clips)
      .Bind(12, video.duration_sec)
      .Bind(13, video.source_fps)
      .Bind(14, video.sampled_fps)
      .Bind(15, created_at);
  SOPILOT_RETURN_IF_ERROR(ins.Run());
  const int64_t id = sqlite3_last_insert_rowid(conn.db);
  SOPILOT_ASSIGN_OR_RETURN(Stmt clip, Stmt::Prepare(conn, "INSERT INTO clips (video_id, clip_idx, start_sec, end_sec) "
                                                          "VALUES (?1, ?2, ?3, ?4)"));
  for (const ClipRow& c : clips) {
    clip.Reset();
    clip.Bind(1, id).Bind(2, c.clip_idx).Bind(3, c.start_sec).Bind(4, c.end_sec);
    SOPILOT_RETURN_IF_ERROR(clip.Run());
  }
  return id;
}

// Why an UPDATE guarded by the state machine changed nothing.
Status ExplainUnchanged(Conn conn, const std::string& id, const std::string& wanted) {
  auto stmt = Stmt::Prepare(conn, "SELECT status, kind FROM jobs WHERE id = ?1");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, id);
  auto row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::InvalidArgument("job " + id + " not found");
  return Status::InvalidArgument("job " + id + " (" + stmt->Text(1) + ") is " + stmt->Text(0) + "; cannot move it to " +
                                 wanted);
}

}  // namespace

namespace store_detail {

Status InsertAudit(Conn conn, const std::string& at, const std::string& actor, const std::string& action,
                   const std::string& subject, const std::string& detail_json) {
  SOPILOT_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(conn, "INSERT INTO audit_log (at, actor, action, subject, detail_json) "
                                                       "VALUES (?1, ?2, ?3, ?4, ?5)"));
  s.Bind(1, at)
      .Bind(2, actor.empty() ? std::string("anonymous") : actor)
      .Bind(3, action)
      .Bind(4, subject)
      .Bind(5, detail_json.empty() ? std::string("{}") : detail_json);
  return s.Run();
}

Status InsertAuditRecord(Conn conn, const std::string& at, const std::string& subject,
                         const std::optional<AuditRecord>& audit, std::optional<int64_t> added,
                         const char* added_key) {
  if (!audit) return Status::Ok();
  SOPILOT_ASSIGN_OR_RETURN(std::string detail, AuditRecordDetail(*audit, added, added_key));
  return InsertAudit(conn, at, audit->actor, audit->action, subject, detail);
}

}  // namespace store_detail

// ---------------------------------------------------------------- open

SqliteMetadataStore::SqliteMetadataStore(sqlite3* db, Env* env, std::string path)
    : db_(db), env_(env), path_(std::move(path)) {}

SqliteMetadataStore::~SqliteMetadataStore() { sqlite3_close_v2(db_); }

Result<std::unique_ptr<SqliteMetadataStore>> SqliteMetadataStore::Open(const std::string& path, Env* env) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    Status st = SqliteStatus(db, rc, path + ": cannot open");
    sqlite3_close_v2(db);
    return st;
  }
  sqlite3_extended_result_codes(db, 1);
  std::unique_ptr<SqliteMetadataStore> store(new SqliteMetadataStore(db, env, path));
  // Waits on another connection's lock, noting them for the LockWaitScope
  // each statement and transaction opens (store_detail::Stmt).
  sqlite3_busy_handler(db, LockWaitBusyHandler, nullptr);
  Conn conn{db, &store->lock_waits_, &store->corrupt_};
  // foreign_keys is per connection and must be set outside a transaction.
  // journal_mode=WAL persists in the file; readers then never block the
  // writer. synchronous=NORMAL is durable across crashes of the process in
  // WAL mode (only a power loss can lose the last commits).
  for (const char* pragma : {"PRAGMA foreign_keys=ON", "PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL"}) {
    Status st = Exec(conn, pragma);
    // A corruption message names the file already.
    if (!st.ok()) return st.code() == Status::Code::kCorruption ? st : st.WithContext(path);
  }
  Status st = store->Migrate();
  if (!st.ok()) return st.code() == Status::Code::kCorruption ? st : st.WithContext(path);
  return store;
}

std::string SqliteMetadataStore::Now() { return IsoTimestamp(env_->NowUnixSeconds()); }

Status SqliteMetadataStore::Migrate() {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  auto current_version = [&]() -> Result<int> {
    SOPILOT_ASSIGN_OR_RETURN(
        Stmt s, Stmt::Prepare(conn, "SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name='schema_migrations'"));
    SOPILOT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row || s.Int(0) == 0) return 0;
    SOPILOT_ASSIGN_OR_RETURN(Stmt v, Stmt::Prepare(conn, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
    SOPILOT_ASSIGN_OR_RETURN(bool vrow, v.Step());
    return vrow ? static_cast<int>(v.Int(0)) : 0;
  };
  auto too_new = [](int version) {
    return Status::Unsupported("database schema version " + std::to_string(version) +
                               " is newer than this build supports (" + std::to_string(kLatestVersion) + ")");
  };

  // Fast path without the write lock: an up-to-date database is not written.
  SOPILOT_ASSIGN_OR_RETURN(int version, current_version());
  if (version > kLatestVersion) return too_new(version);
  if (version == kLatestVersion) {
    schema_version_ = version;
    return Status::Ok();
  }

  for (const Migration& m : kMigrations) {
    // The version is read again under the write lock: another process may
    // have applied the migration since.
    Status st = InTransaction(conn, [&]() -> Status {
      SOPILOT_RETURN_IF_ERROR(Exec(conn,
                                   "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                   "version INTEGER PRIMARY KEY, applied_at TEXT)"));
      SOPILOT_ASSIGN_OR_RETURN(int v, current_version());
      if (v > kLatestVersion) return too_new(v);
      if (v >= m.version) return Status::Ok();
      SOPILOT_RETURN_IF_ERROR(ExecScript(conn, m.sql));
      SOPILOT_ASSIGN_OR_RETURN(
          Stmt ins, Stmt::Prepare(conn, "INSERT INTO schema_migrations(version, applied_at) VALUES (?1, ?2)"));
      ins.Bind(1, m.version).Bind(2, Now());
      return ins.Run();
    });
    if (!st.ok()) return st.WithContext("migration " + std::to_string(m.version));
  }
  schema_version_ = kLatestVersion;
  return Status::Ok();
}

int SqliteMetadataStore::schema_version() const { return schema_version_; }

const char* SqliteMetadataStore::backend() const { return "sqlite"; }

Status SqliteMetadataStore::Ping() {
  std::lock_guard<std::mutex> lock(mu_);
  if (corrupt_.load()) {
    return Status::Corruption(CorruptMessage(path_, "a query met a damaged page or header"));
  }
  Conn conn{db_, &lock_waits_, &corrupt_};
  // Touches the file (not only the connection), so a vanished or unreadable
  // database fails here.
  SOPILOT_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(conn, "SELECT MAX(version) FROM schema_migrations"));
  SOPILOT_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Status::Internal("ping: no row");
  return Status::Ok();
}

namespace {

// Runs PRAGMA quick_check(20) on `conn`; the problems it lists (empty: ok).
Result<std::vector<std::string>> QuickCheckProblems(Conn conn) {
  // quick_check answers one row "ok", or up to N rows naming problems. A
  // file damaged badly enough (its first page, the schema) fails the
  // statement itself with SQLITE_CORRUPT, which names the file too.
  SOPILOT_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(conn, "PRAGMA quick_check(20)"));
  std::vector<std::string> problems;
  for (;;) {
    SOPILOT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    std::string line = s.Text(0);
    if (line != "ok") problems.push_back(line);
  }
  return problems;
}

// The first problem stated, without SQLite's "*** in database main ***"
// banner and on one line, and how many more there are.
std::string DescribeProblems(const std::vector<std::string>& problems) {
  std::string first;
  for (const std::string& p : problems) {
    for (size_t start = 0; start < p.size();) {
      size_t end = p.find('\n', start);
      if (end == std::string::npos) end = p.size();
      std::string part = p.substr(start, end - start);
      if (!part.empty() && part.rfind("***", 0) != 0) {
        first = part;
        break;
      }
      start = end + 1;
    }
    if (!first.empty()) break;
  }
  if (first.empty()) first = problems.front();
  std::string more = problems.size() > 1 ? ", and " + std::to_string(problems.size() - 1) + " more problems" : "";
  return "quick_check: " + first + more;
}

}  // namespace

Status SqliteMetadataStore::QuickCheck() {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  SOPILOT_ASSIGN_OR_RETURN(std::vector<std::string> problems, QuickCheckProblems(conn));
  if (problems.empty()) return Status::Ok();
  corrupt_.store(true);
  return Status::Corruption(CorruptMessage(path_, DescribeProblems(problems)));
}

Status SqliteMetadataStore::BackgroundQuickCheck() {
  // A connection of its own, read-only: in WAL mode it reads a snapshot
  // beside the writers, so the check (which reads the whole file) holds
  // neither the store's mutex nor SQLite's write lock.
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> owner(db, sqlite3_close);
  if (rc != SQLITE_OK) {
    return Status::IOError(path_ + ": cannot open for the integrity check: " + (db ? sqlite3_errmsg(db) : "out of memory"));
  }
  sqlite3_busy_timeout(db, 5000);
  SOPILOT_ASSIGN_OR_RETURN(std::vector<std::string> problems, QuickCheckProblems(Conn{db, &lock_waits_, &corrupt_}));
  if (problems.empty()) return Status::Ok();
  corrupt_.store(true);
  return Status::Corruption(CorruptMessage(path_, DescribeProblems(problems)));
}

// ---------------------------------------------------------------- videos

Result<int64_t> SqliteMetadataStore::InsertVideo(const VideoRow& video, const std::vector<ClipRow>& clips) {
  SOPILOT_RETURN_IF_ERROR(CheckVideo(video));
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  const std::string created_at = video.created_at.empty() ? Now() : video.created_at;
  int64_t id = 0;
  Status st = InTransaction(conn, [&]() -> Status {
    SOPILOT_ASSIGN_OR_RETURN(id, InsertVideoRows(conn, video, clips, created_at));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return id;
}

Result<VideoRow> SqliteMetadataStore::GetVideo(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  SOPILOT_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(conn, (std::string("SELECT ") + kVideoColumns +
                                                        " FROM videos WHERE id = ?1").c_str()));
  s.Bind(1, id);
  SOPILOT_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Status::NotFound("video " + std::to_string(id) + " not found");
  return ReadVideo(s);
}

Result<std::vector<VideoRow>> SqliteMetadataStore::ListVideos(const std::string& task_id, int limit) {
  limit = std::clamp(limit, 1, 500);
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  // Ids only grow (AUTOINCREMENT never reuses one), so id order is insertion
  // order even within one second of created_at.
  // Two statements rather than "?1 = '' OR task_id = ?1", which would keep
  // the planner from using the task_id index.
  std::string sql = std::string("SELECT ") + kVideoColumns + " FROM videos " +
                    (task_id.empty() ? "WHERE ?1 = ?1 " : "WHERE task_id = ?1 ") + "ORDER BY id DESC LIMIT ?2";
  SOPILOT_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(conn, sql.c_str()));
  s.Bind(1, task_id).Bind(2, limit);
  return ReadVideos(s);
}

Result<std::vector<ClipRow>> SqliteMetadataStore::GetClips(int64_t video_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  SOPILOT_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(conn, "SELECT video_id, clip_idx, start_sec, end_sec FROM clips "
                                                       "WHERE video_id = ?1 ORDER BY clip_idx"));
  s.Bind(1, video_id);
  std::vector<ClipRow> out;
  for (;;) {
    SOPILOT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return out;
    out.push_back(ClipRow{s.Int(0), static_cast<int>(s.Int(1)), s.Double(2), s.Double(3)});
  }
}

Result<std::vector<VideoRow>> SqliteMetadataStore::VideosOfTask(const std::string& task_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  SOPILOT_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(conn, (std::string("SELECT ") + kVideoColumns +
                                                        " FROM videos WHERE task_id = ?1 AND embedding_path IS NOT NULL "
                                                        "AND embedding_path != '' ORDER BY id ASC")
                                                           .c_str()));
  s.Bind(1, task_id);
  return ReadVideos(s);
}

Result<int64_t> SqliteMetadataStore::TotalClips() {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  SOPILOT_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(conn, "SELECT COUNT(*) FROM clips"));
  SOPILOT_ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? s.Int(0) : int64_t{0};
}

Status SqliteMetadataStore::DeleteVideo(int64_t id, const std::optional<AuditRecord>& audit) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  const std::string now = Now();
  return InTransaction(conn, [&]() -> Status {
    // The foreign keys delete the clips (CASCADE) and clear the jobs'
    // references (SET NULL) within the statement.
    SOPILOT_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(conn, "DELETE FROM videos WHERE id = ?1"));
    s.Bind(1, id);
    SOPILOT_RETURN_IF_ERROR(s.Run());
    if (sqlite3_changes(db_) == 0) return Status::NotFound("video " + std::to_string(id) + " not found");
    return InsertAuditRecord(conn, now, std::to_string(id), audit, std::nullopt);
  });
}

namespace {

// PathInUse's question, inside whatever transaction `conn` is in.
Result<bool> ReferencedIn(Conn conn, const std::string& relative_path) {
  SOPILOT_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(conn, "SELECT EXISTS (SELECT 1 FROM videos WHERE file_path = ?1 OR embedding_path = ?1) "
                                  "OR EXISTS (SELECT 1 FROM version_embeddings WHERE embedding_path = ?1) "
                                  "OR EXISTS (SELECT 1 FROM index_versions WHERE adapter_path = ?1) "
                                  "OR EXISTS (SELECT 1 FROM jobs WHERE file_path = ?1 "
                                  "AND status IN ('queued', 'running', 'dead'))"));
  s.Bind(1, relative_path);
  SOPILOT_ASSIGN_OR_RETURN(bool row, s.Step());
  return row && s.Int(0) != 0;
}

}  // namespace

Result<bool> SqliteMetadataStore::PathInUse(const std::string& relative_path) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  return ReferencedIn(conn, relative_path);
}

Result<bool> SqliteMetadataStore::RemoveIfUnreferenced(const std::string& relative_path,
                                                 const std::function<Status()>& remove) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  bool removed = false;
  Status st = InTransaction(conn, [&]() -> Status {
    SOPILOT_ASSIGN_OR_RETURN(bool used, ReferencedIn(conn, relative_path));
    if (used) return Status::Ok();
    SOPILOT_RETURN_IF_ERROR(remove());
    removed = true;
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return removed;
}

Result<std::vector<std::string>> SqliteMetadataStore::AllReferencedPaths() {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  SOPILOT_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(conn, "SELECT file_path FROM videos "
                                                       "UNION SELECT embedding_path FROM videos "
                                                       "WHERE embedding_path IS NOT NULL AND embedding_path != '' "
                                                       "UNION SELECT embedding_path FROM version_embeddings "
                                                       "UNION SELECT adapter_path FROM index_versions "
                                                       "WHERE adapter_path != '' "
                                                       "ORDER BY 1"));
  std::vector<std::string> out;
  for (;;) {
    SOPILOT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return out;
    out.push_back(s.Text(0));
  }
}

// ---------------------------------------------------------------- jobs

namespace {

Status InsertJobRow(Conn conn, const JobRow& job, const std::string& now) {
  if (job.id.empty()) return Status::InvalidArgument("job: id is empty");
  SOPILOT_RETURN_IF_ERROR(CheckJsonObject(job.result_json, "job result_json"));
  SOPILOT_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(conn,
                            "INSERT INTO jobs (id, kind, status, requested_by, attempts, error_message, created_at, "
                            "updated_at, queued_at, task_id, role, file_name, file_path, site_id, camera_id, "
                            "operator_id_hash, video_id, gold_video_id, trainee_video_id, score, result_path, "
                            "\"trigger\", summary_path, result_json, embedder, sop_version, gold_selection) "
                            "VALUES (?1, ?2, 'queued', ?3, 0, NULL, ?4, ?4, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
                            "?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)"));
  s.Bind(1, job.id)
      .Bind(2, JobKindName(job.kind))
      .BindOpt(3, job.requested_by)
      .Bind(4, now)
      .BindOpt(5, job.task_id)
      .BindOpt(6, job.role)
      .BindOpt(7, job.file_name)
      .BindOpt(8, job.file_path)
      .BindOpt(9, job.site_id)
      .BindOpt(10, job.camera_id)
      .BindOpt(11, job.operator_id_hash)
      .BindOpt(12, job.video_id)
      .BindOpt(13, job.gold_video_id)
      .BindOpt(14, job.trainee_video_id)
      .BindOpt(15, job.score)
      .BindOpt(16, job.result_path)
      .BindOpt(17, job.trigger)
      .BindOpt(18, job.summary_path)
      .BindOpt(19, job.result_json)
      .BindOpt(20, job.embedder)
      .BindOpt(21, job.sop_version)
      .BindOpt(22, job.gold_selection);
  Status st = s.Run();
  if (!st.ok()) return st.WithContext("job " + job.id);
  return Status::Ok();
}

}  // namespace

Status SqliteMetadataStore::InsertJob(const JobRow& job, const std::optional<AuditRecord>& audit) {
  return InsertJobPlacing(job, [] { return Status::Ok(); }, audit);
}

Status SqliteMetadataStore::InsertJobPlacing(const JobRow& job, const std::function<Status()>& place,
                                             const std::optional<AuditRecord>& audit) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  const std::string now = Now();
  return InTransaction(conn, [&]() -> Status {
    SOPILOT_RETURN_IF_ERROR(InsertJobRow(conn, job, now));
    SOPILOT_RETURN_IF_ERROR(InsertAuditRecord(conn, now, job.id, audit, std::nullopt));
    return place();
  });
}

Result<JobRow> SqliteMetadataStore::GetJob(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  SOPILOT_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(conn, (std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = ?1").c_str()));
  s.Bind(1, id);
  SOPILOT_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Status::NotFound("job " + id + " not found");
  return ReadJob(s);
}

Status SqliteMetadataStore::SetJobStatus(const std::string& id, const std::string& status, const std::string& error_message,
                                         const std::optional<AuditRecord>& audit) {
  if (!IsKnownStatus(status)) return Status::InvalidArgument("unknown job status '" + status + "'");
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  const std::string now = Now();
  return InTransaction(conn, [&]() -> Status {
    // The guard is in the WHERE clause, so checking the state and changing it
    // is one atomic step even with other processes writing the file.
    SOPILOT_ASSIGN_OR_RETURN(
        Stmt s, Stmt::Prepare(
                    conn,
                    "UPDATE jobs SET status = ?2, updated_at = ?3, "
                    "attempts = attempts + (CASE WHEN ?2 = 'running' THEN 1 ELSE 0 END), "
                    "started_at = CASE WHEN ?2 = 'running' THEN ?3 ELSE started_at END, "
                    "queued_at = CASE WHEN ?2 = 'queued' THEN ?3 ELSE queued_at END, "
                    "finished_at = CASE WHEN ?2 IN ('completed', 'failed', 'dead', 'skipped') THEN ?3 ELSE NULL END, "
                    "error_message = CASE "
                    "  WHEN ?2 IN ('queued', 'completed') THEN NULL "
                    "  WHEN ?2 = 'running' THEN error_message "
                    "  ELSE COALESCE(NULLIF(?4, ''), error_message) END "
                    "WHERE id = ?1 AND status NOT IN ('completed', 'dead', 'skipped')"));
    s.Bind(1, id).Bind(2, status).Bind(3, now).Bind(4, error_message);
    SOPILOT_RETURN_IF_ERROR(s.Run());
    if (sqlite3_changes(db_) == 0) return ExplainUnchanged(conn, id, status);
    return InsertAuditRecord(conn, now, id, audit, std::nullopt);
  });
}

Status SqliteMetadataStore::ReviveDeadJob(const std::string& id, const std::optional<AuditRecord>& audit) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  const std::string now = Now();
  return InTransaction(conn, [&]() -> Status {
    SOPILOT_ASSIGN_OR_RETURN(
        Stmt s, Stmt::Prepare(conn, "UPDATE jobs SET status = 'queued', updated_at = ?2, queued_at = ?2, "
                                    "finished_at = NULL, error_message = NULL WHERE id = ?1 AND status = 'dead'"));
    s.Bind(1, id).Bind(2, now);
    SOPILOT_RETURN_IF_ERROR(s.Run());
    if (sqlite3_changes(db_) == 0) return Status::NotFound("no dead job " + id);
    return InsertAuditRecord(conn, now, id, audit, std::nullopt);
  });
}

Status SqliteMetadataStore::CompleteIngestJob(const std::string& id, int64_t video_id, const std::string& result_json) {
  SOPILOT_RETURN_IF_ERROR(CheckJsonObject(result_json, "job result_json"));
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  SOPILOT_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(conn, "UPDATE jobs SET status = 'completed', video_id = ?2, result_json = ?3, "
                                  "updated_at = ?4, finished_at = ?4, error_message = NULL "
                                  "WHERE id = ?1 AND kind = 'ingest' AND status IN ('queued', 'running')"));
  s.Bind(1, id).Bind(2, video_id).BindOpt(3, result_json).Bind(4, Now());
  SOPILOT_RETURN_IF_ERROR(s.Run());
  if (sqlite3_changes(db_) == 0) return ExplainUnchanged(conn, id, "completed (ingest)");
  return Status::Ok();
}

Result<int64_t> SqliteMetadataStore::CompleteIngestJobWithVideo(const std::string& id, const VideoRow& video,
                                                          const std::vector<ClipRow>& clips,
                                                          const std::string& result_json,
                                                          const std::optional<std::string>& task_embedder,
                                                          const std::optional<AuditRecord>& audit) {
  SOPILOT_RETURN_IF_ERROR(CheckVideo(video));
  SOPILOT_RETURN_IF_ERROR(CheckJsonObject(result_json, "job result_json"));
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  const std::string now = Now();
  const std::string created_at = video.created_at.empty() ? now : video.created_at;
  int64_t video_id = 0;
  // The video goes in first (the job row needs its id); when the job then
  // turns out to be done already, the rollback takes the video out again.
  Status st = InTransaction(conn, [&]() -> Status {
    if (task_embedder) {
      SOPILOT_ASSIGN_OR_RETURN(
          Stmt e, Stmt::Prepare(conn, "SELECT COALESCE(embedder, '') FROM task_index WHERE task_id = ?1"));
      e.Bind(1, video.task_id);
      SOPILOT_ASSIGN_OR_RETURN(bool row, e.Step());
      const std::string now_embedder = row ? e.Text(0) : std::string();
      if (now_embedder != *task_embedder) {
        return Status::Unavailable("task " + video.task_id + " was switched to embedder " + now_embedder +
                                   " during the ingest");
      }
    }
    SOPILOT_ASSIGN_OR_RETURN(video_id, InsertVideoRows(conn, video, clips, created_at));
    SOPILOT_ASSIGN_OR_RETURN(
        Stmt s, Stmt::Prepare(conn, "UPDATE jobs SET status = 'completed', video_id = ?2, result_json = ?3, "
                                    "updated_at = ?4, finished_at = ?4, error_message = NULL "
                                    "WHERE id = ?1 AND kind = 'ingest' AND status IN ('queued', 'running')"));
    s.Bind(1, id).Bind(2, video_id).BindOpt(3, result_json).Bind(4, now);
    SOPILOT_RETURN_IF_ERROR(s.Run());
    if (sqlite3_changes(conn.db) == 0) return ExplainUnchanged(conn, id, "completed (ingest)");
    return InsertAuditRecord(conn, now, id, audit, video_id);
  });
  if (!st.ok()) return st;
  return video_id;
}

Status SqliteMetadataStore::CompleteScoreJob(const std::string& id, double score, const std::string& result_path,
                                             const std::string& result_json, const std::optional<ScoredGold>& gold,
                                             const std::optional<AuditRecord>& audit) {
  // SQLite would store NaN as NULL, i.e. "no score".
  if (!std::isfinite(score)) return Status::InvalidArgument("job " + id + ": score is not finite");
  SOPILOT_RETURN_IF_ERROR(CheckJsonObject(result_json, "job result_json"));
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  const std::string now = Now();
  return InTransaction(conn, [&]() -> Status {
    // ?6 = 1: the gold and SOP version the score settled on replace the row's.
    SOPILOT_ASSIGN_OR_RETURN(
        Stmt s, Stmt::Prepare(conn, "UPDATE jobs SET status = 'completed', score = ?2, result_path = ?3, "
                                    "result_json = ?4, updated_at = ?5, finished_at = ?5, error_message = NULL, "
                                    "gold_video_id = CASE WHEN ?6 = 1 THEN ?7 ELSE gold_video_id END, "
                                    "sop_version = CASE WHEN ?6 = 1 THEN ?8 ELSE sop_version END "
                                    "WHERE id = ?1 AND kind = 'score' AND status IN ('queued', 'running')"));
    s.Bind(1, id).Bind(2, score).BindOpt(3, result_path).BindOpt(4, result_json).Bind(5, now);
    s.Bind(6, gold ? 1 : 0);
    s.BindOpt(7, gold ? std::optional<int64_t>(gold->gold_video_id) : std::nullopt);
    s.BindOpt(8, gold ? gold->sop_version : std::nullopt);
    SOPILOT_RETURN_IF_ERROR(s.Run());
    if (sqlite3_changes(conn.db) == 0) return ExplainUnchanged(conn, id, "completed (score)");
    return InsertAuditRecord(conn, now, id, audit, std::nullopt);
  });
}

Status SqliteMetadataStore::CompleteTrainingJob(const std::string& id, const std::string& status,
                                                const std::string& summary_path, const std::string& result_json,
                                                const std::optional<AuditRecord>& audit) {
  if (status != kJobCompleted && status != kJobSkipped) {
    return Status::InvalidArgument("training job " + id + ": status must be completed or skipped, not '" + status +
                                   "'");
  }
  SOPILOT_RETURN_IF_ERROR(CheckJsonObject(result_json, "job result_json"));
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  const std::string now = Now();
  return InTransaction(conn, [&]() -> Status {
    SOPILOT_ASSIGN_OR_RETURN(
        Stmt s, Stmt::Prepare(conn, "UPDATE jobs SET status = ?2, summary_path = ?3, result_json = ?4, "
                                    "updated_at = ?5, finished_at = ?5, error_message = NULL "
                                    "WHERE id = ?1 AND kind = 'training' AND status IN ('queued', 'running')"));
    s.Bind(1, id).Bind(2, status).BindOpt(3, summary_path).BindOpt(4, result_json).Bind(5, now);
    SOPILOT_RETURN_IF_ERROR(s.Run());
    if (sqlite3_changes(conn.db) == 0) return ExplainUnchanged(conn, id, status + " (training)");
    return InsertAuditRecord(conn, now, id, audit, std::nullopt);
  });
}

Result<std::vector<JobRow>> SqliteMetadataStore::JobsWithStatus(JobKind kind, const std::string& status, int limit) {
  limit = std::clamp(limit, 1, 10000);
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  // rowid breaks ties between jobs created within one second.
  SOPILOT_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(conn, (std::string("SELECT ") + kJobColumns +
                                                        " FROM jobs WHERE kind = ?1 AND status = ?2 "
                                                        "ORDER BY created_at ASC, rowid ASC LIMIT ?3")
                                                           .c_str()));
  s.Bind(1, JobKindName(kind)).Bind(2, status).Bind(3, limit);
  std::vector<JobRow> out;
  for (;;) {
    SOPILOT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return out;
    SOPILOT_ASSIGN_OR_RETURN(JobRow job, ReadJob(s));
    out.push_back(std::move(job));
  }
}

Result<std::vector<std::pair<std::string, int64_t>>> SqliteMetadataStore::JobStatusCounts(JobKind kind) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  SOPILOT_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(conn, "SELECT status, COUNT(*) FROM jobs WHERE kind = ?1 GROUP BY status ORDER BY status"));
  s.Bind(1, JobKindName(kind));
  std::vector<std::pair<std::string, int64_t>> out;
  for (;;) {
    SOPILOT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return out;
    out.emplace_back(s.Text(0), s.Int(1));
  }
}

// ---------------------------------------------------------------- audit

Status SqliteMetadataStore::AppendAudit(const std::string& actor, const std::string& action, const std::string& subject,
                                  const std::string& detail_json) {
  if (action.empty()) return Status::InvalidArgument("audit: action is empty");
  SOPILOT_RETURN_IF_ERROR(CheckJsonObject(detail_json, "audit detail_json"));
  std::lock_guard<std::mutex> lock(mu_);
  return InsertAudit(Conn{db_, &lock_waits_, &corrupt_}, Now(), actor, action, subject, detail_json);
}

Result<std::vector<AuditEntry>> SqliteMetadataStore::AuditTrail(int limit) {
  limit = std::clamp(limit, 1, 5000);
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  SOPILOT_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(conn, "SELECT seq, at, actor, action, subject, detail_json "
                                                       "FROM audit_log ORDER BY seq DESC LIMIT ?1"));
  s.Bind(1, limit);
  std::vector<AuditEntry> out;
  for (;;) {
    SOPILOT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return out;
    out.push_back(AuditEntry{s.Int(0), s.Text(1), s.Text(2), s.Text(3), s.Text(4), s.Text(5)});
  }
}

// ---------------------------------------------------------------- index versions

Result<std::vector<std::pair<std::string, int>>> SqliteMetadataStore::TaskGoldCounts() {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  SOPILOT_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(conn, "SELECT task_id, SUM(CASE WHEN role = 'gold' THEN 1 ELSE 0 END) FROM videos "
                                  "WHERE embedding_path IS NOT NULL AND embedding_path != '' "
                                  "GROUP BY task_id ORDER BY task_id"));
  std::vector<std::pair<std::string, int>> out;
  for (;;) {
    SOPILOT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return out;
    out.emplace_back(s.Text(0), static_cast<int>(s.Int(1)));
  }
}

Result<int64_t> SqliteMetadataStore::ReserveIndexVersion(const std::string& task_id, const std::string& training_job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  int64_t version = 0;
  // One statement computes and takes the number: two trainings (even in two
  // processes) never get the same one.
  SOPILOT_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(conn, "INSERT INTO index_versions (task_id, version, adapter_path, training_job_id, "
                                  "created_at) "
                                  "SELECT ?1, COALESCE(MAX(version), 0) + 1, '', ?2, ?3 FROM index_versions "
                                  "WHERE task_id = ?1 RETURNING version"));
  s.Bind(1, task_id).BindOpt(2, training_job_id).Bind(3, Now());
  SOPILOT_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Status::Internal("reserving an index version returned nothing");
  version = s.Int(0);
  SOPILOT_RETURN_IF_ERROR(s.Run());  // finish the statement
  return version;
}

Status SqliteMetadataStore::SetIndexVersionAdapter(const std::string& task_id, int64_t version,
                                             const std::string& adapter_path) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  SOPILOT_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(conn, "UPDATE index_versions SET adapter_path = ?3 WHERE task_id = ?1 AND version = ?2"));
  s.Bind(1, task_id).Bind(2, version).Bind(3, adapter_path);
  SOPILOT_RETURN_IF_ERROR(s.Run());
  if (sqlite3_changes(db_) == 0) {
    return Status::NotFound("index version " + std::to_string(version) + " of task " + task_id + " not found");
  }
  return Status::Ok();
}

Status SqliteMetadataStore::PutVersionEmbedding(int64_t video_id, const std::string& task_id, int64_t version,
                                          const std::string& embedding_path) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  SOPILOT_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(conn, "INSERT INTO version_embeddings (video_id, task_id, version, embedding_path) "
                                  "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(video_id, version) "
                                  "DO UPDATE SET embedding_path = excluded.embedding_path"));
  s.Bind(1, video_id).Bind(2, task_id).Bind(3, version).Bind(4, embedding_path);
  return s.Run();
}

Result<bool> SqliteMetadataStore::PutVersionEmbeddingIfCurrent(int64_t video_id, const std::string& task_id,
                                                         int64_t version, const std::string& embedding_path) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  SOPILOT_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(conn, "INSERT INTO version_embeddings (video_id, task_id, version, embedding_path) "
                                  "SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM task_index "
                                  "WHERE task_id = ?2 AND current_version = ?3) "
                                  "AND EXISTS (SELECT 1 FROM videos WHERE id = ?1) "
                                  "ON CONFLICT(video_id, version) DO NOTHING"));
  s.Bind(1, video_id).Bind(2, task_id).Bind(3, version).Bind(4, embedding_path);
  SOPILOT_RETURN_IF_ERROR(s.Run());
  return sqlite3_changes(db_) > 0;
}

Result<SqliteMetadataStore::VersionSwitch> SqliteMetadataStore::SwitchIndexVersion(const std::string& task_id, int64_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  VersionSwitch result;
  Status st = InTransaction(conn, [&]() -> Status {
    SOPILOT_ASSIGN_OR_RETURN(result.previous, CurrentVersionOf(conn, task_id));
    if (version <= result.previous) return Status::Ok();
    SOPILOT_ASSIGN_OR_RETURN(
        Stmt up, Stmt::Prepare(conn, "INSERT INTO task_index (task_id, current_version, switched_at) "
                                     "VALUES (?1, ?2, ?3) ON CONFLICT(task_id) DO UPDATE SET "
                                     "current_version = excluded.current_version, switched_at = excluded.switched_at"));
    up.Bind(1, task_id).Bind(2, version).Bind(3, Now());
    SOPILOT_RETURN_IF_ERROR(up.Run());
    result.switched = true;
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return result;
}

Result<int64_t> SqliteMetadataStore::CurrentIndexVersion(const std::string& task_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return CurrentVersionOf(Conn{db_, &lock_waits_, &corrupt_}, task_id);
}

Result<std::vector<VideoRow>> SqliteMetadataStore::VideosMissingFromVersion(const std::string& task_id, int64_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  SOPILOT_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(conn, (std::string("SELECT ") + kVideoColumns +
                                   " FROM videos WHERE task_id = ?1 AND embedding_path IS NOT NULL "
                                   "AND embedding_path != '' AND NOT EXISTS (SELECT 1 FROM version_embeddings ve "
                                   "WHERE ve.video_id = videos.id AND ve.version = ?2) ORDER BY id ASC")
                                      .c_str()));
  s.Bind(1, task_id).Bind(2, version);
  return ReadVideos(s);
}

Result<std::vector<std::string>> SqliteMetadataStore::DropOldIndexVersions(const std::string& task_id, int keep_previous) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  std::vector<std::string> unreferenced;
  Status st = InTransaction(conn, [&]() -> Status {
    // Versions below the current one, newest first; the first keep_previous
    // stay. Versions above the current one (being built, or abandoned by a
    // crash) are left alone until a later version passes them.
    SOPILOT_ASSIGN_OR_RETURN(
        Stmt old, Stmt::Prepare(conn, "SELECT iv.version, iv.adapter_path FROM index_versions iv "
                                      "JOIN task_index ti ON ti.task_id = iv.task_id "
                                      "WHERE iv.task_id = ?1 AND iv.version < ti.current_version "
                                      "ORDER BY iv.version DESC LIMIT -1 OFFSET ?2"));
    old.Bind(1, task_id).Bind(2, std::max(keep_previous, 0));
    std::vector<int64_t> versions;
    std::vector<std::string> candidates;
    for (;;) {
      SOPILOT_ASSIGN_OR_RETURN(bool row, old.Step());
      if (!row) break;
      versions.push_back(old.Int(0));
      if (!old.Text(1).empty()) candidates.push_back(old.Text(1));
    }
    SOPILOT_ASSIGN_OR_RETURN(
        Stmt files, Stmt::Prepare(conn, "SELECT embedding_path FROM version_embeddings WHERE task_id = ?1 AND version = ?2"));
    SOPILOT_ASSIGN_OR_RETURN(Stmt del,
                             Stmt::Prepare(conn, "DELETE FROM index_versions WHERE task_id = ?1 AND version = ?2"));
    for (int64_t v : versions) {
      files.Reset();
      files.Bind(1, task_id).Bind(2, v);
      for (;;) {
        SOPILOT_ASSIGN_OR_RETURN(bool row, files.Step());
        if (!row) break;
        candidates.push_back(files.Text(0));
      }
      del.Reset();
      del.Bind(1, task_id).Bind(2, v);  // version_embeddings rows go with it (CASCADE)
      SOPILOT_RETURN_IF_ERROR(del.Run());
    }
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    SOPILOT_ASSIGN_OR_RETURN(
        Stmt used, Stmt::Prepare(conn, "SELECT EXISTS (SELECT 1 FROM videos WHERE file_path = ?1 OR embedding_path = ?1) "
                                       "OR EXISTS (SELECT 1 FROM version_embeddings WHERE embedding_path = ?1) "
                                       "OR EXISTS (SELECT 1 FROM index_versions WHERE adapter_path = ?1)"));
    for (const std::string& path : candidates) {
      used.Reset();
      used.Bind(1, path);
      SOPILOT_ASSIGN_OR_RETURN(bool row, used.Step());
      if (row && used.Int(0) == 0) unreferenced.push_back(path);
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return unreferenced;
}

Result<std::string> SqliteMetadataStore::TaskEmbedder(const std::string& task_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  SOPILOT_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(conn, "SELECT COALESCE(embedder, '') FROM task_index WHERE task_id = ?1"));
  s.Bind(1, task_id);
  SOPILOT_ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? s.Text(0) : std::string();
}

Result<int64_t> SqliteMetadataStore::IndexVersionOfJob(const std::string& task_id, const std::string& job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  SOPILOT_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(conn, "SELECT COALESCE(MAX(version), 0) FROM index_versions "
                                                       "WHERE task_id = ?1 AND training_job_id = ?2"));
  s.Bind(1, task_id).Bind(2, job_id);
  SOPILOT_ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? s.Int(0) : int64_t{0};
}

Result<SqliteMetadataStore::EmbedderSwitch> SqliteMetadataStore::SwitchTaskEmbedder(const std::string& task_id, int64_t version,
                                                                        const std::string& embedder,
                                                                        const std::vector<ReembeddedVideo>& videos,
                                                                        const std::optional<AuditRecord>& audit) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  EmbedderSwitch result;
  const std::string now = Now();
  Status st = InTransaction(conn, [&]() -> Status {
    SOPILOT_ASSIGN_OR_RETURN(result.previous, CurrentVersionOf(conn, task_id));
    if (version <= result.previous) return Status::Ok();
    // Every video of the task as it is now must be among those re-embedded,
    // from the file it has now: a video ingested (or switched) meanwhile is
    // reported and nothing changes.
    SOPILOT_ASSIGN_OR_RETURN(Stmt list, Stmt::Prepare(conn, "SELECT id, embedding_path FROM videos WHERE task_id = ?1 "
                                                            "AND embedding_path IS NOT NULL AND embedding_path != '' "
                                                            "ORDER BY id"));
    list.Bind(1, task_id);
    std::vector<const ReembeddedVideo*> updates;
    for (;;) {
      SOPILOT_ASSIGN_OR_RETURN(bool more, list.Step());
      if (!more) break;
      const int64_t id = list.Int(0);
      const std::string path = list.Text(1);
      auto it = std::find_if(videos.begin(), videos.end(), [&](const ReembeddedVideo& r) { return r.video_id == id; });
      if (it == videos.end() || it->old_embedding_path != path) {
        result.missing.push_back(id);
        continue;
      }
      updates.push_back(&*it);
    }
    if (!result.missing.empty()) return Status::Ok();
    SOPILOT_ASSIGN_OR_RETURN(
        Stmt up, Stmt::Prepare(conn, "UPDATE videos SET embedding_path = ?2, embedding_model = ?3, num_clips = ?4, "
                                     "sampled_fps = ?5 WHERE id = ?1"));
    SOPILOT_ASSIGN_OR_RETURN(Stmt del, Stmt::Prepare(conn, "DELETE FROM clips WHERE video_id = ?1"));
    SOPILOT_ASSIGN_OR_RETURN(Stmt clip, Stmt::Prepare(conn, "INSERT INTO clips (video_id, clip_idx, start_sec, end_sec) "
                                                            "VALUES (?1, ?2, ?3, ?4)"));
    for (const ReembeddedVideo* v : updates) {
      up.Reset();
      up.Bind(1, v->video_id)
          .Bind(2, v->embedding_path)
          .Bind(3, v->embedding_model)
          .Bind(4, static_cast<int64_t>(v->clips.size()))
          .Bind(5, v->sampled_fps);
      SOPILOT_RETURN_IF_ERROR(up.Run());
      del.Reset();
      del.Bind(1, v->video_id);
      SOPILOT_RETURN_IF_ERROR(del.Run());
      for (const ClipRow& c : v->clips) {
        clip.Reset();
        clip.Bind(1, v->video_id).Bind(2, c.clip_idx).Bind(3, c.start_sec).Bind(4, c.end_sec);
        SOPILOT_RETURN_IF_ERROR(clip.Run());
      }
      if (v->old_embedding_path != v->embedding_path) result.replaced_paths.push_back(v->old_embedding_path);
    }
    SOPILOT_ASSIGN_OR_RETURN(
        Stmt ver, Stmt::Prepare(conn, "UPDATE index_versions SET embedder = ?3 WHERE task_id = ?1 AND version = ?2"));
    ver.Bind(1, task_id).Bind(2, version).Bind(3, embedder);
    SOPILOT_RETURN_IF_ERROR(ver.Run());
    if (sqlite3_changes(conn.db) == 0) {
      return Status::NotFound("index version " + std::to_string(version) + " of task " + task_id + " not found");
    }
    SOPILOT_ASSIGN_OR_RETURN(
        Stmt ti, Stmt::Prepare(conn, "INSERT INTO task_index (task_id, current_version, switched_at, embedder) "
                                     "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(task_id) DO UPDATE SET "
                                     "current_version = excluded.current_version, switched_at = excluded.switched_at, "
                                     "embedder = excluded.embedder"));
    ti.Bind(1, task_id).Bind(2, version).Bind(3, now).Bind(4, embedder);
    SOPILOT_RETURN_IF_ERROR(ti.Run());
    result.switched = true;
    return InsertAuditRecord(conn, now, task_id, audit, result.previous, "old_index_version");
  });
  if (!st.ok()) return st;
  std::sort(result.replaced_paths.begin(), result.replaced_paths.end());
  result.replaced_paths.erase(std::unique(result.replaced_paths.begin(), result.replaced_paths.end()),
                              result.replaced_paths.end());
  return result;
}

Result<std::vector<std::string>> SqliteMetadataStore::VersionPathsOfVideo(int64_t video_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  SOPILOT_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(conn, "SELECT DISTINCT embedding_path FROM version_embeddings "
                                                       "WHERE video_id = ?1 ORDER BY 1"));
  s.Bind(1, video_id);
  std::vector<std::string> out;
  for (;;) {
    SOPILOT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return out;
    out.push_back(s.Text(0));
  }
}

Result<std::vector<SqliteMetadataStore::EffectiveEmbedding>> SqliteMetadataStore::ResolveEmbeddings(
    const std::vector<int64_t>& video_ids) {
  if (video_ids.empty()) return std::vector<EffectiveEmbedding>{};
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  // One statement: SQLite reads it from one snapshot of the database, so a
  // version switched by another connection meanwhile is seen by all of the
  // rows or by none.
  std::string in = "?1";
  for (size_t i = 1; i < video_ids.size(); ++i) in += ", ?" + std::to_string(i + 1);
  SOPILOT_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(conn, ResolveSql("WHERE v.id IN (" + in + ")").c_str()));
  for (size_t i = 0; i < video_ids.size(); ++i) s.Bind(static_cast<int>(i + 1), video_ids[i]);
  std::vector<EffectiveEmbedding> rows;
  for (;;) {
    SOPILOT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    rows.push_back(ReadEffective(s));
  }
  std::vector<EffectiveEmbedding> out;
  for (int64_t id : video_ids) {
    auto it = std::find_if(rows.begin(), rows.end(), [&](const EffectiveEmbedding& e) { return e.video.id == id; });
    if (it == rows.end()) return Status::NotFound("video " + std::to_string(id) + " not found");
    out.push_back(*it);
  }
  return out;
}

Result<std::vector<SqliteMetadataStore::EffectiveEmbedding>> SqliteMetadataStore::ResolveTaskEmbeddings(const std::string& task_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  SOPILOT_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(conn, ResolveSql("WHERE v.task_id = ?1 AND v.embedding_path IS NOT NULL "
                                             "AND v.embedding_path != '' ORDER BY v.id ASC")
                                      .c_str()));
  s.Bind(1, task_id);
  std::vector<EffectiveEmbedding> out;
  for (;;) {
    SOPILOT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return out;
    out.push_back(ReadEffective(s));
  }
}

Result<int64_t> SqliteMetadataStore::CountVideosCreatedAfter(const std::string& since) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  // Timestamps are all "YYYY-MM-DDTHH:MM:SS+00:00": text order is time order.
  SOPILOT_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(conn, "SELECT COUNT(*) FROM videos WHERE created_at > ?1"));
  s.Bind(1, since);
  SOPILOT_ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? s.Int(0) : int64_t{0};
}

Result<std::string> SqliteMetadataStore::LastCompletedTrainingFinishedAt() {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  SOPILOT_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(conn, "SELECT COALESCE(MAX(finished_at), '') FROM jobs "
                                                       "WHERE kind = 'training' AND status = 'completed' "
                                                       "AND COALESCE(\"trigger\", '') != 'reembed'"));
  SOPILOT_ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? s.Text(0) : std::string();
}

// ---------------------------------------------------------------- leases

Result<bool> SqliteMetadataStore::AcquireLease(const std::string& name, const std::string& holder, double now, double ttl) {
  if (holder.empty()) return Status::InvalidArgument("lease: holder is empty");
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  // Checking who holds it and taking it are one statement: two processes
  // racing for a free lease cannot both win.
  SOPILOT_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(conn, "INSERT INTO leases (name, holder, expires_at, updated_at) VALUES (?1, ?2, ?3, ?4) "
                                  "ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, "
                                  "expires_at = excluded.expires_at, updated_at = excluded.updated_at "
                                  "WHERE leases.holder = excluded.holder OR leases.expires_at <= ?5"));
  s.Bind(1, name).Bind(2, holder).Bind(3, now + ttl).Bind(4, Now()).Bind(5, now);
  SOPILOT_RETURN_IF_ERROR(s.Run());
  return sqlite3_changes(db_) > 0;
}

Status SqliteMetadataStore::ReleaseLease(const std::string& name, const std::string& holder) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  SOPILOT_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(conn, "DELETE FROM leases WHERE name = ?1 AND holder = ?2"));
  s.Bind(1, name).Bind(2, holder);
  return s.Run();
}

Result<SqliteMetadataStore::LeaseRow> SqliteMetadataStore::GetLease(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  SOPILOT_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(conn, "SELECT holder, expires_at FROM leases WHERE name = ?1"));
  s.Bind(1, name);
  SOPILOT_ASSIGN_OR_RETURN(bool row, s.Step());
  LeaseRow out;
  if (row) out = LeaseRow{s.Text(0), s.Double(1)};
  return out;
}

Result<bool> SqliteMetadataStore::ClaimSchedulerSlot(const std::string& slot, const std::string& holder) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  SOPILOT_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(conn, "INSERT INTO scheduler_slots (slot, holder, claimed_at) "
                                                       "VALUES (?1, ?2, ?3) ON CONFLICT(slot) DO NOTHING"));
  s.Bind(1, slot).Bind(2, holder).Bind(3, Now());
  SOPILOT_RETURN_IF_ERROR(s.Run());
  return sqlite3_changes(db_) > 0;
}

Status SqliteMetadataStore::RunExclusively(const std::string&, const std::function<Status()>& body) {
  return body();
}

}  // namespace sopilot
