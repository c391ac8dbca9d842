// The SQLite helpers every part of the metadata store uses: the error
// mapping, a connection view (Conn) whose operations note their lock waits, a prepared
// statement (Stmt) that waits out locks, and transactions. Internal to
// src/store: callers outside it use MetadataStore.
//
// Threads: none of these lock; the caller holds the store's mutex (or owns
// the connection) for as long as it uses them.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "base/lock_waits.h"
#include "base/status.h"

namespace sopilot::store_detail {

// How long a statement may wait for another connection's lock in total.
inline constexpr std::chrono::milliseconds kBusyTimeout{5000};
// Sleep between retries: short, so that a released lock is noticed quickly.
inline constexpr std::chrono::milliseconds kBusySleep{2};

using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------- errors

inline bool IsBusy(int rc) {
  int primary = rc & 0xff;
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

inline Status LockedStatus() { return Status::IOError("database is locked"); }

// What an operator should read when the file is damaged.
inline std::string CorruptMessage(const std::string& path, const std::string& detail) {
  return (path.empty() ? std::string("the metadata store") : path + ": the metadata store") + " is corrupt (" +
         detail + "); restore it from a backup";
}

inline Status SqliteStatus(sqlite3* db, int rc, const std::string& what) {
  const std::string detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string msg = what + ": " + detail;
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return LockedStatus();
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
      return Status::InvalidArgument(msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::Corruption(CorruptMessage(db ? sqlite3_db_filename(db, "main") : "", detail));
    case SQLITE_FULL:
      // SQLite rolled the statement (or transaction) back: nothing is half
      // written, and the same write succeeds once space returns.
      return Status::NoSpace("the disk holding the metadata store is full (" + msg + ")");
    case SQLITE_IOERR:
      if (db && (sqlite3_system_errno(db) == ENOSPC || sqlite3_system_errno(db) == EDQUOT)) {
        return Status::NoSpace("the disk holding the metadata store is full (" + msg + ")");
      }
      return Status::IOError(msg);
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_NOLFS:
    case SQLITE_PROTOCOL:
      return Status::IOError(msg);
    default:
      return Status::Internal(msg);
  }
}

// ---------------------------------------------------------------- connection

// What the statement helpers need of a MetadataStore: the connection and the
// counter of lock waits. The caller holds the store's mutex.
struct Conn {
  sqlite3* db;
  LockWaits* waits;
  std::atomic<bool>* corrupt;  // set when a statement meets a damaged file

  // The Status of a failed call; remembers corruption for Ping.
  Status Error(int rc, const std::string& what) const {
    const int primary = rc & 0xff;
    if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) corrupt->store(true);
    return SqliteStatus(db, rc, what);
  }

  // One retry's sleep while the lock is held elsewhere, noted for the
  // operation's LockWaitScope.
  void Wait() const {
    LockWaitScope::NoteWait();
    std::this_thread::sleep_for(kBusySleep);
  }
};

// A prepared statement; finalised when destroyed. Bind errors are kept and
// reported by the first Step so that call sites stay a list of binds.
class Stmt {
 public:
  Stmt(Conn conn, sqlite3_stmt* stmt) : conn_(conn), stmt_(stmt) {}
  Stmt(Stmt&& other) noexcept
      : conn_(other.conn_), stmt_(std::exchange(other.stmt_, nullptr)), bind_rc_(other.bind_rc_),
        rows_(other.rows_) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() {
    if (stmt_) sqlite3_finalize(stmt_);
  }

  static Result<Stmt> Prepare(Conn conn, const char* sql) {
    LockWaitScope scope(conn.waits);
    auto deadline = Clock::now() + kBusyTimeout;
    for (;;) {
      sqlite3_stmt* stmt = nullptr;
      // Preparing reads the schema, which can meet a lock too.
      int rc = sqlite3_prepare_v2(conn.db, sql, -1, &stmt, nullptr);
      if (rc == SQLITE_OK) return Stmt(conn, stmt);
      if (!IsBusy(rc)) return conn.Error(rc, "prepare");
      if (Clock::now() >= deadline) return LockedStatus();
      conn.Wait();
    }
  }

