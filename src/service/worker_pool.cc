#include "service/worker_pool.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <cstdio>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "base/exception_border.h"
#include "base/json_text.h"
#include "base/log.h"
#include "service/service_metrics.h"

namespace sopilot {

namespace {

// Milliseconds to one decimal, for the job log.
double Ms(double seconds) { return std::round(seconds * 10000) / 10; }

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
    // Best effort: the maintenance thread sends them again every few seconds.
    (void)service_->queue()->Heartbeat(WorkerId(static_cast<int>(i)), thread_kinds_[i], kWorkerTtlSec);
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
  // Best effort: a heartbeat not withdrawn runs out after kWorkerTtlSec.
  for (size_t i = 0; i < thread_kinds_.size(); ++i) (void)service_->queue()->RemoveWorker(WorkerId(static_cast<int>(i)));
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
    try {
      // Failures here (queue down) are seen by the workers and retried on
      // the next round; heartbeats missed for kWorkerTtlSec drop the workers
      // from sopilot_active_workers, which is the truth while the queue is
      // unreachable.
      auto expired = service_->queue()->RecoverExpired();
      if (expired.ok()) service_->metrics()->Redeliveries(*expired);
      auto now = std::chrono::steady_clock::now();
      if (now - last_heartbeat >= std::chrono::duration<double>(kHeartbeatSec)) {
        for (size_t i = 0; i < thread_kinds_.size(); ++i) {
          (void)service_->queue()->Heartbeat(WorkerId(static_cast<int>(i)), thread_kinds_[i], kWorkerTtlSec);
        }
        last_heartbeat = now;
      }
    } catch (...) {
      LogError("worker maintenance failed (next round in 2 s)",
               {{"error", StatusFromCurrentException("worker maintenance").message()}});
    }
    l.lock();
  }
}

namespace {

// Keeps a job's lease alive while it runs: extends it every third of the
// lease from its own thread, until destroyed (which joins the thread, so an
// early return cannot leave it running).
class LeaseKeeper {
 public:
  LeaseKeeper(JobQueue* queue, const LeasedJob& job, double lease_sec) {
    thread_ = std::thread([this, queue, job, lease_sec] {
      const int ticks = std::max(1, static_cast<int>(lease_sec / 3 * 10));
      while (!done_) {
        for (int i = 0; i < ticks && !done_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        // A lost lease shows when the job is acked; the job runs to its end.
        if (!done_) (void)queue->Extend(job, lease_sec);
      }
    });
  }
  ~LeaseKeeper() {
    done_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// Counts a worker thread busy for its lifetime.
class BusyMark {
 public:
  explicit BusyMark(std::atomic<int>* n) : n_(n) { ++*n_; }
  ~BusyMark() { --*n_; }

 private:
  std::atomic<int>* n_;
};

}  // namespace

void WorkerPool::WorkerLoop(int index) {
  const std::string worker_id = WorkerId(index);
  const std::vector<JobKind>& kinds = thread_kinds_[index];
  JobQueue* queue = service_->queue();
  auto backoff = std::chrono::milliseconds(500);
  bool failing = false;
  // The next job, when the ack of the last one already leased it.
  std::optional<LeasedJob> next;
  auto wait_backoff = [&] {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, backoff, [this] { return stopping_.load(); });
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  };
  while (!stopping_ && !draining_) {
    try {
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
          LogWarn("worker " + worker_id + ": cannot take jobs: " + leased.status().message() +
                      " (retrying with backoff)",
                  {{"worker", worker_id}, {"error", leased.status().message()}});
        }
        failing = true;
        wait_backoff();
        continue;
      }
      if (failing) LogInfo("worker " + worker_id + ": queue reachable again", {{"worker", worker_id}});
      failing = false;
      backoff = std::chrono::milliseconds(500);
      if (!leased->has_value()) continue;
      const LeasedJob job = **leased;
      const JobKind kind = job.kind;
      service_->metrics()->JobWait(kind, job.waited_sec);
      DeadlineContext context(Env::Default(), service_->config().timeout_sec(kind), &stopping_);
      bool poisoned = false;
      Status st;
      double ran = 0;
      LogDebug("job started", {{"job_id", job.job_id}, {"type", JobKindName(kind)}, {"attempt", job.attempt},
                               {"worker", worker_id}, {"waited_ms", Ms(job.waited_sec)}});
      {
        BusyMark busy(&busy_[static_cast<int>(kind)]);
        LeaseKeeper keeper(queue, job, lease_sec_);
        const auto started = std::chrono::steady_clock::now();
        st = RunGuarded(job, context, &poisoned);
        ran = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        service_->metrics()->JobDuration(kind, ran);
        if (st.ok()) service_->metrics()->JobLatency(kind, job.waited_sec + ran);
      }
      if (!st.ok() && !poisoned && context.TimedOut()) {
        st = Status::Unavailable("timed out after " +
                                 std::to_string(static_cast<int>(service_->config().timeout_sec(kind))) + " s");
      }
      if (stopping_ && !st.ok() && st.code() == Status::Code::kUnavailable) {
        // Interrupted by shutdown: leave the lease to expire, the job reruns.
        LogInfo("job interrupted by shutdown; it runs again after its lease",
                {{"job_id", job.job_id}, {"type", JobKindName(kind)}, {"attempt", job.attempt},
                 {"outcome", "interrupted"}, {"duration_ms", Ms(ran)}});
        continue;
      }
      if (st.ok()) {
        LogInfo("job completed", {{"job_id", job.job_id}, {"type", JobKindName(kind)}, {"attempt", job.attempt},
                                  {"outcome", "completed"}, {"duration_ms", Ms(ran)},
                                  {"waited_ms", Ms(job.waited_sec)}});
      }
      if (st.ok() && !stopping_ && !draining_) {
        // Ack and take the next job in one step (one round trip to Redis).
        auto following = queue->AckAndLease(job, kinds, worker_id, lease_sec_);
        if (following.ok() && following->has_value()) next = **following;
        continue;
      }
      Finish(job, st, poisoned);
    } catch (...) {
      // Outside a job (the queue, the store): log, back off, carry on. A job
      // this happened to is left to its lease and runs again.
      LogError("worker failed outside a job (retrying with backoff)",
               {{"worker", worker_id}, {"error", StatusFromCurrentException("worker " + worker_id).message()}});
      wait_backoff();
    }
  }
}

