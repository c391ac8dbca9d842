// The video sampling flags shared by every command that decodes video.
#pragma once

#include <CLI/CLI.hpp>

#include "ingest/ingest.h"

namespace sopilot::cli {

// Adds --target-fps, --clip-seconds, --clip-stride, --max-side,
// --min-clip-coverage and --threads to `cmd`, bound to `options`, each also
// read from the environment (SOPILOT_TARGET_FPS, SOPILOT_CLIP_SECONDS,
// SOPILOT_CLIP_STRIDE_SEC, SOPILOT_MAX_SIDE, SOPILOT_MIN_CLIP_COVERAGE,
// SOPILOT_DECODE_THREADS) when the flag is absent.
void AddIngestFlags(CLI::App* cmd, IngestOptions* options);

// Prints a progress line to stderr when it is a terminal; clears it at the end.
class ProgressLine {
 public:
  explicit ProgressLine(std::string label);
  ~ProgressLine();
  IngestProgress callback();

 private:
  std::string label_;
  bool enabled_;
  bool shown_ = false;
};

}  // namespace sopilot::cli
