#include "cli/serve_command.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <unistd.h>
#include <thread>

#include "cli/command.h"
#include "http/api_server.h"
#include "service/sopilot_service.h"
#include "service/worker_pool.h"

namespace sopilot::cli {

namespace {

int g_signal_pipe[2] = {-1, -1};

void OnStopSignal(int sig) {
  // Only async-signal-safe calls here.
  ssize_t n = write(g_signal_pipe[1], &sig, sizeof sig);
  (void)n;
}

struct ServeArgs {
  std::string host, data_dir;
  int port = -1;
};

int RunServe(const ServeArgs& args) {
  auto config = ServiceConfigFromEnvironment([](const char* n) { return std::getenv(n); });
  if (!config.ok()) {
    std::fprintf(stderr, "sopilot: invalid configuration:\n%s\n", config.status().message().c_str());
    return kExitUsage;
  }
  if (!args.host.empty()) config->host = args.host;
  if (args.port >= 0) config->port = args.port;
  if (!args.data_dir.empty()) config->data_dir = args.data_dir;
  Status valid = ValidateServiceConfig(*config);
  if (!valid.ok()) {
    std::fprintf(stderr, "sopilot: invalid configuration:\n%s\n", valid.message().c_str());
    return kExitUsage;
  }

  // SIGINT/SIGTERM stop the server cleanly. Libraries start threads before
  // main (OpenBLAS), so any thread may receive the signal: the handler only
  // writes to a pipe, and a thread of ours acts on it.
  if (pipe(g_signal_pipe) != 0) return ReportError("cannot create a pipe for signal handling");
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto service = SopilotService::Open(*config, Env::Default());
  if (!service.ok()) return ReportError(service.status());
  auto report = (*service)->StartupCheck();
  if (!report.ok()) return ReportError(report.status());
  std::fprintf(stderr,
               "sopilot: data %s: %d half-received uploads removed, %d orphan files removed, %zu missing files, "
               "%d unfinished jobs requeued\n",
               config->data_dir.c_str(), report->incoming_removed, report->orphan_files_removed,
               report->missing_files.size(), report->jobs_requeued);
  for (const std::string& f : report->missing_files) std::fprintf(stderr, "sopilot: missing file: %s\n", f.c_str());

  WorkerPool workers(service->get(), config->lease_sec);
  ApiServer server(service->get(), &workers);
  auto port = server.Bind(config->host, config->port);
  if (!port.ok()) return ReportError(port.status());
  workers.Start();
  (*service)->StartNightlyScheduler();  // when SOPILOT_NIGHTLY_ENABLED
  if (!config->auth.configured()) {
    std::fprintf(stderr,
                 "sopilot: no credentials configured: listening on %s only, and every local caller is admin "
                 "(set SOPILOT_API_TOKEN or SOPILOT_API_ROLE_TOKENS to require credentials)\n",
                 config->host.c_str());
  }
  std::fprintf(stderr, "sopilot: listening on http://%s:%d (workers: ingest %d, score %d, training %d)\n",
               config->host.c_str(), *port, config->ingest_workers, config->score_workers,
               config->training_workers);
  std::fflush(stderr);

  std::thread stopper([&] {
    int sig = 0;
    if (read(g_signal_pipe[0], &sig, sizeof sig) == static_cast<ssize_t>(sizeof sig) && sig != 0) {
      std::fprintf(stderr, "sopilot: %s received, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    }
    server.Stop();
  });
  server.Run();
  (*service)->StopNightlyScheduler();
  workers.Stop();
  // Wake the stopper if the server ended on its own.
  int none = 0;
  if (write(g_signal_pipe[1], &none, sizeof none) < 0) std::fprintf(stderr, "sopilot: cannot wake the stopper\n");
  stopper.join();
  std::fprintf(stderr, "sopilot: stopped\n");
  return kExitOk;
}

}  // namespace

std::function<int()> AddServeCommand(CLI::App* app) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* cmd = app->add_subcommand(
      "serve",
      "Run the REST API with worker threads for the ingest, score and training queues, on the embedded "
      "SQLite store and queue under --data-dir. Configuration comes from SOPILOT_* variables (see README); "
      "the flags below override them. Without credentials it listens on loopback only.");
  cmd->add_option("--host", args->host, "Address to listen on (SOPILOT_HOST, default 127.0.0.1)");
  cmd->add_option("--port", args->port, "Port (SOPILOT_PORT, default 8000; 0 picks a free one)");
  cmd->add_option("--data-dir", args->data_dir, "Data directory (SOPILOT_DATA_DIR, default ./data)");
  return [args] { return RunServe(*args); };
}

}  // namespace sopilot::cli
