#include "cli/serve_command.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>

#include "base/exception_border.h"
#include "base/log.h"
#include "cli/command.h"
#include "cli/stop_signals.h"
#include "http/api_server.h"
#include "service/sopilot_service.h"
#include "service/worker_pool.h"

namespace sopilot::cli {

namespace {

// Open connections need descriptors: raises the soft limit towards what
// SOPILOT_HTTP_MAX_CONNECTIONS needs (its hard limit at most). Past the limit
// the server still works: it accepts again once descriptors free up.
void RaiseOpenFileLimit(int max_connections) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  const rlim_t want = static_cast<rlim_t>(max_connections) * 2 + 512;  // the refused ones linger a moment too
  if (lim.rlim_cur >= want) return;
  lim.rlim_cur = lim.rlim_max == RLIM_INFINITY ? want : std::min(want, lim.rlim_max);
  (void)setrlimit(RLIMIT_NOFILE, &lim);  // best effort: the old limit still serves, with fewer connections
}

// What the start-up check found and did (SopilotService::StartupCheck).
void LogStartupReport(const ServiceConfig& config, const SopilotService::StartupReport& report) {
  LogInfo("data " + config.data_dir + ": " + std::to_string(report.incoming_removed) +
              " half-received uploads removed, " + std::to_string(report.orphan_files_removed) +
              " orphan files removed, " + std::to_string(report.missing_files.size()) + " missing files, " +
              std::to_string(report.jobs_requeued) + " unfinished jobs requeued",
          {{"data_dir", config.data_dir},
           {"incoming_removed", report.incoming_removed},
           {"orphan_files_removed", report.orphan_files_removed},
           {"missing_files", report.missing_files.size()},
           {"jobs_requeued", report.jobs_requeued}});
  if (!report.queue_error.empty()) {
    LogWarn("the job queue is unreachable; unfinished jobs are requeued once it is back",
            {{"error", report.queue_error}});
  }
  for (const std::string& f : report.missing_files) LogWarn("missing file: " + f, {{"file", f}});
}

struct ServeArgs {
  std::string host, data_dir;
  int port = -1;
};

int RunServe(const ServeArgs& args) {
  auto config = LoadServiceConfig([&](ServiceConfig* c) {
    if (!args.host.empty()) c->host = args.host;
    if (args.port >= 0) c->port = args.port;
    if (!args.data_dir.empty()) c->data_dir = args.data_dir;
  });
  if (!config.ok()) {
    std::fprintf(stderr, "sopilot: invalid configuration:\n%s\n", config.status().message().c_str());
    return kExitUsage;
  }
  ConfigureLogging(config->log);
  RaiseOpenFileLimit(config->http_max_connections);
  // SIGINT/SIGTERM stop the server cleanly.
  if (Status st = InstallStopSignals(); !st.ok()) return ReportError(st);
  const bool redis = config->queue_backend == QueueBackend::kRedis;
  if (redis) {
    // With Redis the workers are `sopilot worker` processes.
    config->ingest_workers = config->score_workers = config->training_workers = 0;
  }

  auto service = SopilotService::Open(*config, Env::Default());
  if (!service.ok()) return ReportError(service.status());
  auto report = (*service)->StartupCheck();
  if (!report.ok()) return ReportError(report.status());
  LogStartupReport(*config, *report);

  WorkerPool workers(service->get(), config->lease_sec);
  ApiServer server(service->get(), &workers);
  auto port = server.Bind(config->host, config->port);
  if (!port.ok()) return ReportError(port.status());
  workers.Start();
  (*service)->StartNightlyScheduler();  // when SOPILOT_NIGHTLY_ENABLED
  (*service)->StartWebhookDelivery();   // the outbox of every process sharing the store
  if (!config->auth.configured()) {
    LogWarn("no credentials configured: listening on " + config->host +
                " only, and every local caller is admin (set SOPILOT_API_TOKEN or SOPILOT_API_ROLE_TOKENS to "
                "require credentials)",
            {{"host", config->host}});
  }
  const std::string url = "http://" + config->host + ":" + std::to_string(*port);
  if (redis) {
    LogInfo("listening on " + url + " (queue: redis " + RedactedRedisUrl(*config) + ", prefix " +
                config->queue_prefix + "; no workers in this process: run `sopilot worker`)",
            {{"host", config->host}, {"port", *port}, {"queue", "redis"}, {"redis", RedactedRedisUrl(*config)},
             {"queue_prefix", config->queue_prefix}});
  } else {
    LogInfo("listening on " + url + " (workers: ingest " + std::to_string(config->ingest_workers) + ", score " +
                std::to_string(config->score_workers) + ", training " + std::to_string(config->training_workers) +
                ")",
            {{"host", config->host}, {"port", *port}, {"queue", "sqlite"}, {"ingest_workers", config->ingest_workers},
             {"score_workers", config->score_workers}, {"training_workers", config->training_workers}});
  }
  LogInfo("web page: " + url + "/ui");

  // Every minute, rows that say queued or running are checked against the
  // queue (a Redis that lost data, an enqueue that failed mid-way).
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  // Every SOPILOT_INTEGRITY_CHECK_SEC, the store's pages are read through, so
  // damage no request has met yet still shows in /health.
  const double integrity_sec = (*service)->config().integrity_check_sec;
  std::thread reconciler([&] {
    using Clock = std::chrono::steady_clock;
    const auto tick = std::chrono::duration<double>(integrity_sec > 0 ? std::min(60.0, integrity_sec) : 60.0);
    auto next_reconcile = Clock::now() + std::chrono::seconds(60);
    auto next_integrity = Clock::now() + std::chrono::duration_cast<Clock::duration>(tick);
    bool damage_reported = false;
    std::unique_lock<std::mutex> l(mu);
    while (!cv.wait_for(l, tick, [&] { return stopping; })) {
      l.unlock();
      if (Clock::now() >= next_reconcile) {
        next_reconcile = Clock::now() + std::chrono::seconds(60);
        // A failure (the queue or store down) is retried in a minute; the
        // workers and /health already report it.
        Status st = CallGuarded("queue reconciliation", [&] { return (*service)->ReconcileQueue(); });
        if (!st.ok()) LogWarn("queue reconciliation failed (retrying in 60 s)", {{"error", st.message()}});
      }
      if (integrity_sec > 0 && Clock::now() >= next_integrity && !damage_reported) {
        next_integrity = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                            std::chrono::duration<double>(integrity_sec));
        Status st = CallGuarded("store integrity check", [&] { return (*service)->CheckStoreIntegrity(); });
        if (st.code() == Status::Code::kCorruption) {
          LogError(st.message(), {{"check", "integrity"}});
          damage_reported = true;  // once: /health says it from now on
        } else if (!st.ok()) {
          LogWarn("store integrity check: " + st.message(), {{"error", st.message()}});
        }
      }
      l.lock();
    }
  });
  std::thread stopper([&] {
    int sig = WaitForStopSignal();
    if (sig != 0) LogInfo(std::string(StopSignalName(sig)) + " received, stopping", {{"signal", StopSignalName(sig)}});
    server.Stop();
  });
  server.Run();
  (*service)->StopNightlyScheduler();
  workers.Stop();
  (*service)->StopWebhookDelivery();
  {
    std::lock_guard<std::mutex> l(mu);
    stopping = true;
  }
  cv.notify_all();
  reconciler.join();
  WakeStopWaiter();  // if the server ended on its own
  stopper.join();
  LogInfo("stopped");
  return kExitOk;
}

}  // namespace

std::function<int()> AddServeCommand(CLI::App* app) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* cmd = app->add_subcommand(
      "serve",
      "Run the REST API on the SQLite store under --data-dir. With the embedded queue (the default) it also "
      "runs the worker threads of the ingest, score and training queues; with SOPILOT_QUEUE_BACKEND=redis the "
      "work is done by `sopilot worker` processes. Configuration comes from SOPILOT_* variables (see README); "
      "the flags below override them. Without credentials it listens on loopback only.");
  cmd->add_option("--host", args->host, "Address to listen on (SOPILOT_HOST, default 127.0.0.1)");
  cmd->add_option("--port", args->port, "Port (SOPILOT_PORT, default 8000; 0 picks a free one)");
  cmd->add_option("--data-dir", args->data_dir, "Data directory (SOPILOT_DATA_DIR, default ./data)");
  return [args] { return RunServe(*args); };
}

}  // namespace sopilot::cli
