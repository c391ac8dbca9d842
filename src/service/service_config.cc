#include "service/service_config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>

#include "queue/redis_client.h"
#include "store/metadata_store.h"

namespace sopilot {

double ServiceConfig::timeout_sec(JobKind kind) const {
  switch (kind) {
    case JobKind::kIngest: return ingest_timeout_sec;
    case JobKind::kScore: return score_timeout_sec;
    case JobKind::kTraining: return training_timeout_sec;
  }
  return 600;
}

int ServiceConfig::workers(JobKind kind) const {
  switch (kind) {
    case JobKind::kIngest: return ingest_workers;
    case JobKind::kScore: return score_workers;
    case JobKind::kTraining: return training_workers;
  }
  return 0;
}

namespace {

// 1 TiB: beyond any video a camera records, and far below where the shift
// to bytes would overflow.
constexpr int64_t kMaxUploadMb = int64_t{1} << 20;

class Reader {
 public:
  explicit Reader(const GetEnv& getenv) : getenv_(getenv) {}
  const char* Raw(const char* name) {
    const char* v = getenv_(name);
    return v != nullptr && *v != '\0' ? v : nullptr;
  }
  void String(const char* name, std::string* out) {
    if (const char* v = Raw(name)) *out = v;
  }
  void Double(const char* name, double* out) {
    const char* v = Raw(name);
    if (v == nullptr) return;
    char* end = nullptr;
    double x = std::strtod(v, &end);
    if (end == v || *end != '\0' || !std::isfinite(x)) {
      Error(std::string(name) + "='" + v + "' is not a number");
      return;
    }
    *out = x;
  }
  template <typename Int>
  void Integer(const char* name, Int* out) {
    const char* v = Raw(name);
    if (v == nullptr) return;
    char* end = nullptr;
    errno = 0;
    long long x = std::strtoll(v, &end, 10);
    if (end == v || *end != '\0') {
      Error(std::string(name) + "='" + v + "' is not an integer");
      return;
    }
    // Out of range is an error, never a wrapped value.
    if (errno == ERANGE || x < static_cast<long long>(std::numeric_limits<Int>::min()) ||
        x > static_cast<long long>(std::numeric_limits<Int>::max())) {
      Error(std::string(name) + "='" + v + "' is out of range");
      return;
    }
    *out = static_cast<Int>(x);
  }
  // 1/true/yes/on or 0/false/no/off.
  void Bool(const char* name, bool* out) {
    const char* v = Raw(name);
    if (v == nullptr) return;
    std::string b = v;
    if (b == "1" || b == "true" || b == "yes" || b == "on") *out = true;
    else if (b == "0" || b == "false" || b == "no" || b == "off") *out = false;
    else Error(std::string(name) + "='" + b + "' is not a boolean (1/0, true/false)");
  }
  void Error(const std::string& e) { errors_ += (errors_.empty() ? "" : "\n") + e; }
  void Merge(const Status& st) {
    if (!st.ok()) Error(st.message());
  }
  const std::string& errors() const { return errors_; }

 private:
  const GetEnv& getenv_;
  std::string errors_;
};

}  // namespace

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  // An address in 127.0.0.0/8, written as one: "127.attacker.example" is a
  // name that resolves wherever its owner likes.
  in_addr addr{};
  return inet_pton(AF_INET, host.c_str(), &addr) == 1 && (ntohl(addr.s_addr) >> 24) == 127;
}

