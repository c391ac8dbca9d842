// Runs a shell command and captures what it printed, for tests that drive the
// real CLI binary or real tools (ffmpeg).
#pragma once

#include <string>

namespace sopilot::testing {

struct CommandResult {
  int exit_code = -1;      // the process's exit status; 128+N when killed by signal N
  std::string out;         // standard output
  std::string err;         // standard error
};

// Runs `command` with /bin/sh. stdin is /dev/null.
CommandResult RunCommand(const std::string& command);

// Quotes `s` for /bin/sh.
std::string ShellQuote(const std::string& s);

}  // namespace sopilot::testing
