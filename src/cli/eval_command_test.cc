// `sopilot eval` driven as a user would: a labelled set of generated videos,
// the maintenance fixture, JSON, exit codes. No assertion depends on a score:
// the scoring rules change; the structure and the matching must not.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "testing/command.h"
#include "testing/temp_dir.h"
#include "testing/test_videos.h"

namespace sopilot {
namespace {

using nlohmann::json;
using testing::CommandResult;
using testing::ShellQuote;

CommandResult Sopilot(const std::string& args) { return testing::RunCommand(std::string(SOPILOT_BIN) + " " + args); }

// Four 4 s steps; "missing" leaves out the second, "swapped" does the third
// before the second.
constexpr const char* kLabels = R"({
  "task_id": "generated",
  "steps": ["open", "wipe", "fit", "close"],
  "videos": {
    "gold": {"timeline": [["open", 0, 4], ["wipe", 4, 8], ["fit", 8, 12], ["close", 12, 16]],
             "expected_deviations": []},
    "missing": {"timeline": [["open", 0, 4], ["fit", 4, 8], ["close", 8, 12]],
                "expected_deviations": [{"type": "step_missing", "gold_step": "wipe"}],
                "allowed_deviations": [{"type": "over_time", "gold_step": "fit"}]},
    "swapped": {"timeline": [["open", 0, 4], ["fit", 4, 8], ["wipe", 8, 12], ["close", 12, 16]],
                "expected_deviations": [{"type": "order_swap", "gold_steps": ["fit", "wipe"]}]}
  }
})";

class EvalCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir;
    const auto& s = testing::DistinctScenes();
    testing::MakeProcedureVideo(dir_->file("gold.mp4"), {{s[0], 4}, {s[1], 4}, {s[3], 4}, {s[5], 4}});
    testing::MakeProcedureVideo(dir_->file("missing.mp4"), {{s[0], 4}, {s[3], 4}, {s[5], 4}});
    testing::MakeProcedureVideo(dir_->file("swapped.mp4"), {{s[0], 4}, {s[3], 4}, {s[1], 4}, {s[5], 4}});
    Write("labels.json", kLabels);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static void Write(const std::string& name, const std::string& text) { std::ofstream(dir_->file(name)) << text; }
  static std::string File(const std::string& name) { return ShellQuote(dir_->file(name)); }

  static testing::TempDir* dir_;
};

testing::TempDir* EvalCliTest::dir_ = nullptr;

