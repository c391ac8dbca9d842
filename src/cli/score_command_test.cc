// `sopilot score` driven as a user would: videos, embedding files, JSON.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "testing/command.h"
#include "testing/temp_dir.h"
#include "testing/test_videos.h"

namespace sopilot {
namespace {

using testing::CommandResult;
using testing::ShellQuote;

CommandResult Sopilot(const std::string& args) { return testing::RunCommand(std::string(SOPILOT_BIN) + " " + args); }

class ScoreCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto& s = testing::DistinctScenes();
    gold_ = dir_.file("gold.mp4");
    swapped_ = dir_.file("swapped.mp4");
    testing::MakeProcedureVideo(gold_, {{s[0], 4}, {s[1], 4}, {s[3], 4}, {s[5], 4}});
    testing::MakeProcedureVideo(swapped_, {{s[0], 4}, {s[3], 4}, {s[1], 4}, {s[5], 4}});
  }
  testing::TempDir dir_;
  std::string gold_, swapped_;
};

TEST_F(ScoreCliTest, SummaryNamesTheDeviationWithTimeCodes) {
  CommandResult r = Sopilot("score " + ShellQuote(gold_) + " " + ShellQuote(swapped_));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("score 80.0  needs_review"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("order_swap"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("step 2 \"step 2\" <-> step 3 \"step 3\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("gold 0:04."), std::string::npos) << r.out;  // step 2 starts near 4 s in gold
  EXPECT_NE(r.out.find("trainee 0:0"), std::string::npos) << r.out;
}

TEST_F(ScoreCliTest, JsonKeepsTheOriginalFieldsAndAddsVerdictAndSteps) {
  CommandResult r = Sopilot("score --json " + ShellQuote(gold_) + " " + ShellQuote(swapped_));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  for (const char* key : {"score", "metrics", "step_boundaries", "deviations", "alignment_preview", "clip_count",
                          "step_map_preview", "embedding_model", "verdict", "steps"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["metrics"].size(), 15u);
  EXPECT_EQ(j["metrics"]["swap"], 1);
  EXPECT_EQ(j["embedding_model"], "heuristic-v1");
  EXPECT_EQ(j["clip_count"]["gold"], 29);
  ASSERT_EQ(j["steps"].size(), 4u);
  EXPECT_EQ(j["steps"][1]["status"], "out_of_order");
  ASSERT_EQ(j["deviations"].size(), 1u);
  const auto& d = j["deviations"][0];
  for (const char* key : {"type", "gold_step", "gold_step_name", "gold_time", "trainee_time", "confidence",
                          "severity", "reason"}) {
    EXPECT_TRUE(d.contains(key)) << key;
  }
  EXPECT_EQ(d["type"], "order_swap");
  EXPECT_EQ(d["gold_steps"], nlohmann::json({1, 2}));
  EXPECT_NEAR(d["trainee_time"]["start_sec"].get<double>(), 8.0, 0.5);
  EXPECT_NEAR(d["swapped_with"]["trainee_time"]["start_sec"].get<double>(), 4.0, 0.5);
}

TEST_F(ScoreCliTest, AlsoGoldReportsAgainstTheClosestGoldAndSaysWhich) {
  // The trainee does what the second gold shows (a little slower).
  const auto& s = testing::DistinctScenes();
  const std::string other = dir_.file("other-gold.mp4"), trainee = dir_.file("trainee.mp4");
  testing::MakeProcedureVideo(other, {{s[2], 4}, {s[4], 4}, {s[6], 4}, {s[7], 4}});
  testing::MakeProcedureVideo(trainee, {{s[2], 4.5}, {s[4], 4.5}, {s[6], 4.5}, {s[7], 4.5}});
  CommandResult r = Sopilot("score --json " + ShellQuote(gold_) + " --also-gold " + ShellQuote(other) + " " +
                            ShellQuote(trainee));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["gold"], other);
  EXPECT_EQ(j["gold_selection"], "closest");
  ASSERT_EQ(j["gold_candidates"].size(), 2u) << j["gold_candidates"].dump();
  EXPECT_EQ(j["gold_candidates"][0]["gold"], other);
  EXPECT_EQ(j["gold_candidates"][0]["score"], j["score"]);
  EXPECT_EQ(j["gold_candidates"][1]["gold"], gold_);
  EXPECT_GT(j["score"].get<double>(), j["gold_candidates"][1]["score"].get<double>());
  // The same score as against that gold alone.
  CommandResult alone = Sopilot("score --json " + ShellQuote(other) + " " + ShellQuote(trainee));
  ASSERT_EQ(alone.exit_code, 0) << alone.err;
  EXPECT_EQ(nlohmann::json::parse(alone.out)["score"], j["score"]);
  // The summary names the gold it is against and lists both.
  CommandResult summary = Sopilot("score --also-gold " + ShellQuote(other) + " " + ShellQuote(gold_) + " " +
                                  ShellQuote(trainee));
  ASSERT_EQ(summary.exit_code, 0) << summary.err;
  EXPECT_NE(summary.out.find("(" + other + " vs " + trainee), std::string::npos) << summary.out;
  EXPECT_NE(summary.out.find("against the closest of 2 golds"), std::string::npos) << summary.out;
  EXPECT_NE(summary.out.find("gold " + gold_ + ": "), std::string::npos) << summary.out;
}

TEST_F(ScoreCliTest, EmbeddingFilesAndVideosMix) {
  ASSERT_EQ(Sopilot("embed " + ShellQuote(gold_) + " --out " + ShellQuote(dir_.file("gold.emb"))).exit_code, 0);
  CommandResult a = Sopilot("score --json " + ShellQuote(dir_.file("gold.emb")) + " " + ShellQuote(swapped_));
  CommandResult b = Sopilot("score --json " + ShellQuote(gold_) + " " + ShellQuote(swapped_));
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(nlohmann::json::parse(a.out)["score"], nlohmann::json::parse(b.out)["score"]);
  // A gold embedded with other clip settings drives how the trainee is embedded.
  ASSERT_EQ(Sopilot("embed --clip-seconds 4 --clip-stride 1 " + ShellQuote(gold_) + " --out " +
                    ShellQuote(dir_.file("gold4.emb"))).exit_code, 0);
  CommandResult c = Sopilot("score --json " + ShellQuote(dir_.file("gold4.emb")) + " " + ShellQuote(swapped_));
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(nlohmann::json::parse(c.out)["clip_count"]["trainee"], 13);
}

TEST_F(ScoreCliTest, StepsFileNamesTheSteps) {
  std::ofstream(dir_.file("steps.json"))
      << R"({"steps": [{"name": "open", "start_sec": 0, "end_sec": 4}, {"name": "wipe", "start_sec": 4, "end_sec": 8},
                       {"name": "fit", "start_sec": 8, "end_sec": 12}, {"name": "close", "start_sec": 12, "end_sec": 16}]})";
  CommandResult r = Sopilot("score --steps " + ShellQuote(dir_.file("steps.json")) + " " + ShellQuote(gold_) + " " +
                            ShellQuote(swapped_));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"wipe\" <-> step 3 \"fit\""), std::string::npos) << r.out;
}

