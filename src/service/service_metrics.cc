#include "service/service_metrics.h"

#include "metrics/process_metrics.h"
#include "store/metadata_store.h"

namespace sopilot {

namespace {

// One alignment takes tens of microseconds to tens of milliseconds here, so
// the original's buckets (from 0.01 s) put every one in the first and a p95
// always read 0.0095 s. These start at 50 us and keep the original's upper
// bounds (DTWPerformanceDegradation's 0.5 s among them).
const std::vector<double> kDtwBuckets = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                         0.025,   0.05,   0.1,     0.5,    1,     2,      5,     10};
// A job's wait in its queue, enqueue (or retry) to start: from an idle
// queue's milliseconds to the hours of a backlog. The score SLO's 60 s is a
// bucket bound.
const std::vector<double> kJobWaitBuckets = {0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 900, 3600};
// A wait on a SQLite lock: from one 2 ms retry to the 5 s busy timeout.
const std::vector<double> kLockWaitBuckets = {0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
// Seconds-scale buckets of the original (metrics.py) for embedding a video.
const std::vector<double> kEmbeddingBuckets = {0.1, 0.5, 1, 5, 10, 30, 60};
// One clip's share of a video's decode and embed, measured at the defaults
// (4 fps, 2 s clips every 0.5 s, 320 px; 2 cores under load): a tiny vjepa2
// export 2-7 ms, heuristic-v1 18-55 ms, motion-v1 22-58 ms, appearance-v1
// 135-235 ms, pose-v1 180-500 ms, a ViT-L vjepa2 on CPU minutes. From
// 0.1 ms to 15 min; SlowEmbeddingGeneration's 1 s is a bound.
const std::vector<double> kEmbeddingPerClipBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                      0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5,
                                                      5,      10,      30,     60,    300,    900};

}  // namespace