json RunJson(const std::string& args) {
  CommandResult r = Sopilot("eval --json " + args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? json::parse(r.out) : json::object();
}

const json& Pair(const json& file, const std::string& video) {
  for (const json& p : file["pairs"]) {
    if (p["video"] == video) return p;
  }
  ADD_FAILURE() << "no pair " << video;
  static const json none = json::object();
  return none;
}

// The counts must follow from the deviations' outcomes and the labels.
void ExpectConsistent(const json& out) {
  int expected = 0, found = 0, missed = 0, false_count = 0, allowed = 0;
  for (const json& f : out["files"]) {
    std::set<std::string> steps(f["steps"].begin(), f["steps"].end());
    for (const json& p : f["pairs"]) {
      SCOPED_TRACE(p["video"].get<std::string>());
      EXPECT_EQ(p["found"].get<int>() + p["missed"].get<int>(), p["expected"].get<int>());
      EXPECT_EQ(p["missed_labels"].size(), p["missed"].get<size_t>());
      int f_false = 0, f_allowed = 0, f_true = 0;
      for (const json& d : p["deviations"]) {
        std::string outcome = d["outcome"];
        f_false += outcome == "false";
        f_allowed += outcome == "allowed";
        f_true += outcome == "true";
        for (const json& name : d["labelled_steps"]) {
          if (name != "") {
            EXPECT_TRUE(steps.count(name.get<std::string>())) << name;
          }
        }
      }
      EXPECT_EQ(f_false, p["false"].get<int>());
      EXPECT_EQ(f_allowed, p["allowed"].get<int>());
      EXPECT_GE(f_true, p["found"].get<int>());  // several findings may match one label
      if (p["should_pass"].is_boolean()) {
        EXPECT_EQ(p["verdict_agrees"], (p["verdict"] == "pass") == p["should_pass"].get<bool>());
      }
      expected += p["expected"].get<int>();
      found += p["found"].get<int>();
      missed += p["missed"].get<int>();
      false_count += p["false"].get<int>();
      allowed += p["allowed"].get<int>();
    }
  }
  EXPECT_EQ(out["totals"]["expected"], expected);
  EXPECT_EQ(out["totals"]["found"], found);
  EXPECT_EQ(out["totals"]["missed"], missed);
  EXPECT_EQ(out["totals"]["false"], false_count);
  EXPECT_EQ(out["totals"]["allowed"], allowed);
}

TEST_F(EvalCliTest, JsonCountsFollowTheLabels) {
  json out = RunJson(File("labels.json"));
  ASSERT_EQ(out["files"].size(), 1u);
  const json& f = out["files"][0];
  EXPECT_EQ(f["task_id"], "generated");
  EXPECT_EQ(f["use_labelled_steps"], false);
  ASSERT_EQ(f["pairs"].size(), 3u);
  EXPECT_EQ(f["pairs"][0]["video"], "gold");  // the gold first, then file order
  EXPECT_EQ(f["pairs"][1]["video"], "missing");
  EXPECT_EQ(f["pairs"][2]["video"], "swapped");
  const json& gold = Pair(f, "gold");
  EXPECT_EQ(gold["expected"], 0);
  EXPECT_EQ(gold["missed"], 0);
  EXPECT_EQ(gold["should_pass"], true);
  EXPECT_EQ(Pair(f, "missing")["expected"], 1);
  EXPECT_EQ(Pair(f, "missing")["should_pass"], false);
  EXPECT_EQ(Pair(f, "swapped")["expected"], 1);
  EXPECT_EQ(Pair(f, "swapped")["should_pass"], false);
  EXPECT_EQ(out["totals"]["pairs"], 3);
  EXPECT_EQ(out["totals"]["expected"], 2);
  EXPECT_EQ(out["totals"]["verdicts_checked"], 3);
  ExpectConsistent(out);
  // Segmentation: three labelled boundaries (wipe, fit, close), each measured.
  const json& seg = f["segmentation"];
  EXPECT_EQ(seg["labelled_steps"], 4);
  EXPECT_GE(seg["found_steps"].get<int>(), 1);
  ASSERT_EQ(seg["boundaries"].size(), 3u);
  EXPECT_EQ(seg["boundaries"][0]["step"], "wipe");
  EXPECT_EQ(seg["boundaries"][0]["labelled_sec"], 4);
  double max = 0;
  for (const json& b : seg["boundaries"]) max = std::max(max, b["error_sec"].get<double>());
  EXPECT_DOUBLE_EQ(seg["max_error_sec"].get<double>(), max);
  // The counts within the tolerance agree with the boundaries listed.
  const double tolerance = seg["tolerance_sec"].get<double>();
  EXPECT_EQ(tolerance, 1.0);
  int within = 0;
  for (const json& b : seg["boundaries"]) within += b["error_sec"].get<double>() <= tolerance ? 1 : 0;
  EXPECT_EQ(seg["labelled_boundaries_found"], within);
  EXPECT_GE(seg["extra_boundaries_found"].get<int>(), 0);
  EXPECT_LE(seg["extra_boundaries_found"].get<int>(), seg["found_steps"].get<int>() - 1);
}

TEST_F(EvalCliTest, StrictExitCodeAgreesWithMissedAndFalse) {
  json out = RunJson(File("labels.json"));
  int disagreements = out["totals"]["missed"].get<int>() + out["totals"]["false"].get<int>();
  CommandResult r = Sopilot("eval --strict " + File("labels.json"));
  EXPECT_EQ(r.exit_code, disagreements > 0 ? 3 : 0) << r.out << r.err;
  // The gold against itself alone: nothing expected, so only a false finding fails it.
  Write("gold_only.json", R"({"steps": ["open", "wipe", "fit", "close"], "videos": {"gold": {"file": "gold.mp4",
      "timeline": [["open", 0, 4], ["wipe", 4, 8], ["fit", 8, 12], ["close", 12, 16]], "expected_deviations": []}}})");
  json gold = RunJson(File("gold_only.json"));
  ASSERT_EQ(gold["files"][0]["pairs"].size(), 1u);
  EXPECT_EQ(gold["totals"]["expected"], 0);
  r = Sopilot("eval --strict " + File("gold_only.json"));
  EXPECT_EQ(r.exit_code, gold["totals"]["false"].get<int>() > 0 ? 3 : 0) << r.out << r.err;
}

