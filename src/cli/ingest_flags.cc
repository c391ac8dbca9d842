#include "cli/ingest_flags.h"

#include "embed/embedder_registry.h"

#include <cstdio>

#include "cli/command.h"

namespace sopilot::cli {

void AddIngestFlags(CLI::App* cmd, IngestOptions* o) {
  cmd->add_option("--target-fps", o->decode.target_fps,
                  "Frames sampled per second of video, by timestamp")
      ->envname("SOPILOT_TARGET_FPS")
      ->capture_default_str();
  cmd->add_option("--clip-seconds", o->clips.clip_seconds, "Length of one clip in seconds")
      ->envname("SOPILOT_CLIP_SECONDS")
      ->capture_default_str();
  cmd->add_option("--clip-stride", o->clips.stride_seconds,
                  "Seconds between clip starts; less than --clip-seconds makes clips overlap")
      ->envname("SOPILOT_CLIP_STRIDE_SEC")
      ->capture_default_str();
  cmd->add_option("--max-side", o->decode.max_side,
                  "Frames are shrunk so their longest side is at most this many pixels")
      ->envname("SOPILOT_MAX_SIDE")
      ->capture_default_str();
  cmd->add_option("--min-clip-coverage", o->clips.min_clip_coverage,
                  "A trailing partial clip is kept (padded with its last frame) when it holds "
                  "at least this fraction of a clip")
      ->envname("SOPILOT_MIN_CLIP_COVERAGE")
      ->capture_default_str();
  cmd->add_option("--max-video-sec", o->decode.max_duration_sec,
                  "Refuse a video longer than this (declared or decoded), before the work")
      ->envname("SOPILOT_MAX_VIDEO_SEC")
      ->capture_default_str();
  cmd->add_option("--max-frame-pixels", o->decode.max_frame_pixels,
                  "Refuse a video whose frames have more pixels than this, before decoding them")
      ->envname("SOPILOT_MAX_FRAME_PIXELS")
      ->capture_default_str();
  cmd->add_option("--max-frame-gap", o->decode.max_frame_gap_sec,
                  "A jump in the frame timestamps longer than this many seconds is cut to it")
      ->envname("SOPILOT_MAX_FRAME_GAP_SEC")
      ->capture_default_str();
  cmd->add_option("--threads", o->decode.threads, "Decoder threads (0 = one per core)")
      ->envname("SOPILOT_DECODE_THREADS")
      ->capture_default_str();
  cmd->add_option("--embedder", o->embedder,
                  "Clip features: " + KnownEmbedderList() +
                      " (motion-v1: optical-flow direction histograms; pose-v1: hand landmarks and flow; "
                      "appearance-v1: MobileNetV2 image features; the learned ones read their models from "
                      "SOPILOT_MODELS_DIR, default ./models, else the models/ of the build tree's repository, "
                      "installed by scripts/install-models.sh)")
      ->envname("SOPILOT_EMBEDDER")
      ->capture_default_str();
}

ProgressLine::ProgressLine(std::string label) : label_(std::move(label)), enabled_(StderrIsTerminal()) {}

ProgressLine::~ProgressLine() {
  if (shown_) std::fprintf(stderr, "\r\033[K");
}

IngestProgress ProgressLine::callback() {
  if (!enabled_) return nullptr;
  return [this](double done, double total) {
    // Short videos finish before a person could read the line.
    if (total > 0 && total < 20) return true;
    if (total > 0) {
      std::fprintf(stderr, "\r\033[K%s: %.0f / %.0f s (%.0f%%)", label_.c_str(), done, total,
                   std::min(100.0, 100.0 * done / total));
    } else {
      std::fprintf(stderr, "\r\033[K%s: %.0f s", label_.c_str(), done);
    }
    std::fflush(stderr);
    shown_ = true;
    return true;
  };
}

}  // namespace sopilot::cli
