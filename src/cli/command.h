// The pieces every `sopilot` subcommand shares: exit codes and error output.
#pragma once

#include <functional>
#include <string>

#include "base/status.h"
#include "service/service_config.h"

namespace sopilot::cli {

// Exit codes of every subcommand.
constexpr int kExitOk = 0;
constexpr int kExitError = 1;  // the work failed (bad video, unreadable file...)
constexpr int kExitUsage = 2;  // the command line is wrong

// Prints "sopilot: error: <message>" as one line on stderr; returns kExitError.
int ReportError(const Status& status);
int ReportError(const std::string& message);

// The service configuration of the long-running commands: SOPILOT_*
// variables, then `apply_flags` (the command's overrides), then validation.
// InvalidArgument lists every problem.
Result<ServiceConfig> LoadServiceConfig(const std::function<void(ServiceConfig*)>& apply_flags);
// The configured Redis URL without its password, for logs.
std::string RedactedRedisUrl(const ServiceConfig& config);

// True when stderr is a terminal (progress lines are shown only then).
bool StderrIsTerminal();

}  // namespace sopilot::cli
