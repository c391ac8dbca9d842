// `sopilot score GOLD TRAINEE [--json] [--steps FILE] [--also-gold FILE]...`:
// score a trainee video against the gold one (or the closest of several).
// Each input is a video or an embedding file from `sopilot embed --out`.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace sopilot::cli {

std::function<int()> AddScoreCommand(CLI::App* app);

}  // namespace sopilot::cli
