#include "service/worker_pool.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "service/service_metrics.h"

namespace sopilot {

namespace {

class DeadlineContext : public JobContext {
 public:
  DeadlineContext(Env* env, double timeout_sec, const std::atomic<bool>* stopping)
      : env_(env), deadline_us_(env->NowMicros() + static_cast<uint64_t>(timeout_sec * 1e6)), stopping_(stopping) {}
  bool ShouldStop() const override { return stopping_->load() || env_->NowMicros() > deadline_us_; }
  bool TimedOut() const { return env_->NowMicros() > deadline_us_; }

 private:
  Env* env_;
  uint64_t deadline_us_;
  const std::atomic<bool>* stopping_;
};

}  // namespace

WorkerPool::WorkerPool(SopilotService* service, double lease_sec) : service_(service), lease_sec_(lease_sec) {}

WorkerPool::~WorkerPool() { Stop(); }

int WorkerPool::threads(JobKind kind) const {
  int n = 0;
  for (JobKind k : thread_kinds_) n += k == kind;
  return n;
}

void WorkerPool::Start() {
  stopping_ = false;
  for (JobKind kind : kAllJobKinds) {
    for (int i = 0; i < service_->config().workers(kind); ++i) {
      thread_kinds_.push_back(kind);
      threads_.emplace_back([this, kind, i] { WorkerLoop(kind, i); });
    }
  }
  threads_.emplace_back([this] { MaintenanceLoop(); });
}

void WorkerPool::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (threads_.empty()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  thread_kinds_.clear();
}

void WorkerPool::MaintenanceLoop() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stopping_) {
    cv_.wait_for(l, std::chrono::seconds(2));
    if (stopping_) break;
    l.unlock();
    service_->queue()->RecoverExpired();
    l.lock();
  }
}

void WorkerPool::WorkerLoop(JobKind kind, int index) {
  char host[64] = {0};
  gethostname(host, sizeof host - 1);
  const std::string worker_id = std::string(host) + ":" + std::to_string(getpid()) + ":" + JobKindName(kind) + ":" +
                                std::to_string(index);
  JobQueue* queue = service_->queue();
  // A worker counts as active while its thread serves the queue, busy or
  // idle: NoActiveWorkers must fire when nobody would take a job, not when
  // there is simply no work.
  service_->metrics()->ActiveWorkers(kind, +1);
  while (!stopping_) {
    auto leased = queue->Lease({kind}, worker_id, lease_sec_, 0.5);
    if (!leased.ok()) {
      // The store is busy or down: wait a little rather than spin.
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      continue;
    }
    if (!leased->has_value()) continue;
    const LeasedJob job = **leased;
    busy_[static_cast<int>(kind)]++;
    DeadlineContext context(Env::Default(), service_->config().timeout_sec(kind), &stopping_);
    // Heartbeat: keep the lease while the job runs.
    std::atomic<bool> done{false};
    std::thread heartbeat([&] {
      // Extend at a third of the lease, checking for the end every 100 ms.
      const int ticks = std::max(1, static_cast<int>(lease_sec_ / 3 * 10));
      while (!done) {
        for (int i = 0; i < ticks && !done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (!done) queue->Extend(job, lease_sec_);
      }
    });
    const auto started = std::chrono::steady_clock::now();
    Status st = service_->RunJob(job, context);
    service_->metrics()->JobDuration(
        kind, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    if (!st.ok() && context.TimedOut()) {
      st = Status::Unavailable("timed out after " + std::to_string(static_cast<int>(service_->config().timeout_sec(kind))) + " s");
    }
    done = true;
    heartbeat.join();
    busy_[static_cast<int>(kind)]--;
    if (stopping_ && !st.ok() && st.code() == Status::Code::kUnavailable) {
      // Interrupted by shutdown: leave the lease to expire, the job reruns.
      continue;
    }
    Finish(job, st);
  }
  service_->metrics()->ActiveWorkers(kind, -1);
}

void WorkerPool::Finish(const LeasedJob& job, const Status& st) {
  MetadataStore* store = service_->store();
  JobQueue* queue = service_->queue();
  if (st.ok()) {
    queue->Ack(job);
    return;
  }
  if (IsPermanentJobError(st)) {
    service_->RecordFailure(job.job_id, kJobFailed, st.message());
    queue->Ack(job);
    return;
  }
  auto retried = queue->Fail(job, st.message());
  if (retried.ok() && *retried) {
    // Straight back to queued: a client polling the job must never see a
    // passing "failed" for a job that will run again.
    store->SetJobStatus(job.job_id, kJobQueued, st.message());
    store->AppendAudit("system", "job.retrying", job.job_id,
                       nlohmann::json({{"attempt", job.attempt}, {"error", st.message()}}).dump());
    service_->CountJobState(job, "retried");
  } else {
    service_->RecordFailure(job.job_id, kJobDead, st.message());
  }
}

}  // namespace sopilot
