// Drives the real `sopilot` binary as a user would.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "base/env.h"
#include "embed/embedding_file.h"
#include "testing/command.h"
#include "testing/temp_dir.h"
#include "testing/test_videos.h"

namespace sopilot {
namespace {

using testing::CommandResult;
using testing::ShellQuote;

CommandResult Sopilot(const std::string& args) {
  return testing::RunCommand(std::string(SOPILOT_BIN) + " " + args);
}

int CountLines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

TEST(CliTest, HelpExplainsCommandsAndOptions) {
  CommandResult r = Sopilot("--help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("embed"), std::string::npos);
  EXPECT_NE(r.out.find("Exit codes"), std::string::npos);
  r = Sopilot("embed --help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* flag : {"--json", "--out", "--target-fps", "--clip-seconds", "--clip-stride",
                           "--max-side", "--min-clip-coverage"}) {
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
  }
}

TEST(CliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Sopilot("").exit_code, 2);
  EXPECT_EQ(Sopilot("frobnicate").exit_code, 2);
  EXPECT_EQ(Sopilot("embed").exit_code, 2);
  EXPECT_EQ(Sopilot("embed a.mp4 --no-such-flag").exit_code, 2);
  EXPECT_EQ(Sopilot("embed a.mp4 --target-fps abc").exit_code, 2);
  CommandResult r = Sopilot("embed a.mp4 --clip-seconds 2 --clip-stride 5");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--clip-stride"), std::string::npos) << r.err;
}

TEST(CliTest, EmbedJsonDescribesVideoAndClips) {
  testing::TempDir dir;
  std::string video = dir.file("gold.mp4");
  testing::MakeVideo(video, "testsrc2=size=640x360:rate=25", 5.0);
  CommandResult r = Sopilot("embed --json " + ShellQuote(video) + " --out " + ShellQuote(dir.file("g.emb")));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["video"]["path"], video);
  EXPECT_NEAR(j["video"]["duration_sec"].get<double>(), 5.0, 0.01);
  EXPECT_NEAR(j["video"]["fps"].get<double>(), 25.0, 1e-6);
  EXPECT_EQ(j["video"]["width"], 640);
  EXPECT_EQ(j["video"]["height"], 360);
  EXPECT_EQ(j["video"]["codec"], "h264");
  EXPECT_EQ(j["sampled_fps"], 4.0);
  EXPECT_EQ(j["clip_seconds"], 2.0);
  EXPECT_EQ(j["clip_stride_sec"], 0.5);
  EXPECT_EQ(j["embedding_model"], "heuristic-v1");
  EXPECT_EQ(j["embedding_dim"], 904);
  ASSERT_EQ(j["clip_count"], j["clips"].size());
  EXPECT_EQ(j["clip_count"], 7);  // starts 0, 0.5, ..., 3.0
  EXPECT_EQ(j["clips"][6]["index"], 6);
  EXPECT_EQ(j["clips"][6]["start_sec"], 3.0);
  EXPECT_EQ(j["clips"][6]["end_sec"], 5.0);

  auto set = ReadEmbeddingFile(Env::Default(), dir.file("g.emb"));
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->vectors.rows, 7);
  EXPECT_EQ(set->sampling.clip_stride_sec, 0.5);
}

TEST(CliTest, OptionsAndEnvironmentChangeTheSampling) {
  testing::TempDir dir;
  std::string video = dir.file("a.mkv");
  testing::MakeVideo(video, "testsrc2=size=320x180:rate=12", 8.0);
  CommandResult r = Sopilot("embed --json --clip-seconds 4 --clip-stride 4 " + ShellQuote(video));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["clip_count"], 2);
  r = testing::RunCommand("SOPILOT_CLIP_SECONDS=1 SOPILOT_CLIP_STRIDE_SEC=1 " + std::string(SOPILOT_BIN) +
                          " embed --json " + ShellQuote(video));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["clip_count"], 8);
}

TEST(CliTest, HumanSummaryByDefault) {
  testing::TempDir dir;
  std::string video = dir.file("a.mp4");
  testing::MakeVideo(video, "testsrc2=size=320x180:rate=12", 3.0);
  CommandResult r = Sopilot(ShellQuote("embed") + " " + ShellQuote(video));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("3.00 s, 320x180 h264"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3 clips of 2 s every 0.5 s"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");  // no progress line when stderr is not a terminal
}

