// `sopilot worker`: a process that runs jobs from the queues (the Redis
// queue across hosts, or the embedded queue of a data directory on this
// host), beside `sopilot serve` and sharing its data directory.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/job_kind.h"

namespace sopilot::cli {

std::function<int()> AddWorkerCommand(CLI::App* app);

// "ingest,score" -> kinds in that (priority) order. "", "all" and "*" mean
// all three; names are trimmed and case-insensitive; a repeated name counts
// once. InvalidArgument names an unknown queue.
Result<std::vector<JobKind>> ParseQueueList(const std::string& list);

}  // namespace sopilot::cli