// Timed steps that leave out the gold's first seconds: that time is no step,
// and the summary says so, so the supervisor can check it.
TEST_F(ScoreCliTest, TheGoldsTimeBeforeItsFirstStepIsListed) {
  std::ofstream(dir_.file("steps.json"))
      << R"({"steps": [{"name": "wipe", "start_sec": 4, "end_sec": 8}, {"name": "fit", "start_sec": 8, "end_sec": 12},
                       {"name": "close", "start_sec": 12, "end_sec": 16}]})";
  CommandResult r = Sopilot("score --steps " + ShellQuote(dir_.file("steps.json")) + " " + ShellQuote(gold_) + " " +
                            ShellQuote(gold_));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("score 100.0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("idle before start   gold 0:00.0-0:04.0 (no step in the gold video"), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("after end"), std::string::npos) << r.out;
  // Steps that leave out less than the scoring can place (a clip stride):
  // rounding in a steps file, not time of no step.
  std::ofstream(dir_.file("rounded.json"))
      << R"({"steps": [{"name": "wipe", "start_sec": 0.1, "end_sec": 8}, {"name": "close", "start_sec": 8, "end_sec": 15.9}]})";
  r = Sopilot("score --steps " + ShellQuote(dir_.file("rounded.json")) + " " + ShellQuote(gold_) + " " + ShellQuote(gold_));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("score 100.0"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("idle"), std::string::npos) << r.out;
}

// A supervisor who knows the steps but not their times names them only.
TEST_F(ScoreCliTest, StepsNamedWithoutTimesArePlacedInTheGold) {
  std::ofstream(dir_.file("names.json"))
      << R"({"steps": [{"name": "open"}, {"name": "wipe"}, {"name": "fit"}, {"name": "close"}]})";
  CommandResult r = Sopilot("score --json --steps " + ShellQuote(dir_.file("names.json")) + " " + ShellQuote(gold_) +
                            " " + ShellQuote(swapped_));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["steps"].size(), 4u) << r.out;
  EXPECT_EQ(j["steps"][2]["name"], "fit");
  EXPECT_NEAR(j["steps"][2]["gold_time"]["start_sec"].get<double>(), 8.0, 1.0) << r.out;
  ASSERT_EQ(j["deviations"].size(), 1u) << r.out;
  EXPECT_EQ(j["deviations"][0]["type"], "order_swap");
  EXPECT_EQ(j["deviations"][0]["gold_step_names"], (nlohmann::json{"wipe", "fit"}));
  // More names than the gold can hold: one line saying so, exit 1.
  std::ofstream many(dir_.file("many.json"));
  many << R"({"steps": [)";
  for (int k = 0; k < 12; ++k) many << (k ? "," : "") << R"({"name": "s)" << k << R"("})";
  many << "]}";
  many.close();
  r = Sopilot("score --steps " + ShellQuote(dir_.file("many.json")) + " " + ShellQuote(gold_) + " " +
              ShellQuote(gold_));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("too short to hold 12 steps"), std::string::npos) << r.err;
}

