#include "metrics/registry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>
#include <vector>

namespace sopilot::metrics {
namespace {

TEST(RegistryTest, ExpositionTextOfASmallRegistry) {
  Registry r;
  CounterFamily* jobs = r.AddCounter("demo_jobs_total", "Jobs by status.", {"status"});
  jobs->With({"failed"})->Inc();
  jobs->With({"completed"})->Inc(2);
  r.AddGauge("demo_temperature", "A gauge without labels.")->With({})->Set(-1.5);
  HistogramFamily* h = r.AddHistogram("demo_seconds", "Durations.", {"kind"}, {0.1, 1, 5});
  h->With({"a"})->Observe(0.05);
  h->With({"a"})->Observe(0.1);  // le is inclusive
  h->With({"a"})->Observe(3);
  h->With({"a"})->Observe(60);
  r.AddGauge("demo_empty_bytes", "Present with no series.", {"device_id"});
  r.AddCallback("demo_depth", "Computed at scrape time.", Type::kGauge, {"queue"},
                [] { return std::vector<Sample>{{{"score"}, 2}, {{"ingest"}, 7}}; });

  EXPECT_EQ(r.Render(),
            "# HELP demo_jobs_total Jobs by status.\n"
            "# TYPE demo_jobs_total counter\n"
            "demo_jobs_total{status=\"completed\"} 2\n"
            "demo_jobs_total{status=\"failed\"} 1\n"
            "# HELP demo_temperature A gauge without labels.\n"
            "# TYPE demo_temperature gauge\n"
            "demo_temperature -1.5\n"
            "# HELP demo_seconds Durations.\n"
            "# TYPE demo_seconds histogram\n"
            "demo_seconds_bucket{kind=\"a\",le=\"0.1\"} 2\n"
            "demo_seconds_bucket{kind=\"a\",le=\"1\"} 2\n"
            "demo_seconds_bucket{kind=\"a\",le=\"5\"} 3\n"
            "demo_seconds_bucket{kind=\"a\",le=\"+Inf\"} 4\n"
            "demo_seconds_sum{kind=\"a\"} 63.15\n"
            "demo_seconds_count{kind=\"a\"} 4\n"
            "# HELP demo_empty_bytes Present with no series.\n"
            "# TYPE demo_empty_bytes gauge\n"
            "# HELP demo_depth Computed at scrape time.\n"
            "# TYPE demo_depth gauge\n"
            "demo_depth{queue=\"ingest\"} 7\n"
            "demo_depth{queue=\"score\"} 2\n");
}

TEST(RegistryTest, LabelValuesAndHelpAreEscaped) {
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(EscapeHelp("line\\one\nline \"two\""), "line\\\\one\\nline \"two\"");
  Registry r;
  r.AddCounter("x_total", "Help with a \\ and a\nnewline.", {"path"})->With({"C:\\dir \"q\"\n"})->Inc();
  EXPECT_EQ(r.Render(),
            "# HELP x_total Help with a \\\\ and a\\nnewline.\n"
            "# TYPE x_total counter\n"
            "x_total{path=\"C:\\\\dir \\\"q\\\"\\n\"} 1\n");
}

TEST(RegistryTest, ValuesAreWrittenAsPrometheusParsesThem) {
  auto v = [](double d) {
    std::string s;
    AppendValue(d, &s);
    return s;
  };
  EXPECT_EQ(v(0), "0");
  EXPECT_EQ(v(42), "42");
  EXPECT_EQ(v(0.1), "0.1");
  EXPECT_EQ(v(1e21), "1e+21");
  EXPECT_EQ(v(INFINITY), "+Inf");
  EXPECT_EQ(v(-INFINITY), "-Inf");
  EXPECT_EQ(v(NAN), "NaN");
}

TEST(RegistryTest, HistogramBucketsAreCumulative) {
  Registry r;
  Histogram* h = r.AddHistogram("h_seconds", "h", {}, kJobDurationBuckets)->With({});
  for (double v : {0.05, 0.3, 0.7, 2.0, 7.0, 20.0, 45.0, 90.0, 200.0, 1000.0}) h->Observe(v);
  std::vector<uint64_t> c = h->CumulativeCounts();
  ASSERT_EQ(c.size(), kJobDurationBuckets.size() + 1);
  EXPECT_EQ(c, (std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  EXPECT_EQ(h->count(), 10u);
  EXPECT_DOUBLE_EQ(h->sum(), 1365.05);
  EXPECT_NE(r.Render().find("h_seconds_bucket{le=\"300\"} 9\nh_seconds_bucket{le=\"+Inf\"} 10\n"), std::string::npos);
}

TEST(RegistryTest, AddingANameAgainReturnsTheSameFamily) {
  Registry r;
  CounterFamily* a = r.AddCounter("a_total", "a", {"x"});
  EXPECT_EQ(r.AddCounter("a_total", "a", {"x"}), a);
  EXPECT_EQ(a->With({"1"}), a->With({"1"}));
  r.AddCallback("c", "c", Type::kGauge, {}, [] { return std::vector<Sample>{{{}, 1}}; });
  r.AddCallback("c", "c", Type::kGauge, {}, [] { return std::vector<Sample>{{{}, 2}}; });
  EXPECT_NE(r.Render().find("\nc 2\n"), std::string::npos) << r.Render();
}

TEST(RegistryDeathTest, MisuseIsABug) {
  Registry r;
  r.AddCounter("a_total", "a", {"x"});
  EXPECT_DEATH(r.AddGauge("a_total", "a", {"x"}), "registered twice");
  EXPECT_DEATH(r.AddCounter("a_total", "a", {"y"}), "registered twice");
  EXPECT_DEATH(r.AddCounter("bad-name", "a"), "invalid metric name");
  EXPECT_DEATH(r.AddCounter("b_total", "a", {"__x"}), "invalid label name");
  EXPECT_DEATH(r.AddHistogram("h", "h", {"le"}, {1}), "le");
  EXPECT_DEATH(r.AddHistogram("h", "h", {}, {2, 1}), "increasing");
  EXPECT_DEATH(r.AddCounter("a_total", "a", {"x"})->With({}), "has 1 labels");
}

TEST(RegistryTest, ConcurrentUpdatesSumExactly) {
  Registry r;
  Counter* c = r.AddCounter("c_total", "c", {"k"})->With({"v"});
  Gauge* g = r.AddGauge("g", "g")->With({});
  Histogram* h = r.AddHistogram("h_seconds", "h", {}, {0.5, 1})->With({});
  CounterFamily* family = r.AddCounter("f_total", "f", {"t"});
  constexpr int kThreads = 8, kIncrements = 100000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIncrements; ++i) {
        c->Inc();
        g->Add(1);
        h->Observe(i % 2 ? 0.25 : 0.75);  // sums of 0.25s are exact in binary
        if (i % 1000 == 0) family->With({std::to_string(i % 7)})->Inc();  // creation races lookups
      }
    });
  }
  // A scrape while the threads run must not crash or tear.
  for (int i = 0; i < 20; ++i) ASSERT_FALSE(r.Render().empty());
  for (auto& t : threads) t.join();
  EXPECT_EQ(c->value(), 1.0 * kThreads * kIncrements);
  EXPECT_EQ(g->value(), 1.0 * kThreads * kIncrements);
  EXPECT_EQ(h->count(), static_cast<uint64_t>(kThreads) * kIncrements);
  EXPECT_EQ(h->CumulativeCounts()[0], static_cast<uint64_t>(kThreads) * kIncrements / 2);
  EXPECT_EQ(h->sum(), 0.5 * kThreads * kIncrements);
  double total = 0;
  for (int k = 0; k < 7; ++k) total += family->With({std::to_string(k)})->value();
  EXPECT_EQ(total, kThreads * (kIncrements / 1000));
}

TEST(RegistryTest, OpenMetricsNamesCounterFamiliesWithoutTotalAndEnds) {
  Registry r;
  r.AddCounter("sopilot_jobs_total", "Jobs.", {"status"})->With({"completed"})->Inc(2);
  r.AddGauge("sopilot_depth", "Depth.")->With({})->Set(3);
  EXPECT_EQ(r.RenderOpenMetrics(),
            "# HELP sopilot_jobs Jobs.\n"
            "# TYPE sopilot_jobs counter\n"
            "sopilot_jobs_total{status=\"completed\"} 2\n"
            "# HELP sopilot_depth Depth.\n"
            "# TYPE sopilot_depth gauge\n"
            "sopilot_depth 3\n"
            "# EOF\n");
}

}  // namespace
}  // namespace sopilot::metrics
