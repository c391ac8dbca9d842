// Ingest benchmark: how much does our ingest cost over decoding alone?
//
// Makes a 1280x720 30 fps H.264 video with ffmpeg (lavfi testsrc2, libx264
// default preset, yuv420p), then times in the same run, each a few times:
//
//   FfmpegDecode   `ffmpeg -threads 0 -i FILE -f null -` as a subprocess: the
//                  floor, decoding every frame with FFmpeg's own threading;
//   OurDecode      VideoDecoder::Next() until the end, default DecodeOptions:
//                  decoding plus sampling, RGB conversion and resizing;
//   OurDecodeEveryFrame  the same decoding every frame, also those no
//                  sample shows (skip_unsampled_frames = false): the
//                  baseline of leaving them out;
//   Ingest         IngestVideo() with the default IngestOptions and a
//                  HeuristicEmbedder (wrapped to time its Embed calls): the
//                  decoder runs a few frames ahead on a thread of its own;
//   IngestOneThread  the same with decode_ahead_frames = 0: decoding and
//                  embedding take turns on one thread (the way before
//                  video/decode_ahead.h), the baseline of the overlap.
//
// and prints a summary: the minimum wall time of each over the repetitions
// (the least disturbed run on a shared machine), ingest / ffmpeg (target
// <= 1.25), the same ratio of CPU seconds, and the embedding cost per clip and
// per clip-second. Repetitions are interleaved at random so that a burst of
// load from elsewhere does not land on one benchmark only.
//
// Flags (besides Google Benchmark's own --benchmark_*):
//   --quick        a 10 s video and 1 repetition: a smoke run for CI
//   --seconds=N    video length (default 60; env SOPILOT_BENCH_SECONDS)
//   --video=FILE   use this video instead of making one; it is not deleted
//                  (env SOPILOT_BENCH_VIDEO)
//   --check        exit 1 when the ratio is above the target
#include <benchmark/benchmark.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "embed/heuristic_embedder.h"
#include "ingest/ingest.h"
#include "decode_pass.h"
#include "video_bench_flags.h"
#include "testing/temp_dir.h"
#include "testing/test_videos.h"
#include "video/video_decoder.h"

extern char** environ;

namespace sopilot {
namespace {

constexpr double kTargetRatio = 1.25;

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string g_video;   // the file every benchmark reads
bool g_failed = false;  // a benchmark stopped with an error

void Fail(benchmark::State& state, const std::string& message) {
  g_failed = true;
  state.SkipWithError(message.c_str());
}

// One repetition of one benchmark.
struct Run {
  double wall_sec = 0;
  double cpu_sec = 0;     // all threads of the process, or of the ffmpeg child
  int64_t clips = 0;
  double embed_sec = 0;   // inside Embedder::Embed, summed
  int64_t samples = 0;    // sampled frames
  int64_t decoded = 0;    // source frames decoded
  double video_sec = 0;   // decoded length
};
std::map<std::string, std::vector<Run>> g_runs;

// Forwards to another embedder and adds up the time spent in Embed().
class TimingEmbedder : public Embedder {
 public:
  explicit TimingEmbedder(Embedder* inner) : inner_(inner) {}
  std::string name() const override { return inner_->name(); }
  int dim() const override { return inner_->dim(); }
  Status Embed(const Clip& clip, float* out) override {
    auto t0 = Clock::now();
    Status s = inner_->Embed(clip, out);
    seconds_ += Seconds(Clock::now() - t0);
    ++calls_;
    return s;
  }
  double seconds() const { return seconds_; }
  int64_t calls() const { return calls_; }

