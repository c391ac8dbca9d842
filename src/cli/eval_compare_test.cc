#include "cli/eval_compare.h"

#include <gtest/gtest.h>

namespace sopilot::cli {
namespace {

using nlohmann::json;

json Pair(const std::string& video, int found, int missed, int false_count, const std::string& verdict) {
  return {{"video", video}, {"found", found}, {"missed", missed}, {"false", false_count}, {"verdict", verdict}};
}

json File(const std::string& labels, const std::string& task, json use_labelled, json pairs) {
  int found = 0, missed = 0, false_count = 0;
  for (const json& p : pairs) {
    found += p["found"].get<int>();
    missed += p["missed"].get<int>();
    false_count += p["false"].get<int>();
  }
  return {{"labels", labels},
          {"task_id", task},
          {"use_labelled_steps", use_labelled},
          {"pairs", pairs},
          {"totals", {{"found", found}, {"missed", missed}, {"false", false_count}}}};
}

TEST(EvalCompareTest, NamesTheFilesAndPairsThatChanged) {
  json before = {{"files",
                  {File("/a/labels.json", "handwash", false,
                        {Pair("gold", 0, 0, 0, "pass"), Pair("take008", 2, 1, 15, "fail")}),
                   File("/a/labels-labelled-steps.json", "handwash", true, {Pair("gold", 0, 0, 0, "pass")})}}};
  json after = {{"files",
                 {File("/a/labels.json", "handwash", false,
                       {Pair("gold", 0, 0, 0, "pass"), Pair("take008", 3, 0, 20, "fail")}),
                  File("/a/labels-labelled-steps.json", "handwash", true, {Pair("gold", 0, 0, 0, "pass")})}}};
  auto c = CompareEvalRuns(before, after);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->files.size(), 2u);
  EXPECT_EQ(c->files[0].name, "handwash, steps found");
  EXPECT_EQ(c->files[0].before.Text(), "2/1/15");
  EXPECT_EQ(c->files[0].after.Text(), "3/0/20");
  ASSERT_EQ(c->files[0].changed.size(), 1u);
  EXPECT_EQ(c->files[0].changed[0].video, "take008");
  EXPECT_EQ(c->files[1].name, "handwash, steps labelled");
  EXPECT_TRUE(c->files[1].changed.empty());
  EXPECT_EQ(c->before.Text(), "2/1/15");
  EXPECT_EQ(c->after.Text(), "3/0/20");
  const std::string text = ComparisonText(*c, "before.json");
  EXPECT_NE(text.find("compared with before.json"), std::string::npos) << text;
  EXPECT_NE(text.find("\nhandwash, steps found         2/1/15 -> 3/0/20      <- changed\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("    take008: 2/1/15 fail -> 3/0/20 fail\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nhandwash, steps labelled       0/0/0 -> 0/0/0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nTOTAL                         2/1/15 -> 3/0/20      <- changed\n"), std::string::npos) << text;
  json j = ComparisonJson(*c, "before.json");
  EXPECT_EQ(j["after"]["false"], 20);
  EXPECT_EQ(j["files"][0]["changed_pairs"][0]["before"]["false"], 15);
}

// Sets move (another work directory): a file is then found by its task and
// kind of steps. Files and pairs in one run only are listed, not refused.
TEST(EvalCompareTest, MovedNewAndGoneFilesAndPairs) {
  json before = {{"files",
                  {File("/old/labels.json", "fixtures", false, {Pair("gold", 0, 0, 0, "pass"), Pair("old", 1, 0, 0, "fail")}),
                   File("/old/gone.json", "retired", false, {Pair("gold", 0, 0, 1, "needs_review")})}}};
  json after = {{"files",
                 {File("/new/labels.json", "fixtures", false, {Pair("gold", 0, 0, 0, "pass"), Pair("new", 0, 1, 0, "pass")}),
                  File("/new/added.json", "added", "names", {Pair("gold", 0, 0, 0, "pass")})}}};
  auto c = CompareEvalRuns(before, after);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->files.size(), 3u);
  EXPECT_EQ(c->files[0].name, "fixtures, steps found");
  EXPECT_TRUE(c->files[0].in_before && c->files[0].in_after);
  ASSERT_EQ(c->files[0].changed.size(), 2u);
  EXPECT_EQ(c->files[0].changed[0].video, "new");
  EXPECT_EQ(c->files[0].changed[0].verdict_before, "-");
  EXPECT_EQ(c->files[0].changed[1].video, "old");
  EXPECT_EQ(c->files[0].changed[1].verdict_after, "-");
  EXPECT_EQ(c->files[1].name, "added, steps named");
  EXPECT_FALSE(c->files[1].in_before);
  EXPECT_EQ(c->files[2].name, "retired, steps found");
  EXPECT_FALSE(c->files[2].in_after);
  EXPECT_EQ(c->before.Text(), "1/0/1");
  EXPECT_EQ(c->after.Text(), "0/1/0");
  const std::string text = ComparisonText(*c, "b.json");
  EXPECT_NE(text.find("(new)"), std::string::npos) << text;
  EXPECT_NE(text.find("(gone)"), std::string::npos) << text;
  EXPECT_NE(text.find("    new: - -> 0/1/0 pass"), std::string::npos) << text;
}

TEST(EvalCompareTest, AnythingButAnEvalRunIsRefused) {
  const json run = {{"files", json::array()}};
  for (const json& bad : {json(nullptr), json::array(), json{{"totals", {}}}, json{{"files", {{{"labels", "x"}}}}}}) {
    auto c = CompareEvalRuns(bad, run);
    EXPECT_FALSE(c.ok()) << bad.dump();
    EXPECT_EQ(c.status().code(), Status::Code::kInvalidArgument);
  }
  EXPECT_TRUE(CompareEvalRuns(run, run).ok());
}

}  // namespace
}  // namespace sopilot::cli
