#include "cli/config_command.h"

#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "cli/env_table.h"

namespace sopilot::cli {

namespace {

struct ConfigArgs {
  bool env_table = false;
  bool check = false;
};

int RunConfig(const ConfigArgs& args) {
  if (args.env_table) {
    std::fputs(EnvTableMarkdown().c_str(), stdout);
    return kExitOk;
  }
  auto config = LoadServiceConfig(nullptr);
  if (!config.ok()) {
    std::fprintf(stderr, "sopilot: invalid configuration:\n%s\n", config.status().message().c_str());
    return kExitUsage;
  }
  std::printf("configuration ok\n");
  return kExitOk;
}

}  // namespace

std::function<int()> AddConfigCommand(CLI::App* app) {
  auto args = std::make_shared<ConfigArgs>();
  CLI::App* cmd = app->add_subcommand(
      "config", "The service's configuration: --env-table prints every SOPILOT_* variable with its default "
                "(Markdown, as in doc/operations.md); --check validates the environment's.");
  auto* table = cmd->add_flag("--env-table", args->env_table, "Print the table of SOPILOT_* variables");
  cmd->add_flag("--check", args->check, "Load and validate the configuration from the environment")
      ->excludes(table);
  cmd->require_option(1);
  return [args] { return RunConfig(*args); };
}

}  // namespace sopilot::cli
