// Ingest: a video file in, its clip embeddings out.
//
// Decoding, clip windowing and embedding are streamed: frames flow into clips
// and clips into the embedder as they are decoded, so memory is bounded by one
// clip (and the few frames decoded ahead) whatever the video's length. The
// decoder runs on a thread of its own a few frames ahead of the embedder
// (video/decode_ahead.h), so the two overlap.
#pragma once

#include <functional>
#include <string>

#include "base/status.h"
#include "embed/embedder.h"
#include "embed/embedder_registry.h"
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
  std::string embedder = kDefaultEmbedder;
  // How many frames the decoder may run ahead of the embedder on a thread of
  // its own (video/decode_ahead.h); 0 decodes on the caller's thread, one
  // frame at a time (bench/ingest_bench compares the two). The vectors are
  // the same either way.
  int decode_ahead_frames = 8;
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