 private:
  Embedder* inner_;
  double seconds_ = 0;
  int64_t calls_ = 0;
};

// Runs argv (searched on PATH) with stdin and stdout on /dev/null; stderr is
// kept so that ffmpeg's errors show. Returns the exit code (-1 when it could
// not start, 128+N when killed by signal N) and the child's CPU time.
int Spawn(const std::vector<std::string>& args, double* cpu_sec) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  int err = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (err != 0) return -1;
  int status = 0;
  rusage ru{};
  while (wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) return -1;
  }
  *cpu_sec = bench::CpuSec(ru);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

void BM_FfmpegDecode(benchmark::State& state) {
  for (auto _ : state) {
    Run run;
    auto t0 = Clock::now();
    int code = Spawn({"ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-threads", "0",
                      "-i", g_video, "-f", "null", "-"},
                     &run.cpu_sec);
    run.wall_sec = Seconds(Clock::now() - t0);
    if (code != 0) {
      Fail(state, "ffmpeg exited " + std::to_string(code));
      return;
    }
    state.counters["cpu_s"] = run.cpu_sec;
    g_runs["FfmpegDecode"].push_back(run);
  }
}

void OurDecode(benchmark::State& state, bool every_frame, const char* row) {
  for (auto _ : state) {
    auto pass = bench::TimeOurDecode(g_video, every_frame);
    if (!pass.ok()) {
      Fail(state, pass.status().ToString());
      return;
    }
    Run run;
    run.wall_sec = pass->wall_sec;
    run.cpu_sec = pass->cpu_sec;
    run.samples = pass->samples;
    run.decoded = pass->decoded;
    run.video_sec = pass->video_sec;
    state.counters["cpu_s"] = run.cpu_sec;
    state.counters["samples"] = static_cast<double>(run.samples);
    state.counters["decoded"] = static_cast<double>(run.decoded);
    g_runs[row].push_back(run);
  }
}

void BM_OurDecode(benchmark::State& state) { OurDecode(state, false, "OurDecode"); }
void BM_OurDecodeEveryFrame(benchmark::State& state) { OurDecode(state, true, "OurDecodeEveryFrame"); }

void IngestWith(benchmark::State& state, int decode_ahead_frames, const char* row) {
  for (auto _ : state) {
    Run run;
    HeuristicEmbedder heuristic;
    TimingEmbedder embedder(&heuristic);
    IngestOptions options;
    options.decode_ahead_frames = decode_ahead_frames;
    double cpu0 = bench::SelfCpuSec();
    auto t0 = Clock::now();
    auto set = IngestVideo(g_video, options, &embedder);
    run.wall_sec = Seconds(Clock::now() - t0);
    run.cpu_sec = bench::SelfCpuSec() - cpu0;
    if (!set.ok()) {
      Fail(state, set.status().ToString());
      return;
    }
    benchmark::DoNotOptimize(set->vectors.data.data());
    run.clips = static_cast<int64_t>(set->clips.size());
    run.embed_sec = embedder.seconds();
    run.video_sec = set->source.duration_sec;
    state.counters["cpu_s"] = run.cpu_sec;
    state.counters["clips"] = static_cast<double>(run.clips);
    state.counters["embed_ms_per_clip"] = run.clips ? 1e3 * run.embed_sec / run.clips : 0.0;
    g_runs[row].push_back(run);
  }
}

void BM_Ingest(benchmark::State& state) { IngestWith(state, IngestOptions{}.decode_ahead_frames, "Ingest"); }
void BM_IngestOneThread(benchmark::State& state) { IngestWith(state, 0, "IngestOneThread"); }

BENCHMARK(BM_FfmpegDecode)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OurDecode)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OurDecodeEveryFrame)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Ingest)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_IngestOneThread)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

// The run with the least wall time, and the median wall time.
const Run* Fastest(const std::vector<Run>& runs) {
  if (runs.empty()) return nullptr;
  return &*std::min_element(runs.begin(), runs.end(),
                            [](const Run& a, const Run& b) { return a.wall_sec < b.wall_sec; });
}
double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
double MedianWall(const std::vector<Run>& runs) {
  std::vector<double> v;
  for (const Run& r : runs) v.push_back(r.wall_sec);
  return Median(v);
}

