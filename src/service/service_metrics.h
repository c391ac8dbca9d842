// ServiceMetrics: the service's Prometheus metrics, with the names, types and
// labels of the seed's monitoring contract (sopilot_*_jobs_total{status},
// sopilot_job_duration_seconds{job_type}, sopilot_queue_depth{queue}, ...),
// plus the process metrics and sopilot_build_info.
//
// Counters and histograms are updated by the code that does the work through
// the pointers below (resolved once here, so updates take no lock). Queue
// depth, the oldest waiting job's age, running, dead, busy and active
// workers (from their heartbeats), total clips, database lock waits and the
// last successful training are read from the queue and the store at scrape
// time; the
// queue, which may be a Redis on another host, is read at most once a second
// and not at all past its first failure in a scrape, so a Redis outage
// cannot make a scrape time out. Every process on one queue reports the same
// queue figures, so dashboards and alerts take max(), not sum(); the
// counters and histograms (jobs, waits, redeliveries) are per process and
// are summed.
// The pointers live as long as the registry.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "metrics/registry.h"
#include "queue/job_queue.h"
#include "store/job_kind.h"
#include "store/metadata_store.h"

namespace sopilot {

class ServiceMetrics {
 public:
  // Registers every family in `registry`; `store` and `queue` are read at
  // scrape time and must outlive the registry's use. `redis_errors` counts
  // failed Redis connections (null without Redis: the family has no series).
  ServiceMetrics(metrics::Registry* registry, MetadataStore* store, JobQueue* queue,
                 const std::atomic<uint64_t>* redis_errors);
  // Detaches the lock-wait observers from the store and the queue.
  ~ServiceMetrics();
  ServiceMetrics(const ServiceMetrics&) = delete;
  ServiceMetrics& operator=(const ServiceMetrics&) = delete;

  // sopilot_{ingest,score,training}_jobs_total{status[,trigger]} += 1.
  void JobState(JobKind kind, const std::string& trigger, const std::string& status);
  void JobDuration(JobKind kind, double seconds) { job_duration_[Index(kind)]->Observe(seconds); }
  void DtwSeconds(double seconds) { dtw_cpu_->Observe(seconds); }
  // One video decoded and embedded by `embedder` in `seconds`, giving
  // `clips` clips: sopilot_embedding_generation_seconds{embedder} observes
  // `seconds` and sopilot_embedding_seconds_per_clip{embedder} observes
  // seconds / clips (nothing when clips <= 0: no clip to charge it to).
  void EmbeddingSeconds(const std::string& embedder, double seconds, int64_t clips);
  // sopilot_job_wait_seconds{queue}: a job leased after waiting `seconds`
  // since it became ready (LeasedJob::waited_sec).
  void JobWait(JobKind kind, double seconds) { job_wait_[Index(kind)]->Observe(seconds); }
  // sopilot_job_latency_seconds{queue}: a job completed `seconds` after it
  // became ready (its wait plus the run of the attempt that completed; the
  // time of earlier failed attempts and their backoff is not in it). Failed
  // and dead jobs are counted by JobState, not here: the score SLO's alert
  // counts them as bad on their own.
  void JobLatency(JobKind kind, double seconds) { job_latency_[Index(kind)]->Observe(seconds); }
  // sopilot_job_redeliveries_total{queue} += the leases this process found
  // expired (their jobs run again, or died on their last attempt).
  void Redeliveries(const ExpiredLeases& expired);

  // What this process is, for sopilot_up{process}: "api" (sopilot serve, the
  // default) or "worker" (sopilot worker). Set once before the first scrape.
  void SetProcessRole(const char* role) { role_.store(role); }

  metrics::Registry* registry() { return registry_; }

 private:
  static int Index(JobKind kind) { return static_cast<int>(kind); }

  metrics::Registry* registry_;
  MetadataStore* store_;
  metrics::CounterFamily* jobs_total_[3];
  metrics::Histogram* job_duration_[3];
  metrics::Histogram* job_wait_[3];
  metrics::Histogram* job_latency_[3];
  metrics::Counter* redeliveries_[3];
  metrics::Histogram* dtw_cpu_;
  metrics::HistogramFamily* embedding_;
  metrics::HistogramFamily* embedding_per_clip_;

  // What the queue said at the last look (see the top of the file).
  struct QueueSnapshot {
    bool ok = false;
    int64_t depth[3] = {0, 0, 0};
    int64_t workers[3] = {0, 0, 0};
    int64_t running[3] = {0, 0, 0};
    int64_t dead[3] = {0, 0, 0};
    int64_t busy[3] = {0, 0, 0};
    double oldest_wait[3] = {0, 0, 0};
  };
  QueueSnapshot ReadQueue();
  JobQueue* queue_;
  std::atomic<const char*> role_{"api"};
  std::mutex snapshot_mu_;
  QueueSnapshot snapshot_;
  std::chrono::steady_clock::time_point snapshot_at_{};
};

}  // namespace sopilot
