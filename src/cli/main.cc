// sopilot: the command line. Each subcommand lives in its own file.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <functional>
#include <map>

#include "cli/audit_command.h"
#include "cli/backup_command.h"
#include "cli/command.h"
#include "cli/config_command.h"
#include "cli/embed_command.h"
#include "cli/eval_command.h"
#include "cli/score_command.h"
#include "cli/serve_command.h"
#include "cli/watch_command.h"
#include "cli/worker_command.h"

int main(int argc, char** argv) {
  using namespace sopilot::cli;
  CLI::App app(
      "SOPilot scores trainee videos of a Standard Operating Procedure against a gold video.\n"
      "Exit codes: 0 success, 1 error (one line on stderr), 2 usage error.",
      "sopilot");
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(SOPILOT_VERSION));
  std::map<std::string, std::function<int()>> runners;
  runners["embed"] = AddEmbedCommand(&app);
  runners["score"] = AddScoreCommand(&app);
  runners["eval"] = AddEvalCommand(&app);
  runners["serve"] = AddServeCommand(&app);
  runners["worker"] = AddWorkerCommand(&app);
  runners["audit"] = AddAuditCommand(&app);
  runners["watch"] = AddWatchCommand(&app);
  runners["backup"] = AddBackupCommand(&app);
  runners["restore"] = AddRestoreCommand(&app);
  runners["config"] = AddConfigCommand(&app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "sopilot: usage error: %s\nRun 'sopilot --help' for the commands and options.\n",
                 e.what());
    return kExitUsage;
  }
  for (CLI::App* sub : app.get_subcommands()) {
    auto it = runners.find(sub->get_name());
    if (it != runners.end()) return it->second();
  }
  return kExitUsage;
}