Status WorkerPool::RunGuarded(const LeasedJob& job, JobContext& context, bool* poisoned) {
  // The exception border of a job: a library that throws (json, filesystem,
  // bad_alloc) or a bug fails this job with the message; it never ends the
  // thread (std::terminate) or the process.
  try {
    return service_->RunJob(job, context);
  } catch (...) {
    *poisoned = true;
    return StatusFromCurrentException("internal error");
  }
}

void WorkerPool::Finish(const LeasedJob& job, const Status& st, bool poisoned) {
  MetadataStore* store = service_->store();
  JobQueue* queue = service_->queue();
  if (st.ok()) {
    // A lost lease (another worker has the job now) is that worker's to ack;
    // the store recorded the result once either way.
    (void)queue->Ack(job);
    return;
  }
  if (poisoned) {
    // What threw once throws again: dead now (listed, requeueable after a
    // fix) rather than retried into the same exception.
    LogError("job failed with an exception: dead, not retried",
             {{"job_id", job.job_id}, {"type", JobKindName(job.kind)}, {"attempt", job.attempt}, {"outcome", "dead"},
              {"error", st.message()}});
    if (queue->Bury(job, st.message()).ok()) service_->RecordFailure(job.job_id, kJobDead, st.message());
    return;
  }
  if (IsPermanentJobError(st)) {
    // The input's fault (a file that is not a video, a missing row): never retried.
    LogWarn("job failed", {{"job_id", job.job_id}, {"type", JobKindName(job.kind)}, {"attempt", job.attempt},
                           {"outcome", "failed"}, {"error", st.message()}});
    service_->RecordFailure(job.job_id, kJobFailed, st.message());
    // A lost lease here means another worker runs the job again and finds it
    // failed; nothing to undo.
    (void)queue->Ack(job);
    return;
  }
  auto retried = queue->Fail(job, st.message());
  if (retried.ok() && *retried) {
    LogWarn("job failed; retried after a backoff",
            {{"job_id", job.job_id}, {"type", JobKindName(job.kind)}, {"attempt", job.attempt}, {"outcome", "retry"},
             {"error", st.message()}});
    // Straight back to queued: a client polling the job must never see a
    // passing "failed" for a job that will run again.
    const std::string detail = JsonText(nlohmann::json({{"attempt", job.attempt}, {"error", st.message()}}));
    if (Status set = store->SetJobStatus(job.job_id, kJobQueued, st.message(), AuditRecord{"system", "job.retrying", detail});
        !set.ok()) {
      // The row says running until the retry runs and sets it again. The
      // retry happens all the same (the queue holds it), so it is recorded.
      LogWarn("job: cannot mark it queued for its retry", {{"job_id", job.job_id}, {"error", set.message()}});
      service_->Audit("system", "job.retrying", job.job_id, detail);
    }
    service_->CountJobState(job, "retried");
  } else if (retried.ok()) {
    LogError("job failed; out of attempts: dead",
             {{"job_id", job.job_id}, {"type", JobKindName(job.kind)}, {"attempt", job.attempt}, {"outcome", "dead"},
              {"error", st.message()}});
    service_->RecordFailure(job.job_id, kJobDead, st.message());
  } else {
    LogWarn("job failed, and the queue could not record it: it runs again after its lease",
            {{"job_id", job.job_id}, {"type", JobKindName(job.kind)}, {"attempt", job.attempt}, {"outcome", "retry"},
             {"error", st.message()}, {"queue_error", retried.status().message()}});
  }
  // Fail itself failed (the queue is down, or the lease was lost): the lease
  // runs out and the job comes back; the row still says running, which is
  // what it is until then.
}
}  // namespace sopilot
