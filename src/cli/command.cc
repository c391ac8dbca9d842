#include "cli/command.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "queue/redis_client.h"

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

Result<ServiceConfig> LoadServiceConfig(const std::function<void(ServiceConfig*)>& apply_flags) {
  auto config = ServiceConfigFromEnvironment([](const char* n) { return std::getenv(n); });
  if (!config.ok()) return config.status();
  if (apply_flags) apply_flags(&*config);
  SOPILOT_RETURN_IF_ERROR(ValidateServiceConfig(*config));
  return config;
}

std::string RedactedRedisUrl(const ServiceConfig& config) {
  auto url = ParseRedisUrl(config.redis_url);
  return url.ok() ? url->ToString() : std::string("(invalid URL)");
}

bool StderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

}  // namespace sopilot::cli
