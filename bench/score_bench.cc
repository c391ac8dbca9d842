// Scoring benchmarks. The local comparison space (each clip minus the
// median of its window, dimension by dimension) is measured beside the way
// it was computed before (a copy of each window and std::nth_element) and
// beside the whole-video centring it refines, on the same input, in the
// same iterations; the ratios are what to read (machines are shared).
//
//   score_bench                                   10 minutes of clips, windows of 1 and 3 minutes each way
//   score_bench --benchmark_filter=/60 --benchmark_min_time=0.01    the smoke run ctest makes
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "align/align_test_util.h"  // RandomUnitRows
#include "score/comparison_space.h"

namespace sopilot {
namespace {

constexpr int kDims = 904;  // heuristic-v1 embeddings

using align_test::RandomUnitRows;

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// Clips of 2 s every 0.5 s, as `sopilot embed` cuts them by default.
std::vector<ClipSpan> Clips(int n) {
  std::vector<ClipSpan> clips;
  for (int i = 0; i < n; ++i) clips.push_back({i, 0.5 * i, 0.5 * i + 2.0});
  return clips;
}

// The baseline: each window copied and its median found by nth_element,
// dimension by dimension, as comparison_space.cc did until 2026-12-07.
FloatMatrix CentreByNthElement(const FloatMatrix& m, const std::vector<ClipSpan>& clips, double window_sec) {
  FloatMatrix out = m;
  const int n = m.rows, d = m.cols;
  FloatMatrix columns(d, n);
  for (int i = 0; i < n; ++i) {
    for (int k = 0; k < d; ++k) columns.at(k, i) = m.at(i, k);
  }
  auto centre = [&](int i) { return 0.5 * (clips[i].start_sec + clips[i].end_sec); };
  std::vector<float> values;
  int lo = 0, hi = 0;
  for (int i = 0; i < n; ++i) {
    while (lo < n && centre(lo) < centre(i) - window_sec) ++lo;
    while (hi < n && centre(hi) <= centre(i) + window_sec) ++hi;
    for (int k = 0; k < d; ++k) {
      values.assign(columns.row(k) + lo, columns.row(k) + hi);
      auto mid = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
      std::nth_element(values.begin(), mid, values.end());
      out.at(i, k) -= *mid;
    }
  }
  return out;
}

// A 10-minute gold and trainee (1,200 clips each) centred over windows of
// the argument's seconds each way: 180 for a procedure of ten one-minute
// steps (three median steps), 60 for twenty-odd 20 s steps.
void BM_LocalCentring_10min(benchmark::State& state) {
  const int n = 1200;
  const double window_sec = static_cast<double>(state.range(0));
  const FloatMatrix gold = RandomUnitRows(n, kDims, 1);
  const FloatMatrix trainee = RandomUnitRows(n, kDims, 2);
  const std::vector<ClipSpan> clips = Clips(n);
  double local_s = 0, direct_s = 0, whole_s = 0;
  for (auto _ : state) {
    auto t0 = std::chrono::steady_clock::now();
    ComparisonSpace local = MakeLocalComparisonSpace(gold, clips, trainee, clips, window_sec);
    benchmark::DoNotOptimize(local.gold.data.data());
    local_s += Seconds(t0);
    t0 = std::chrono::steady_clock::now();
    FloatMatrix g = CentreByNthElement(gold, clips, window_sec);
    FloatMatrix t = CentreByNthElement(trainee, clips, window_sec);
    benchmark::DoNotOptimize(g.data.data());
    benchmark::DoNotOptimize(t.data.data());
    direct_s += Seconds(t0);
    t0 = std::chrono::steady_clock::now();
    ComparisonSpace whole = MakeComparisonSpace(gold, trainee);
    benchmark::DoNotOptimize(whole.gold.data.data());
    whole_s += Seconds(t0);
  }
  const double iterations = static_cast<double>(state.iterations());
  state.counters["local_ms"] = 1e3 * local_s / iterations;
  state.counters["nth_element_ms"] = 1e3 * direct_s / iterations;
  state.counters["whole_ms"] = 1e3 * whole_s / iterations;
  state.counters["nth_element/local"] = direct_s / local_s;
  state.counters["local/whole"] = local_s / whole_s;
}
BENCHMARK(BM_LocalCentring_10min)->Arg(60)->Arg(180)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace sopilot

BENCHMARK_MAIN();