ServiceMetrics::ServiceMetrics(metrics::Registry* r, MetadataStore* store, JobQueue* queue,
                               const std::atomic<uint64_t>* redis_errors)
    : registry_(r), store_(store), queue_(queue) {
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
    for (const char* trigger : {"manual", "nightly", kReembedTrigger}) {
      jobs_total_[Index(JobKind::kTraining)]->With({status, trigger});
    }
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
  embedding_per_clip_ = r->AddHistogram(
      "sopilot_embedding_seconds_per_clip",
      "Time to decode and embed one video divided by its clips, by embedder (once per video): a clip's cost, "
      "whatever the video's length. Per clip, not per second of video: the clip count is exact and a clip is "
      "what an embedder embeds.",
      {"embedder"}, kEmbeddingPerClipBuckets);
  metrics::HistogramFamily* wait = r->AddHistogram(
      "sopilot_job_wait_seconds", "Time a job waited in its queue, from ready (enqueue or end of a retry backoff) to start.",
      {"queue"}, kJobWaitBuckets);
  metrics::HistogramFamily* latency = r->AddHistogram(
      "sopilot_job_latency_seconds",
      "Time from a job becoming ready to its completion (wait plus run of the attempt that completed); the score SLO's measure.",
      {"queue"}, kJobWaitBuckets);
  metrics::CounterFamily* redeliveries = r->AddCounter(
      "sopilot_job_redeliveries_total",
      "Jobs whose worker's lease ran out (worker died or hung), found by this process: run again or, on their last attempt, dead.",
      {"queue"});
  for (JobKind kind : kAllJobKinds) {
    job_duration_[Index(kind)] = duration->With({JobKindName(kind)});
    job_wait_[Index(kind)] = wait->With({JobKindName(kind)});
    job_latency_[Index(kind)] = latency->With({JobKindName(kind)});
    redeliveries_[Index(kind)] = redeliveries->With({JobKindName(kind)});
  }
  // One gauge per queue, from a field of the queue snapshot.
  auto per_queue = [this](auto field) {
    return [this, field] {
      std::vector<Sample> out;
      QueueSnapshot s = ReadQueue();
      if (!s.ok) return out;  // the queue is down: no value rather than a false 0
      for (JobKind kind : kAllJobKinds) out.push_back({{JobKindName(kind)}, static_cast<double>((s.*field)[Index(kind)])});
      return out;
    };
  };
  // Whether this process can do its work, as its probes see it: the API
  // answers requests (and /ready is 200) only while both answer, a worker
  // takes jobs only while both answer. `up` only says /metrics answered,
  // which it does while the store is unusable; APIDown and WorkerDown read
  // this instead (monitoring/prometheus-rules.yaml). The queue's answer is
  // the snapshot's, read at most once a second.
  r->AddCallback("sopilot_up",
                 "1 when this process can do its work (its metadata store and job queue answer), 0 when not; "
                 "process: api (sopilot serve) or worker (sopilot worker).",
                 Type::kGauge, {"process"}, [this, store] {
                   const bool ok = store->Ping().ok() && ReadQueue().ok;
                   return std::vector<Sample>{{{role_.load()}, ok ? 1.0 : 0.0}};
                 });
  r->AddCallback("sopilot_active_workers",
                 "Workers serving each queue (busy or idle) with a recent heartbeat, in every process on the queue.",
                 Type::kGauge, {"queue"}, per_queue(&QueueSnapshot::workers));
  r->AddCallback("sopilot_queue_depth", "Jobs waiting in each queue (ready or backing off).", Type::kGauge,
                 {"queue"}, per_queue(&QueueSnapshot::depth));
  r->AddCallback("sopilot_jobs_running", "Jobs of each queue leased to a worker now.", Type::kGauge, {"queue"},
                 per_queue(&QueueSnapshot::running));
  r->AddCallback("sopilot_dead_jobs", "Jobs of each queue that ran out of attempts and wait for an operator (requeue or leave).",
                 Type::kGauge, {"queue"}, per_queue(&QueueSnapshot::dead));
  r->AddCallback("sopilot_workers_busy", "Workers holding a lease of each queue now (busy); sopilot_active_workers minus this are idle.",
                 Type::kGauge, {"queue"}, per_queue(&QueueSnapshot::busy));
  r->AddCallback("sopilot_queue_oldest_job_age_seconds",
                 "How long the oldest job that could run now has waited in each queue (0 when none waits).",
                 Type::kGauge, {"queue"}, per_queue(&QueueSnapshot::oldest_wait));
  // No series until a training has completed: "never" is not a time, and an
  // alert on the age of the last success must not fire on a new install.
  r->AddCallback("sopilot_training_last_success_timestamp_seconds",
                 "Unix time the last training job (manual or nightly) completed.", Type::kGauge, {}, [store] {
                   auto at = store->LastCompletedTrainingFinishedAt();
                   std::optional<double> t = at.ok() ? UnixFromIsoTimestamp(*at) : std::nullopt;
                   return t ? std::vector<Sample>{{{}, *t}} : std::vector<Sample>{};
                 });
  r->AddCallback("sopilot_total_clips", "Clips indexed in the store.", Type::kGauge, {}, [store] {
    auto n = store->TotalClips();
    return n.ok() ? std::vector<Sample>{{{}, static_cast<double>(*n)}} : std::vector<Sample>{};
  });
  // Operations (a statement or a transaction), not retries: a write that
  // sleeps through a hundred 2 ms retries is one. The store's connection and
  // the SQLite job queue's, where most writes happen (Redis has no such
  // locks); the wait of each is in sopilot_database_lock_wait_seconds.
  r->AddCallback("sopilot_database_locked_errors_total",
                 "Database operations (statements, transactions) that had to wait on a lock held by another connection "
                 "(SQLite's, or a PostgreSQL advisory lock), in the metadata store and the SQLite job queue.",
                 Type::kCounter, {}, [store, queue] {
                   uint64_t n = store->lock_waits()->operations();
                   if (LockWaits* q = queue->lock_waits()) n += q->operations();
                   return std::vector<Sample>{{{}, static_cast<double>(n)}};
                 });
  metrics::HistogramFamily* lock_wait = r->AddHistogram(
      "sopilot_database_lock_wait_seconds",
      "How long each database operation that waited on a lock (SQLite's, or a PostgreSQL advisory lock) "
      "waited, by database (metadata, queue).",
      {"database"}, kLockWaitBuckets);
  metrics::Histogram* metadata_wait = lock_wait->With({"metadata"});
  store->lock_waits()->SetObserver([metadata_wait](double s) { metadata_wait->Observe(s); });
  if (LockWaits* q = queue->lock_waits()) {
    metrics::Histogram* queue_wait = lock_wait->With({"queue"});
    q->SetObserver([queue_wait](double s) { queue_wait->Observe(s); });
  }
  // With the SQLite queue there is no Redis: the family is present with no
  // series. With Redis, the series starts at 0 so that rate() sees the first
  // failure.
  r->AddCallback("sopilot_redis_connection_errors_total",
                 "Failed attempts to reach Redis (refused or lost connections, timeouts).", Type::kCounter, {},
                 [redis_errors] {
                   return redis_errors ? std::vector<Sample>{{{}, static_cast<double>(redis_errors->load())}}
                                       : std::vector<Sample>{};
                 });
  // This build has no GPU code: present, no series.
  r->AddGauge("sopilot_gpu_memory_bytes", "GPU memory by device and type (allocated, reserved, total).",
              {"device_id", "memory_type"});
  metrics::AddBuildInfo(r);
  metrics::AddProcessMetrics(r);
}

