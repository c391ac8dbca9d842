// monitoring/README.md's metrics reference is generated from the registry the
// service really builds; this fails when the two differ.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "service/sopilot_service.h"
#include "testing/temp_dir.h"

namespace sopilot {
namespace {

TEST(MetricsReferenceTest, MonitoringReadmeMatchesTheRegistry) {
  testing::TempDir dir;
  ServiceConfig config;
  config.data_dir = dir.file("data");
  auto service = SopilotService::Open(config, Env::Default());
  ASSERT_TRUE(service.ok()) << service.status().ToString();
  const std::string expected = metrics::MetricsReferenceMarkdown(*(*service)->metrics_registry());

  std::ifstream in(std::string(SOPILOT_SOURCE_DIR) + "/monitoring/README.md");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string readme = ss.str();
  const std::string begin = "<!-- metrics-reference:begin -->\n", end = "<!-- metrics-reference:end -->";
  size_t a = readme.find(begin), b = readme.find(end);
  ASSERT_NE(a, std::string::npos) << "monitoring/README.md has no " << begin;
  ASSERT_NE(b, std::string::npos);
  const std::string documented = readme.substr(a + begin.size(), b - a - begin.size());
  EXPECT_EQ(documented, expected) << "monitoring/README.md's metrics reference is out of date; replace it with:\n"
                                  << expected;
  // The seed's 13 families are all there.
  for (const char* m : {"sopilot_ingest_jobs_total", "sopilot_score_jobs_total", "sopilot_training_jobs_total",
                        "sopilot_job_duration_seconds", "sopilot_dtw_execution_seconds",
                        "sopilot_embedding_generation_seconds", "sopilot_queue_depth", "sopilot_active_workers",
                        "sopilot_total_clips", "sopilot_redis_connection_errors_total",
                        "sopilot_database_locked_errors_total", "sopilot_gpu_memory_bytes", "sopilot_build_info"}) {
    EXPECT_NE(expected.find(std::string("`") + m + "`"), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace sopilot
