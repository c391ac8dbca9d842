// Ingest: a video file in, its clip embeddings out.
//
// Decoding, clip windowing and embedding are streamed: frames flow into clips
// and clips into the embedder as they are decoded, so memory is bounded by one
// clip whatever the video's length.
#pragma once

#include <functional>
#include <string>

#include "base/status.h"
#include "embed/embedder.h"
#include "embed/embedding_set.h"
#include "video/clip_windower.h"
#include "video/video_decoder.h"

namespace sopilot {

struct IngestOptions {
  DecodeOptions decode;
  ClipOptions clips;
  // The embedder a caller should build for these settings
  // (embed/embedder_registry.h). IngestVideo uses the Embedder it is given;
  // this names it so that commands carry one choice through.
  std::string embedder = "heuristic-v1";
};

// Checks every option; the message names the CLI option at fault.
Status ValidateIngestOptions(const IngestOptions& options);

// Called now and then with seconds decoded so far and the video's declared
// length (0 when unknown). Returning false stops the ingest, which then fails
// with Unavailable("cancelled") (a job past its timeout, a shutdown).
using IngestProgress = std::function<bool(double done_sec, double total_sec)>;

// Embeds every clip of `path`. Fails (one clear sentence naming the file)
// when the file cannot be decoded or is shorter than one clip.
Result<EmbeddingSet> IngestVideo(const std::string& path, const IngestOptions& options,
                                 Embedder* embedder, const IngestProgress& progress = nullptr);

}  // namespace sopilot
