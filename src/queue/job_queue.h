// JobQueue: the durable queues of the three job kinds (ingest, score,
// training), behind one interface so that the embedded SQLite queue and the
// Redis queue of a later issue are interchangeable.
//
// Delivery is at least once: a leased job whose worker dies (the lease runs
// out) is handed out again. Job handlers are idempotent and the metadata store
// refuses to record a result twice, which makes the effect exactly once.
//
// Retries: a failed job is retried after backoff_base_sec x
// backoff_factor^(attempt - 1) (capped at backoff_max_sec) until it has run
// max_attempts times; then it is dead, listed by DeadJobs() and requeueable.
#pragma once

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

struct QueueOptions {
  int max_attempts = 3;            // 1 run + 2 retries, the original's RQ_RETRY_MAX=2
  double backoff_base_sec = 10;    // 10, 60, 300 (capped) as the original's schedule
  double backoff_factor = 6;
  double backoff_max_sec = 300;
};

// Delay before retry number `attempt` (1 = the first retry).
double RetryDelaySeconds(const QueueOptions& options, int attempt);

struct LeasedJob {
  std::string job_id;
  JobKind kind = JobKind::kIngest;
  int attempt = 1;          // 1 for the first run
  std::string lease_token;  // proves the lease is still this worker's
  // Seconds the job waited to be leased: from when it became ready (its
  // enqueue, the end of a retry backoff, a requeue, or the recovery of an
  // expired lease) to this lease, on the queue's clock. Never negative.
  double waited_sec = 0;
};

struct QueueStats {
  int64_t queued = 0;   // ready, or waiting out a retry backoff
  int64_t running = 0;  // leased
  int64_t retrying = 0; // of `queued`, those waiting out a backoff
  int64_t dead = 0;
  // How long the oldest job that could run now has waited (as
  // LeasedJob::waited_sec); 0 when none is waiting.
  double oldest_wait_sec = 0;
  int64_t busy_workers = 0;  // distinct workers holding a lease of this kind
};

// What RecoverExpired found: leases that ran out, in all and per kind
// (indexed by JobKind), whether the job became ready again or dead.
struct ExpiredLeases {
  int total = 0;
  int by_kind[3] = {0, 0, 0};
};

class JobQueue {
 public:
  virtual ~JobQueue() = default;
  virtual std::string backend() const = 0;  // "sqlite", "redis"

  // Adds a job; it is durable once this returns OK. Enqueuing an id that is
  // already queued or running is a no-op.
  virtual Status Enqueue(JobKind kind, const std::string& job_id) = 0;

  // A ready job of one of `kinds` (earlier kinds first), leased to
  // `worker_id` for `lease_sec`, or nullopt after waiting up to `wait_sec`.
  virtual Result<std::optional<LeasedJob>> Lease(const std::vector<JobKind>& kinds, const std::string& worker_id,
                                                 double lease_sec, double wait_sec) = 0;
  // Extends a lease; fails with NotFound when the lease was lost (expired
  // and handed to another worker).
  virtual Status Extend(const LeasedJob& job, double lease_sec) = 0;
  // The job succeeded (or failed for good without retry): remove it.
  virtual Status Ack(const LeasedJob& job) = 0;
  // Ack(done), then Lease(kinds, worker_id, lease_sec, no wait): a worker's
  // loop in one round trip where the backend allows (Redis). A lost lease
  // on `done` is not acked and does not stop the lease. The default runs
  // the two calls.
  virtual Result<std::optional<LeasedJob>> AckAndLease(const LeasedJob& done, const std::vector<JobKind>& kinds,
                                                       const std::string& worker_id, double lease_sec) {
    (void)Ack(done);  // a lost lease on `done` is not acked, and does not stop the lease
    return Lease(kinds, worker_id, lease_sec, 0);
  }
  // The job failed: queue it for a retry after the backoff and return true,
  // or, when attempts are exhausted, mark it dead and return false.
  virtual Result<bool> Fail(const LeasedJob& job, const std::string& error) = 0;
  // The job failed in a way that running it again would repeat (it threw,
  // a poisoned input): dead now whatever attempts are left, listed by
  // DeadJobs() and requeueable once the cause is fixed.
  virtual Status Bury(const LeasedJob& job, const std::string& error) = 0;
  // Jobs whose lease ran out become ready again (or dead, when that was
  // their last attempt); returns how many, per kind. Run at start-up and now
  // and then. Each expired lease is counted by the one call that recovers
  // it, so counts summed over processes are exact.
  virtual Result<ExpiredLeases> RecoverExpired() = 0;

  // Worker liveness. Each worker calls Heartbeat every few seconds with the
  // kinds it serves; it counts as active for `ttl_sec` after its last
  // heartbeat, or until RemoveWorker. Shared by every process on the queue,
  // so each reports the same cluster-wide figure.
  virtual Status Heartbeat(const std::string& worker_id, const std::vector<JobKind>& kinds, double ttl_sec) = 0;
  virtual Status RemoveWorker(const std::string& worker_id) = 0;
  virtual Result<int64_t> ActiveWorkers(JobKind kind) = 0;

  // Unavailable when the backend cannot be reached right now.
  virtual Status Ping() = 0;
  // The operations that waited on a database lock held by another process
  // (SQLite); nullptr for a backend without such locks (Redis).
  virtual LockWaits* lock_waits() { return nullptr; }
  // The queue's name as operators see it ("sopilot_ingest").
  virtual std::string QueueName(JobKind kind) const = 0;

  virtual Result<QueueStats> Stats(JobKind kind) = 0;
  virtual Result<std::vector<std::string>> DeadJobs(JobKind kind, int limit) = 0;
  // Puts a dead job back in the queue with a fresh attempt count.
  virtual Status Requeue(JobKind kind, const std::string& job_id) = 0;
};

// The embedded queue: a table in the SQLite file at `db_path` (its own
// connection; WAL lets it share the file with MetadataStore and other
// processes). `env` supplies the clock, so tests can move time.
Result<std::unique_ptr<JobQueue>> OpenSqliteJobQueue(const std::string& db_path, Env* env,
                                                     const QueueOptions& options);

// The Redis queue (SOPILOT_QUEUE_BACKEND=redis), for API and worker
// processes on several hosts. Keys start with `prefix`: the ready lists are
// `<prefix>_ingest`, `<prefix>_score`, `<prefix>_training`, dead jobs are in
// `<prefix>_dead` (see redis_job_queue.cc for the rest). Opening does not
// connect: while Redis is down every call returns Unavailable and
// `on_connection_error` hears of each failed attempt; calls succeed again
// once it is back. Time (leases, backoff, heartbeats) is Redis's clock, so
// hosts with skewed clocks agree.
Result<std::unique_ptr<JobQueue>> OpenRedisJobQueue(const std::string& url, const std::string& prefix,
                                                    const QueueOptions& options,
                                                    std::function<void(const std::string&)> on_connection_error);

}  // namespace sopilot
