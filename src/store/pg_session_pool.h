// PgSessionPool: the PostgreSQL metadata store's connections. A call takes
// one for as long as it runs and gives it back, so calls from several
// threads of one process (the API's requests, the workers' jobs) run side by
// side on the server instead of one after another, and a statement waiting
// for a row or advisory lock holds up only its own call. Internal to
// src/store.
//
// Connections are opened when needed, up to `max_sessions`: a process whose
// calls never overlap keeps one. When all are in use, Acquire waits for one
// to be given back (the server's own limit, max_connections, is shared by
// every process of an installation, so the pool does not grow past it).
//
// Threads: Acquire and the leases' return may be called from any thread; a
// lease and its session are used by one thread at a time. Every lease must
// be given back (destroyed) before the pool is.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/pg_statement.h"

namespace sopilot::store_detail {

struct PgPoolOptions {
  // Connections open at most (>= 1).
  int max_sessions = 4;
  // How long a statement may wait for a row or advisory lock before it fails
  // with IOError("database is locked"); 0 waits for ever.
  int lock_timeout_ms = PgSession::kLockTimeoutMs;
  // Where the sessions record their waits for advisory locks
  // (PgSession::LockKey); must outlive the pool. None: not recorded.
  LockWaits* lock_waits = nullptr;
};

class PgSessionPool {
 public:
  PgSessionPool(std::string url, PgPoolOptions options);
  PgSessionPool(const PgSessionPool&) = delete;
  PgSessionPool& operator=(const PgSessionPool&) = delete;

  // One session, the caller's until the lease is destroyed.
  class Lease {
   public:
    Lease(Lease&& other) noexcept : pool_(other.pool_), session_(std::move(other.session_)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    PgSession& operator*() const { return *session_; }
    PgSession* operator->() const { return session_.get(); }

   private:
    friend class PgSessionPool;
    Lease(PgSessionPool* pool, std::unique_ptr<PgSession> session) : pool_(pool), session_(std::move(session)) {}
    PgSessionPool* pool_;
    std::unique_ptr<PgSession> session_;
  };

  // An idle session, else a new connection while fewer than max_sessions are
  // open, else the first one given back. Unavailable (with the server's
  // message) when a new connection cannot be made; an idle session whose
  // connection was lost is handed out as it is and connects again on its
  // next statement (PgSession::Ready).
  Result<Lease> Acquire();

  // Connections open now (idle or leased).
  int open_sessions() const;
  // The connection URL every session of the pool connects with.
  const std::string& url() const { return url_; }
  const PgPoolOptions& options() const { return options_; }

 private:
  void GiveBack(std::unique_ptr<PgSession> session);

  const std::string url_;
  const PgPoolOptions options_;
  mutable std::mutex mu_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<PgSession>> idle_;
  int open_ = 0;  // idle, leased, or connecting
};

}  // namespace sopilot::store_detail
