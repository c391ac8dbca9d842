// `sopilot watch [DIR] [--data-dir D] [--task T] [--role R] [--gold-pattern G]
// [--trainee-pattern P] [--settle-sec S]`: the watch folder. Takes complete
// video files dropped in DIR (src/watch/folder_watcher.h has the rules and
// the on-disk contract), submits their ingest to the queue of the data
// directory it shares with `sopilot serve` (or `sopilot worker`), which runs
// it, and files each away with a receipt. It runs no workers and no start-up
// check of its own: those belong to the service.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace sopilot::cli {

std::function<int()> AddWatchCommand(CLI::App* app);

}  // namespace sopilot::cli