  Stmt& Bind(int idx, int64_t v) { return Check(sqlite3_bind_int64(stmt_, idx, v)); }
  Stmt& Bind(int idx, int v) { return Check(sqlite3_bind_int(stmt_, idx, v)); }
  Stmt& Bind(int idx, double v) { return Check(sqlite3_bind_double(stmt_, idx, v)); }
  Stmt& Bind(int idx, const std::string& v) {
    return Check(sqlite3_bind_text(stmt_, idx, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  Stmt& Bind(int idx, const char* v) { return Bind(idx, std::string(v)); }
  // "" becomes NULL: the spelling of an absent optional text.
  Stmt& BindOpt(int idx, const std::string& v) {
    return v.empty() ? Check(sqlite3_bind_null(stmt_, idx)) : Bind(idx, v);
  }
  template <typename T>
  Stmt& BindOpt(int idx, const std::optional<T>& v) {
    return v ? Bind(idx, *v) : Check(sqlite3_bind_null(stmt_, idx));
  }

  // True with a row, false when done. A lock met before the first row is
  // waited out (the statement restarts from scratch, which is harmless before
  // it produced anything); after rows it fails, as a restart would repeat them.
  Result<bool> Step() {
    if (bind_rc_ != SQLITE_OK) return conn_.Error(bind_rc_, "bind");
    LockWaitScope scope(conn_.waits);
    auto deadline = Clock::now() + kBusyTimeout;
    for (;;) {
      int rc = sqlite3_step(stmt_);
      if (rc == SQLITE_ROW) {
        ++rows_;
        return true;
      }
      if (rc == SQLITE_DONE) return false;
      if (IsBusy(rc) && rows_ == 0 && Clock::now() < deadline) {
        sqlite3_reset(stmt_);
        conn_.Wait();
        continue;
      }
      // sqlite3_errmsg reports the step's error (v2 prepare).
      Status st = conn_.Error(rc, "step");
      sqlite3_reset(stmt_);
      return st;
    }
  }

  // Runs a statement that returns no rows of interest.
  Status Run() {
    for (;;) {
      auto r = Step();
      if (!r.ok()) return r.status();
      if (!*r) return Status::Ok();
    }
  }

  // Makes the statement ready to be bound and run again.
  void Reset() {
    sqlite3_reset(stmt_);
    rows_ = 0;
  }

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Double(int col) const { return sqlite3_column_double(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string Text(int col) const {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    if (!p) return std::string();
    return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
  }
  std::optional<int64_t> OptInt(int col) const {
    if (IsNull(col)) return std::nullopt;
    return Int(col);
  }
  std::optional<double> OptDouble(int col) const {
    if (IsNull(col)) return std::nullopt;
    return Double(col);
  }

 private:
  Stmt& Check(int rc) {
    if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
    return *this;
  }

  Conn conn_;
  sqlite3_stmt* stmt_;
  int bind_rc_ = SQLITE_OK;
  int rows_ = 0;
};

// A single statement without parameters (BEGIN, COMMIT, PRAGMA), retried
// while locked.
inline Status Exec(Conn conn, const char* sql) {
  SOPILOT_ASSIGN_OR_RETURN(Stmt stmt, Stmt::Prepare(conn, sql));
  return stmt.Run();
}

// Several statements without parameters (a migration), in order.
inline Status ExecScript(Conn conn, const char* sql) {
  const char* rest = sql;
  while (rest && *rest) {
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v2(conn.db, rest, -1, &raw, &tail);
    if (rc != SQLITE_OK) return conn.Error(rc, "migration");
    rest = tail;
    if (!raw) continue;  // whitespace or a comment
    Stmt stmt(conn, raw);
    SOPILOT_RETURN_IF_ERROR(stmt.Run());
  }
  return Status::Ok();
}


// Runs `body` between BEGIN IMMEDIATE and COMMIT; rolls back on any error.
// IMMEDIATE takes the write lock up front: a deferred transaction that
// upgrades from read to write can fail with SQLITE_BUSY_SNAPSHOT in WAL mode,
// which no amount of waiting fixes.
template <typename Body>
Status InTransaction(Conn conn, Body&& body) {
  LockWaitScope scope(conn.waits);  // the transaction is one operation
  SOPILOT_RETURN_IF_ERROR(Exec(conn, "BEGIN IMMEDIATE"));
  Status st = body();
  if (st.ok()) st = Exec(conn, "COMMIT");
  if (!st.ok() && !sqlite3_get_autocommit(conn.db)) {
    sqlite3_exec(conn.db, "ROLLBACK", nullptr, nullptr, nullptr);  // the first error matters
  }
  return st;
}

// A JSON object, or "" (stored as NULL / "{}" by the caller).
inline Status CheckJsonObject(const std::string& text, const char* what) {
  if (text.empty()) return Status::Ok();
  try {
    auto j = nlohmann::json::parse(text);
    if (!j.is_object()) return Status::InvalidArgument(std::string(what) + " is not a JSON object");
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(std::string(what) + " is not valid JSON: " + e.what());
  }
  return Status::Ok();
}

}  // namespace sopilot::store_detail
