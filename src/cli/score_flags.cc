#include "cli/score_flags.h"

#include "base/env.h"
#include "cli/ingest_flags.h"
#include "embed/embedding_file.h"
#include "embed/embedder_registry.h"

namespace sopilot::cli {

void AddScoreFlags(CLI::App* cmd, ScoreOptions* o) {
  cmd->add_option("--time-tolerance", o->time_tolerance,
                  "A step is over time past (1 + this) x its gold duration")
      ->envname("SOPILOT_TIME_TOLERANCE")
      ->capture_default_str();
  cmd->add_option("--pass-score", o->pass_score, "Verdict 'pass' at or above this score")
      ->envname("SOPILOT_PASS_SCORE")
      ->capture_default_str();
  cmd->add_option("--review-score", o->review_score,
                  "Verdict 'needs_review' at or above this score, 'fail' below")
      ->envname("SOPILOT_REVIEW_SCORE")
      ->capture_default_str();
  cmd->add_option("--weight-miss", o->weights.miss, "Points a missing step costs")
      ->envname("SOPILOT_WEIGHT_MISS")->capture_default_str();
  cmd->add_option("--weight-swap", o->weights.swap, "Points an order swap costs")
      ->envname("SOPILOT_WEIGHT_SWAP")->capture_default_str();
  cmd->add_option("--weight-dev", o->weights.dev, "Points an execution deviation costs at most")
      ->envname("SOPILOT_WEIGHT_DEV")->capture_default_str();
  cmd->add_option("--weight-time", o->weights.time, "Points an over-time step costs at most")
      ->envname("SOPILOT_WEIGHT_TIME")->capture_default_str();
  cmd->add_option("--weight-extra", o->weights.extra, "Points an extra segment costs at most")
      ->envname("SOPILOT_WEIGHT_EXTRA")->capture_default_str();
}

Result<EmbeddingSet> LoadOrEmbed(const std::string& path, const IngestOptions& options, const std::string& role) {
  if (LooksLikeEmbeddingFile(Env::Default(), path)) return ReadEmbeddingFile(Env::Default(), path);
  SOPILOT_ASSIGN_OR_RETURN(std::unique_ptr<Embedder> embedder, MakeEmbedder(options.embedder));
  ProgressLine progress("embedding " + role + " " + path);
  return IngestVideo(path, options, embedder.get(), progress.callback());
}

IngestOptions SettingsOf(const EmbeddingSet& s, IngestOptions base) {
  base.decode.target_fps = s.sampling.target_fps;
  base.decode.max_side = s.sampling.max_side;
  base.clips.clip_seconds = s.sampling.clip_seconds;
  base.clips.stride_seconds = s.sampling.clip_stride_sec;
  base.clips.min_clip_coverage = s.sampling.min_clip_coverage;
  // And its embedder, when it is one a video can be embedded with.
  if (IsKnownEmbedder(s.model)) base.embedder = s.model;
  return base;
}

}  // namespace sopilot::cli
