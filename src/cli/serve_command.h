// `sopilot serve [--host] [--port] [--data-dir]`: the REST API and the
// worker threads of the three queues, on the embedded store and queue.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace sopilot::cli {

std::function<int()> AddServeCommand(CLI::App* app);

}  // namespace sopilot::cli
