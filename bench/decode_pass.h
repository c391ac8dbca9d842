// One pass of our decoder over a video, timed: the floor every ingest pays
// (VideoDecoder::Next() to the end with the default ingest's DecodeOptions:
// sampling at 4 fps, RGB, resized to at most 320 px). Shared by
// ingest_bench (beside ffmpeg's own decode) and embedder_bench (beside each
// embedder's ingest).
#pragma once

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "base/status.h"
#include "ingest/ingest.h"
#include "video/video_decoder.h"
#include "video_bench_flags.h"

namespace sopilot::bench {

struct DecodePass {
  double wall_sec = 0;
  double cpu_sec = 0;     // all threads of the process (FFmpeg's decoder threads too)
  int64_t samples = 0;    // sampled frames
  int64_t decoded = 0;    // source frames decoded
  double video_sec = 0;   // decoded length
};

// `every_frame`: decode every frame, also those no sample shows (the way
// before DecodeOptions::skip_unsampled_frames), as a baseline.
inline Result<DecodePass> TimeOurDecode(const std::string& path, bool every_frame = false) {
  using Clock = std::chrono::steady_clock;
  DecodePass pass;
  const double cpu0 = SelfCpuSec();
  const auto t0 = Clock::now();
  DecodeOptions options = IngestOptions{}.decode;
  if (every_frame) options.skip_unsampled_frames = false;
  SOPILOT_ASSIGN_OR_RETURN(auto decoder, VideoDecoder::Open(path, options));
  for (;;) {
    SOPILOT_ASSIGN_OR_RETURN(FramePtr frame, decoder->Next());
    if (!frame) break;
    benchmark::DoNotOptimize(frame.get());
    ++pass.samples;
  }
  pass.video_sec = decoder->info().duration_sec;
  pass.decoded = decoder->frames_decoded();
  decoder.reset();
  pass.wall_sec = std::chrono::duration<double>(Clock::now() - t0).count();
  pass.cpu_sec = SelfCpuSec() - cpu0;
  return pass;
}

}  // namespace sopilot::bench