TEST_F(ScoreCliTest, AReportFileShowsTheNamedStepsAndTheDeviation) {
  std::ofstream(dir_.file("sop.json")) << R"({"steps": [
      {"name": "REMOVE", "start_sec": 0, "end_sec": 4}, {"name": "CLEAN", "start_sec": 4, "end_sec": 8, "critical": true},
      {"name": "SWAP", "start_sec": 8, "end_sec": 12}, {"name": "CHECK", "start_sec": 12, "end_sec": 16}]})";
  const std::string pdf = dir_.file("report.pdf"), html = dir_.file("report.html");
  CommandResult r = Sopilot("score " + ShellQuote(gold_) + " " + ShellQuote(swapped_) + " --steps " +
                            ShellQuote(dir_.file("sop.json")) + " --task filter-swap --report " + ShellQuote(pdf));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("report written to"), std::string::npos);
  std::ifstream in(pdf, std::ios::binary);
  std::string head(5, '\0');
  in.read(head.data(), 5);
  EXPECT_EQ(head, "%PDF-");
  if (testing::RunCommand("command -v pdftotext").exit_code == 0) {
    CommandResult text = testing::RunCommand("pdftotext -layout " + ShellQuote(pdf) + " -");
    EXPECT_NE(text.out.find("filter-swap"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("order_swap"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("\"CLEAN\" and \"SWAP\""), std::string::npos) << text.out;
  }
  r = Sopilot("score " + ShellQuote(gold_) + " " + ShellQuote(swapped_) + " --report " + ShellQuote(html));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream page(html);
  std::string body((std::istreambuf_iterator<char>(page)), std::istreambuf_iterator<char>());
  EXPECT_NE(body.find("order_swap"), std::string::npos);
  EXPECT_NE(body.find("data:image/png;base64,"), std::string::npos);
  // A report that cannot be written is an error, and says where.
  r = Sopilot("score " + ShellQuote(gold_) + " " + ShellQuote(swapped_) + " --report " +
              ShellQuote(dir_.file("no/such/dir/r.pdf")));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("no/such/dir"), std::string::npos) << r.err;
}

TEST_F(ScoreCliTest, ErrorsAreOneLineAndExitCodesHold) {
  EXPECT_EQ(Sopilot("score " + ShellQuote(gold_)).exit_code, 2);                     // TRAINEE missing
  EXPECT_EQ(Sopilot("score --time-tolerance -1 " + ShellQuote(gold_) + " x").exit_code, 2);
  CommandResult r = Sopilot("score " + ShellQuote(gold_) + " " + ShellQuote(dir_.file("nope.mp4")));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("nope.mp4: no such file"), std::string::npos) << r.err;
  std::ofstream(dir_.file("bad.json")) << "{\"steps\": 3}";
  r = Sopilot("score --steps " + ShellQuote(dir_.file("bad.json")) + " " + ShellQuote(gold_) + " " + ShellQuote(gold_));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("bad.json"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace sopilot
