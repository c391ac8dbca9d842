// What the video benchmarks (ingest_bench, embedder_bench) share: their
// flags, Google Benchmark's defaults for them, and CPU time.
//
//   --quick        a 10 s video and 1 repetition: a smoke run for CI
//   --seconds=N    generated video length (default 60; env SOPILOT_BENCH_SECONDS)
//   --video=FILE   use this video instead of making one; it is not deleted
//                  (env SOPILOT_BENCH_VIDEO)
//   --check        exit 1 when the benchmark's target is missed
// Repetitions default to 3 (1 with --quick) and are interleaved at random,
// so that a burst of load from elsewhere does not land on one benchmark.
#pragma once

#include <sys/resource.h>
#include <sys/time.h>

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace sopilot::bench {

inline double TimevalSec(const timeval& tv) { return tv.tv_sec + tv.tv_usec * 1e-6; }
inline double CpuSec(const rusage& ru) { return TimevalSec(ru.ru_utime) + TimevalSec(ru.ru_stime); }

// CPU seconds of every thread of this process.
inline double SelfCpuSec() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return CpuSec(ru);
}

struct VideoBenchFlags {
  bool quick = false;
  bool check = false;
  double seconds = 60;
  std::string video;
};

// Takes our flags out of argv, leaving Google Benchmark's in place. Prints
// the usage (with `check_help`, what --check checks) and returns nothing for
// --help; exits 2 for a bad --seconds.
inline std::optional<VideoBenchFlags> ParseVideoBenchFlags(const char* program, const std::string& check_help,
                                                           int* argc, char** argv) {
  VideoBenchFlags f;
  if (const char* s = std::getenv("SOPILOT_BENCH_SECONDS"); s && *s) f.seconds = std::atof(s);
  if (const char* v = std::getenv("SOPILOT_BENCH_VIDEO"); v && *v) f.video = v;
  bool seconds_given = false;
  int out = 1;
  for (int i = 1; i < *argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick") {
      f.quick = true;
    } else if (a == "--check") {
      f.check = true;
    } else if (a.rfind("--seconds=", 0) == 0) {
      f.seconds = std::atof(a.c_str() + 10);
      seconds_given = true;
    } else if (a.rfind("--video=", 0) == 0) {
      f.video = a.substr(8);
    } else if (a == "--help" || a == "-h") {
      std::printf(
          "usage: %s [--quick] [--seconds=N] [--video=FILE] [--check] [--benchmark_*...]\n"
          "  --quick       10 s video, 1 repetition (smoke run)\n"
          "  --seconds=N   length of the generated video (default 60, env SOPILOT_BENCH_SECONDS)\n"
          "  --video=FILE  benchmark this file instead (kept; env SOPILOT_BENCH_VIDEO)\n"
          "  --check       %s\n",
          program, check_help.c_str());
      return std::nullopt;
    } else {
      argv[out++] = argv[i];
    }
  }
  *argc = out;
  argv[out] = nullptr;
  if (f.quick && !seconds_given && !std::getenv("SOPILOT_BENCH_SECONDS")) f.seconds = 10;
  if (!(f.seconds >= 2 && f.seconds <= 3600)) {
    std::fprintf(stderr, "%s: --seconds must be in [2, 3600]\n", program);
    std::exit(2);
  }
  return f;
}

// benchmark::Initialize with our defaults (repetitions, random interleaving)
// unless the command line sets them. False for an unrecognised argument.
inline bool InitializeBenchmark(const VideoBenchFlags& flags, int argc, char** argv) {
  auto has = [&](const char* prefix) {
    for (int i = 1; i < argc; ++i) {
      if (std::strncmp(argv[i], prefix, std::strlen(prefix)) == 0) return true;
    }
    return false;
  };
  std::vector<std::string> extra;
  if (!has("--benchmark_repetitions")) {
    extra.push_back(flags.quick ? "--benchmark_repetitions=1" : "--benchmark_repetitions=3");
  }
  if (!has("--benchmark_enable_random_interleaving")) {
    extra.push_back("--benchmark_enable_random_interleaving=true");
  }
  std::vector<char*> args(argv, argv + argc);
  for (std::string& e : extra) args.push_back(e.data());
  int nargs = static_cast<int>(args.size());
  args.push_back(nullptr);
  benchmark::Initialize(&nargs, args.data());
  return !benchmark::ReportUnrecognizedArguments(nargs, args.data());
}

}  // namespace sopilot::bench
