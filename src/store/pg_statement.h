// The libpq helpers the PostgreSQL metadata store uses: parameters (always
// bound, never spliced into SQL), a result and a row view with the column
// accessors the row readers of store_rows.h expect, the error mapping, and
// a session (one connection) that reconnects after a lost connection and
// runs transactions. Internal to src/store: callers outside it use
// MetadataStore.
//
// Threads: none of these lock; a session is used by one thread at a time
// (the store leases it from its PgSessionPool for one call).
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/lock_waits.h"
#include "base/status.h"

namespace sopilot::store_detail {

// ---------------------------------------------------------------- parameters

// $1, $2, ... in order, as text (the server converts them to the column's
// type; SQL casts where the type is not clear from the context).
class PgParams {
 public:
  PgParams& Add(const std::string& v) { return Push(v); }
  PgParams& Add(const char* v) { return Push(std::string(v)); }
  PgParams& Add(int64_t v) { return Push(std::to_string(v)); }
  PgParams& Add(int v) { return Push(std::to_string(v)); }
  PgParams& Add(double v) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v);  // exact: reads back as the same double
    return Push(buf);
  }
  // "" becomes NULL: the spelling of an absent optional text.
  PgParams& AddOpt(const std::string& v) { return v.empty() ? Push(std::nullopt) : Add(v); }
  template <typename T>
  PgParams& AddOpt(const std::optional<T>& v) {
    return v ? Add(*v) : Push(std::nullopt);
  }

  int size() const { return static_cast<int>(values_.size()); }
  // The values for PQexecParams (nullptr for NULL); valid while this lives.
  std::vector<const char*> Pointers() const {
    std::vector<const char*> out;
    for (const auto& v : values_) out.push_back(v ? v->c_str() : nullptr);
    return out;
  }

 private:
  PgParams& Push(std::optional<std::string> v) {
    values_.push_back(std::move(v));
    return *this;
  }
  std::vector<std::optional<std::string>> values_;
};

// ---------------------------------------------------------------- results

class PgResult {
 public:
  explicit PgResult(PGresult* res) : res_(res, PQclear) {}
  const PGresult* get() const { return res_.get(); }
  // PGRES_TUPLES_OK / PGRES_COMMAND_OK on success; a NULL result (no memory,
  // no connection) reads as PGRES_FATAL_ERROR.
  ExecStatusType status() const { return PQresultStatus(res_.get()); }
  int rows() const { return PQntuples(res_.get()); }
  // Rows an INSERT, UPDATE or DELETE changed.
  int64_t affected() const {
    const char* n = PQcmdTuples(res_.get());
    return n && *n ? std::strtoll(n, nullptr, 10) : 0;
  }
  bool IsNull(int row, int col) const { return PQgetisnull(res_.get(), row, col) != 0; }
  std::string Text(int row, int col) const {
    return std::string(PQgetvalue(res_.get(), row, col), static_cast<size_t>(PQgetlength(res_.get(), row, col)));
  }
  int64_t Int(int row, int col) const { return std::strtoll(PQgetvalue(res_.get(), row, col), nullptr, 10); }
  double Double(int row, int col) const { return std::strtod(PQgetvalue(res_.get(), row, col), nullptr); }
  bool Bool(int row, int col) const { return PQgetvalue(res_.get(), row, col)[0] == 't'; }

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> res_;
};

// One row of a result, with the accessors of store_detail::Stmt, so that the
// row readers of store_rows.h read it.
class PgRow {
 public:
  PgRow(const PgResult& res, int row) : res_(&res), row_(row) {}
  int64_t Int(int col) const { return res_->Int(row_, col); }
  double Double(int col) const { return res_->Double(row_, col); }
  bool Bool(int col) const { return res_->Bool(row_, col); }
  bool IsNull(int col) const { return res_->IsNull(row_, col); }
  std::string Text(int col) const { return res_->Text(row_, col); }
  std::optional<int64_t> OptInt(int col) const {
    if (IsNull(col)) return std::nullopt;
    return Int(col);
  }
  std::optional<double> OptDouble(int col) const {
    if (IsNull(col)) return std::nullopt;
    return Double(col);
  }

 private:
  const PgResult* res_;
  int row_;
};

// ---------------------------------------------------------------- errors

inline std::string OneLine(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (char& c : s) {
    if (c == '\n') c = ' ';
  }
  return s;
}

// The Status of a failed statement, by its SQLSTATE class.
inline Status PgStatus(PGconn* conn, const PGresult* res, const std::string& what) {
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const std::string detail = OneLine(res && *PQresultErrorMessage(res) ? PQresultErrorMessage(res) : PQerrorMessage(conn));
  const std::string msg = what + ": " + detail;
  if (PQstatus(conn) == CONNECTION_BAD) {
    return Status::Unavailable("the PostgreSQL metadata store is unavailable (" + msg + ")");
  }
  const std::string code = state ? state : "";
  const std::string cls = code.substr(0, 2);
  if (code == "55P03" || code == "40001" || code == "40P01") {
    return Status::IOError("database is locked (" + msg + ")");
  }
  if (cls == "23" || cls == "22" || code == "P0001") return Status::InvalidArgument(msg);
  if (code == "53100") {
    return Status::NoSpace("the disk holding the metadata store is full (" + msg + ")");
  }
  if (cls == "08" || cls == "57" || cls == "53") {
    return Status::Unavailable("the PostgreSQL metadata store is unavailable (" + msg + ")");
  }
  if (cls == "XX") return Status::Corruption("the PostgreSQL metadata store reports damage (" + msg + ")");
  return Status::Internal(msg);
}

