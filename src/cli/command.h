// The pieces every `sopilot` subcommand shares: exit codes and error output.
#pragma once

#include <string>

#include "base/status.h"

namespace sopilot::cli {

// Exit codes of every subcommand.
constexpr int kExitOk = 0;
constexpr int kExitError = 1;  // the work failed (bad video, unreadable file...)
constexpr int kExitUsage = 2;  // the command line is wrong

// Prints "sopilot: error: <message>" as one line on stderr; returns kExitError.
int ReportError(const Status& status);
int ReportError(const std::string& message);

// True when stderr is a terminal (progress lines are shown only then).
bool StderrIsTerminal();

}  // namespace sopilot::cli
