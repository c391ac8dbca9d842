// ServiceMetrics: the service's Prometheus metrics, with the names, types and
// labels of the seed's monitoring contract (sopilot_*_jobs_total{status},
// sopilot_job_duration_seconds{job_type}, sopilot_queue_depth{queue}, ...),
// plus the process metrics and sopilot_build_info.
//
// Counters and histograms are updated by the code that does the work through
// the pointers below (resolved once here, so updates take no lock). Queue
// depth, total clips and database lock waits are read from the queue and
// the store at each scrape. The pointers live as long as the registry.
#pragma once

#include <string>

#include "metrics/registry.h"
#include "queue/job_queue.h"
#include "store/job_kind.h"
#include "store/metadata_store.h"

namespace sopilot {

class ServiceMetrics {
 public:
  // Registers every family in `registry`; `store` and `queue` are read at
  // scrape time and must outlive the registry's use.
  ServiceMetrics(metrics::Registry* registry, MetadataStore* store, JobQueue* queue);

  // sopilot_{ingest,score,training}_jobs_total{status[,trigger]} += 1.
  void JobState(JobKind kind, const std::string& trigger, const std::string& status);
  void JobDuration(JobKind kind, double seconds) { job_duration_[Index(kind)]->Observe(seconds); }
  void DtwSeconds(double seconds) { dtw_cpu_->Observe(seconds); }
  void EmbeddingSeconds(const std::string& embedder, double seconds);
  // A worker of this queue started (+1) or finished (-1) a job.
  void ActiveWorkers(JobKind kind, int delta) { active_workers_[Index(kind)]->Add(delta); }

  metrics::Registry* registry() { return registry_; }

 private:
  static int Index(JobKind kind) { return static_cast<int>(kind); }

  metrics::Registry* registry_;
  metrics::CounterFamily* jobs_total_[3];
  metrics::Histogram* job_duration_[3];
  metrics::Histogram* dtw_cpu_;
  metrics::HistogramFamily* embedding_;
  metrics::Gauge* active_workers_[3];
};

}  // namespace sopilot
