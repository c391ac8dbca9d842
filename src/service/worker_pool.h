// WorkerPool: threads that take jobs from the queues and run them.
//
// Each worker leases one job at a time from its queue, keeps the lease alive
// while the job runs (so a dead process's jobs come back within one lease),
// and stops the job cooperatively when it passes its queue's timeout. After
// the job: success acks it; a permanent error (a bad upload) fails it at
// once; anything else goes back to the queue for a retry with backoff until
// its attempts run out, and the job row follows (queued again, or dead).
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
  // `lease_sec` bounds how long a crashed worker's job stays invisible.
  WorkerPool(SopilotService* service, double lease_sec = 15.0);
  ~WorkerPool();

  // Starts config.workers(kind) threads per queue and a maintenance thread
  // that returns expired leases to their queues.
  void Start();
  // Asks running jobs to stop, then joins every thread.
  void Stop();

  // Workers of `kind` running a job right now.
  int busy(JobKind kind) const { return busy_[static_cast<int>(kind)].load(); }
  int threads(JobKind kind) const;

 private:
  void WorkerLoop(JobKind kind, int index);
  void MaintenanceLoop();
  void Finish(const LeasedJob& job, const Status& status);

  SopilotService* service_;
  double lease_sec_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> busy_[3] = {0, 0, 0};
  std::vector<std::thread> threads_;
  std::vector<JobKind> thread_kinds_;
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace sopilot
