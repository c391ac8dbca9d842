#include "cli/worker_command.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <memory>
#include <sstream>
#include <thread>

#include "base/log.h"
#include "cli/command.h"
#include "cli/stop_signals.h"
#include "http/metrics_server.h"
#include "service/service_metrics.h"
#include "service/sopilot_service.h"
#include "service/worker_pool.h"

namespace sopilot::cli {

namespace {

struct WorkerArgs {
  std::string queues = "ingest,score,training";
  int concurrency = 1;
  std::string metrics_host = "127.0.0.1";
  int metrics_port = 9108;
  std::string data_dir;
  double grace_sec = 30;
};

std::string Trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t");
  size_t b = s.find_last_not_of(" \t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

int RunWorker(const WorkerArgs& args) {
  auto kinds = ParseQueueList(args.queues);
  if (!kinds.ok()) {
    std::fprintf(stderr, "sopilot: usage error: --queues: %s\n", kinds.status().message().c_str());
    return kExitUsage;
  }
  auto config = LoadServiceConfig([&](ServiceConfig* c) {
    if (!args.data_dir.empty()) c->data_dir = args.data_dir;
  });
  if (!config.ok()) {
    std::fprintf(stderr, "sopilot: invalid configuration:\n%s\n", config.status().message().c_str());
    return kExitUsage;
  }
  ConfigureLogging(config->log);
  if (Status st = InstallStopSignals(); !st.ok()) return ReportError(st);
  auto service = SopilotService::Open(*config, Env::Default());
  if (!service.ok()) return ReportError(service.status());

  (*service)->metrics()->SetProcessRole("worker");
  MetricsServer metrics((*service).get());
  auto port = metrics.Bind(args.metrics_host, args.metrics_port);
  if (!port.ok()) return ReportError(port.status().message() + " (--metrics-port; 0 picks a free port)");
  metrics.Start();

  std::vector<std::vector<JobKind>> threads(args.concurrency, *kinds);
  WorkerPool workers(service->get(), threads, config->lease_sec);
  workers.Start();
  (*service)->StartWebhookDelivery();  // scores this process ends, and any other's still due
  std::string names;
  for (JobKind k : *kinds) names += (names.empty() ? "" : ",") + (*service)->queue()->QueueName(k);
  std::string where = config->queue_backend == QueueBackend::kRedis ? "redis " + RedactedRedisUrl(*config)
                                                                    : "the embedded queue of " + config->data_dir;
  LogInfo("worker serving " + names + " on " + where + " with " + std::to_string(args.concurrency) + " thread" +
              (args.concurrency == 1 ? "" : "s") + "; data " + config->data_dir,
          {{"queues", names},
           {"queue", config->queue_backend == QueueBackend::kRedis ? "redis" : "sqlite"},
           {"threads", args.concurrency},
           {"data_dir", config->data_dir}});
  LogInfo("worker metrics listening on http://" + args.metrics_host + ":" + std::to_string(*port) + "/metrics",
          {{"host", args.metrics_host}, {"port", *port}});

  int sig = WaitForStopSignal();
  char grace[32];
  std::snprintf(grace, sizeof grace, "%.0f", args.grace_sec);
  LogInfo(std::string(StopSignalName(sig)) + " received, finishing running jobs (up to " + grace + " s)",
          {{"signal", StopSignalName(sig)}, {"grace_sec", args.grace_sec}});
  workers.Drain(args.grace_sec);
  (*service)->StopWebhookDelivery();
  metrics.Stop();
  LogInfo("worker stopped");
  return kExitOk;
}

}  // namespace

Result<std::vector<JobKind>> ParseQueueList(const std::string& list) {
  std::string all = Trim(list);
  std::transform(all.begin(), all.end(), all.begin(), [](unsigned char c) { return std::tolower(c); });
  if (all.empty() || all == "all" || all == "*") {
    return std::vector<JobKind>(std::begin(kAllJobKinds), std::end(kAllJobKinds));
  }
  std::vector<JobKind> kinds;
  std::stringstream ss(all);
  std::string name;
  while (std::getline(ss, name, ',')) {
    name = Trim(name);
    if (name.empty()) continue;
    auto kind = ParseJobKind(name);
    if (!kind) return Status::InvalidArgument("unknown queue '" + name + "' (ingest, score, training or all)");
    if (std::find(kinds.begin(), kinds.end(), *kind) == kinds.end()) kinds.push_back(*kind);
  }
  if (kinds.empty()) return Status::InvalidArgument("no queue selected");
  return kinds;
}

std::function<int()> AddWorkerCommand(CLI::App* app) {
  auto args = std::make_shared<WorkerArgs>();
  CLI::App* cmd = app->add_subcommand(
      "worker",
      "Run jobs from the queues in this process: with SOPILOT_QUEUE_BACKEND=redis on any host that shares the "
      "data directory, or with the embedded queue beside `sopilot serve` on this host. Serves /metrics and "
      "/health on --metrics-port. SIGTERM lets running jobs finish (up to --grace-sec) before it exits.");
  cmd->add_option("--queues", args->queues, "Queues to serve, in priority order (default: all three)");
  cmd->add_option("--concurrency", args->concurrency, "Jobs run at once (threads), default 1")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--metrics-host", args->metrics_host, "Address of the metrics port (default 127.0.0.1)");
  cmd->add_option("--metrics-port", args->metrics_port, "Port of /metrics and /health (default 9108; 0 picks one)")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--data-dir", args->data_dir, "Data directory shared with the API (SOPILOT_DATA_DIR)");
  cmd->add_option("--grace-sec", args->grace_sec, "On SIGTERM, how long running jobs may finish (default 30)")
      ->check(CLI::Range(0.0, 86400.0));
  return [args] { return RunWorker(*args); };
}

}  // namespace sopilot::cli
