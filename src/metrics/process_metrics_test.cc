#include "metrics/process_metrics.h"

#include <gtest/gtest.h>

#include <ctime>
#include <regex>

namespace sopilot::metrics {
namespace {

double SampleOf(const std::string& text, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex("\n" + name + " ([^\n]+)\n"))) return -1;
  return std::stod(m[1]);
}

TEST(ProcessMetricsTest, ReadsThisProcess) {
  Registry r;
  AddProcessMetrics(&r);
  std::string text = "\n" + r.Render();
  EXPECT_GE(SampleOf(text, "process_cpu_seconds_total"), 0);
  EXPECT_GT(SampleOf(text, "process_resident_memory_bytes"), 1 << 20);
  EXPECT_GT(SampleOf(text, "process_virtual_memory_bytes"), 1 << 20);
  EXPECT_GE(SampleOf(text, "process_open_fds"), 3);  // stdin, stdout, stderr
  EXPECT_NE(SampleOf(text, "process_max_fds"), 0);
  double start = SampleOf(text, "process_start_time_seconds");
  double now = static_cast<double>(std::time(nullptr));
  EXPECT_GT(start, now - 3600) << "the test started within the hour";
  EXPECT_LE(start, now + 1);
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter\n"), std::string::npos);
}

TEST(ProcessMetricsTest, BuildInfoCarriesConfigureTimeValues) {
  Registry r;
  AddBuildInfo(&r);
  BuildInfo b = GetBuildInfo();
  EXPECT_TRUE(std::regex_match(std::string(b.version), std::regex("\\d+\\.\\d+\\.\\d+"))) << b.version;
  EXPECT_NE(std::string(b.commit), "");
  EXPECT_TRUE(std::regex_match(std::string(b.build_date), std::regex("\\d{4}-\\d{2}-\\d{2}"))) << b.build_date;
  EXPECT_NE(r.Render().find("sopilot_build_info{version=\"" + std::string(b.version) + "\",commit=\"" + std::string(b.commit) +
                            "\",build_date=\"" + b.build_date + "\"} 1\n"),
            std::string::npos)
      << r.Render();
}

}  // namespace
}  // namespace sopilot::metrics