// Splits a table row into its first nine columns.
std::vector<std::string> Columns(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> cols;
  std::string c;
  while (cols.size() < 9 && in >> c) cols.push_back(c);
  return cols;
}

std::string LineStarting(const std::string& text, const std::string& start) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(start, 0) == 0) return line;
  }
  return "";
}

TEST_F(EvalCliTest, TableShowsEveryPairSegmentationAndTotal) {
  CommandResult r = Sopilot("eval " + File("labels.json"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json out = RunJson(File("labels.json"));
  EXPECT_NE(r.out.find(dir_->file("labels.json") + "  (task generated, gold \"gold\", 4 steps found automatically)"),
            std::string::npos)
      << r.out;
  std::vector<std::string> header = Columns(LineStarting(r.out, "pair "));
  EXPECT_EQ(header, (std::vector<std::string>{"pair", "score", "verdict", "agrees", "expected", "found", "missed",
                                              "false", "allowed"}))
      << r.out;
  for (const json& p : out["files"][0]["pairs"]) {
    std::vector<std::string> row = Columns(LineStarting(r.out, p["video"].get<std::string>() + " "));
    ASSERT_EQ(row.size(), 9u) << r.out;
    EXPECT_EQ(row[2], p["verdict"]);
    EXPECT_EQ(row[4], std::to_string(p["expected"].get<int>()));
    EXPECT_EQ(row[5], std::to_string(p["found"].get<int>()));
    EXPECT_EQ(row[6], std::to_string(p["missed"].get<int>()));
    EXPECT_EQ(row[7], std::to_string(p["false"].get<int>()));
    // Missed labels are named type(step).
    for (const json& l : p["missed_labels"]) {
      std::string what = l["type"].get<std::string>() + "(" +
                         (l.contains("gold_step") ? l["gold_step"].get<std::string>() : std::string()) ;
      EXPECT_NE(LineStarting(r.out, p["video"].get<std::string>() + " ").find("missed: " + what), std::string::npos)
          << r.out;
    }
  }
  EXPECT_EQ(Columns(LineStarting(r.out, "gold "))[4], "0");
  EXPECT_EQ(Columns(LineStarting(r.out, "missing "))[4], "1");
  EXPECT_NE(r.out.find("  segmentation: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("4 labelled; boundary error wipe "), std::string::npos) << r.out;
  const json& seg = out["files"][0]["segmentation"];
  EXPECT_NE(r.out.find("; within 1 s: " + std::to_string(seg["labelled_boundaries_found"].get<int>()) +
                       " of 3 labelled boundaries found, " +
                       std::to_string(seg["extra_boundaries_found"].get<int>()) + " found near none\n"),
            std::string::npos)
      << r.out;
  const json& t = out["files"][0]["totals"];
  EXPECT_NE(r.out.find("\n  this file: " + std::to_string(t["expected"].get<int>()) + " expected, " +
                       std::to_string(t["found"].get<int>()) + " found, " + std::to_string(t["missed"].get<int>()) +
                       " missed, " + std::to_string(t["false"].get<int>()) + " false, "),
            std::string::npos)
      << r.out;
  std::string total = LineStarting(r.out, "TOTAL ");
  ASSERT_FALSE(total.empty()) << r.out;
  EXPECT_NE(total.find("1 labels file, 3 pairs"), std::string::npos) << total;
  EXPECT_NE(total.find(" 2  "), std::string::npos) << total;  // expected: 2
}

TEST_F(EvalCliTest, LabelledStepsEmbeddingFilesAndSeveralLabelsFiles) {
  ASSERT_EQ(Sopilot("embed " + File("gold.mp4") + " --out " + File("gold.emb")).exit_code, 0);
  Write("labelled.json", R"({
    "steps": ["open", "wipe", "fit", "close"], "gold": "ref", "use_labelled_steps": true,
    "videos": {
      "missing": {"expected_deviations": [{"type": "step_missing", "gold_step": "wipe"}]},
      "ref": {"file": "gold.emb", "timeline": [["open", 0, 4], ["wipe", 4, 8], ["fit", 8, 12], ["close", 12, 16]],
              "expected_deviations": []},
      "swapped": {"expected_deviations": [{"type": "order_swap", "gold_steps": ["wipe", "fit"]}]}}})");
  json out = RunJson(File("labelled.json") + " " + File("labels.json"));
  ASSERT_EQ(out["files"].size(), 2u);
  const json& f = out["files"][0];
  EXPECT_EQ(f["use_labelled_steps"], true);
  EXPECT_EQ(f["gold"], "ref");
  EXPECT_EQ(f["pairs"][0]["video"], "ref");
  // The labelled steps were used: found boundaries are the labelled ones.
  EXPECT_EQ(f["segmentation"]["found_steps"], 4);
  EXPECT_EQ(f["segmentation"]["max_error_sec"], 0);
  EXPECT_EQ(f["segmentation"]["labelled_boundaries_found"], 3);
  EXPECT_EQ(f["segmentation"]["extra_boundaries_found"], 0);
  for (const json& p : f["pairs"]) {
    for (const json& d : p["deviations"]) {
      if (d["gold_step_name"].is_string()) {
        EXPECT_EQ(d["labelled_steps"][0], d["gold_step_name"]);
      }
    }
  }
  EXPECT_EQ(out["totals"]["pairs"], 6);
  EXPECT_EQ(out["totals"]["expected"], 4);
  ExpectConsistent(out);
}

// --baseline: an earlier run's JSON, compared per labels file and pair. The
// same run compared with itself changes nothing; a baseline with one pair
// doctored names that pair; a file that is no eval run is refused.
TEST_F(EvalCliTest, BaselineComparesWithAnEarlierRun) {
  CommandResult first = Sopilot("eval --json " + File("labels.json"));
  ASSERT_EQ(first.exit_code, 0) << first.err;
  Write("before.json", first.out);
  CommandResult same = Sopilot("eval " + File("labels.json") + " --baseline " + File("before.json"));
  ASSERT_EQ(same.exit_code, 0) << same.err;
  const std::string header = "compared with " + dir_->file("before.json") + " (found / missed / false, before -> after):";
  EXPECT_NE(same.out.find(header), std::string::npos) << same.out;
  std::string line = LineStarting(same.out, "generated, steps found ");
  ASSERT_FALSE(line.empty()) << same.out;
  EXPECT_EQ(line.find("changed"), std::string::npos) << line;
  EXPECT_EQ(same.out.find("<- changed"), std::string::npos) << same.out;

  json doctored = json::parse(first.out);
  json& pair = doctored["files"][0]["pairs"][1];
  const std::string video = pair["video"];
  pair["false"] = pair["false"].get<int>() + 2;
  doctored["files"][0]["totals"]["false"] = doctored["files"][0]["totals"]["false"].get<int>() + 2;
  Write("doctored.json", doctored.dump());
  json out = RunJson(File("labels.json") + " --baseline " + File("doctored.json"));
  ASSERT_TRUE(out.contains("baseline")) << out.dump();
  const json& b = out["baseline"];
  EXPECT_EQ(b["before"]["false"].get<int>(), b["after"]["false"].get<int>() + 2) << b.dump();
  ASSERT_EQ(b["files"][0]["changed_pairs"].size(), 1u) << b.dump();
  EXPECT_EQ(b["files"][0]["changed_pairs"][0]["video"], video);
  CommandResult text = Sopilot("eval " + File("labels.json") + " --baseline " + File("doctored.json"));
  EXPECT_NE(LineStarting(text.out, "generated, steps found ").find("<- changed"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("    " + video + ": "), std::string::npos) << text.out;

  for (const char* bad : {"{\"files\": 3}", "not json", ""}) {
    Write("bad.json", bad);
    CommandResult r = Sopilot("eval " + File("labels.json") + " --baseline " + File("bad.json"));
    EXPECT_EQ(r.exit_code, 1) << bad << ": " << r.out;
    EXPECT_NE(r.err.find("--baseline"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  CommandResult missing = Sopilot("eval " + File("labels.json") + " --baseline " + File("nowhere.json"));
  EXPECT_EQ(missing.exit_code, 1) << missing.out;
}

TEST_F(EvalCliTest, ErrorsAreOneLineAndExitCodesHold) {
  EXPECT_EQ(Sopilot("eval").exit_code, 2);
  EXPECT_EQ(Sopilot("eval --time-tolerance -1 " + File("labels.json")).exit_code, 2);
  struct Case {
    std::string name, text, message;
  } cases[] = {
      {"unknown_type.json",
       R"({"steps": ["a"], "videos": {"gold": {"timeline": [["a", 0, 4]], "expected_deviations": [{"type": "late"}]}}})",
       "unknown_type.json: videos.gold.expected_deviations[0]: unknown type \"late\""},
      {"unknown_step.json",
       R"({"steps": ["a"], "videos": {"gold": {"timeline": [["a", 0, 4]], "expected_deviations": []},
           "missing": {"expected_deviations": [{"type": "step_missing", "gold_step": "b"}]}}})",
       "videos.missing.expected_deviations[0].gold_step: unknown step \"b\""},
      {"no_gold.json", R"({"steps": ["a"], "videos": {"missing": {"expected_deviations": []}}})",
       "has no gold video \"gold\""},
      {"no_file.json",
       R"({"steps": ["a"], "videos": {"gold": {"timeline": [["a", 0, 4]], "expected_deviations": []},
           "other": {"expected_deviations": []}}})",
       "videos.other: file " + dir_->file("other.mp4") + " does not exist"},
      {"not_video.json",
       R"({"steps": ["a"], "videos": {"gold": {"timeline": [["a", 0, 4]], "expected_deviations": []},
           "text": {"file": "not_video.json", "expected_deviations": []}}})",
       "not_video.json: videos.text: "},
  };
  for (const Case& c : cases) {
    Write(c.name, c.text);
    CommandResult r = Sopilot("eval " + File("labels.json") + " " + File(c.name));
    EXPECT_EQ(r.exit_code, 1) << c.name << ": " << r.out;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.rfind("sopilot: error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.name << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;  // nothing half-printed
  }
  CommandResult r = Sopilot("eval " + File("nope.json"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("nope.json"), std::string::npos) << r.err;
}

// The maintenance fixture, as shipped in ../shared.
TEST(EvalFixtureTest, MaintenanceLabelsWorkAsTheyAre) {
  std::string dir = testing::SharedFixtureDir();
  if (dir.empty()) {
    GTEST_SKIP() << "../shared/fixtures/maintenance_filter_swap is absent (a clone without the shared fixtures); "
                    "the generated labelled set in EvalCliTest covers `sopilot eval`";
  }
  std::string labels = ShellQuote(dir + "/labels.json");
  CommandResult r = Sopilot("eval --json " + labels);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json out = json::parse(r.out);
  ASSERT_EQ(out["files"].size(), 1u);
  const json& f = out["files"][0];
  EXPECT_EQ(f["task_id"], "maintenance_filter_swap");
  ASSERT_EQ(f["pairs"].size(), 6u);
  EXPECT_EQ(f["pairs"][0]["video"], "gold");
  EXPECT_EQ(Pair(f, "gold")["expected"], 0);
  EXPECT_EQ(Pair(f, "missing")["expected"], 1);
  EXPECT_EQ(Pair(f, "swap")["expected"], 1);
  EXPECT_EQ(Pair(f, "mixed")["expected"], 2);
  EXPECT_EQ(out["totals"]["expected"], 6);
  EXPECT_EQ(out["totals"]["verdicts_checked"], 4);  // gold should pass; missing, swap, mixed should not
  EXPECT_EQ(f["segmentation"]["labelled_steps"], 4);
  EXPECT_EQ(f["segmentation"]["boundaries"].size(), 3u);
  ExpectConsistent(out);
  int disagreements = out["totals"]["missed"].get<int>() + out["totals"]["false"].get<int>();
  CommandResult strict = Sopilot("eval --strict " + labels);
  EXPECT_EQ(strict.exit_code, disagreements > 0 ? 3 : 0) << strict.out << strict.err;
  EXPECT_NE(strict.out.find("TOTAL "), std::string::npos) << strict.out;
}

}  // namespace
}  // namespace sopilot
