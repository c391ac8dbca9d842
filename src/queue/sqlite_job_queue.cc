// The embedded job queue: one table in a SQLite file.
//
// Each queue object owns its own connection (WAL, busy timeout), so several
// threads with their own queues, and several processes, can share the file;
// SQLite's write lock makes a lease exclusive. One queue object may also be
// shared by threads: its connection is serialised by a mutex.
//
// Row life: ready --Lease--> leased --Ack--> (deleted)
//                              |--Fail--> ready (after a backoff) | dead
//                              '--lease runs out, RecoverExpired--> ready | dead
// `attempts` counts leases, so it is the number of the run in progress.
//
// A job that kills its worker never calls Fail; its lease runs out and
// RecoverExpired hands it out again with the attempt count kept. Once it has
// been leased max_attempts times, RecoverExpired marks it dead instead, and
// Lease, should it meet a ready row that has no attempts left (a queue opened
// with a lower max_attempts), does the same rather than lease it.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <random>

#include "base/lock_waits.h"
#include "queue/job_queue.h"
#include "store/job_kind.h"

namespace sopilot {

namespace {

// BEGIN IMMEDIATE that is still busy after the busy timeout is tried again a
// few times before the caller hears "database is locked".
constexpr int kBusyRetries = 3;
// Lease polls this often while waiting: another process's Enqueue cannot
// signal us, only one in this process can.
constexpr auto kPollInterval = std::chrono::milliseconds(25);

Status SqliteError(sqlite3* db, int rc, const std::string& what) {
  std::string msg = "queue: " + what + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_FULL:
      return Status::NoSpace("the disk holding the job queue is full (" + msg + ")");
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return Status::IOError(msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::Corruption(msg);
    default:
      return Status::Internal(msg);
  }
}

// A prepared statement that finalises itself.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Status status(const std::string& what) const {
    return rc_ == SQLITE_OK ? Status::Ok() : SqliteError(db_, rc_, what);
  }
  void Bind(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }
  void Bind(int i, const char* s) { sqlite3_bind_text(stmt_, i, s, -1, SQLITE_TRANSIENT); }
  void Bind(int i, double v) { sqlite3_bind_double(stmt_, i, v); }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void Bind(int i, int v) { sqlite3_bind_int(stmt_, i, v); }

