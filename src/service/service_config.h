// ServiceConfig: everything `sopilot serve` needs, from SOPILOT_* variables
// (the Python original's names where they still mean something) and flags.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "auth/authenticator.h"
#include "base/log.h"
#include "base/status.h"
#include "embed/embedder_registry.h"
#include "ingest/ingest.h"
#include "notify/webhook_dispatcher.h"
#include "queue/job_queue.h"
#include "score/score_options.h"
#include "store/job_kind.h"
#include "train/feature_adapter.h"

namespace sopilot {

enum class QueueBackend { kSqlite, kRedis };

struct ServiceConfig {
  std::string data_dir = "data";  // SOPILOT_DATA_DIR
  std::string host = "127.0.0.1";  // SOPILOT_HOST
  int port = 8000;                 // SOPILOT_PORT (or PORT)
  // HTTP (http/http_server.h): two io threads read every connection's
  // headers; handlers run on `http_threads` threads, each held only while a
  // request's body is read, its handler runs and its answer is written (idle
  // keep-alive connections hold none), so this bounds the requests handled at
  // once (SQLite waits, uploads), not the connections.
  int http_threads = 64;           // SOPILOT_HTTP_THREADS
  // The whole request line and headers must arrive within this (slow clients
  // are closed without holding a thread).
  double http_header_timeout_sec = 10;     // SOPILOT_HTTP_HEADER_TIMEOUT_SEC
  // Connections at once, and from one client address; past either a new
  // connection is answered 503. The per-client default leaves room for a
  // load test's 256 connections from one address (bench/http_wrk.sh) while
  // keeping one client to half the server.
  int http_max_connections = 1024;             // SOPILOT_HTTP_MAX_CONNECTIONS
  int http_max_connections_per_client = 512;   // SOPILOT_HTTP_MAX_CONNECTIONS_PER_CLIENT
  int64_t upload_max_bytes = int64_t{1024} << 20;  // SOPILOT_UPLOAD_MAX_MB
  int min_scoring_clips = 1;       // SOPILOT_MIN_SCORING_CLIPS
  // GET /search compares with at most this many clips of the task (about
  // 0.2 s of arithmetic at the heuristic embedder's width), then answers
  // with "truncated": true. SOPILOT_SEARCH_MAX_CLIPS.
  int64_t search_max_clips = 2'000'000;
  // `sopilot serve` checks the metadata store's pages (PRAGMA quick_check,
  // on a connection of its own) this often, so damage that no request has
  // met yet still turns /health to 503. SOPILOT_INTEGRITY_CHECK_SEC; 0: never.
  double integrity_check_sec = 3600;

  // Workers per queue (threads in this process; 0 = this process runs none)
  // and each queue's job timeout.
  int ingest_workers = 1, score_workers = 1, training_workers = 1;    // SOPILOT_<KIND>_WORKERS
  double ingest_timeout_sec = 600, score_timeout_sec = 300, training_timeout_sec = 3600;  // SOPILOT_<KIND>_TIMEOUT_SEC
  // Where jobs wait: the embedded SQLite queue (one host; `sopilot serve`
  // runs the workers) or Redis (`sopilot worker` processes on any host that
  // shares the data directory; `sopilot serve` then runs none).
  // Where the metadata (videos, jobs, audit log...) lives: "" is the
  // embedded SQLite file DATA_DIR/sopilot.db; a postgresql:// (or
  // postgres://) URL is a PostgreSQL database that several API and worker
  // processes may share (store/pg_metadata_store.h). SOPILOT_DATABASE_URL.
  std::string database_url;
  // Connections one process may open to that database at most, as its API
  // requests and worker threads overlap. SOPILOT_PG_CONNECTIONS.
  int pg_connections = 4;
  QueueBackend queue_backend = QueueBackend::kSqlite;   // SOPILOT_QUEUE_BACKEND = sqlite | redis
  std::string redis_url = "redis://127.0.0.1:6379/0";  // SOPILOT_REDIS_URL
  std::string queue_prefix = "sopilot";                // SOPILOT_RQ_QUEUE_PREFIX: <prefix>_ingest, ...
  QueueOptions queue;  // SOPILOT_RQ_RETRY_MAX (retries after the first run), SOPILOT_RETRY_BACKOFF_SEC
  // A worker holds its job's lease this long between heartbeats; a job whose
  // worker died is handed out again within about this time.
  double lease_sec = 15;  // SOPILOT_LEASE_SEC

