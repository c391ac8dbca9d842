// The standard process metrics of Prometheus client libraries, read from
// /proc/self at each scrape: process_cpu_seconds_total,
// process_resident_memory_bytes, process_virtual_memory_bytes,
// process_open_fds, process_max_fds, process_start_time_seconds.
// A file that cannot be read leaves its family without a sample.
#pragma once

#include "metrics/registry.h"

namespace sopilot::metrics {

void AddProcessMetrics(Registry* registry);

// sopilot_build_info{version,commit,build_date} 1, with the values CMake
// found at configure time (commit "unknown" outside a git checkout).
void AddBuildInfo(Registry* registry);

struct BuildInfo {
  const char* version;
  const char* commit;
  const char* build_date;  // UTC, YYYY-MM-DD
};
BuildInfo GetBuildInfo();

}  // namespace sopilot::metrics
