#include "service/service_metrics.h"

#include "metrics/process_metrics.h"

namespace sopilot {

namespace {

// Seconds-scale buckets of the original (metrics.py) for the two inner timings.
const std::vector<double> kDtwBuckets = {0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10};
const std::vector<double> kEmbeddingBuckets = {0.1, 0.5, 1, 5, 10, 30, 60};

}  // namespace

ServiceMetrics::ServiceMetrics(metrics::Registry* r, MetadataStore* store, JobQueue* queue) : registry_(r) {
  using metrics::Sample;
  using metrics::Type;
  jobs_total_[Index(JobKind::kIngest)] =
      r->AddCounter("sopilot_ingest_jobs_total", "Ingest job state changes, by the state entered.", {"status"});
  jobs_total_[Index(JobKind::kScore)] =
      r->AddCounter("sopilot_score_jobs_total", "Score job state changes, by the state entered.", {"status"});
  jobs_total_[Index(JobKind::kTraining)] = r->AddCounter(
      "sopilot_training_jobs_total", "Training job state changes, by the state entered and trigger.",
      {"status", "trigger"});
  // Every state's series exists from the start at 0: rate() and increase()
  // cannot see a counter's first step from "absent" to 1, so a first failure
  // would otherwise never show in the failure-rate alert.
  for (const char* status : {"queued", "running", "completed", "failed", "retried", "dead"}) {
    jobs_total_[Index(JobKind::kIngest)]->With({status});
    jobs_total_[Index(JobKind::kScore)]->With({status});
    for (const char* trigger : {"manual", "nightly"}) jobs_total_[Index(JobKind::kTraining)]->With({status, trigger});
  }
  for (const char* trigger : {"manual", "nightly"}) jobs_total_[Index(JobKind::kTraining)]->With({"skipped", trigger});
  metrics::HistogramFamily* duration = r->AddHistogram(
      "sopilot_job_duration_seconds", "Time a worker spent running a job (each attempt).", {"job_type"},
      metrics::kJobDurationBuckets);
  dtw_cpu_ = r->AddHistogram("sopilot_dtw_execution_seconds", "Time of one alignment (Drop-DTW).", {"gpu"},
                             kDtwBuckets)
                 ->With({"false"});
  embedding_ = r->AddHistogram("sopilot_embedding_generation_seconds",
                               "Time to decode and embed one video, by embedder.", {"embedder"}, kEmbeddingBuckets);
  metrics::GaugeFamily* active = r->AddGauge("sopilot_active_workers", "Worker threads serving each queue (busy or idle).", {"queue"});
  for (JobKind kind : kAllJobKinds) {
    job_duration_[Index(kind)] = duration->With({JobKindName(kind)});
    active_workers_[Index(kind)] = active->With({JobKindName(kind)});
  }
  r->AddCallback("sopilot_queue_depth", "Jobs waiting in each queue (ready or backing off).", Type::kGauge,
                 {"queue"}, [queue] {
                   std::vector<Sample> out;
                   for (JobKind kind : kAllJobKinds) {
                     auto stats = queue->Stats(kind);
                     if (stats.ok()) out.push_back({{JobKindName(kind)}, static_cast<double>(stats->queued)});
                   }
                   return out;
                 });
  r->AddCallback("sopilot_total_clips", "Clips indexed in the store.", Type::kGauge, {}, [store] {
    auto n = store->TotalClips();
    return n.ok() ? std::vector<Sample>{{{}, static_cast<double>(*n)}} : std::vector<Sample>{};
  });
  r->AddCallback("sopilot_database_locked_errors_total", "Times the metadata store waited on a SQLite lock.",
                 Type::kCounter, {}, [store] {
                   return std::vector<Sample>{{{}, static_cast<double>(store->locked_waits())}};
                 });
  // Families present with no series until there is something to report:
  // the queue is SQLite (no Redis), and this build has no GPU code.
  r->AddCounter("sopilot_redis_connection_errors_total", "Failed connections to Redis.");
  r->AddGauge("sopilot_gpu_memory_bytes", "GPU memory by device and type (allocated, reserved, total).",
              {"device_id", "memory_type"});
  metrics::AddBuildInfo(r);
  metrics::AddProcessMetrics(r);
}

void ServiceMetrics::JobState(JobKind kind, const std::string& trigger, const std::string& status) {
  if (kind == JobKind::kTraining) {
    jobs_total_[Index(kind)]->With({status, trigger})->Inc();
  } else {
    jobs_total_[Index(kind)]->With({status})->Inc();
  }
}

void ServiceMetrics::EmbeddingSeconds(const std::string& embedder, double seconds) {
  embedding_->With({embedder})->Observe(seconds);
}

}  // namespace sopilot
