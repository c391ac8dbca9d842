#include "testing/test_videos.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "testing/command.h"

namespace sopilot::testing {

std::string Ffmpeg(const std::string& args) {
  CommandResult r = RunCommand("ffmpeg -nostdin -y -loglevel error " + args);
  if (r.exit_code == 0) return "";
  return r.err.empty() ? "ffmpeg exited " + std::to_string(r.exit_code) : r.err;
}

static void CheckFfmpeg(const std::string& what, const std::string& err) {
  if (!err.empty()) {
    std::fprintf(stderr, "test video %s failed: %s\n", what.c_str(), err.c_str());
    std::abort();
  }
}

void MakeVideo(const std::string& path, const std::string& source, double seconds,
               const std::string& codec_args) {
  std::ostringstream args;
  args << "-f lavfi -i " << ShellQuote(source) << " -t " << seconds << " " << codec_args << " "
       << ShellQuote(path);
  CheckFfmpeg(path, Ffmpeg(args.str()));
}

void MakeProcedureVideo(const std::string& path, const std::vector<Segment>& segments,
                        const std::string& size, int fps) {
  std::ostringstream args;
  std::ostringstream filter;
  std::string w = size.substr(0, size.find('x')), h = size.substr(size.find('x') + 1);
  for (size_t i = 0; i < segments.size(); ++i) {
    args << "-t " << segments[i].seconds << " -f lavfi -i " << ShellQuote(segments[i].source) << " ";
    filter << "[" << i << ":v]scale=" << w << ":" << h << ",setsar=1,fps=" << fps << ",format=yuv420p[v" << i
           << "];";
  }
  for (size_t i = 0; i < segments.size(); ++i) filter << "[v" << i << "]";
  filter << "concat=n=" << segments.size() << ":v=1:a=0[out]";
  args << "-filter_complex " << ShellQuote(filter.str())
       << " -map '[out]' -c:v libx264 -preset veryfast -pix_fmt yuv420p " << ShellQuote(path);
  CheckFfmpeg(path, Ffmpeg(args.str()));
}

const std::vector<std::string>& DistinctScenes() {
  // Deterministic (seeded) lavfi sources that differ from each other in
  // colour, layout and motion, and stay alike within themselves.
  static const std::vector<std::string> scenes = {
      "testsrc2",
      "mandelbrot",
      "life=mold=10:ratio=0.5:random_seed=7:death_color=#203040:life_color=#f0c020",
      "smptehdbars",
      "cellauto=rule=110:random_seed=3",
      "rgbtestsrc",
      "life=ratio=0.2:random_seed=11:death_color=#600010:life_color=#20e040",
      "yuvtestsrc",
      "testsrc",
      "cellauto=rule=30:random_seed=5",
  };
  return scenes;
}

std::string SharedFixtureDir() {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(SOPILOT_TESTING_SOURCE_DIR) / ".." / "shared" / "fixtures" /
                 "maintenance_filter_swap";
  if (fs::exists(dir / "labels.json")) return fs::canonical(dir).string();
  return "";
}

}  // namespace sopilot::testing