// Each bad input: exit 1, one line on stderr, nothing on stdout, no output file.
TEST(CliTest, BadInputsFailCleanly) {
  testing::TempDir dir;
  { std::ofstream(dir.file("empty.mp4")); }
  { std::ofstream(dir.file("text.mp4")) << "Just some notes, not a video.\n"; }
  ASSERT_EQ(testing::Ffmpeg("-f lavfi -i sine=frequency=440:duration=3 -c:a aac " +
                            ShellQuote(dir.file("audio.mp4"))), "");
  testing::MakeVideo(dir.file("short.mp4"), "testsrc2=size=320x180:rate=12", 0.4);
  testing::MakeVideo(dir.file("full.mp4"), "testsrc2=size=320x180:rate=12", 8.0);
  testing::RunCommand("head -c 30000 " + ShellQuote(dir.file("full.mp4")) + " > " +
                      ShellQuote(dir.file("truncated.mp4")));
  std::filesystem::create_directory(dir.file("folder.mp4"));
  struct Case {
    std::string file, phrase;
  };
  for (const Case& c : std::vector<Case>{{"missing.mp4", "no such file"},
                                         {"empty.mp4", "empty file"},
                                         {"text.mp4", "not a readable video"},
                                         {"audio.mp4", "no video stream"},
                                         {"short.mp4", "too short"},
                                         {"truncated.mp4", "truncated.mp4"},
                                         {"folder.mp4", "is a directory"}}) {
    std::string out = dir.file("out-" + c.file + ".emb");
    CommandResult r = Sopilot("embed " + ShellQuote(dir.file(c.file)) + " --out " + ShellQuote(out));
    EXPECT_EQ(r.exit_code, 1) << c.file << ": " << r.err;
    EXPECT_EQ(CountLines(r.err), 1) << c.file << ": " << r.err;
    EXPECT_NE(r.err.find(c.phrase), std::string::npos) << c.file << ": " << r.err;
    EXPECT_EQ(r.err.rfind("sopilot: error: ", 0), 0u) << r.err;
    EXPECT_EQ(r.out, "") << c.file;
    EXPECT_FALSE(std::filesystem::exists(out)) << c.file << " left an output file";
  }
  for (auto& e : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << "temporary left: " << e.path();
  }
}

TEST(CliTest, ProgressLineOnlyOnATerminal) {
  testing::TempDir dir;
  std::string video = dir.file("long.mp4");
  testing::MakeVideo(video, "testsrc2=size=160x120:rate=10", 25.0);
  // `script` gives the command a terminal; its output is what the user sees.
  CommandResult tty = testing::RunCommand("script -qec " +
                                          ShellQuote(std::string(SOPILOT_BIN) + " embed " + ShellQuote(video)) +
                                          " /dev/null");
  ASSERT_EQ(tty.exit_code, 0) << tty.out << tty.err;
  EXPECT_NE(tty.out.find("embedding " + video), std::string::npos) << tty.out;
  EXPECT_NE(tty.out.find("/ 25 s"), std::string::npos) << tty.out;
  CommandResult pipe = Sopilot("embed " + ShellQuote(video));
  ASSERT_EQ(pipe.exit_code, 0);
  EXPECT_EQ(pipe.err, "") << "progress written to a non-terminal";
}

TEST(CliTest, UnwritableOutputIsAnError) {
  testing::TempDir dir;
  std::string video = dir.file("a.mp4");
  testing::MakeVideo(video, "testsrc2=size=320x180:rate=12", 3.0);
  CommandResult r = Sopilot("embed " + ShellQuote(video) + " --out " + ShellQuote(dir.file("no/such/dir/a.emb")));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(CountLines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("no/such/dir"), std::string::npos) << r.err;
}

// Without SOPILOT_MODELS_DIR, a binary of the build tree finds the
// repository's models/ from any working directory; a models directory that
// is named but empty is an error that says where it looked and what to run.
TEST(CliTest, LearnedEmbedderFindsTheModelsFromAnyDirectory) {
  std::filesystem::path models;
  std::filesystem::path dir = std::filesystem::path(SOPILOT_BIN).parent_path();
  for (int up = 0; up <= 3 && models.empty() && !dir.empty(); ++up, dir = dir.parent_path()) {
    if (std::filesystem::exists(dir / "models" / "manifest.json")) models = dir / "models";
  }
  if (models.empty()) GTEST_SKIP() << "no converted models beside " << SOPILOT_BIN << " (run scripts/install-models.sh)";
  testing::TempDir work;
  const std::string video = work.file("a.mp4");
  testing::MakeVideo(video, "testsrc2=size=320x180:rate=12", 2.5);
  CommandResult r = testing::RunCommand("cd " + ShellQuote(work.path()) + " && env -u SOPILOT_MODELS_DIR " +
                                        SOPILOT_BIN + " embed --embedder appearance-v1 " + ShellQuote(video) +
                                        " --out a.emb");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto set = ReadEmbeddingFile(Env::Default(), work.file("a.emb"));
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->model, "appearance-v1");
  EXPECT_GT(set->vectors.rows, 0);

  std::filesystem::create_directories(work.file("empty"));
  r = testing::RunCommand("cd " + ShellQuote(work.path()) + " && SOPILOT_MODELS_DIR=empty " + SOPILOT_BIN +
                          " embed --embedder appearance-v1 " + ShellQuote(video));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_EQ(CountLines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("empty"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("install-models.sh"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace sopilot
