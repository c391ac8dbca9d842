// `sopilot config --env-table`: prints the table of every SOPILOT_* variable
// (cli/env_table.h) as Markdown, the one doc/operations.md holds;
// `sopilot config --check` loads the service configuration from the
// environment and says whether it is valid (exit 2 and every problem if not).
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace sopilot::cli {

std::function<int()> AddConfigCommand(CLI::App* app);

}  // namespace sopilot::cli
