// EmbeddingSet: one video's clip embeddings with everything needed to trust
// them later: which model, which sampling, which clip times.
#pragma once

#include <string>
#include <vector>

#include "base/matrix.h"
#include "video/clip_windower.h"
#include "video/video_info.h"

namespace sopilot {

// The settings that shaped the embeddings; two sets compare only when these
// and the model agree.
struct SamplingSettings {
  double target_fps = 0;
  double clip_seconds = 0;
  double clip_stride_sec = 0;
  int max_side = 0;
  double min_clip_coverage = 0;
};

struct EmbeddingSet {
  std::string model;            // Embedder::name()
  SamplingSettings sampling;
  VideoInfo source;             // the video the clips came from
  std::vector<ClipSpan> clips;  // one per row of `vectors`
  FloatMatrix vectors;          // clips.size() x dim, rows L2-normalised
};

}  // namespace sopilot