  // SQLITE_ROW, SQLITE_DONE or an error code (kept for status()).
  int Step() {
    int rc = sqlite3_step(stmt_);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) rc_ = rc;
    return rc;
  }
  // Runs a statement that returns no rows.
  Status Run(const std::string& what) {
    SOPILOT_RETURN_IF_ERROR(status(what));
    if (Step() != SQLITE_DONE) return status(what);
    return Status::Ok();
  }

  std::string Text(int col) const {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, col)) : std::string();
  }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Double(int col) const { return sqlite3_column_double(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
};

// Enqueue and friends wake the Leases waiting in this process at once,
// whichever queue object they use; other processes are found by polling.
struct Waiters {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t generation = 0;
};

Waiters& TheWaiters() {
  static Waiters* w = new Waiters();  // never destroyed: no exit-order worries
  return *w;
}

uint64_t WaitersGeneration() {
  Waiters& w = TheWaiters();
  std::lock_guard<std::mutex> lock(w.mu);
  return w.generation;
}

void WakeWaiters() {
  Waiters& w = TheWaiters();
  {
    std::lock_guard<std::mutex> lock(w.mu);
    ++w.generation;
  }
  w.cv.notify_all();
}

// 128 random bits as hex. std::random_device reads the kernel (or the CPU),
// so a forked child does not repeat its parent's tokens as a seeded PRNG
// would.
std::string NewLeaseToken() {
  std::random_device rd;
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%08x%08x%08x%08x", rd(), rd(), rd(), rd());
  return std::string(buf, 32);
}

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS queue_items (
  job_id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('ready', 'leased', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  available_at REAL NOT NULL,
  lease_owner TEXT,
  lease_token TEXT,
  lease_expires_at REAL,
  last_error TEXT,
  enqueued_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS queue_items_kind_state ON queue_items (kind, state, available_at);
CREATE TABLE IF NOT EXISTS queue_workers (
  worker_id TEXT PRIMARY KEY,
  kinds TEXT NOT NULL,          -- ",ingest,score," : the kinds it serves
  expires_at REAL NOT NULL
);
)sql";

class SqliteJobQueue : public JobQueue {
 public:
  SqliteJobQueue(sqlite3* db, Env* env, const QueueOptions& options) : db_(db), env_(env), options_(options) {}
  ~SqliteJobQueue() override { sqlite3_close_v2(db_); }

  Status Init() {
    // The same 5 s of waiting as busy_timeout, but noted for the operation's
    // LockWaitScope (sopilot_database_locked_errors_total counts the
    // queue's waits too).
    sqlite3_busy_handler(db_, LockWaitBusyHandler, nullptr);
    SOPILOT_RETURN_IF_ERROR(Exec("PRAGMA journal_mode=WAL", "set WAL"));
    // NORMAL with WAL: a commit survives the process dying, but the last
    // commits before a power loss may be lost (FULL would fsync each one).
    SOPILOT_RETURN_IF_ERROR(Exec("PRAGMA synchronous=NORMAL", "set synchronous"));
    return Exec(kSchema, "create schema");
  }

  std::string backend() const override { return "sqlite"; }
  std::string QueueName(JobKind kind) const override { return std::string("sopilot_") + JobKindName(kind); }

  Status Ping() override {
    Operation op(this);
    return Exec("SELECT 1 FROM queue_items LIMIT 1", "ping");
  }

  Status Heartbeat(const std::string& worker_id, const std::vector<JobKind>& kinds, double ttl_sec) override {
    std::string list = ",";
    for (JobKind k : kinds) list += std::string(JobKindName(k)) + ",";
    Operation op(this);
    const double now = env_->NowUnixSeconds();
    return InTransaction([&]() -> Status {
      Stmt upsert(db_,
                  "INSERT INTO queue_workers (worker_id, kinds, expires_at) VALUES (?, ?, ?)"
                  " ON CONFLICT (worker_id) DO UPDATE SET kinds = excluded.kinds, expires_at = excluded.expires_at");
      upsert.Bind(1, worker_id);
      upsert.Bind(2, list);
      upsert.Bind(3, now + ttl_sec);
      SOPILOT_RETURN_IF_ERROR(upsert.Run("heartbeat"));
      Stmt prune(db_, "DELETE FROM queue_workers WHERE expires_at < ?");
      prune.Bind(1, now);
      return prune.Run("heartbeat");
    });
  }

  Status RemoveWorker(const std::string& worker_id) override {
    Operation op(this);
    Stmt del(db_, "DELETE FROM queue_workers WHERE worker_id = ?");
    del.Bind(1, worker_id);
    return del.Run("remove worker");
  }

  Result<int64_t> ActiveWorkers(JobKind kind) override {
    Operation op(this);
    Stmt count(db_, "SELECT COUNT(*) FROM queue_workers WHERE expires_at >= ? AND instr(kinds, ?) > 0");
    SOPILOT_RETURN_IF_ERROR(count.status("active workers"));
    count.Bind(1, env_->NowUnixSeconds());
    count.Bind(2, std::string(",") + JobKindName(kind) + ",");
    if (count.Step() != SQLITE_ROW) return count.status("active workers");
    return count.Int(0);
  }

  Status Enqueue(JobKind kind, const std::string& job_id) override {
    if (job_id.empty()) return Status::InvalidArgument("queue: empty job id");
    Operation op(this);
    double now = env_->NowUnixSeconds();
    Status st = InTransaction([&]() -> Status {
      Stmt find(db_, "SELECT kind, state FROM queue_items WHERE job_id = ?");
      SOPILOT_RETURN_IF_ERROR(find.status("enqueue"));
      find.Bind(1, job_id);
      int rc = find.Step();
      if (rc == SQLITE_ROW) {
        std::string old_kind = find.Text(0);
        if (old_kind != JobKindName(kind)) {
          return Status::InvalidArgument("queue: job " + job_id + " is already queued as " + old_kind);
        }
        if (find.Text(1) != "dead") return Status::Ok();  // queued or running: no-op
        // A dead job enqueued again runs again, as after Requeue.
        Stmt revive(db_,
                    "UPDATE queue_items SET state = 'ready', attempts = 0, available_at = ?, lease_owner = NULL,"
                    " lease_token = NULL, lease_expires_at = NULL, last_error = NULL, enqueued_at = ?"
                    " WHERE job_id = ?");
        revive.Bind(1, now);
        revive.Bind(2, now);
        revive.Bind(3, job_id);
        return revive.Run("enqueue");
      }
      if (rc != SQLITE_DONE) return find.status("enqueue");
      Stmt insert(db_,
                  "INSERT INTO queue_items (job_id, kind, state, attempts, available_at, enqueued_at)"
                  " VALUES (?, ?, 'ready', 0, ?, ?)");
      insert.Bind(1, job_id);
      insert.Bind(2, JobKindName(kind));
      insert.Bind(3, now);
      insert.Bind(4, now);
      return insert.Run("enqueue");
    });
    if (st.ok()) WakeWaiters();
    return st;
  }

  Result<std::optional<LeasedJob>> Lease(const std::vector<JobKind>& kinds, const std::string& worker_id,
                                         double lease_sec, double wait_sec) override {
    if (kinds.empty()) return Status::InvalidArgument("queue: lease of no job kinds");
    if (!(lease_sec > 0)) return Status::InvalidArgument("queue: lease time must be positive");
    // The wait is measured on the real monotonic clock, not env_: the sleeps
    // are real, and a test's frozen fake clock must not make Lease hang.
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                        std::chrono::duration<double>(std::max(0.0, wait_sec)));
    for (;;) {
      // Read before trying, so that an Enqueue between the try and the wait
      // is not missed.
      uint64_t seen = WaitersGeneration();
      std::optional<LeasedJob> job;
      SOPILOT_RETURN_IF_ERROR(TryLease(kinds, worker_id, lease_sec, &job));
      if (job) return job;
      auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return std::optional<LeasedJob>();
      Waiters& w = TheWaiters();
      std::unique_lock<std::mutex> lock(w.mu);
      w.cv.wait_until(lock, std::min(deadline, now + kPollInterval), [&] { return w.generation != seen; });
    }
  }

  Status Extend(const LeasedJob& job, double lease_sec) override {
    if (!(lease_sec > 0)) return Status::InvalidArgument("queue: lease time must be positive");
    Operation op(this);
    Stmt extend(db_,
                "UPDATE queue_items SET lease_expires_at = ?"
                " WHERE job_id = ? AND state = 'leased' AND lease_token = ?");
    extend.Bind(1, env_->NowUnixSeconds() + lease_sec);
    extend.Bind(2, job.job_id);
    extend.Bind(3, job.lease_token);
    SOPILOT_RETURN_IF_ERROR(extend.Run("extend"));
    if (sqlite3_changes(db_) == 0) return LeaseLost(job);
    return Status::Ok();
  }

  Status Ack(const LeasedJob& job) override {
    Operation op(this);
    Stmt del(db_, "DELETE FROM queue_items WHERE job_id = ? AND state = 'leased' AND lease_token = ?");
    del.Bind(1, job.job_id);
    del.Bind(2, job.lease_token);
    SOPILOT_RETURN_IF_ERROR(del.Run("ack"));
    if (sqlite3_changes(db_) == 0) return LeaseLost(job);
    return Status::Ok();
  }

  Result<bool> Fail(const LeasedJob& job, const std::string& error) override {
    return FailWithin(job, error, options_.max_attempts);
  }

  Status Bury(const LeasedJob& job, const std::string& error) override {
    return FailWithin(job, error, /*max_attempts=*/0).status();
  }

  // Fail() with `max_attempts` in place of the queue's: 0 buries the job.
  Result<bool> FailWithin(const LeasedJob& job, const std::string& error, int max_attempts) {
    Operation op(this);
    double now = env_->NowUnixSeconds();
    bool retry = false;
    Status st = InTransaction([&]() -> Status {
      Stmt find(db_, "SELECT attempts FROM queue_items WHERE job_id = ? AND state = 'leased' AND lease_token = ?");
      SOPILOT_RETURN_IF_ERROR(find.status("fail"));
      find.Bind(1, job.job_id);
      find.Bind(2, job.lease_token);
      int rc = find.Step();
      if (rc == SQLITE_DONE) return LeaseLost(job);
      if (rc != SQLITE_ROW) return find.status("fail");
      int attempts = static_cast<int>(find.Int(0));
      retry = attempts < max_attempts;
      Stmt update(db_,
                  "UPDATE queue_items SET state = ?, available_at = ?, last_error = ?, lease_owner = NULL,"
                  " lease_token = NULL, lease_expires_at = NULL WHERE job_id = ?");
      update.Bind(1, retry ? "ready" : "dead");
      update.Bind(2, retry ? now + RetryDelaySeconds(options_, attempts) : now);
      update.Bind(3, error);
      update.Bind(4, job.job_id);
      return update.Run("fail");
    });
    if (!st.ok()) return st;
    if (retry) WakeWaiters();  // matters only with a zero backoff
    return retry;
  }

  Result<ExpiredLeases> RecoverExpired() override {
    Operation op(this);
    double now = env_->NowUnixSeconds();
    int readied = 0;
    ExpiredLeases expired;
    // Counts the rows an UPDATE ... RETURNING kind changed, per kind.
    auto count = [&](Stmt& update, int* changed) -> Status {
      SOPILOT_RETURN_IF_ERROR(update.status("recover expired"));
      int rc;
      while ((rc = update.Step()) == SQLITE_ROW) {
        for (JobKind k : kAllJobKinds) {
          if (update.Text(0) == JobKindName(k)) ++expired.by_kind[static_cast<int>(k)];
        }
        ++*changed;
      }
      return rc == SQLITE_DONE ? Status::Ok() : update.status("recover expired");
    };
    Status st = InTransaction([&]() -> Status {
      expired = ExpiredLeases();  // a busy COMMIT runs this again
      readied = 0;
      // Leases that were the last allowed attempt: the job may be what kills
      // its workers, so it is not handed out again.
      Stmt dead(db_,
                "UPDATE queue_items SET state = 'dead', available_at = ?,"
                " last_error = 'lease of ' || COALESCE(lease_owner, '?') || ' expired on attempt ' || attempts,"
                " lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL"
                " WHERE state = 'leased' AND lease_expires_at < ? AND attempts >= ? RETURNING kind");
      dead.Bind(1, now);
      dead.Bind(2, now);
      dead.Bind(3, options_.max_attempts);
      int died = 0;
      SOPILOT_RETURN_IF_ERROR(count(dead, &died));
      Stmt ready(db_,
                 "UPDATE queue_items SET state = 'ready', available_at = ?,"
                 " last_error = 'lease of ' || COALESCE(lease_owner, '?') || ' expired on attempt ' || attempts,"
                 " lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL"
                 " WHERE state = 'leased' AND lease_expires_at < ? RETURNING kind");
      ready.Bind(1, now);
      ready.Bind(2, now);
      SOPILOT_RETURN_IF_ERROR(count(ready, &readied));
      expired.total = died + readied;
      return Status::Ok();
    });
    if (!st.ok()) return st;
    if (readied > 0) WakeWaiters();
    // Every lease that ran out counts, including those that went dead.
    return expired;
  }

  Result<QueueStats> Stats(JobKind kind) override {
    Operation op(this);
    Stmt stats(db_,
               "SELECT COALESCE(SUM(state = 'ready'), 0), COALESCE(SUM(state = 'leased'), 0),"
               " COALESCE(SUM(state = 'ready' AND available_at > ?1), 0), COALESCE(SUM(state = 'dead'), 0),"
               " MIN(CASE WHEN state = 'ready' AND available_at <= ?1 THEN available_at END),"
               " COUNT(DISTINCT CASE WHEN state = 'leased' THEN lease_owner END)"
               " FROM queue_items WHERE kind = ?2");
    SOPILOT_RETURN_IF_ERROR(stats.status("stats"));
    const double now = env_->NowUnixSeconds();
    stats.Bind(1, now);
    stats.Bind(2, JobKindName(kind));
    if (stats.Step() != SQLITE_ROW) return stats.status("stats");
    QueueStats s;
    s.queued = stats.Int(0);
    s.running = stats.Int(1);
    s.retrying = stats.Int(2);
    s.dead = stats.Int(3);
    s.oldest_wait_sec = stats.IsNull(4) ? 0.0 : std::max(0.0, now - stats.Double(4));
    s.busy_workers = stats.Int(5);
    return s;
  }

  Result<std::vector<std::string>> DeadJobs(JobKind kind, int limit) override {
    Operation op(this);
    // Oldest death first: available_at is set to the time of death.
    Stmt dead(db_,
              "SELECT job_id FROM queue_items WHERE kind = ? AND state = 'dead'"
              " ORDER BY available_at, rowid LIMIT ?");
    SOPILOT_RETURN_IF_ERROR(dead.status("dead jobs"));
    dead.Bind(1, JobKindName(kind));
    dead.Bind(2, std::clamp(limit, 1, 10000));
    std::vector<std::string> ids;
    int rc;
    while ((rc = dead.Step()) == SQLITE_ROW) ids.push_back(dead.Text(0));
    if (rc != SQLITE_DONE) return dead.status("dead jobs");
    return ids;
  }

  Status Requeue(JobKind kind, const std::string& job_id) override {
    Operation op(this);
    Stmt requeue(db_,
                 "UPDATE queue_items SET state = 'ready', attempts = 0, available_at = ?, last_error = NULL"
                 " WHERE job_id = ? AND kind = ? AND state = 'dead'");
    requeue.Bind(1, env_->NowUnixSeconds());
    requeue.Bind(2, job_id);
    requeue.Bind(3, JobKindName(kind));
    SOPILOT_RETURN_IF_ERROR(requeue.Run("requeue"));
    if (sqlite3_changes(db_) == 0) {
      return Status::NotFound("queue: no dead " + std::string(JobKindName(kind)) + " job " + job_id);
    }
    WakeWaiters();
    return Status::Ok();
  }

  LockWaits* lock_waits() override { return &lock_waits_; }

 private:
  static Status LeaseLost(const LeasedJob& job) {
    return Status::NotFound("queue: job " + job.job_id + ": lease lost (expired and handed out again, or done)");
  }

  // One public operation: holds mu_ and is one LockWaitScope, so a call that
  // waits on another process's lock is counted once with its whole wait.
  struct Operation {
    explicit Operation(SqliteJobQueue* q) : lock(q->mu_), scope(&q->lock_waits_) {}
    std::lock_guard<std::mutex> lock;
    LockWaitScope scope;
  };

  Status Exec(const char* sql, const std::string& what) {
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    return rc == SQLITE_OK ? Status::Ok() : SqliteError(db_, rc, what);
  }

  // Runs `fn` between BEGIN IMMEDIATE and COMMIT; rolls back when it fails.
  // IMMEDIATE takes the write lock up front, so two leasers cannot both read
  // the same ready row. Caller holds mu_.
  template <typename Fn>
  Status InTransaction(Fn&& fn) {
    for (int attempt = 0;; ++attempt) {
      int rc = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
      if (rc == SQLITE_BUSY && attempt < kBusyRetries) continue;  // busy_timeout already waited
      if (rc != SQLITE_OK) return SqliteError(db_, rc, "begin");
      Status st = fn();
      if (!st.ok()) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        return st;
      }
      rc = sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
      if (rc == SQLITE_OK) return Status::Ok();
      Status commit_error = SqliteError(db_, rc, "commit");
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      if ((rc & 0xff) != SQLITE_BUSY || attempt >= kBusyRetries) return commit_error;
    }
  }

  // One look at the table: leases the oldest due ready row of the first kind
  // that has one, or leaves *job empty.
  Status TryLease(const std::vector<JobKind>& kinds, const std::string& worker_id, double lease_sec,
                  std::optional<LeasedJob>* job) {
    Operation op(this);
    double now = env_->NowUnixSeconds();
    return InTransaction([&]() -> Status {
      job->reset();
      for (JobKind kind : kinds) {
        for (;;) {
          Stmt pick(db_,
                    "SELECT job_id, attempts, available_at FROM queue_items WHERE kind = ? AND state = 'ready'"
                    " AND available_at <= ? ORDER BY available_at, rowid LIMIT 1");
          SOPILOT_RETURN_IF_ERROR(pick.status("lease"));
          pick.Bind(1, JobKindName(kind));
          pick.Bind(2, now);
          int rc = pick.Step();
          if (rc == SQLITE_DONE) break;  // nothing due of this kind
          if (rc != SQLITE_ROW) return pick.status("lease");
          std::string id = pick.Text(0);
          int attempts = static_cast<int>(pick.Int(1));
          const double ready_since = pick.Double(2);
          if (attempts >= options_.max_attempts) {
            // No attempts left (see the top of the file): dead, not leased.
            Stmt dead(db_,
                      "UPDATE queue_items SET state = 'dead', available_at = ?,"
                      " last_error = COALESCE(last_error, 'no attempts left') WHERE job_id = ?");
            dead.Bind(1, now);
            dead.Bind(2, id);
            SOPILOT_RETURN_IF_ERROR(dead.Run("lease"));
            continue;
          }
          std::string token = NewLeaseToken();
          Stmt lease(db_,
                     "UPDATE queue_items SET state = 'leased', attempts = attempts + 1, lease_owner = ?,"
                     " lease_token = ?, lease_expires_at = ? WHERE job_id = ?");
          lease.Bind(1, worker_id);
          lease.Bind(2, token);
          lease.Bind(3, now + lease_sec);
          lease.Bind(4, id);
          SOPILOT_RETURN_IF_ERROR(lease.Run("lease"));
          *job = LeasedJob{id, kind, attempts + 1, token, std::max(0.0, now - ready_since)};
          return Status::Ok();
        }
      }
      return Status::Ok();
    });
  }

  sqlite3* const db_;
  Env* const env_;
  const QueueOptions options_;
  std::mutex mu_;  // serialises use of db_
  LockWaits lock_waits_;
};

}  // namespace

Result<std::unique_ptr<JobQueue>> OpenSqliteJobQueue(const std::string& db_path, Env* env,
                                                     const QueueOptions& options) {
  if (options.max_attempts < 1) return Status::InvalidArgument("queue: max_attempts must be at least 1");
  if (options.backoff_base_sec < 0 || options.backoff_factor < 1 || options.backoff_max_sec < 0) {
    return Status::InvalidArgument("queue: backoff must be non-negative with a factor of at least 1");
  }
  if (env == nullptr) env = Env::Default();
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    Status st = SqliteError(db, rc, "open " + db_path);
    sqlite3_close_v2(db);
    return st;
  }
  auto queue = std::make_unique<SqliteJobQueue>(db, env, options);  // owns db from here
  Status st = queue->Init();
  if (!st.ok()) return st.WithContext(db_path);
  return std::unique_ptr<JobQueue>(std::move(queue));
}

}  // namespace sopilot
