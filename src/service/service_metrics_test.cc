// monitoring/README.md's metrics reference is generated from the registry the
// service really builds; this fails when the two differ.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "service/service_metrics.h"
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

// sopilot_embedding_seconds_per_clip: one observation per video, of its
// time divided by its clips, beside the whole video's time.
TEST(ServiceMetricsTest, EmbeddingTimeIsObservedPerVideoAndPerClip) {
  testing::TempDir dir;
  ServiceConfig config;
  config.data_dir = dir.file("data");
  auto service = SopilotService::Open(config, Env::Default());
  ASSERT_TRUE(service.ok()) << service.status().ToString();
  ServiceMetrics* m = (*service)->metrics();
  m->EmbeddingSeconds("e", 3.0, 12);  // 0.25 s a clip
  m->EmbeddingSeconds("e", 1.0, 0);   // no clip: the video's time only
  const std::string body = (*service)->metrics_registry()->Render();
  for (const char* line : {
           "sopilot_embedding_generation_seconds_count{embedder=\"e\"} 2\n",
           "sopilot_embedding_generation_seconds_sum{embedder=\"e\"} 4\n",
           "sopilot_embedding_seconds_per_clip_count{embedder=\"e\"} 1\n",
           "sopilot_embedding_seconds_per_clip_sum{embedder=\"e\"} 0.25\n",
           // Buckets that tell a tenth of a millisecond from a second.
           "sopilot_embedding_seconds_per_clip_bucket{embedder=\"e\",le=\"1e-04\"} 0\n",
           "sopilot_embedding_seconds_per_clip_bucket{embedder=\"e\",le=\"0.1\"} 0\n",
           "sopilot_embedding_seconds_per_clip_bucket{embedder=\"e\",le=\"0.25\"} 1\n",
           "sopilot_embedding_seconds_per_clip_bucket{embedder=\"e\",le=\"1\"} 1\n",
           "sopilot_embedding_seconds_per_clip_bucket{embedder=\"e\",le=\"+Inf\"} 1\n",
       }) {
    EXPECT_NE(body.find(line), std::string::npos) << line << body.substr(body.find("sopilot_embedding"), 2000);
  }
}

}  // namespace
}  // namespace sopilot
