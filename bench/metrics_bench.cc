// Metrics benchmarks: rendering /metrics with 10,000 series (target < 10 ms,
// issue "Monitoring made real" item 8), and the cost of the hot-path updates
// (a counter increment, a histogram observation, a child lookup). The
// baseline is the floor of any renderer: the same 10,000 lines, their label
// text prepared in advance, formatted with snprintf into one string.
//
//   metrics_bench                      all benchmarks, then a summary line
//   metrics_bench --benchmark_filter=Render
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "metrics/registry.h"

namespace sopilot::metrics {
namespace {

constexpr int kSeries = 10000;

// 10,000 sample lines shaped like the service's: 5,000 counter series with
// three labels, 2,600 gauges, and 200 histograms of 9 buckets (12 lines each:
// 10 buckets with +Inf, _sum, _count).
struct BigRegistry {
  Registry registry;
  BigRegistry() {
    CounterFamily* c = registry.AddCounter("bench_requests_total", "Requests.", {"method", "route", "status"});
    for (int i = 0; i < 5000; ++i) {
      c->With({i % 2 ? "GET" : "POST", "/route/{id}/" + std::to_string(i / 10), std::to_string(200 + i % 10)})
          ->Inc(i);
    }
    GaugeFamily* g = registry.AddGauge("bench_queue_depth", "Depth.", {"queue", "shard"});
    for (int i = 0; i < 2600; ++i) g->With({"q" + std::to_string(i % 13), std::to_string(i)})->Set(i * 0.5);
    HistogramFamily* h = registry.AddHistogram("bench_duration_seconds", "Durations.", {"job_type"},
                                               kJobDurationBuckets);
    for (int i = 0; i < 200; ++i) {
      Histogram* child = h->With({"type" + std::to_string(i)});
      for (int k = 0; k < 20; ++k) child->Observe(0.05 * k * (i % 7 + 1));
    }
  }
  int SampleLines() const {
    std::string text = registry.Render();
    int lines = 0;
    for (size_t at = 0; at < text.size();) {
      size_t end = text.find('\n', at);
      if (text[at] != '#') ++lines;
      at = end + 1;
    }
    return lines;
  }
};

BigRegistry& Big() {
  static BigRegistry big;
  return big;
}

void BM_Render10kSeries(benchmark::State& state) {
  BigRegistry& big = Big();
  size_t bytes = 0;
  for (auto _ : state) {
    std::string text;
    text.reserve(1 << 20);
    big.registry.RenderTo(&text);
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["series"] = big.SampleLines();
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_Render10kSeries)->Unit(benchmark::kMillisecond);

void BM_CounterInc(benchmark::State& state) {
  static Registry r;
  static Counter* c = r.AddCounter("c_total", "c", {"status"})->With({"completed"});
  for (auto _ : state) c->Inc();
}
BENCHMARK(BM_CounterInc)->Threads(1)->Threads(8);

void BM_HistogramObserve(benchmark::State& state) {
  static Registry r;
  static Histogram* h = r.AddHistogram("h_seconds", "h", {"job_type"}, kJobDurationBuckets)->With({"ingest"});
  double v = 0;
  for (auto _ : state) {
    h->Observe(v);
    v = v > 400 ? 0 : v + 0.37;
  }
}
BENCHMARK(BM_HistogramObserve)->Threads(1)->Threads(8);

// With() on an existing child: what a path that does not cache its child
// pays (a shared lock and a map lookup), e.g. HTTP status counters.
void BM_CounterWithLookup(benchmark::State& state) {
  static Registry r;
  static CounterFamily* f = r.AddCounter("l_total", "l", {"method", "route", "status"});
  for (auto _ : state) f->With({"GET", "/videos/{video_id}", "200"})->Inc();
}
BENCHMARK(BM_CounterWithLookup)->Threads(1)->Threads(8);

// The baseline's input: every sample line of the big registry split into
// its series text and its value.
struct Lines {
  std::vector<std::string> series;
  std::vector<double> values;
};
const Lines& BaselineLines() {
  static const Lines lines = [] {
    Lines l;
    std::string text = Big().registry.Render();
    for (size_t at = 0; at < text.size();) {
      size_t end = text.find('\n', at);
      if (text[at] != '#') {
        size_t space = text.rfind(' ', end);
        l.series.push_back(text.substr(at, space - at));
        l.values.push_back(std::stod(text.substr(space + 1, end - space - 1)));
      }
      at = end + 1;
    }
    return l;
  }();
  return lines;
}

void BaselineRender(std::string* out) {
  const Lines& l = BaselineLines();
  char buf[512];
  for (size_t i = 0; i < l.series.size(); ++i) {
    int n = std::snprintf(buf, sizeof buf, "%s %.17g\n", l.series[i].c_str(), l.values[i]);
    out->append(buf, static_cast<size_t>(n));
  }
}

void BM_Baseline_Snprintf10kLines(benchmark::State& state) {
  BaselineLines();
  for (auto _ : state) {
    std::string text;
    text.reserve(1 << 20);
    BaselineRender(&text);
    benchmark::DoNotOptimize(text.data());
  }
}
BENCHMARK(BM_Baseline_Snprintf10kLines)->Unit(benchmark::kMillisecond);

// Direct figures for the summary: median of 50 runs, the two interleaved.
template <typename F>
double Ms(F f) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}
std::pair<double, double> MedianRenderAndBaselineMs() {
  BigRegistry& big = Big();
  BaselineLines();
  std::vector<double> ours, base;
  for (int i = 0; i < 50; ++i) {
    ours.push_back(Ms([&] {
      std::string text = big.registry.Render();
      benchmark::DoNotOptimize(text.data());
    }));
    base.push_back(Ms([&] {
      std::string text;
      BaselineRender(&text);
      benchmark::DoNotOptimize(text.data());
    }));
  }
  std::sort(ours.begin(), ours.end());
  std::sort(base.begin(), base.end());
  return {ours[ours.size() / 2], base[base.size() / 2]};
}

}  // namespace
}  // namespace sopilot::metrics

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  int series = sopilot::metrics::Big().SampleLines();
  auto [ms, base] = sopilot::metrics::MedianRenderAndBaselineMs();
  std::printf("\nrender /metrics with %d series: %.2f ms (median of 50; target < 10 ms): %s\n", series, ms,
              ms < 10 ? "OK" : "OVER");
  std::printf("snprintf of the same lines (baseline): %.2f ms; ratio %.2f\n", base, ms / base);
  return series == sopilot::metrics::kSeries ? 0 : 1;
}