// ---------------------------------------------------------------- session

// The store's connection. Opened with the URL and a few settings of the
// session (a lock wait bound like SQLite's busy timeout, UTC); after the
// connection is lost, the next call connects again (PQreset).
class PgSession {
 public:
  // How long a statement may wait for a row or advisory lock.
  static constexpr int kLockTimeoutMs = 5000;

  PgSession() = default;
  PgSession(const PgSession&) = delete;
  PgSession& operator=(const PgSession&) = delete;
  ~PgSession() {
    if (conn_) PQfinish(conn_);
  }

  // Connects to `url`; Unavailable with the server's message when it cannot.
  // `lock_timeout_ms`: how long a statement may wait for a lock (0: for ever).
  Status Connect(const std::string& url, int lock_timeout_ms = kLockTimeoutMs) {
    const std::string options = "-c lock_timeout=" + std::to_string(lock_timeout_ms) +
                                " -c TimeZone=UTC -c client_min_messages=warning";
    const char* keys[] = {"dbname", "options", "application_name", "connect_timeout", nullptr};
    const char* values[] = {url.c_str(), options.c_str(), "sopilot", "10", nullptr};
    conn_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
    if (!conn_) return Status::Internal("libpq: out of memory");
    // Notices (NOTICE, WARNING) would go to stderr by default.
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
    if (PQstatus(conn_) != CONNECTION_OK) {
      return Status::Unavailable("cannot connect to the PostgreSQL metadata store: " +
                                 OneLine(PQerrorMessage(conn_)));
    }
    return Status::Ok();
  }

  // Connects again when the connection was lost.
  Status Ready() {
    if (PQstatus(conn_) == CONNECTION_OK) return Status::Ok();
    PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK) {
      return Status::Unavailable("the PostgreSQL metadata store is unavailable: " + OneLine(PQerrorMessage(conn_)));
    }
    return Status::Ok();
  }

  // One statement with parameters.
  Result<PgResult> Exec(const std::string& sql, const PgParams& params = PgParams()) {
    if (!in_transaction_) SOPILOT_RETURN_IF_ERROR(Ready());
    const std::vector<const char*> values = params.Pointers();
    PgResult res(PQexecParams(conn_, sql.c_str(), params.size(), nullptr, values.data(), nullptr, nullptr, 0));
    return Check(std::move(res), "statement");
  }

  // Several statements without parameters (a migration), in order.
  Status Script(const char* sql) {
    if (!in_transaction_) SOPILOT_RETURN_IF_ERROR(Ready());
    PgResult res(PQexec(conn_, sql));
    return Check(std::move(res), "migration").status();
  }

  // Runs `body` between BEGIN and COMMIT (READ COMMITTED: each statement
  // sees what committed before it began; writes that must not interleave
  // take row or advisory locks); rolls back on any error.
  template <typename Body>
  Status InTransaction(Body&& body) {
    SOPILOT_RETURN_IF_ERROR(Ready());
    SOPILOT_RETURN_IF_ERROR(Exec("BEGIN").status());
    in_transaction_ = true;
    Status st = body();
    in_transaction_ = false;
    if (st.ok()) st = Exec("COMMIT").status();
    if (!st.ok() && PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) != PQTRANS_IDLE) {
      PQclear(PQexec(conn_, "ROLLBACK"));  // the first error matters
    }
    return st;
  }

  // An exclusive lock on `key` (a name: "task_index/<task>") until the
  // transaction ends: what serialises writers that SQLite's one writer
  // serialised. A lock another connection holds is waited for (up to the
  // lock timeout), and the wait is recorded in `lock_waits` (set_lock_waits;
  // the metrics' sopilot_database_lock_wait_seconds).
  Status LockKey(const std::string& key) {
    // Asked without waiting first, so that a wait is seen as one.
    SOPILOT_ASSIGN_OR_RETURN(PgResult got, Exec("SELECT pg_try_advisory_xact_lock(hashtextextended($1::text, 0))",
                                                PgParams().Add(key)));
    if (got.rows() == 1 && got.Bool(0, 0)) return Status::Ok();
    LockWaitScope scope(lock_waits_);
    LockWaitScope::NoteWait();
    return Exec("SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))", PgParams().Add(key)).status();
  }
  // Where LockKey records its waits (none: not recorded).
  void set_lock_waits(LockWaits* waits) { lock_waits_ = waits; }

  PGconn* conn() const { return conn_; }

 private:
  Result<PgResult> Check(PgResult res, const char* what) {
    const ExecStatusType st = res.status();
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) return res;
    return PgStatus(conn_, res.get(), what);
  }

  PGconn* conn_ = nullptr;
  bool in_transaction_ = false;
  LockWaits* lock_waits_ = nullptr;
};

}  // namespace sopilot::store_detail