Result<ServiceConfig> ServiceConfigFromEnvironment(const GetEnv& getenv) {
  ServiceConfig c;
  Reader r(getenv);
  r.String("SOPILOT_DATA_DIR", &c.data_dir);
  r.String("SOPILOT_HOST", &c.host);
  r.Integer("PORT", &c.port);
  r.Integer("SOPILOT_PORT", &c.port);
  r.Integer("SOPILOT_HTTP_THREADS", &c.http_threads);
  r.Double("SOPILOT_HTTP_HEADER_TIMEOUT_SEC", &c.http_header_timeout_sec);
  r.Integer("SOPILOT_HTTP_MAX_CONNECTIONS", &c.http_max_connections);
  r.Integer("SOPILOT_HTTP_MAX_CONNECTIONS_PER_CLIENT", &c.http_max_connections_per_client);
  int64_t upload_mb = c.upload_max_bytes >> 20;
  r.Integer("SOPILOT_UPLOAD_MAX_MB", &upload_mb);
  // Checked before the shift: 2^44 MB would wrap to a tiny limit.
  if (upload_mb < 1 || upload_mb > kMaxUploadMb) {
    r.Error("SOPILOT_UPLOAD_MAX_MB must be in [1, " + std::to_string(kMaxUploadMb) + "], got " +
            std::to_string(upload_mb));
    upload_mb = c.upload_max_bytes >> 20;
  }
  c.upload_max_bytes = upload_mb << 20;
  r.Integer("SOPILOT_MIN_SCORING_CLIPS", &c.min_scoring_clips);
  r.Integer("SOPILOT_SEARCH_MAX_CLIPS", &c.search_max_clips);
  r.Double("SOPILOT_INTEGRITY_CHECK_SEC", &c.integrity_check_sec);
  r.Integer("SOPILOT_INGEST_WORKERS", &c.ingest_workers);
  r.Integer("SOPILOT_SCORE_WORKERS", &c.score_workers);
  r.Integer("SOPILOT_TRAINING_WORKERS", &c.training_workers);
  r.Double("SOPILOT_INGEST_TIMEOUT_SEC", &c.ingest_timeout_sec);
  r.Double("SOPILOT_SCORE_TIMEOUT_SEC", &c.score_timeout_sec);
  r.Double("SOPILOT_TRAINING_TIMEOUT_SEC", &c.training_timeout_sec);
  int retries = c.queue.max_attempts - 1;
  r.Integer("SOPILOT_RQ_RETRY_MAX", &retries);
  c.queue.max_attempts = retries + 1;
  r.Double("SOPILOT_RETRY_BACKOFF_SEC", &c.queue.backoff_base_sec);
  r.Double("SOPILOT_LEASE_SEC", &c.lease_sec);
  r.String("SOPILOT_EMBEDDER", &c.ingest.embedder);
  r.String("SOPILOT_MODELS_DIR", &c.embedders.models_dir);
  r.String("SOPILOT_VJEPA2_MODEL", &c.embedders.vjepa2_model);
  r.String("SOPILOT_APPEARANCE_MODEL", &c.embedders.appearance_model);
  r.Double("SOPILOT_TARGET_FPS", &c.ingest.decode.target_fps);
  r.Double("SOPILOT_CLIP_SECONDS", &c.ingest.clips.clip_seconds);
  r.Double("SOPILOT_CLIP_STRIDE_SEC", &c.ingest.clips.stride_seconds);
  r.Integer("SOPILOT_MAX_SIDE", &c.ingest.decode.max_side);
  r.Double("SOPILOT_MAX_VIDEO_SEC", &c.ingest.decode.max_duration_sec);
  r.Integer("SOPILOT_MAX_FRAME_PIXELS", &c.ingest.decode.max_frame_pixels);
  r.Double("SOPILOT_MAX_FRAME_GAP_SEC", &c.ingest.decode.max_frame_gap_sec);
  r.Double("SOPILOT_MIN_CLIP_COVERAGE", &c.ingest.clips.min_clip_coverage);
  r.String("SOPILOT_AUDIT_SIGNING_KEY", &c.audit_signing_key);
  if (const char* v = r.Raw("SOPILOT_ENABLE_FAULT_INJECTION")) {
    std::string b = v;
    if (b == "1" || b == "true" || b == "yes" || b == "on") c.fault_injection_enabled = true;
    else if (b != "0" && b != "false" && b != "no" && b != "off") {
      r.Error("SOPILOT_ENABLE_FAULT_INJECTION='" + b + "' is not a boolean (1/0, true/false)");
    }
  }
  r.String("SOPILOT_FAULT_THROW_IN", &c.throw_in_jobs);
  if (!c.throw_in_jobs.empty() && !ParseJobKind(c.throw_in_jobs)) {
    r.Error("SOPILOT_FAULT_THROW_IN='" + c.throw_in_jobs + "' is not a job type (ingest, score, training)");
  }
  if (const char* v = r.Raw("SOPILOT_TEST_HOLD_JOBS")) {
    std::stringstream list(v);
    std::string name;
    while (std::getline(list, name, ',')) {
      if (name.empty()) continue;
      auto kind = ParseJobKind(name);
      if (kind) c.test_hold_jobs.push_back(*kind);
      else r.Error("SOPILOT_TEST_HOLD_JOBS: unknown job type '" + name + "' (ingest, score, training)");
    }
  }
  r.String("SOPILOT_AUDIT_SIGNING_KEY_ID", &c.audit_key_id);
  if (const char* backend = r.Raw("SOPILOT_QUEUE_BACKEND")) {
    std::string b = backend;
    // "rq" is the original's name for its Redis backend; "inline" had no
    // retries and no separate workers, which the embedded queue gives.
    if (b == "sqlite" || b == "embedded" || b == "inline") c.queue_backend = QueueBackend::kSqlite;
    else if (b == "redis" || b == "rq") c.queue_backend = QueueBackend::kRedis;
    else r.Error("SOPILOT_QUEUE_BACKEND='" + b + "' must be 'sqlite' (the embedded queue) or 'redis'");
  }
  r.String("SOPILOT_REDIS_URL", &c.redis_url);
  r.String("SOPILOT_DATABASE_URL", &c.database_url);
  r.Integer("SOPILOT_PG_CONNECTIONS", &c.pg_connections);
  r.String("SOPILOT_RQ_QUEUE_PREFIX", &c.queue_prefix);
  if (c.queue_prefix.empty()) c.queue_prefix = "sopilot";  // as the original: empty means the default
  r.Double("SOPILOT_WEIGHT_MISS", &c.score.weights.miss);
  r.Double("SOPILOT_WEIGHT_SWAP", &c.score.weights.swap);
  r.Double("SOPILOT_WEIGHT_DEV", &c.score.weights.dev);
  r.Double("SOPILOT_WEIGHT_TIME", &c.score.weights.time);
  r.Double("SOPILOT_WEIGHT_EXTRA", &c.score.weights.extra);
  r.Double("SOPILOT_PASS_SCORE", &c.score.pass_score);
  r.Double("SOPILOT_REVIEW_SCORE", &c.score.review_score);
  r.Double("SOPILOT_TIME_TOLERANCE", &c.score.time_tolerance);
  r.Double("SOPILOT_MIN_TIME_FRACTION", &c.score.min_time_fraction);
  r.Integer("SOPILOT_MAX_SCORE_PAIRS", &c.score.max_pairs);
  r.Bool("SOPILOT_ENABLE_FEATURE_ADAPTER", &c.feature_adapter_enabled);
  r.Double("SOPILOT_ADAPTER_STD_FLOOR", &c.adapter_std_floor);
  r.Bool("SOPILOT_NIGHTLY_ENABLED", &c.nightly_enabled);
  r.Bool("SOPILOT_STARTUP_QUICK_CHECK", &c.startup_quick_check);
  r.Integer("SOPILOT_NIGHTLY_HOUR_LOCAL", &c.nightly_hour_local);
  r.Integer("SOPILOT_NIGHTLY_MIN_NEW_VIDEOS", &c.nightly_min_new_videos);
  r.Double("SOPILOT_NIGHTLY_CHECK_SEC", &c.nightly_check_sec);
  r.String("SOPILOT_WEBHOOK_URL", &c.webhooks.global_url);
  r.String("SOPILOT_WEBHOOK_SECRET", &c.webhooks.global_secret);
  r.Integer("SOPILOT_WEBHOOK_MAX_ATTEMPTS", &c.webhooks.max_attempts);
  r.Double("SOPILOT_WEBHOOK_BACKOFF_SEC", &c.webhooks.backoff_sec);
  r.Double("SOPILOT_WEBHOOK_TIMEOUT_SEC", &c.webhooks.timeout_sec);
  r.Integer("SOPILOT_WEBHOOK_THREADS", &c.webhooks.threads);
  if (const char* v = r.Raw("SOPILOT_LOG_LEVEL")) {
    auto level = ParseLogLevel(v);
    if (level.ok()) c.log.level = *level;
    else r.Error(level.status().message());
  }
  if (const char* v = r.Raw("SOPILOT_LOG_FORMAT")) {
    auto format = ParseLogFormat(v);
    if (format.ok()) c.log.format = *format;
    else r.Error(format.status().message());
  }
  auto auth = AuthConfigFromEnvironment(getenv);
  if (auth.ok()) c.auth = *auth;
  else r.Error(auth.status().message());
  if (!r.errors().empty()) return Status::InvalidArgument(r.errors());
  return c;
}

