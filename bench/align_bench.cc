// Alignment benchmarks. Machines are shared and noisy, so DTW is measured
// beside the bare sgemm it is built on, in the same process, interleaved,
// and the ratio is what to read.
//
//   align_bench --benchmark_filter=-Linear   # the 2000² cases only (CI)
//   align_bench --benchmark_filter=Linear    # the 14,400² linear-memory run
#include <cblas.h>
#include <sys/resource.h>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

#include "align/drop_dtw.h"
#include "align/align_test_util.h"  // RandomUnitRows
#include "align/dtw.h"
#include "base/matrix.h"

namespace sopilot {
namespace {

constexpr int kDims = 904;  // heuristic-v1 embeddings

using align_test::RandomUnitRows;


double PeakRssMb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // ru_maxrss is in KiB on Linux
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// The baseline: C = G·Tᵀ for the same shape, output buffer allocated once.
void BareSgemm(const FloatMatrix& g, const FloatMatrix& t, std::vector<float>* c) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g.rows, t.rows, g.cols, 1.0f,
              g.data.data(), g.cols, t.data.data(), t.cols, 0.0f, c->data(), t.rows);
}

struct Pair2000 {
  FloatMatrix gold = RandomUnitRows(2000, kDims, 1);
  FloatMatrix trainee = RandomUnitRows(2000, kDims, 2);
};
const Pair2000& Inputs2000() {
  static const Pair2000 pair;
  return pair;
}

void BM_Sgemm_2000(benchmark::State& state) {
  const Pair2000& in = Inputs2000();
  std::vector<float> c(static_cast<size_t>(2000) * 2000);
  for (auto _ : state) {
    BareSgemm(in.gold, in.trainee, &c);
    benchmark::DoNotOptimize(c.data());
  }
}
BENCHMARK(BM_Sgemm_2000)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Dtw_2000(benchmark::State& state) {
  const Pair2000& in = Inputs2000();
  DtwOptions options;
  options.memory = DtwOptions::Memory::kFull;
  for (auto _ : state) {
    auto a = AlignDtw(in.gold, in.trainee, options);
    if (!a.ok()) state.SkipWithError(a.status().ToString().c_str());
    benchmark::DoNotOptimize(a);
  }
}
BENCHMARK(BM_Dtw_2000)->Unit(benchmark::kMillisecond)->UseRealTime();

// Both in each iteration, so drift in machine load hits both alike.
// ratio = total DTW time / total sgemm time; target <= 1.3. The comparison
// leans against DTW: the baseline writes into a buffer allocated once, while
// each AlignDtw call allocates (and page-faults) its own 16 MB cost matrix,
// as a real caller's would.
void BM_DtwOverSgemm_2000(benchmark::State& state) {
  const Pair2000& in = Inputs2000();
  std::vector<float> c(static_cast<size_t>(2000) * 2000);
  DtwOptions options;
  options.memory = DtwOptions::Memory::kFull;
  double sgemm_s = 0, dtw_s = 0;
  size_t path_length = 0;
  for (auto _ : state) {
    auto t0 = std::chrono::steady_clock::now();
    BareSgemm(in.gold, in.trainee, &c);
    benchmark::DoNotOptimize(c.data());
    sgemm_s += Seconds(t0);
    t0 = std::chrono::steady_clock::now();
    auto a = AlignDtw(in.gold, in.trainee, options);
    dtw_s += Seconds(t0);
    if (!a.ok()) state.SkipWithError(a.status().ToString().c_str());
    path_length = a->path.size();
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["sgemm_ms"] = 1e3 * sgemm_s / n;
  state.counters["dtw_ms"] = 1e3 * dtw_s / n;
  state.counters["ratio"] = dtw_s / sgemm_s;
  state.counters["path_len"] = static_cast<double>(path_length);
}
BENCHMARK(BM_DtwOverSgemm_2000)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3.0);

void BM_DropDtw_2000(benchmark::State& state) {
  const Pair2000& in = Inputs2000();
  for (auto _ : state) {
    auto a = AlignDropDtw(in.gold, in.trainee);
    if (!a.ok()) state.SkipWithError(a.status().ToString().c_str());
    benchmark::DoNotOptimize(a);
  }
}
BENCHMARK(BM_DropDtw_2000)->Unit(benchmark::kMillisecond)->UseRealTime();

// 14,400 clips a side (an hour of 0.25 s clips), linear memory: the 829 MB
// cost matrix never exists. Run once; targets < 10 s and < 512 MB peak RSS
// (the RSS includes the two 52 MB inputs).
void BM_DtwLinear_14400(benchmark::State& state) {
  const int clips = 14400;
  const FloatMatrix gold = RandomUnitRows(clips, kDims, 3);
  const FloatMatrix trainee = RandomUnitRows(clips, kDims, 4);
  const double rss_inputs = PeakRssMb();
  DtwOptions options;
  options.memory = DtwOptions::Memory::kLinear;
  size_t path_length = 0;
  double mean_cost = 0;
  for (auto _ : state) {
    auto a = AlignDtw(gold, trainee, options);
    if (!a.ok()) {
      state.SkipWithError(a.status().ToString().c_str());
      break;
    }
    path_length = a->path.size();
    mean_cost = a->mean_cost;
  }
  state.counters["peak_rss_MB"] = PeakRssMb();
  state.counters["rss_before_MB"] = rss_inputs;
  state.counters["path_len"] = static_cast<double>(path_length);
  state.counters["mean_cost"] = mean_cost;
}
BENCHMARK(BM_DtwLinear_14400)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

}  // namespace
}  // namespace sopilot

BENCHMARK_MAIN();
