// store_bench: the PostgreSQL metadata store's calls per second from C
// threads of one process, with the default connection pool (4 connections,
// store/pg_session_pool.h)
// against one connection for the whole process (the store before the pool:
// max_sessions 1), on the same server and data in the same run. Rounds are
// interleaved so that a noisy neighbour hits both alike; the ratio
// pool / one connection is printed per thread count.
//
// A call is what the API and the workers do most: read a job, append to the
// audit log, list a task's videos, read the score history's first page.
//
//   store_bench              2,000 calls per thread count, 1/2/4/8 threads, 5 rounds
//   store_bench --quick      200 calls, 4 threads, 1 round (smoke run)
//   store_bench --calls=N --threads=T,T --rounds=R
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "base/env.h"
#include "int_flags.h"
#include "store/pg_metadata_store.h"
#include "testing/postgres_server.h"

namespace sopilot {
namespace {

using Clock = std::chrono::steady_clock;

struct Flags {
  int calls = 2000;
  std::vector<int> threads = {1, 2, 4, 8};
  int rounds = 5;
};

// Calls per second of `threads` threads sharing `store`, `calls` in all.
double CallsPerSecond(MetadataStore* store, int threads, int calls) {
  std::atomic<int> next{0}, failures{0};
  const auto start = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = next++; i < calls; i = next++) {
        bool ok = true;
        switch (i % 4) {
          case 0: ok = store->GetJob("job-" + std::to_string(i % 50)).ok(); break;
          case 1: ok = store->AppendAudit("bench", "call", std::to_string(i), "{}").ok(); break;
          case 2: ok = store->ListVideos("task", 20).ok(); break;
          default: {
            ScoreQuery q;
            q.task_id = "task";
            ok = store->ListScores(q).ok();
          }
        }
        if (!ok) ++failures;
      }
    });
  }
  for (std::thread& t : pool) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (failures > 0) {
    std::fprintf(stderr, "store_bench: %d calls failed\n", failures.load());
    std::exit(1);
  }
  return calls / seconds;
}

int Run(const Flags& f) {
  if (testing::PostgresBinDir().empty()) {
    std::fprintf(stderr, "store_bench: skipped: PostgreSQL is not installed (scripts/install-deps.sh installs it)\n");
    return 77;  // ctest's SKIP_RETURN_CODE
  }
  testing::PostgresServer server;
  if (!server.Start() || !server.CreateDatabase("bench")) {
    std::fprintf(stderr, "store_bench: %s\n", server.error().c_str());
    return 1;
  }
  // The schema and the jobs the calls read are made by a store of its own: a
  // server process that ran them answered about 10 % slower afterwards,
  // which would tilt the comparison toward the other store.
  {
    auto setup = PgMetadataStore::Open(server.Url("bench"), Env::Default());
    for (int j = 0; setup.ok() && j < 50; ++j) {
      JobRow job;
      job.id = "job-" + std::to_string(j);
      job.kind = JobKind::kScore;
      job.task_id = "task";
      if (!(*setup)->InsertJob(job).ok()) setup = Status::IOError("cannot insert a job");
    }
    if (!setup.ok()) {
      std::fprintf(stderr, "store_bench: %s\n", setup.status().ToString().c_str());
      return 1;
    }
  }
  // The pool as a process gets it by default.
  const int most = MetadataStore::kDefaultPgConnections;
  // Each measurement opens its store anew: with one thread both sides run
  // the same code on one connection each, and how the scheduler places that
  // connection's server process against the client thread moved a whole run
  // by up to 30 %; fresh connections per round average it out.
  auto measure = [&](int connections, int threads) {
    auto store = PgMetadataStore::Open(server.Url("bench"), Env::Default(), PgPoolOptions{connections, 5000});
    if (!store.ok()) {
      std::fprintf(stderr, "store_bench: cannot open the store: %s\n", store.status().ToString().c_str());
      std::exit(1);
    }
    return CallsPerSecond(store->get(), threads, f.calls);
  };
  std::printf("store_bench: %d calls per round, %d rounds, postgres on port %d; pool of up to %d connections "
              "against one\n",
              f.calls, f.rounds, server.port(), most);
  std::vector<std::pair<int, double>> ratios;
  for (int threads : f.threads) {
    std::vector<double> pool_rates, single_rates;
    for (int r = 0; r < f.rounds; ++r) {
      // Each goes first every other round: the first of a pair warms the server for the second.
      if (r % 2 == 0) pool_rates.push_back(measure(most, threads));
      single_rates.push_back(measure(1, threads));
      if (r % 2 == 1) pool_rates.push_back(measure(most, threads));
    }
    std::sort(pool_rates.begin(), pool_rates.end());
    std::sort(single_rates.begin(), single_rates.end());
    const double p = pool_rates[pool_rates.size() / 2], s = single_rates[single_rates.size() / 2];
    std::printf("  %d threads: pool %.0f calls/s, one connection %.0f calls/s, ratio %.2f (medians)\n", threads, p,
                s, p / s);
    ratios.push_back({threads, p / s});
  }
  std::printf("summary, ratio pool / one connection by thread count:");
  for (auto [threads, ratio] : ratios) std::printf("  %d: %.2f", threads, ratio);
  std::printf("\n");
  return 0;
}

}  // namespace
}  // namespace sopilot

int main(int argc, char** argv) {
  sopilot::Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick") {
      f.calls = 200;
      f.rounds = 1;
      f.threads = {4};
    } else if (sopilot::bench::IntFlag(a, "--calls=", &f.calls) || sopilot::bench::IntFlag(a, "--rounds=", &f.rounds) ||
               sopilot::bench::IntListFlag(a, "--threads=", &f.threads)) {
      // read into f
    } else {
      std::fprintf(stderr, "usage: store_bench [--quick] [--calls=N] [--threads=T,T,...] [--rounds=R]\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  bool threads_ok = !f.threads.empty();
  for (int t : f.threads) threads_ok = threads_ok && t >= 1 && t <= 64;
  if (f.calls < 1 || !threads_ok || f.rounds < 1) {
    std::fprintf(stderr, "store_bench: --calls >= 1, --threads in [1, 64], --rounds >= 1\n");
    return 2;
  }
  return sopilot::Run(f);
}