Status ValidateServiceConfig(const ServiceConfig& c) {
  std::string errors;
  auto check = [&](bool ok, const std::string& e) {
    if (!ok) errors += (errors.empty() ? "" : "\n") + e;
  };
  check(c.port >= 0 && c.port <= 65535, "port must be in [0, 65535]");
  check(c.http_threads >= 1 && c.http_threads <= 1024, "SOPILOT_HTTP_THREADS must be in [1, 1024]");
  check(c.http_header_timeout_sec > 0 && c.http_header_timeout_sec <= 3600,
        "SOPILOT_HTTP_HEADER_TIMEOUT_SEC must be in (0, 3600]");
  check(c.http_max_connections >= 1 && c.http_max_connections <= 100000,
        "SOPILOT_HTTP_MAX_CONNECTIONS must be in [1, 100000]");
  check(c.http_max_connections_per_client >= 1 && c.http_max_connections_per_client <= 100000,
        "SOPILOT_HTTP_MAX_CONNECTIONS_PER_CLIENT must be in [1, 100000]");
  check(c.upload_max_bytes >= (int64_t{1} << 20), "SOPILOT_UPLOAD_MAX_MB must be >= 1");
  check(c.min_scoring_clips >= 1, "SOPILOT_MIN_SCORING_CLIPS must be >= 1");
  check(c.search_max_clips >= 1, "SOPILOT_SEARCH_MAX_CLIPS must be >= 1");
  check(c.integrity_check_sec >= 0, "SOPILOT_INTEGRITY_CHECK_SEC must be >= 0 (0: never)");
  for (JobKind k : kAllJobKinds) {
    check(c.workers(k) >= 0 && c.workers(k) <= 64,
          std::string("SOPILOT_") + JobKindName(k) + "_WORKERS must be in [0, 64]");
    check(c.timeout_sec(k) > 0, std::string(JobKindName(k)) + " timeout must be > 0");
  }
  check(c.queue.max_attempts >= 1 && c.queue.max_attempts <= 100, "SOPILOT_RQ_RETRY_MAX must be in [0, 99]");
  check(c.queue.backoff_base_sec >= 0, "SOPILOT_RETRY_BACKOFF_SEC must be >= 0");
  check(c.lease_sec >= 0.5 && c.lease_sec <= 3600, "SOPILOT_LEASE_SEC must be in [0.5, 3600]");
  Status ingest = ValidateIngestOptions(c.ingest);
  check(ingest.ok(), ingest.message());
  Status score = ValidateScoreOptions(c.score);
  check(score.ok(), score.message());
  check(c.data_dir != "", "SOPILOT_DATA_DIR must not be empty");
  // The URL itself may hold a password: it is not repeated here.
  check(c.database_url.empty() || MetadataStore::IsPostgresUrl(c.database_url),
        "SOPILOT_DATABASE_URL must be a postgresql:// URL (unset: SQLite in the data directory)");
  check(c.pg_connections >= 1 && c.pg_connections <= 64, "SOPILOT_PG_CONNECTIONS must be in [1, 64]");
  check(c.adapter_std_floor > 0 && c.adapter_std_floor <= 1, "SOPILOT_ADAPTER_STD_FLOOR must be in (0, 1]");
  check(c.nightly_hour_local >= 0 && c.nightly_hour_local <= 23, "SOPILOT_NIGHTLY_HOUR_LOCAL must be in [0, 23]");
  check(c.nightly_min_new_videos >= 0, "SOPILOT_NIGHTLY_MIN_NEW_VIDEOS must be >= 0");
  check(c.nightly_check_sec >= 0.1 && c.nightly_check_sec <= 3600, "SOPILOT_NIGHTLY_CHECK_SEC must be in [0.1, 3600]");
  check(c.test_hold_jobs.empty() || c.fault_injection_enabled,
        "SOPILOT_TEST_HOLD_JOBS is a test hook: it needs SOPILOT_ENABLE_FAULT_INJECTION=1");
  Status webhooks = ValidateWebhookOptions(c.webhooks);
  check(webhooks.ok(), webhooks.message());
  if (c.queue_backend == QueueBackend::kRedis) {
    auto url = ParseRedisUrl(c.redis_url);
    check(url.ok(), "SOPILOT_REDIS_URL: " + url.status().message());
    bool prefix_ok = !c.queue_prefix.empty() && c.queue_prefix.size() <= 64;
    for (char ch : c.queue_prefix) prefix_ok = prefix_ok && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-' || ch == '.');
    check(prefix_ok, "SOPILOT_RQ_QUEUE_PREFIX must be 1-64 characters of [A-Za-z0-9_.-]");
  }
  if (!c.auth.configured() && !IsLoopbackHost(c.host)) {
    check(false, "refusing to listen on " + c.host +
                     " without credentials: set SOPILOT_API_TOKEN, SOPILOT_API_ROLE_TOKENS or "
                     "SOPILOT_BASIC_USER/SOPILOT_BASIC_PASSWORD, or listen on 127.0.0.1");
  }
  if (!errors.empty()) return Status::InvalidArgument(errors);
  return Status::Ok();
}

}  // namespace sopilot
