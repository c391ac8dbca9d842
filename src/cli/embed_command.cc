#include "cli/embed_command.h"

#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "base/json_text.h"
#include "base/env.h"
#include "cli/command.h"
#include "cli/ingest_flags.h"
#include "embed/embedding_file.h"
#include "embed/embedder_registry.h"
#include "ingest/ingest.h"

namespace sopilot::cli {

namespace {

struct EmbedArgs {
  std::string video;
  std::string out;
  bool json = false;
  IngestOptions ingest;
};

nlohmann::json ToJson(const EmbeddingSet& s) {
  nlohmann::json clips = nlohmann::json::array();
  for (const ClipSpan& c : s.clips) {
    clips.push_back({{"index", c.index}, {"start_sec", c.start_sec}, {"end_sec", c.end_sec}});
  }
  return {
      {"video",
       {{"path", s.source.path},
        {"duration_sec", s.source.duration_sec},
        {"fps", s.source.fps},
        {"width", s.source.width},
        {"height", s.source.height},
        {"codec", s.source.codec}}},
      {"sampled_fps", s.sampling.target_fps},
      {"clip_seconds", s.sampling.clip_seconds},
      {"clip_stride_sec", s.sampling.clip_stride_sec},
      {"clip_count", s.clips.size()},
      {"embedding_model", s.model},
      {"embedding_dim", s.vectors.cols},
      {"clips", clips},
  };
}

int RunEmbed(const EmbedArgs& args) {
  Status valid = ValidateIngestOptions(args.ingest);
  if (!valid.ok()) {
    std::fprintf(stderr, "sopilot: error: %s\n", valid.message().c_str());
    return kExitUsage;
  }
  auto embedder = MakeEmbedder(args.ingest.embedder);
  if (!embedder.ok()) return ReportError(embedder.status());
  Result<EmbeddingSet> set = [&] {
    ProgressLine progress("embedding " + args.video);
    return IngestVideo(args.video, args.ingest, embedder->get(), progress.callback());
  }();
  if (!set.ok()) return ReportError(set.status());
  if (!args.out.empty()) {
    Status st = WriteEmbeddingFile(Env::Default(), args.out, *set);
    if (!st.ok()) return ReportError(st);
  }
  if (args.json) {
    std::printf("%s\n", JsonText(ToJson(*set), 2).c_str());
  } else {
    const VideoInfo& v = set->source;
    std::printf("%s: %.2f s, %dx%d %s at %.3g fps\n", v.path.c_str(), v.duration_sec, v.width,
                v.height, v.codec.c_str(), v.fps);
    std::printf("%zu clips of %.3g s every %.3g s at %.3g fps, %s (%d dimensions)\n",
                set->clips.size(), set->sampling.clip_seconds, set->sampling.clip_stride_sec,
                set->sampling.target_fps, set->model.c_str(), set->vectors.cols);
    if (!args.out.empty()) std::printf("wrote %s\n", args.out.c_str());
  }
  return kExitOk;
}

}  // namespace

std::function<int()> AddEmbedCommand(CLI::App* app) {
  auto args = std::make_shared<EmbedArgs>();
  CLI::App* cmd = app->add_subcommand(
      "embed",
      "Decode a video and compute its clip embeddings.\n"
      "Frames are sampled by timestamp, grouped into (overlapping) clips and embedded with "
      "--embedder (default heuristic-v1).");
  cmd->add_option("VIDEO", args->video, "Video file (mp4, mov, mkv, webm, avi, ...)")->required();
  cmd->add_flag("--json", args->json,
                "Print the video, the sampling settings and every clip's times as JSON");
  cmd->add_option("--out", args->out,
                  "Write the embeddings to this file (for `sopilot score`); written atomically, "
                  "never partially");
  AddIngestFlags(cmd, &args->ingest);
  return [args] { return RunEmbed(*args); };
}

}  // namespace sopilot::cli
