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

}  // namespace
}  // namespace sopilot
