// WorkerPool: threads that take jobs from the queues and run them.
//
// Each worker thread serves a list of queues in priority order (an earlier
// queue is drained first), leases one job at a time, keeps the lease alive
// while the job runs (so a dead process's jobs come back within one lease),
// and stops the job cooperatively when it passes its queue's timeout. After
// the job: success acks it; a permanent error (a bad upload) fails it at
// once; anything else goes back to the queue for a retry with backoff until
// its attempts run out, and the job row follows (queued again, or dead).
//
// A maintenance thread returns expired leases to their queues and sends a
// heartbeat for every worker thread (sopilot_active_workers counts them in
// every process, and a worker that dies drops out within kWorkerTtlSec).
// When the queue is unreachable (Redis down) workers back off, 0.5 s
// doubling to 5 s, and carry on when it is back.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "service/sopilot_service.h"

namespace sopilot {

class WorkerPool {
 public:
  static constexpr double kHeartbeatSec = 5;
  static constexpr double kWorkerTtlSec = 20;

  // The threads `sopilot serve` runs: config.workers(kind) per queue, each
  // serving its one queue.
  static std::vector<std::vector<JobKind>> ThreadsFromConfig(const ServiceConfig& config);

  // `lease_sec` bounds how long a crashed worker's job stays invisible.
  WorkerPool(SopilotService* service, double lease_sec = 15.0);
  // One thread per entry of `threads`, serving those queues in that order.
  WorkerPool(SopilotService* service, std::vector<std::vector<JobKind>> threads, double lease_sec);
  ~WorkerPool();

  // Starts the worker threads and the maintenance thread.
  void Start();
  // Asks running jobs to stop, then joins every thread and withdraws the
  // workers' heartbeats.
  void Stop();
  // Takes no new job, lets running jobs finish for up to `grace_sec`, then
  // Stop()s (a job still running then is interrupted and runs again).
  void Drain(double grace_sec);

  // Worker threads running a job of `kind` right now.
  int busy(JobKind kind) const { return busy_[static_cast<int>(kind)].load(); }
  // Worker threads serving `kind`.
  int threads(JobKind kind) const;

 private:
  void WorkerLoop(int index);
  void MaintenanceLoop();
  // RunJob, with any exception turned into a failed status (*poisoned set).
  Status RunGuarded(const LeasedJob& job, JobContext& context, bool* poisoned);
  void Finish(const LeasedJob& job, const Status& status, bool poisoned);
  std::string WorkerId(int index) const;

  SopilotService* service_;
  double lease_sec_;
  std::vector<std::vector<JobKind>> thread_kinds_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> draining_{false};
  std::atomic<int> busy_[3] = {0, 0, 0};
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace sopilot
