#include "service/service_config.h"

#include <gtest/gtest.h>

#include <map>

namespace sopilot {
namespace {

GetEnv EnvOf(std::map<std::string, std::string> vars) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [shared](const char* name) -> const char* {
    auto it = shared->find(name);
    return it == shared->end() ? nullptr : it->second.c_str();
  };
}

TEST(ServiceConfigTest, DefaultsAreValidAndLoopback) {
  auto c = ServiceConfigFromEnvironment(EnvOf({}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->host, "127.0.0.1");
  EXPECT_EQ(c->port, 8000);
  EXPECT_EQ(c->ingest_timeout_sec, 600);
  EXPECT_EQ(c->score_timeout_sec, 300);
  EXPECT_EQ(c->training_timeout_sec, 3600);
  EXPECT_TRUE(ValidateServiceConfig(*c).ok());
}

TEST(ServiceConfigTest, ReadsTheOriginalsVariables) {
  auto c = ServiceConfigFromEnvironment(EnvOf({{"SOPILOT_DATA_DIR", "/srv/sop"},
                                               {"SOPILOT_UPLOAD_MAX_MB", "12"},
                                               {"SOPILOT_RQ_RETRY_MAX", "4"},
                                               {"SOPILOT_WEIGHT_MISS", "50"},
                                               {"SOPILOT_API_TOKEN", "secret"},
                                               {"SOPILOT_API_TOKEN_ROLE", "operator"},
                                               {"PORT", "9000"}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->data_dir, "/srv/sop");
  EXPECT_EQ(c->upload_max_bytes, 12 << 20);
  EXPECT_EQ(c->queue.max_attempts, 5);
  EXPECT_EQ(c->score.weights.miss, 50);
  EXPECT_EQ(c->port, 9000);
  EXPECT_EQ(c->auth.api_token, "secret");
  EXPECT_EQ(c->auth.api_token_role, Role::kOperator);
}

TEST(ServiceConfigTest, ReadsAndChecksTheHttpLimits) {
  auto c = ServiceConfigFromEnvironment(EnvOf({{"SOPILOT_HTTP_HEADER_TIMEOUT_SEC", "2.5"},
                                               {"SOPILOT_HTTP_MAX_CONNECTIONS", "300"},
                                               {"SOPILOT_HTTP_MAX_CONNECTIONS_PER_CLIENT", "20"}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->http_header_timeout_sec, 2.5);
  EXPECT_EQ(c->http_max_connections, 300);
  EXPECT_EQ(c->http_max_connections_per_client, 20);
  EXPECT_TRUE(ValidateServiceConfig(*c).ok());
  auto zero = ServiceConfigFromEnvironment(EnvOf({{"SOPILOT_HTTP_HEADER_TIMEOUT_SEC", "0"},
                                                  {"SOPILOT_HTTP_MAX_CONNECTIONS_PER_CLIENT", "0"}}));
  ASSERT_TRUE(zero.ok()) << zero.status().ToString();
  Status st = ValidateServiceConfig(*zero);
  EXPECT_NE(st.message().find("SOPILOT_HTTP_HEADER_TIMEOUT_SEC"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find("SOPILOT_HTTP_MAX_CONNECTIONS_PER_CLIENT"), std::string::npos) << st.ToString();
}

TEST(ServiceConfigTest, ReadsAndChecksThePostgresConnections) {
  auto defaults = ServiceConfigFromEnvironment(EnvOf({}));
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->pg_connections, 4);
  auto c = ServiceConfigFromEnvironment(EnvOf({{"SOPILOT_PG_CONNECTIONS", "12"}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->pg_connections, 12);
  EXPECT_TRUE(ValidateServiceConfig(*c).ok());
  for (const char* bad : {"0", "65"}) {
    auto out = ServiceConfigFromEnvironment(EnvOf({{"SOPILOT_PG_CONNECTIONS", bad}}));
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_NE(ValidateServiceConfig(*out).message().find("SOPILOT_PG_CONNECTIONS must be in [1, 64]"),
              std::string::npos)
        << bad;
  }
  EXPECT_FALSE(ServiceConfigFromEnvironment(EnvOf({{"SOPILOT_PG_CONNECTIONS", "many"}})).ok());
}

TEST(ServiceConfigTest, ReadsAndChecksTheWebhookSettings) {
  auto c = ServiceConfigFromEnvironment(EnvOf({{"SOPILOT_WEBHOOK_URL", "http://hooks.local:8080/sopilot"},
                                               {"SOPILOT_WEBHOOK_SECRET", "s"},
                                               {"SOPILOT_WEBHOOK_MAX_ATTEMPTS", "3"},
                                               {"SOPILOT_WEBHOOK_BACKOFF_SEC", "2"},
                                               {"SOPILOT_WEBHOOK_TIMEOUT_SEC", "4"},
                                               {"SOPILOT_WEBHOOK_THREADS", "1"}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->webhooks.global_url, "http://hooks.local:8080/sopilot");
  EXPECT_EQ(c->webhooks.global_secret, "s");
  EXPECT_EQ(c->webhooks.max_attempts, 3);
  EXPECT_EQ(c->webhooks.backoff_sec, 2);
  EXPECT_EQ(c->webhooks.timeout_sec, 4);
  EXPECT_EQ(c->webhooks.threads, 1);
  EXPECT_TRUE(ValidateServiceConfig(*c).ok());
  auto bad = ServiceConfigFromEnvironment(EnvOf({{"SOPILOT_WEBHOOK_URL", "https://hooks.local/"},
                                                 {"SOPILOT_WEBHOOK_TIMEOUT_SEC", "0"}}));
  ASSERT_TRUE(bad.ok());
  Status st = ValidateServiceConfig(*bad);
  EXPECT_NE(st.message().find("SOPILOT_WEBHOOK_URL"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find("SOPILOT_WEBHOOK_TIMEOUT_SEC"), std::string::npos) << st.ToString();
}

TEST(ServiceConfigTest, ListsEveryError) {
  auto c = ServiceConfigFromEnvironment(EnvOf({{"SOPILOT_UPLOAD_MAX_MB", "lots"},
                                               {"SOPILOT_WEIGHT_DEV", "heavy"},
                                               {"SOPILOT_API_TOKEN", "t"},
                                               {"SOPILOT_API_TOKEN_ROLE", "superuser"}}));
  ASSERT_FALSE(c.ok());
  const std::string& m = c.status().message();
  EXPECT_NE(m.find("SOPILOT_UPLOAD_MAX_MB"), std::string::npos) << m;
  EXPECT_NE(m.find("SOPILOT_WEIGHT_DEV"), std::string::npos) << m;
  EXPECT_NE(m.find("superuser"), std::string::npos) << m;
}

TEST(ServiceConfigTest, ReadsTheLogLevelAndFormat) {
  auto d = ServiceConfigFromEnvironment(EnvOf({}));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->log.level, LogLevel::kInfo);
  EXPECT_EQ(d->log.format, LogFormat::kText);
  auto c = ServiceConfigFromEnvironment(EnvOf({{"SOPILOT_LOG_LEVEL", "debug"}, {"SOPILOT_LOG_FORMAT", "json"}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->log.level, LogLevel::kDebug);
  EXPECT_EQ(c->log.format, LogFormat::kJson);
  EXPECT_TRUE(ValidateServiceConfig(*c).ok());
}

// A misspelt level or format stops the start-up with every problem named,
// never a silent fallback to the default.
TEST(ServiceConfigTest, BadLogValuesAreRefused) {
  auto c = ServiceConfigFromEnvironment(EnvOf({{"SOPILOT_LOG_LEVEL", "verbose"}, {"SOPILOT_LOG_FORMAT", "xml"}}));
  ASSERT_FALSE(c.ok());
  const std::string& m = c.status().message();
  EXPECT_NE(m.find("SOPILOT_LOG_LEVEL='verbose' must be one of trace, debug, info, warn, error, off"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("SOPILOT_LOG_FORMAT='xml' must be 'text' or 'json'"), std::string::npos) << m;
}

// Documented in doc/architecture.md and once read by nothing the service
// ran: the bound on the alignment's clip pairs.
TEST(ServiceConfigTest, ReadsTheScorePairBound) {
  auto c = ServiceConfigFromEnvironment(EnvOf({{"SOPILOT_MAX_SCORE_PAIRS", "20000"}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->score.max_pairs, 20000);
  EXPECT_TRUE(ValidateServiceConfig(*c).ok());
  auto small = ServiceConfigFromEnvironment(EnvOf({{"SOPILOT_MAX_SCORE_PAIRS", "5"}}));
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  Status st = ValidateServiceConfig(*small);
  EXPECT_NE(st.message().find("SOPILOT_MAX_SCORE_PAIRS"), std::string::npos) << st.ToString();
}

TEST(ServiceConfigTest, TestHoldJobsIsOnlyForFaultInjection) {
  auto c = ServiceConfigFromEnvironment(
      EnvOf({{"SOPILOT_ENABLE_FAULT_INJECTION", "1"}, {"SOPILOT_TEST_HOLD_JOBS", "ingest,training"}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->test_hold_jobs, (std::vector<JobKind>{JobKind::kIngest, JobKind::kTraining}));
  EXPECT_TRUE(ValidateServiceConfig(*c).ok());
  auto without = ServiceConfigFromEnvironment(EnvOf({{"SOPILOT_TEST_HOLD_JOBS", "ingest"}}));
  ASSERT_TRUE(without.ok()) << without.status().ToString();
  Status st = ValidateServiceConfig(*without);
  EXPECT_NE(st.message().find("SOPILOT_ENABLE_FAULT_INJECTION"), std::string::npos) << st.ToString();
  auto bad = ServiceConfigFromEnvironment(
      EnvOf({{"SOPILOT_ENABLE_FAULT_INJECTION", "1"}, {"SOPILOT_TEST_HOLD_JOBS", "ingest,gpu"}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'gpu'"), std::string::npos) << bad.status().ToString();
}

// Numbers out of range are errors, never wrapped: 2^44 MB once became a
// 1 MB upload limit.
TEST(ServiceConfigTest, OutOfRangeNumbersAreRefused) {
  for (const char* mb : {"17592186044417", "99999999999999999999", "0", "-1"}) {
    auto c = ServiceConfigFromEnvironment(EnvOf({{"SOPILOT_UPLOAD_MAX_MB", mb}}));
    ASSERT_FALSE(c.ok()) << mb;
    EXPECT_NE(c.status().message().find("SOPILOT_UPLOAD_MAX_MB"), std::string::npos) << c.status().ToString();
  }
  auto port = ServiceConfigFromEnvironment(EnvOf({{"SOPILOT_HTTP_THREADS", "4294967297"}}));
  ASSERT_FALSE(port.ok());
  EXPECT_NE(port.status().message().find("out of range"), std::string::npos) << port.status().ToString();
  auto big = ServiceConfigFromEnvironment(EnvOf({{"SOPILOT_UPLOAD_MAX_MB", "4096"}}));
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  EXPECT_EQ(big->upload_max_bytes, int64_t{4096} << 20);
}

// Loopback is an address in 127.0.0.0/8 (or ::1, localhost), not any name
// that starts with "127.".
TEST(ServiceConfigTest, LoopbackMeansALoopbackAddress) {
  for (const char* host : {"127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"}) {
    EXPECT_TRUE(IsLoopbackHost(host)) << host;
  }
  for (const char* host : {"127.attacker.example", "127.0.0.1.nip.io", "0.0.0.0", "128.0.0.1", "", "1270.0.0.1"}) {
    EXPECT_FALSE(IsLoopbackHost(host)) << host;
  }
}

TEST(ServiceConfigTest, RefusesAnOpenServiceOnTheNetwork) {
  ServiceConfig c;
  c.host = "0.0.0.0";
  Status st = ValidateServiceConfig(c);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("without credentials"), std::string::npos);
  c.auth.api_token = "t";
  EXPECT_TRUE(ValidateServiceConfig(c).ok());
  c.ingest_timeout_sec = 0;
  c.port = 70000;
  st = ValidateServiceConfig(c);
  EXPECT_NE(st.message().find("port"), std::string::npos);
  EXPECT_NE(st.message().find("timeout"), std::string::npos);
}

TEST(ServiceConfigTest, TrainingAndNightlyVariables) {
  auto d = ServiceConfigFromEnvironment(EnvOf({}));
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->feature_adapter_enabled);  // measured: see doc/architecture.md
  EXPECT_FALSE(d->nightly_enabled);
  EXPECT_EQ(d->nightly_hour_local, 2);
  EXPECT_EQ(d->nightly_min_new_videos, 10);
  EXPECT_EQ(d->nightly_check_sec, 30);
  EXPECT_EQ(d->adapter_std_floor, kDefaultAdapterStdFloor);

  auto c = ServiceConfigFromEnvironment(EnvOf({{"SOPILOT_ENABLE_FEATURE_ADAPTER", "true"},
                                               {"SOPILOT_ADAPTER_STD_FLOOR", "0.05"},
                                               {"SOPILOT_NIGHTLY_ENABLED", "1"},
                                               {"SOPILOT_NIGHTLY_HOUR_LOCAL", "23"},
                                               {"SOPILOT_NIGHTLY_MIN_NEW_VIDEOS", "0"},
                                               {"SOPILOT_NIGHTLY_CHECK_SEC", "0.5"}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->feature_adapter_enabled);
  EXPECT_EQ(c->adapter_std_floor, 0.05);
  EXPECT_TRUE(c->nightly_enabled);
  EXPECT_EQ(c->nightly_hour_local, 23);
  EXPECT_EQ(c->nightly_min_new_videos, 0);
  EXPECT_EQ(c->nightly_check_sec, 0.5);
  EXPECT_TRUE(ValidateServiceConfig(*c).ok());

  auto bad = ServiceConfigFromEnvironment(EnvOf({{"SOPILOT_ENABLE_FEATURE_ADAPTER", "maybe"},
                                                 {"SOPILOT_NIGHTLY_ENABLED", "sometimes"},
                                                 {"SOPILOT_NIGHTLY_HOUR_LOCAL", "two"}}));
  ASSERT_FALSE(bad.ok());
  for (const char* name : {"SOPILOT_ENABLE_FEATURE_ADAPTER", "SOPILOT_NIGHTLY_ENABLED", "SOPILOT_NIGHTLY_HOUR_LOCAL"}) {
    EXPECT_NE(bad.status().message().find(name), std::string::npos) << bad.status().message();
  }

  ServiceConfig r;
  r.nightly_hour_local = 24;
  r.nightly_min_new_videos = -1;
  r.nightly_check_sec = 0;
  r.adapter_std_floor = 0;
  Status st = ValidateServiceConfig(r);
  ASSERT_FALSE(st.ok());
  for (const char* name : {"SOPILOT_NIGHTLY_HOUR_LOCAL", "SOPILOT_NIGHTLY_MIN_NEW_VIDEOS", "SOPILOT_NIGHTLY_CHECK_SEC",
                           "SOPILOT_ADAPTER_STD_FLOOR"}) {
    EXPECT_NE(st.message().find(name), std::string::npos) << st.message();
  }
}

}  // namespace
}  // namespace sopilot
