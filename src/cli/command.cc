#include "cli/command.h"

#include <unistd.h>

#include <cstdio>

namespace sopilot::cli {

int ReportError(const std::string& message) {
  std::string one_line = message;
  for (char& c : one_line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  std::fprintf(stderr, "sopilot: error: %s\n", one_line.c_str());
  return kExitError;
}

int ReportError(const Status& status) { return ReportError(status.message()); }

bool StderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

}  // namespace sopilot::cli