  // SOPILOT_EMBEDDER, _TARGET_FPS, _CLIP_SECONDS, _CLIP_STRIDE_SEC, _MAX_SIDE, _MIN_CLIP_COVERAGE; limits on one
  // video's work: SOPILOT_MAX_VIDEO_SEC, _MAX_FRAME_PIXELS, _MAX_FRAME_GAP_SEC (video/video_decoder.h).
  IngestOptions ingest;
  EmbedderConfig embedders;  // SOPILOT_MODELS_DIR, SOPILOT_VJEPA2_MODEL
  ScoreOptions score;    // SOPILOT_WEIGHT_*, _PASS_SCORE, _REVIEW_SCORE, _TIME_TOLERANCE

  // Lets an admin make a fraction of jobs fail on purpose (POST
  // /ops/fault-injection), to test alerts end to end. Off unless set.
  bool fault_injection_enabled = false;  // SOPILOT_ENABLE_FAULT_INJECTION=1
  // With fault injection on, every job of this kind ("ingest", "score",
  // "training") throws once it is running: the exception border's test.
  std::string throw_in_jobs;  // SOPILOT_FAULT_THROW_IN

  // Opening the service (`sopilot serve`, `worker`, `watch`) runs PRAGMA
  // quick_check on the metadata store and refuses a damaged file (it reads
  // the whole file).
  bool startup_quick_check = true;   // SOPILOT_STARTUP_QUICK_CHECK

  // Test hook, only with fault injection: job kinds held from start-up (see
  // service/job_hold.h); for `sopilot worker` processes, which have no API.
  std::vector<JobKind> test_hold_jobs;  // SOPILOT_TEST_HOLD_JOBS=ingest,score

  // Training (the per-task feature adapter) and the nightly scheduler.
  // The adapter is off by default: measured, it lowers the margin between
  // correct and defect videos (doc/architecture.md, "Training").
  bool feature_adapter_enabled = false;               // SOPILOT_ENABLE_FEATURE_ADAPTER
  double adapter_std_floor = kDefaultAdapterStdFloor;  // SOPILOT_ADAPTER_STD_FLOOR (> 0)
  bool nightly_enabled = false;      // SOPILOT_NIGHTLY_ENABLED
  int nightly_hour_local = 2;        // SOPILOT_NIGHTLY_HOUR_LOCAL (0-23, the process's time zone, TZ)
  int nightly_min_new_videos = 10;   // SOPILOT_NIGHTLY_MIN_NEW_VIDEOS (>= 0)
  double nightly_check_sec = 30;     // SOPILOT_NIGHTLY_CHECK_SEC (0.1-3600)

  // Webhooks when a score completes or fails (notify/webhook_dispatcher.h):
  // SOPILOT_WEBHOOK_URL (http:// only) and SOPILOT_WEBHOOK_SECRET for every
  // task without its own (PUT /tasks/{task_id}/webhook);
  // SOPILOT_WEBHOOK_MAX_ATTEMPTS, _BACKOFF_SEC, _TIMEOUT_SEC, _THREADS.
  // Every process that runs workers delivers, so set them in each.
  WebhookOptions webhooks;

  // The operational log (base/log.h): SOPILOT_LOG_LEVEL (trace, debug, info,
  // warn, error, off) and SOPILOT_LOG_FORMAT (text, json: one object a line).
  LogOptions log;

  AuthConfig auth;                  // see auth/authenticator.h
  std::string audit_signing_key;    // SOPILOT_AUDIT_SIGNING_KEY
  std::string audit_key_id = "local";  // SOPILOT_AUDIT_SIGNING_KEY_ID

  double timeout_sec(JobKind kind) const;
  int workers(JobKind kind) const;
};

using GetEnv = std::function<const char*(const char*)>;

// Reads every variable named above over the defaults. Fails with
// InvalidArgument listing every problem, one per line.
Result<ServiceConfig> ServiceConfigFromEnvironment(const GetEnv& getenv);

// Cross-field checks, every problem listed: ranges, and a non-loopback host
// without credentials (an open service on the network is refused).
Status ValidateServiceConfig(const ServiceConfig& config);

bool IsLoopbackHost(const std::string& host);

}  // namespace sopilot
