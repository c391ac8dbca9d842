#include "cli/env_table.h"

#include <cstdio>

#include "base/log.h"
#include "embed/model_manifest.h"
#include "service/service_config.h"
#include "watch/watch_rules.h"

namespace sopilot::cli {

namespace {

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}
std::string Num(int64_t v) { return std::to_string(v); }
std::string Num(int v) { return std::to_string(v); }
std::string Bool(bool v) { return v ? "1" : "0"; }

// The commands that load the service's configuration (cli/command.h,
// LoadServiceConfig).
constexpr const char* kService = "serve, worker, watch";
constexpr const char* kServiceAndCli = "serve, worker, watch; score, eval, embed";
constexpr const char* kServiceAndScoring = "serve, worker, watch; score, eval";

}  // namespace

std::vector<EnvVariable> EnvironmentVariables() {
  const ServiceConfig c;
  const watch::WatchOptions w;
  const AuthConfig auth;
  std::vector<EnvVariable> v;
  auto add = [&](std::string name, std::string def, std::string by, std::string meaning) {
    v.push_back({std::move(name), std::move(def), std::move(by), std::move(meaning)});
  };

  // Where and how the service listens.
  add("SOPILOT_DATA_DIR", c.data_dir, kService, "The data directory: `sopilot.db` (SQLite metadata and the embedded queue) and the content-addressed files. `--data-dir` overrides it.");
  add("SOPILOT_HOST", c.host, "serve", "Address the API listens on. Anything but loopback needs credentials (below). `--host` overrides it.");
  add("SOPILOT_PORT", Num(c.port), "serve", "The API's port (`PORT` is read too, for platforms that set it; `SOPILOT_PORT` wins). `--port` overrides it.");
  add("SOPILOT_HTTP_THREADS", Num(c.http_threads), "serve", "Handler threads: requests handled at once (1-1024).");
  add("SOPILOT_HTTP_HEADER_TIMEOUT_SEC", Num(c.http_header_timeout_sec), "serve", "A request's line and headers must arrive within this (slow clients are closed).");
  add("SOPILOT_HTTP_MAX_CONNECTIONS", Num(c.http_max_connections), "serve", "Open connections at most; past it new ones are answered 503.");
  add("SOPILOT_HTTP_MAX_CONNECTIONS_PER_CLIENT", Num(c.http_max_connections_per_client), "serve", "Open connections from one client address at most.");
  add("SOPILOT_UPLOAD_MAX_MB", Num(c.upload_max_bytes >> 20), "serve", "Largest upload in MiB (413 past it).");
  add("SOPILOT_SEARCH_MAX_CLIPS", Num(c.search_max_clips), "serve", "`GET /search` compares with at most this many clips, then says `truncated`.");
  add("SOPILOT_MIN_SCORING_CLIPS", Num(c.min_scoring_clips), kService, "A video needs at least this many clips to be scored.");
  add("SOPILOT_INTEGRITY_CHECK_SEC", Num(c.integrity_check_sec), "serve", "How often `serve` runs `PRAGMA quick_check` on the store in the background (0: never).");
  add("SOPILOT_STARTUP_QUICK_CHECK", Bool(c.startup_quick_check), kService, "Run `PRAGMA quick_check` at start-up and refuse a damaged store (reads the whole file).");

  // Logs.
  add("SOPILOT_LOG_LEVEL", LogLevelName(c.log.level), kService, "The operational log's level: trace, debug, info, warn, error, off. Anything else stops the start-up.");
  add("SOPILOT_LOG_FORMAT", LogFormatName(c.log.format), kService, "`text` (for a terminal) or `json` (one object a line: `time`, `level`, `msg` and fields) on stderr.");

  // Credentials.
  add("SOPILOT_API_TOKEN", "", "serve", "A bearer token (secret; never logged).");
  add("SOPILOT_API_TOKEN_ROLE", RoleName(auth.api_token_role), "serve", "The role of `SOPILOT_API_TOKEN`: viewer, operator or admin.");
  add("SOPILOT_API_ROLE_TOKENS", "", "serve", "Tokens with roles: `viewer:t1,operator:t2,admin:t3` (secret).");
  add("SOPILOT_BASIC_USER", "", "serve", "HTTP Basic user name (with `SOPILOT_BASIC_PASSWORD`).");
  add("SOPILOT_BASIC_PASSWORD", "", "serve", "HTTP Basic password (secret).");
  add("SOPILOT_BASIC_ROLE", RoleName(auth.basic_role), "serve", "The role of the Basic user.");
  add("SOPILOT_AUDIT_SIGNING_KEY", c.audit_signing_key, "serve; audit verify", "HMAC key that signs audit exports (secret); `sopilot audit verify` checks with it.");
  add("SOPILOT_AUDIT_SIGNING_KEY_ID", c.audit_key_id, "serve", "The key's name, written into each export.");

  // Queues, workers, jobs.
  add("SOPILOT_DATABASE_URL", c.database_url, "serve, worker, watch; backup, restore (refused)", "Unset: the metadata is SQLite in `sopilot.db`. `postgresql://[user[:password]@]host[:port]/db[?sslmode=...]`: the metadata is in that PostgreSQL database (it must exist; the schema is migrated at start-up), shared by every `serve` and `worker`. The embedded queue stays in `sopilot.db`.");
  add("SOPILOT_PG_CONNECTIONS", Num(c.pg_connections), kService, "With `SOPILOT_DATABASE_URL`: connections one process opens to PostgreSQL at most (1-64), as its requests and worker threads overlap; opened as needed. Every process of an installation counts against the server's `max_connections`.");
  add("SOPILOT_QUEUE_BACKEND", c.queue_backend == QueueBackend::kRedis ? "redis" : "sqlite", kService, "`sqlite` (the embedded queue in `sopilot.db`; `serve` runs the workers) or `redis` (workers are `sopilot worker` processes).");
  add("SOPILOT_REDIS_URL", c.redis_url, kService, "`redis://[[user]:password@]host[:port][/db]` (the password is never logged).");
  add("SOPILOT_RQ_QUEUE_PREFIX", c.queue_prefix, kService, "Redis keys are `<prefix>_ingest`, `_score`, `_training`, `_dead`.");
  add("SOPILOT_INGEST_WORKERS", Num(c.ingest_workers), "serve", "Ingest worker threads in `serve` with the embedded queue (0-64).");
  add("SOPILOT_SCORE_WORKERS", Num(c.score_workers), "serve", "Score worker threads in `serve` with the embedded queue (0-64).");
  add("SOPILOT_TRAINING_WORKERS", Num(c.training_workers), "serve", "Training worker threads in `serve` with the embedded queue (0-64).");
  add("SOPILOT_INGEST_TIMEOUT_SEC", Num(c.ingest_timeout_sec), "serve, worker", "An ingest job running longer is stopped and retried.");
  add("SOPILOT_SCORE_TIMEOUT_SEC", Num(c.score_timeout_sec), "serve, worker", "The same for score jobs.");
  add("SOPILOT_TRAINING_TIMEOUT_SEC", Num(c.training_timeout_sec), "serve, worker", "The same for training jobs.");
  add("SOPILOT_RQ_RETRY_MAX", Num(c.queue.max_attempts - 1), kService, "Retries after a job's first run (0-99); then it is `dead`.");
  add("SOPILOT_RETRY_BACKOFF_SEC", Num(c.queue.backoff_base_sec), kService, "The first retry's delay; each next one is 6 times longer, at most 300 s.");
  add("SOPILOT_LEASE_SEC", Num(c.lease_sec), kService, "A running job's lease: a job whose worker died runs again after about this.");

  // Video, clips, embedders.
  add("SOPILOT_EMBEDDER", c.ingest.embedder, kServiceAndCli, "Clip features: heuristic-v1, motion-v1, pose-v1, appearance-v1, vjepa2, or several joined with `+`.");
  add("SOPILOT_MODELS_DIR", kDefaultModelsDir, kServiceAndCli, "Where `scripts/install-models.sh` put the converted models. Unset: `./models` when it has a "
      "manifest, else the `models/` beside the executable or up to three directories above it.");
  add("SOPILOT_VJEPA2_MODEL", c.embedders.vjepa2_model, kServiceAndCli, "An exported V-JEPA2 encoder (doc/embedders.md).");
  add("SOPILOT_APPEARANCE_MODEL", c.embedders.appearance_model, kServiceAndCli, "appearance-v1's backbone, a model of the manifest (empty: mobilenet_v2_mid).");
  add("SOPILOT_TARGET_FPS", Num(c.ingest.decode.target_fps), kServiceAndCli, "Frames sampled per second of video.");
  add("SOPILOT_MAX_SIDE", Num(c.ingest.decode.max_side), kServiceAndCli, "Frames are scaled so that their longer side is at most this.");
  add("SOPILOT_DECODE_THREADS", Num(c.ingest.decode.threads), "score, eval, embed", "Decoder threads (0: FFmpeg picks from the cores).");
  add("SOPILOT_CLIP_SECONDS", Num(c.ingest.clips.clip_seconds), kServiceAndCli, "Length of a clip.");
  add("SOPILOT_CLIP_STRIDE_SEC", Num(c.ingest.clips.stride_seconds), kServiceAndCli, "A clip starts every this many seconds.");
  add("SOPILOT_MIN_CLIP_COVERAGE", Num(c.ingest.clips.min_clip_coverage), kServiceAndCli, "A clip needs frames over this fraction of its length.");
  add("SOPILOT_MAX_VIDEO_SEC", Num(c.ingest.decode.max_duration_sec), kServiceAndCli, "Longest video accepted (a video past it fails for good).");
  add("SOPILOT_MAX_FRAME_PIXELS", Num(c.ingest.decode.max_frame_pixels), kServiceAndCli, "Largest frame accepted, in pixels.");
  add("SOPILOT_MAX_FRAME_GAP_SEC", Num(c.ingest.decode.max_frame_gap_sec), kServiceAndCli, "A jump in the timestamps is cut to this.");
  add("SOPILOT_FFMPEG_LOG", "", kServiceAndCli, "`1` lets FFmpeg print its own warnings (debugging only).");

  // Scoring.
  add("SOPILOT_WEIGHT_MISS", Num(c.score.weights.miss), kServiceAndScoring, "Penalty of a missing step.");
  add("SOPILOT_WEIGHT_SWAP", Num(c.score.weights.swap), kServiceAndScoring, "Penalty of two steps swapped.");
  add("SOPILOT_WEIGHT_DEV", Num(c.score.weights.dev), kServiceAndScoring, "Penalty of a step done unlike the gold.");
  add("SOPILOT_WEIGHT_TIME", Num(c.score.weights.time), kServiceAndScoring, "Penalty of a step over time.");
  add("SOPILOT_WEIGHT_EXTRA", Num(c.score.weights.extra), kServiceAndScoring, "Penalty of time matching no step, or a step repeated.");
  add("SOPILOT_PASS_SCORE", Num(c.score.pass_score), kServiceAndScoring, "Verdict `pass` at this score and above.");
  add("SOPILOT_REVIEW_SCORE", Num(c.score.review_score), kServiceAndScoring, "Verdict `needs_review` at this score and above, else `fail`.");
  add("SOPILOT_TIME_TOLERANCE", Num(c.score.time_tolerance), kServiceAndScoring, "A step may take this fraction longer than in the gold.");
  add("SOPILOT_MIN_TIME_FRACTION", Num(c.score.min_time_fraction), kService, "A step done in under this fraction of its gold time is reported rushed (0: off).");
  add("SOPILOT_MAX_SCORE_PAIRS", Num(c.score.max_pairs), kService, "Past this many clip pairs both videos are thinned before alignment (0: no bound).");

  // Training and the nightly run.
  add("SOPILOT_ENABLE_FEATURE_ADAPTER", Bool(c.feature_adapter_enabled), kService, "Fit and apply the per-task feature adapter in training jobs (off: measured not to help).");
  add("SOPILOT_ADAPTER_STD_FLOOR", Num(c.adapter_std_floor), kService, "The adapter's floor on a dimension's deviation, in (0, 1].");
  add("SOPILOT_NIGHTLY_ENABLED", Bool(c.nightly_enabled), "serve", "Queue a training run every night.");
  add("SOPILOT_NIGHTLY_HOUR_LOCAL", Num(c.nightly_hour_local), "serve", "Its hour (0-23) in the process's `TZ`.");
  add("SOPILOT_NIGHTLY_MIN_NEW_VIDEOS", Num(c.nightly_min_new_videos), "serve, worker", "The nightly run trains only with at least this many new videos.");
  add("SOPILOT_NIGHTLY_CHECK_SEC", Num(c.nightly_check_sec), "serve", "How often the scheduler checks the time and its lease.");

  // Webhooks.
  add("SOPILOT_WEBHOOK_URL", c.webhooks.global_url, kService, "Where score events go for tasks without their own webhook (http:// only).");
  add("SOPILOT_WEBHOOK_SECRET", c.webhooks.global_secret, kService, "Signs those events (`X-SOPilot-Signature`; secret).");
  add("SOPILOT_WEBHOOK_MAX_ATTEMPTS", Num(c.webhooks.max_attempts), kService, "Delivery attempts per event (1-20).");
  add("SOPILOT_WEBHOOK_BACKOFF_SEC", Num(c.webhooks.backoff_sec), kService, "The first retry's delay; doubling after.");
  add("SOPILOT_WEBHOOK_TIMEOUT_SEC", Num(c.webhooks.timeout_sec), kService, "Each step of a delivery (resolve, connect, send, receive).");
  add("SOPILOT_WEBHOOK_THREADS", Num(c.webhooks.threads), kService, "Delivery threads per process (1-16).");

  // The watch folder.
  add("SOPILOT_WATCH_DIR", w.dir, "watch", "The folder watched (empty: `<data dir>/watch_inbox`).");
  add("SOPILOT_WATCH_TASK_ID", w.rules.default_task, "watch", "Task of files not in a task's subfolder.");
  add("SOPILOT_WATCH_ROLE", w.rules.default_role, "watch", "Role of files matching neither pattern.");
  add("SOPILOT_WATCH_GOLD_PATTERN", w.rules.gold_pattern, "watch", "Files matching it are gold videos.");
  add("SOPILOT_WATCH_TRAINEE_PATTERN", w.rules.trainee_pattern, "watch", "Files matching it are trainee videos.");
  add("SOPILOT_WATCH_SETTLE_SEC", Num(w.settle_sec), "watch", "A file is taken once unchanged this long (and closed).");
  add("SOPILOT_WATCH_POLL_SEC", Num(w.rescan_sec), "watch", "The folder is also rescanned this often.");

  // Test hooks: off in production.
  add("SOPILOT_ENABLE_FAULT_INJECTION", Bool(c.fault_injection_enabled), kService, "Test hook: lets an admin make jobs fail (`POST /ops/fault-injection`). Never in production.");
  add("SOPILOT_FAULT_THROW_IN", c.throw_in_jobs, kService, "Test hook (with fault injection): every job of this type throws.");
  add("SOPILOT_TEST_HOLD_JOBS", "", kService, "Test hook (with fault injection): job types held once running, e.g. `ingest,score`.");
  return v;
}

std::string EnvTableMarkdown() {
  std::string out = "| variable | default | read by | meaning |\n|---|---|---|---|\n";
  for (const EnvVariable& e : EnvironmentVariables()) {
    std::string meaning = e.meaning;
    for (size_t at = meaning.find('|'); at != std::string::npos; at = meaning.find('|', at + 2)) {
      meaning.replace(at, 1, "\\|");
    }
    out += "| `" + e.name + "` | " + (e.default_value.empty() ? "(unset)" : "`" + e.default_value + "`") + " | " +
           e.read_by + " | " + meaning + " |\n";
  }
  return out;
}

}  // namespace sopilot::cli
