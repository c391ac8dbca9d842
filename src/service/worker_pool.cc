#include "service/worker_pool.h"

#include <algorithm>
#include <chrono>
#include <optional>
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

std::vector<std::vector<JobKind>> WorkerPool::ThreadsFromConfig(const ServiceConfig& config) {
  std::vector<std::vector<JobKind>> threads;
  for (JobKind kind : kAllJobKinds) {
    for (int i = 0; i < config.workers(kind); ++i) threads.push_back({kind});
  }
  return threads;
}

WorkerPool::WorkerPool(SopilotService* service, double lease_sec)
    : WorkerPool(service, ThreadsFromConfig(service->config()), lease_sec) {}

WorkerPool::WorkerPool(SopilotService* service, std::vector<std::vector<JobKind>> threads, double lease_sec)
    : service_(service), lease_sec_(lease_sec), thread_kinds_(std::move(threads)) {}

WorkerPool::~WorkerPool() { Stop(); }

int WorkerPool::threads(JobKind kind) const {
  int n = 0;
  for (const auto& kinds : thread_kinds_) n += std::count(kinds.begin(), kinds.end(), kind) > 0;
  return n;
}

std::string WorkerPool::WorkerId(int index) const {
  char host[64] = {0};
  gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + std::to_string(index);
}

void WorkerPool::Start() {
  stopping_ = false;
  draining_ = false;
  // Announce the workers before they start, so that a scrape right after
  // start-up already counts them.
  for (size_t i = 0; i < thread_kinds_.size(); ++i) {
    service_->queue()->Heartbeat(WorkerId(static_cast<int>(i)), thread_kinds_[i], kWorkerTtlSec);
  }
  for (size_t i = 0; i < thread_kinds_.size(); ++i) {
    threads_.emplace_back([this, i] { WorkerLoop(static_cast<int>(i)); });
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
  for (size_t i = 0; i < thread_kinds_.size(); ++i) service_->queue()->RemoveWorker(WorkerId(static_cast<int>(i)));
}

void WorkerPool::Drain(double grace_sec) {
  draining_ = true;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(grace_sec);
  auto busy_total = [this] { return busy_[0].load() + busy_[1].load() + busy_[2].load(); };
  while (busy_total() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Stop();
}

void WorkerPool::MaintenanceLoop() {
  std::unique_lock<std::mutex> l(mu_);
  auto last_heartbeat = std::chrono::steady_clock::now();
  while (!stopping_) {
    cv_.wait_for(l, std::chrono::seconds(2));
    if (stopping_) break;
    l.unlock();
    service_->queue()->RecoverExpired();
    auto now = std::chrono::steady_clock::now();
    if (now - last_heartbeat >= std::chrono::duration<double>(kHeartbeatSec)) {
      for (size_t i = 0; i < thread_kinds_.size(); ++i) {
        service_->queue()->Heartbeat(WorkerId(static_cast<int>(i)), thread_kinds_[i], kWorkerTtlSec);
      }
      last_heartbeat = now;
    }
    l.lock();
  }
}

void WorkerPool::WorkerLoop(int index) {
  const std::string worker_id = WorkerId(index);
  const std::vector<JobKind>& kinds = thread_kinds_[index];
  JobQueue* queue = service_->queue();
  auto backoff = std::chrono::milliseconds(500);
  bool failing = false;
  // The next job, when the ack of the last one already leased it.
  std::optional<LeasedJob> next;
  while (!stopping_ && !draining_) {
    Result<std::optional<LeasedJob>> leased = std::optional<LeasedJob>();
    if (next) {
      leased = std::move(next);
      next.reset();
    } else {
      leased = queue->Lease(kinds, worker_id, lease_sec_, 0.5);
    }
    if (!leased.ok()) {
      // The queue is busy or down: wait, longer each time, rather than spin.
      if (!failing) {
        std::fprintf(stderr, "sopilot: worker %s: cannot take jobs: %s (retrying with backoff)\n", worker_id.c_str(),
                     leased.status().message().c_str());
      }
      failing = true;
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait_for(l, backoff, [this] { return stopping_.load(); });
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      continue;
    }
    if (failing) std::fprintf(stderr, "sopilot: worker %s: queue reachable again\n", worker_id.c_str());
    failing = false;
    backoff = std::chrono::milliseconds(500);
    if (!leased->has_value()) continue;
    const LeasedJob job = **leased;
    const JobKind kind = job.kind;
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
      st = Status::Unavailable("timed out after " +
                               std::to_string(static_cast<int>(service_->config().timeout_sec(kind))) + " s");
    }
    done = true;
    heartbeat.join();
    busy_[static_cast<int>(kind)]--;
    if (stopping_ && !st.ok() && st.code() == Status::Code::kUnavailable) {
      // Interrupted by shutdown: leave the lease to expire, the job reruns.
      continue;
    }
    if (st.ok() && !stopping_ && !draining_) {
      // Ack and take the next job in one step (one round trip to Redis).
      auto following = queue->AckAndLease(job, kinds, worker_id, lease_sec_);
      if (following.ok() && following->has_value()) next = **following;
      continue;
    }
    Finish(job, st);
  }
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
  } else if (retried.ok()) {
    service_->RecordFailure(job.job_id, kJobDead, st.message());
  }
  // Fail itself failed (the queue is down, or the lease was lost): the lease
  // runs out and the job comes back; the row still says running, which is
  // what it is until then.
}
}  // namespace sopilot
