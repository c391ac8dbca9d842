// queue_bench: how many no-op jobs a second pass through our Redis queue,
// against the raw rate of a Redis list on the same server in the same run.
//
// A job is Enqueue (one script) and a worker's AckAndLease (one script:
// the previous job's ack and this job's lease), from C client threads; the baseline moves the same number of items through
// a list with redis-benchmark's LPUSH and RPOP from C clients, so the raw
// rate for one item is 1 / (1/LPUSH + 1/RPOP). Both run against the same
// redis-server, started here with deploy/redis.conf (AOF on, everysec), and
// the rounds are interleaved so that a noisy neighbour hits both alike.
// Each client count is measured apart: our clients are blocking threads,
// redis-benchmark's are connections multiplexed on one thread, so on a small
// machine the gap grows with the number of clients.
// The embedded SQLite queue is measured the same way, for reference.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "int_flags.h"
#include "queue/job_queue.h"
#include "testing/command.h"
#include "testing/redis_server.h"
#include "testing/temp_dir.h"

namespace sopilot {
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kTargetRatio = 0.5;

struct Flags {
  int jobs = 50000;
  std::vector<int> clients = {1, 2, 4, 8};
  int rounds = 3;
  bool check = false;
};

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// redis-benchmark's requests per second for `test` (lpush, rpop).
double RedisBenchmark(int port, const std::string& test, int n, int clients) {
  auto r = testing::RunCommand("redis-benchmark -p " + std::to_string(port) + " -t " + test + " -n " +
                               std::to_string(n) + " -c " + std::to_string(clients) + " -q --csv");
  // "test","rps",...  then  "LPUSH","98765.43",...
  size_t line = r.out.find('\n');
  std::string row = line == std::string::npos ? "" : r.out.substr(line + 1);
  size_t a = row.find("\",\"");
  if (r.exit_code != 0 || a == std::string::npos) {
    std::fprintf(stderr, "queue_bench: redis-benchmark failed: %s%s\n", r.out.c_str(), r.err.c_str());
    std::exit(1);
  }
  return std::atof(row.c_str() + a + 3);
}

// Jobs per second through `queue` with `clients` threads: all enqueued, then
// all leased and acked (the same two phases as LPUSH then RPOP).
double OurRate(JobQueue* queue, int jobs, int clients, int round) {
  std::atomic<int> next{0};
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      for (int i; (i = next++) < jobs;) {
        Status st = queue->Enqueue(JobKind::kScore, "r" + std::to_string(round) + "-" + std::to_string(i));
        if (!st.ok()) {
          std::fprintf(stderr, "queue_bench: enqueue: %s\n", st.ToString().c_str());
          std::exit(1);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  threads.clear();
  std::atomic<int> done{0};
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      // As a worker does: lease, run (nothing), then ack it and lease the
      // next one in one call.
      const std::string worker = "bench-" + std::to_string(c);
      auto job = queue->Lease({JobKind::kScore}, worker, 60, 0);
      while (job.ok() && job->has_value()) {
        ++done;
        job = queue->AckAndLease(**job, {JobKind::kScore}, worker, 60);
      }
      if (!job.ok()) {
        std::fprintf(stderr, "queue_bench: lease: %s\n", job.status().ToString().c_str());
        std::exit(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  if (done != jobs) {
    std::fprintf(stderr, "queue_bench: %d of %d jobs came back\n", done.load(), jobs);
    std::exit(1);
  }
  return jobs / Seconds(Clock::now() - t0);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// One client count: interleaved rounds; returns the median ratio.
double RunClients(const Flags& f, int clients, int port, JobQueue* redis_queue, JobQueue* sqlite_queue) {
  std::vector<double> raw, ours, sqlite;
  for (int round = 0; round < f.rounds; ++round) {
    double l = RedisBenchmark(port, "lpush", f.jobs, clients);
    double r = RedisBenchmark(port, "rpop", f.jobs, clients);
    double o = OurRate(redis_queue, f.jobs, clients, round);
    // SQLite serialises writers: a tenth of the jobs is plenty to measure it.
    double s = OurRate(sqlite_queue, std::max(1, f.jobs / 10), clients, round);
    raw.push_back(1 / (1 / l + 1 / r));
    ours.push_back(o);
    sqlite.push_back(s);
    std::printf("  %2d clients, round %d: LPUSH %7.0f/s  RPOP %7.0f/s  raw list %6.0f items/s | redis queue %6.0f "
                "jobs/s (ratio %.2f) | sqlite queue %5.0f jobs/s\n",
                clients, round + 1, l, r, raw.back(), o, o / raw.back(), s);
  }
  double ratio = Median(ours) / Median(raw);
  std::printf("%2d clients: raw list %.0f items/s, redis queue %.0f jobs/s, sqlite queue %.0f jobs/s; "
              "ratio redis queue / raw LPUSH+RPOP %.2f (target >= %.2f: %s)\n",
              clients, Median(raw), Median(ours), Median(sqlite), ratio, kTargetRatio,
              ratio >= kTargetRatio ? "met" : "MISSED");
  return ratio;
}

int Run(const Flags& f) {
  testing::TempDir dir;
  testing::RedisServer redis(dir.path());
  if (!redis.Start()) {
    std::fprintf(stderr, "queue_bench: %s\n", redis.error().c_str());
    return 1;
  }
  auto rq = OpenRedisJobQueue(redis.url(), "bench", QueueOptions(), nullptr);
  auto sq = OpenSqliteJobQueue(dir.file("queue.db"), Env::Default(), QueueOptions());
  if (!rq.ok() || !sq.ok()) {
    std::fprintf(stderr, "queue_bench: cannot open the queues\n");
    return 1;
  }
  std::printf("queue_bench: %d no-op jobs per round, %d rounds, redis-server on port %d (deploy/redis.conf)\n",
              f.jobs, f.rounds, redis.port());
  std::vector<std::pair<int, double>> ratios;
  for (int clients : f.clients) ratios.push_back({clients, RunClients(f, clients, redis.port(), rq->get(), sq->get())});
  redis.Stop(SIGTERM);
  std::printf("summary, ratio redis queue / raw LPUSH+RPOP by client count:");
  bool met = true;
  for (auto [clients, ratio] : ratios) {
    std::printf("  %d: %.2f", clients, ratio);
    met = met && ratio >= kTargetRatio;
  }
  std::printf("\n");
  return f.check && !met ? 1 : 0;
}

}  // namespace
}  // namespace sopilot

int main(int argc, char** argv) {
  sopilot::Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick") {
      f.jobs = 5000;
      f.rounds = 1;
      f.clients = {2};
    } else if (a == "--check") {
      f.check = true;
    } else if (sopilot::bench::IntFlag(a, "--jobs=", &f.jobs) || sopilot::bench::IntFlag(a, "--rounds=", &f.rounds) ||
               sopilot::bench::IntListFlag(a, "--clients=", &f.clients)) {
      // read into f
    } else {
      std::fprintf(stderr,
                   "usage: queue_bench [--quick] [--jobs=N] [--clients=C,C,...] [--rounds=R] [--check]\n"
                   "  --clients  client threads / connections, one measurement each (default 1,2,4,8)\n"
                   "  --check    exit 1 when the redis queue moves fewer than %.0f%% of the raw list rate\n",
                   sopilot::kTargetRatio * 100);
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  bool clients_ok = !f.clients.empty();
  for (int c : f.clients) clients_ok = clients_ok && c >= 1 && c <= 256;
  if (f.jobs < 100 || !clients_ok || f.rounds < 1) {
    std::fprintf(stderr, "queue_bench: --jobs >= 100, --clients in [1, 256], --rounds >= 1\n");
    return 2;
  }
  return sopilot::Run(f);
}
