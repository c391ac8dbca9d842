// `sopilot audit verify FILE [--key KEY]`: checks a signed audit export.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace sopilot::cli {

// Adds the subcommand to `app`; the returned function runs it after parsing
// and returns the exit code.
std::function<int()> AddAuditCommand(CLI::App* app);

}  // namespace sopilot::cli