ServiceMetrics::QueueSnapshot ServiceMetrics::ReadQueue() {
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  const auto now = std::chrono::steady_clock::now();
  if (now - snapshot_at_ < std::chrono::seconds(1)) return snapshot_;
  QueueSnapshot s;
  s.ok = true;
  for (JobKind kind : kAllJobKinds) {
    auto stats = queue_->Stats(kind);
    auto workers = stats.ok() ? queue_->ActiveWorkers(kind) : Result<int64_t>(stats.status());
    if (!stats.ok() || !workers.ok()) {
      s.ok = false;
      break;
    }
    s.depth[Index(kind)] = stats->queued;
    s.workers[Index(kind)] = *workers;
    s.running[Index(kind)] = stats->running;
    s.dead[Index(kind)] = stats->dead;
    s.busy[Index(kind)] = stats->busy_workers;
    s.oldest_wait[Index(kind)] = stats->oldest_wait_sec;
  }
  snapshot_ = s;
  snapshot_at_ = now;
  return s;
}

void ServiceMetrics::JobState(JobKind kind, const std::string& trigger, const std::string& status) {
  if (kind == JobKind::kTraining) {
    jobs_total_[Index(kind)]->With({status, trigger})->Inc();
  } else {
    jobs_total_[Index(kind)]->With({status})->Inc();
  }
}

void ServiceMetrics::Redeliveries(const ExpiredLeases& expired) {
  for (JobKind kind : kAllJobKinds) {
    if (expired.by_kind[Index(kind)] > 0) redeliveries_[Index(kind)]->Inc(expired.by_kind[Index(kind)]);
  }
}

void ServiceMetrics::EmbeddingSeconds(const std::string& embedder, double seconds, int64_t clips) {
  embedding_->With({embedder})->Observe(seconds);
  if (clips > 0) embedding_per_clip_->With({embedder})->Observe(seconds / static_cast<double>(clips));
}

ServiceMetrics::~ServiceMetrics() {
  // The observers point into the registry, which may go before the store.
  store_->lock_waits()->SetObserver(nullptr);
  if (LockWaits* q = queue_->lock_waits()) q->SetObserver(nullptr);
}

}  // namespace sopilot
