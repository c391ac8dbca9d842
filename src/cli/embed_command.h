// `sopilot embed VIDEO [--json] [--out FILE]`: a video's clip embeddings.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace sopilot::cli {

// Adds the subcommand to `app`; the returned function runs it after parsing
// and returns the exit code.
std::function<int()> AddEmbedCommand(CLI::App* app);

}  // namespace sopilot::cli
