#include "ingest/ingest.h"

#include "embed/embedder_registry.h"

#include <cstdio>
#include <optional>

#include "video/decode_ahead.h"

namespace sopilot {

Status ValidateIngestOptions(const IngestOptions& o) {
  SOPILOT_RETURN_IF_ERROR(ValidateDecodeOptions(o.decode));
  if (o.decode_ahead_frames < 0 || o.decode_ahead_frames > 64) {
    return Status::InvalidArgument("decode_ahead_frames must be in [0, 64]");
  }
  // "unknown embedder ..." naming the known ones, or what is wrong with a
  // combination's weight.
  if (Status st = CheckEmbedderName(o.embedder); !st.ok()) {
    return Status::InvalidArgument("--embedder: " + st.message());
  }
  return ValidateClipOptions(o.clips, o.decode.target_fps);
}

Result<EmbeddingSet> IngestVideo(const std::string& path, const IngestOptions& options,
                                 Embedder* embedder, const IngestProgress& progress) {
  SOPILOT_RETURN_IF_ERROR(ValidateIngestOptions(options));
  SOPILOT_ASSIGN_OR_RETURN(auto decoder, VideoDecoder::Open(path, options.decode));
  ClipWindower windower(options.decode.target_fps, options.clips);

  EmbeddingSet set;
  set.model = embedder->name();
  set.sampling = {options.decode.target_fps, options.clips.clip_seconds,
                  options.clips.stride_seconds, options.decode.max_side,
                  options.clips.min_clip_coverage};
  const int dim = embedder->dim();
  std::vector<float> rows;  // grows by one row per clip
  std::vector<Clip> ready;
  auto embed_ready = [&]() -> Status {
    for (const Clip& clip : ready) {
      rows.resize(rows.size() + dim);
      SOPILOT_RETURN_IF_ERROR(embedder->Embed(clip, rows.data() + rows.size() - dim));
      set.clips.push_back(clip.span);
    }
    ready.clear();
    return Status::Ok();
  };

  const double total = decoder->info().duration_sec;
  double last_report = 0;
  {
    // With decode_ahead_frames, the decoder runs on its own thread from
    // here until `ahead` is gone; nothing else touches it meanwhile.
    std::optional<DecodeAhead> ahead;
    if (options.decode_ahead_frames > 0) {
      ahead.emplace([d = decoder.get()] { return d->Next(); }, options.decode_ahead_frames);
    }
    for (;;) {
      SOPILOT_ASSIGN_OR_RETURN(FramePtr frame, ahead ? ahead->Next() : decoder->Next());
      if (!frame) break;
      windower.Add(std::move(frame), &ready);
      SOPILOT_RETURN_IF_ERROR(embed_ready());
      double done = windower.frames_seen() / options.decode.target_fps;
      if (progress && done - last_report >= 1.0) {
        last_report = done;
        if (!progress(done, total)) return Status::Unavailable(path + ": ingest cancelled");
      }
    }
  }
  windower.Finish(&ready);
  SOPILOT_RETURN_IF_ERROR(embed_ready());

  set.source = decoder->info();
  if (set.clips.empty()) {
    char buf[200];
    std::snprintf(buf, sizeof buf,
                  ": video is too short: %.2f s, less than one %.2f s clip "
                  "(at least %.0f%% of one is needed)",
                  set.source.duration_sec, options.clips.clip_seconds,
                  options.clips.min_clip_coverage * 100);
    return Status::InvalidArgument(path + buf);
  }
  set.vectors = FloatMatrix(static_cast<int>(set.clips.size()), dim);
  set.vectors.data = std::move(rows);
  return set;
}

}  // namespace sopilot
