// What `sopilot score` and `sopilot eval` share: the scoring flags, and
// turning an input (a video or an embedding file) into an EmbeddingSet, so
// that both commands score with the same options and the same embeddings.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "base/status.h"
#include "embed/embedding_set.h"
#include "ingest/ingest.h"
#include "score/score_options.h"

namespace sopilot::cli {

// Adds --time-tolerance, --pass-score, --review-score and --weight-miss |
// -swap | -dev | -time | -extra to `cmd`, bound to `options`, each also read
// from the environment (SOPILOT_TIME_TOLERANCE, SOPILOT_PASS_SCORE,
// SOPILOT_REVIEW_SCORE, SOPILOT_WEIGHT_*) when the flag is absent.
void AddScoreFlags(CLI::App* cmd, ScoreOptions* options);

// An embedding file as is, or a video embedded with `options` (a progress
// line on a terminal names it "embedding <role> <path>").
Result<EmbeddingSet> LoadOrEmbed(const std::string& path, const IngestOptions& options, const std::string& role);

// `base` with the sampling settings and the embedder of `set`: a video
// embedded with them compares with `set`.
IngestOptions SettingsOf(const EmbeddingSet& set, IngestOptions base);

}  // namespace sopilot::cli
