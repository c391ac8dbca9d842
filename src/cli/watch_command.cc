#include "cli/watch_command.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "base/log.h"
#include "cli/command.h"
#include "cli/stop_signals.h"
#include "service/sopilot_service.h"
#include "watch/folder_watcher.h"
#include "watch/ingest_gateway.h"
#include "watch/inotify_loop.h"
#include "watch/open_writers.h"

namespace sopilot::cli {

namespace {

struct WatchArgs {
  std::string dir, data_dir, task, role, gold_pattern, trainee_pattern;
  double settle_sec = -1;  // -1: not given
};

void LogLine(const std::string& line) {
  std::fprintf(stderr, "sopilot: watch: %s\n", line.c_str());
  std::fflush(stderr);
}

int RunWatch(const WatchArgs& args) {
  auto config = LoadServiceConfig([&](ServiceConfig* c) {
    if (!args.data_dir.empty()) c->data_dir = args.data_dir;
    // The watcher listens on nothing: the service's network settings are not
    // its business (a SOPILOT_HOST meant for `serve` must not stop it).
    c->host = "127.0.0.1";
  });
  auto options = watch::WatchOptionsFromEnvironment([](const char* n) { return std::getenv(n); });
  if (options.ok()) {
    watch::WatchOptions& o = *options;
    if (!args.dir.empty()) o.dir = args.dir;
    if (o.dir.empty() && config.ok()) o.dir = config->data_dir + "/watch_inbox";
    std::error_code abs_ec;
    std::string abs_dir = std::filesystem::absolute(o.dir, abs_ec).lexically_normal().string();
    if (!abs_ec) o.dir = abs_dir;
    if (!args.task.empty()) o.rules.default_task = args.task;
    if (!args.role.empty()) o.rules.default_role = args.role;
    for (char& c : o.rules.default_role) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!args.gold_pattern.empty()) o.rules.gold_pattern = args.gold_pattern;
    if (!args.trainee_pattern.empty()) o.rules.trainee_pattern = args.trainee_pattern;
    if (args.settle_sec != -1) o.settle_sec = args.settle_sec;
  }
  Status valid_watch = options.ok() ? watch::ValidateWatchOptions(*options) : options.status();
  if (!config.ok() || !valid_watch.ok()) {
    std::string msg = config.ok() ? "" : config.status().message();
    if (!valid_watch.ok()) msg += (msg.empty() ? "" : "\n") + valid_watch.message();
    std::fprintf(stderr, "sopilot: invalid configuration:\n%s\n", msg.c_str());
    return kExitUsage;
  }
  const watch::WatchOptions& o = *options;
  // The service's own messages (store, queue) follow SOPILOT_LOG_*; the
  // watcher's lines below are still its own.
  ConfigureLogging(config->log);

  // SIGINT/SIGTERM stop the watcher between two steps: the event loop polls
  // the signal pipe beside inotify.
  if (Status st = InstallStopSignals(); !st.ok()) return ReportError(st);
  // The data directory as the service keeps it, without its start-up check
  // (that removes half-received uploads: `sopilot serve`'s job) and without
  // workers (`sopilot serve` or `sopilot worker` runs the ingest).
  auto service = SopilotService::Open(*config, Env::Default());
  if (!service.ok()) return ReportError(service.status());
  watch::ServiceIngestGateway gateway(service->get());
  watch::ProcOpenWriterProbe probe;
  watch::FolderWatcher watcher(o, &gateway, &probe, Env::Default(), LogLine);
  Status st = watcher.Start();
  if (!st.ok()) return ReportError(st);
  char settle[32];
  std::snprintf(settle, sizeof settle, "%g", o.settle_sec);
  std::string queue = config->queue_backend == QueueBackend::kRedis ? "redis " + RedactedRedisUrl(*config)
                                                                    : "the embedded queue";
  // Said once the watches are in place: a file written after this line is
  // seen as it is written (and held back until its writer closes it);
  // files already there were listed just before.
  auto say_watching = [&] {
    std::fprintf(stderr,
                 "sopilot: watching %s (data %s, %s; task %s, default role %s, gold pattern %s, trainee pattern %s, "
                 "settle %s s)\n",
                 watcher.dir().c_str(), config->data_dir.c_str(), queue.c_str(),
                 o.rules.default_task.empty() ? "from the directory" : o.rules.default_task.c_str(),
                 o.rules.default_role.c_str(), o.rules.gold_pattern.c_str(), o.rules.trainee_pattern.c_str(), settle);
    std::fflush(stderr);
  };
  watch::InotifyLoop loop(&watcher, Env::Default(), o.rescan_sec, LogLine);
  st = loop.Run(StopSignalFd(), say_watching);
  if (!st.ok()) return ReportError(st);
  std::fprintf(stderr, "sopilot: %s received, stopping\n", StopSignalName(WaitForStopSignal()));
  std::fprintf(stderr, "sopilot: watch stopped (%zu files in progress resume at the next start)\n",
               watcher.files_in_progress());
  return kExitOk;
}

}  // namespace

std::function<int()> AddWatchCommand(CLI::App* app) {
  auto args = std::make_shared<WatchArgs>();
  CLI::App* cmd = app->add_subcommand(
      "watch",
      "Watch a folder: each complete video file dropped in DIR/<task_id>/<gold|trainee|audit>/, "
      "DIR/<task_id>/ or DIR/ is submitted for ingest to the queue of --data-dir, which `sopilot serve` "
      "(or `sopilot worker`) on the same data directory runs; then it is moved to DIR/.processed/ with a JSON "
      "receipt, or to DIR/.failed/ with the reason. Restarting never misses or repeats a file.");
  cmd->add_option("dir", args->dir, "The folder to watch (SOPILOT_WATCH_DIR, default <data dir>/watch_inbox)");
  cmd->add_option("--data-dir", args->data_dir, "Data directory shared with the service (SOPILOT_DATA_DIR, default ./data)");
  cmd->add_option("--task", args->task, "Task of files directly in DIR (SOPILOT_WATCH_TASK_ID)");
  cmd->add_option("--role", args->role,
                  "Role when neither the folder nor the name tells it: gold, trainee or audit "
                  "(SOPILOT_WATCH_ROLE, default trainee)");
  cmd->add_option("--gold-pattern", args->gold_pattern, "File names taken as gold (SOPILOT_WATCH_GOLD_PATTERN, default *_gold.*)");
  cmd->add_option("--trainee-pattern", args->trainee_pattern,
                  "File names taken as trainee (SOPILOT_WATCH_TRAINEE_PATTERN, default *_trainee.*)");
  cmd->add_option("--settle-sec", args->settle_sec,
                  "Seconds a closed file's size and mtime must stay unchanged before it is taken "
                  "(SOPILOT_WATCH_SETTLE_SEC, default 2)");
  return [args] { return RunWatch(*args); };
}

}  // namespace sopilot::cli