// Prints the summary; returns the ratio of minimum wall times (0 when a
// benchmark did not run: failed, or left out by --benchmark_filter).
double PrintSummary(double clip_seconds) {
  const Run* ff = Fastest(g_runs["FfmpegDecode"]);
  const Run* dec = Fastest(g_runs["OurDecode"]);
  const Run* ing = Fastest(g_runs["Ingest"]);
  std::printf("\n=== ingest vs decode: %s ===\n", g_video.c_str());
  std::printf("(minimum over %zu / %zu / %zu runs; median in brackets)\n",
              g_runs["FfmpegDecode"].size(), g_runs["OurDecode"].size(), g_runs["Ingest"].size());
  auto line = [](const char* what, const std::vector<Run>& runs, const Run* r) {
    if (r == nullptr) {
      std::printf("  %-34s  did not run\n", what);
      return;
    }
    std::printf("  %-34s %8.3f s [%7.3f]   cpu %7.3f s\n", what, r->wall_sec, MedianWall(runs),
                r->cpu_sec);
  };
  line("ffmpeg -threads 0 -f null (floor)", g_runs["FfmpegDecode"], ff);
  line("our decoder (decode+sample+rgb)", g_runs["OurDecode"], dec);
  const Run* every = Fastest(g_runs["OurDecodeEveryFrame"]);
  line("our decoder, every frame decoded", g_runs["OurDecodeEveryFrame"], every);
  if (dec != nullptr && every != nullptr) {
    std::printf("  ratio our decoder / every frame decoded: %.3f (median %.3f, cpu %.3f); %lld of %lld frames "
                "decoded\n",
                dec->wall_sec / every->wall_sec, MedianWall(g_runs["OurDecode"]) / MedianWall(g_runs["OurDecodeEveryFrame"]),
                dec->cpu_sec / std::max(1e-9, every->cpu_sec), static_cast<long long>(dec->decoded),
                static_cast<long long>(every->decoded));
  }
  line("ingest (decode+sample+embed)", g_runs["Ingest"], ing);
  const Run* one = Fastest(g_runs["IngestOneThread"]);
  line("ingest, decoding on one thread", g_runs["IngestOneThread"], one);
  if (one != nullptr && ing != nullptr) {
    std::printf("  ratio ingest / ingest decoding on one thread: %.3f (median %.3f)\n",
                ing->wall_sec / one->wall_sec,
                MedianWall(g_runs["Ingest"]) / MedianWall(g_runs["IngestOneThread"]));
  }
  if (ff == nullptr || ing == nullptr) return 0;

  double ratio = ing->wall_sec / ff->wall_sec;
  double median_ratio = MedianWall(g_runs["Ingest"]) / MedianWall(g_runs["FfmpegDecode"]);
  std::printf("  ratio ingest / ffmpeg decode: %.3f (median %.3f, cpu %.3f)   target <= %.2f: %s\n",
              ratio, median_ratio, ing->cpu_sec / std::max(1e-9, ff->cpu_sec), kTargetRatio,
              ratio <= kTargetRatio ? "MET" : "MISSED");
  if (dec != nullptr) {
    std::printf("  ratio our decoder / ffmpeg decode: %.3f (cpu %.3f); %lld samples\n",
                dec->wall_sec / ff->wall_sec, dec->cpu_sec / std::max(1e-9, ff->cpu_sec),
                static_cast<long long>(dec->samples));
  }
  // Embedding: the least total over the ingest runs (the least disturbed).
  double embed = ing->embed_sec;
  for (const Run& r : g_runs["Ingest"]) embed = std::min(embed, r.embed_sec);
  if (ing->clips > 0) {
    double per_clip_ms = 1e3 * embed / ing->clips;
    std::printf("  clips: %lld of %.1f s (video %.2f s)\n", static_cast<long long>(ing->clips),
                clip_seconds, ing->video_sec);
    std::printf("  embedding: %.3f s in all = %.1f%% of ingest; %.3f ms per clip, "
                "%.3f ms per clip-second, %.3f ms per video second\n",
                embed, 100.0 * embed / ing->wall_sec, per_clip_ms, per_clip_ms / clip_seconds,
                1e3 * embed / std::max(1e-9, ing->video_sec));
    std::printf("  (the Python original: 55-80%% of ingest embedding, about 30 ms per clip-second)\n");
  }
  if (dec != nullptr) {
    // The embedder runs on the calling thread while the decoder (and the
    // codec's frame threads) run ahead, so ingest can cost less than
    // decoder + embedding.
    std::printf("  breakdown: ingest - our decoder = %.3f s wall, %.3f s cpu; embedding %.3f s "
                "(overlaps the decoder's threads)\n",
                ing->wall_sec - dec->wall_sec, ing->cpu_sec - dec->cpu_sec, embed);
  }
  return ratio;
}

}  // namespace
}  // namespace sopilot

int main(int argc, char** argv) {
  using namespace sopilot;
  std::optional<bench::VideoBenchFlags> flags =
      bench::ParseVideoBenchFlags("ingest_bench", "exit 1 when ingest / ffmpeg decode is above 1.25", &argc, argv);
  if (!flags) return 0;
  if (!bench::InitializeBenchmark(*flags, argc, argv)) return 2;

  std::unique_ptr<testing::TempDir> dir;
  if (!flags->video.empty()) {
    g_video = flags->video;
  } else {
    dir = std::make_unique<testing::TempDir>();
    g_video = dir->file("testsrc2_1280x720_30fps.mp4");
    std::fprintf(stderr, "making a %.0f s 1280x720 H.264 video ...\n", flags->seconds);
    auto t0 = Clock::now();
    // libx264's default preset (not "veryfast"): closer to what cameras and
    // editors write, and a little harder to decode.
    testing::MakeVideo(g_video, "testsrc2=size=1280x720:rate=30", flags->seconds,
                       "-c:v libx264 -pix_fmt yuv420p");
    std::fprintf(stderr, "made %s in %.1f s\n", g_video.c_str(), Seconds(Clock::now() - t0));
  }

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  double ratio = PrintSummary(IngestOptions{}.clips.clip_seconds);
  dir.reset();  // deletes the generated video
  if (g_failed) return 1;
  if (flags->check && !(ratio > 0 && ratio <= kTargetRatio)) return 1;
  return 0;
}
