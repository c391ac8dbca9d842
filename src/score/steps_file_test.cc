#include "score/steps_file.h"

#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace sopilot {
namespace {

TEST(StepsFileTest, ReadsObjectAndBareArray) {
  auto a = ParseStepsJson(R"({"steps": [{"name": "REMOVE", "start_sec": 0, "end_sec": 6},
                                         {"name": "CLEAN", "start_sec": 6, "end_sec": 12.5}]})");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_EQ(a->size(), 2u);
  EXPECT_EQ((*a)[1].name, "CLEAN");
  EXPECT_DOUBLE_EQ((*a)[1].gold_time.end_sec, 12.5);
  auto b = ParseStepsJson(R"([{"start_sec": 1, "end_sec": 2}])");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)[0].name, "step 1");  // unnamed steps get a number
}

TEST(StepsFileTest, RejectsWhatCannotBeSteps) {
  for (const char* bad : {"not json", "{}", R"({"steps": []})", R"({"steps": [{"name": "a", "start_sec": 0}]})",
                          R"({"steps": [{"name": "a", "start_sec": 5, "end_sec": 2}]})",
                          R"({"steps": [{"name": "a", "start_sec": -1, "end_sec": 2}]})",
                          R"({"steps": [{"name": "a", "start_sec": 0, "end_sec": 4},
                                        {"name": "b", "start_sec": 3, "end_sec": 6}]})",
                          R"({"steps": [{"name": "", "start_sec": 0, "end_sec": 4}]})",
                          R"({"steps": [{"name": "a", "start_sec": "zero", "end_sec": 4}]})"}) {
    auto r = ParseStepsJson(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << bad;
  }
  auto overlap = ParseStepsJson(R"([{"name": "a", "start_sec": 0, "end_sec": 4}, {"name": "b", "start_sec": 3, "end_sec": 6}])");
  EXPECT_NE(overlap.status().message().find("step 2 (b)"), std::string::npos) << overlap.status().message();
}

TEST(StepsFileTest, ReadsTheRulesOfAnSopAndWritesThemBack) {
  auto r = ParseStepsJson(R"({"task_id": "t", "version": 3, "steps": [
      {"name": "Lockout", "start_sec": 0, "end_sec": 5, "critical": true, "description": "Lock the breaker.\nTag it."},
      {"name": "Check A", "start_sec": 5, "end_sec": 8, "any_order_group": "checks", "time_tolerance": 0.5},
      {"name": "Check B", "start_sec": 8, "end_sec": 11, "any_order_group": "checks", "optional": true}]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE((*r)[0].rules.critical);
  EXPECT_EQ((*r)[0].rules.description, "Lock the breaker.\nTag it.");
  EXPECT_FALSE((*r)[0].rules.time_tolerance.has_value());
  EXPECT_DOUBLE_EQ((*r)[1].rules.time_tolerance.value_or(-1), 0.5);
  EXPECT_EQ((*r)[2].rules.any_order_group, "checks");
  EXPECT_TRUE((*r)[2].rules.optional);
  // Written back and read again: the same steps; defaults are left out.
  nlohmann::json out = StepsToJson(*r);
  EXPECT_FALSE(out[1].contains("critical"));
  auto again = StepsFromJson(nlohmann::json{{"steps", out}});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(StepsToJson(*again), out);
}

TEST(StepsFileTest, RefusesRulesThatCannotHoldAndNamesTheField) {
  struct Case {
    const char* json;
    const char* says;
  };
  for (const Case& c : std::vector<Case>{
           {R"([{"name": "a", "start_sec": 0, "end_sec": 4, "critcal": true}])", "unknown field \"critcal\""},
           {R"([{"name": "a", "start_sec": 0, "end_sec": 4, "critical": "yes"}])", "critical must be true or false"},
           {R"([{"name": "a", "start_sec": 0, "end_sec": 4, "critical": true, "optional": true}])",
            "both critical and optional"},
           {R"([{"name": "a", "start_sec": 0, "end_sec": 4, "time_tolerance": -0.1}])", "time_tolerance"},
           {R"([{"name": "a", "start_sec": 0, "end_sec": 4}, {"name": "a", "start_sec": 4, "end_sec": 6}])",
            "same name"},
           {R"([{"name": "a\u0007", "start_sec": 0, "end_sec": 4}])", "control character"},
           {R"([{"name": "a", "start_sec": 0, "end_sec": 4, "any_order_group": "g"},
                {"name": "b", "start_sec": 4, "end_sec": 6},
                {"name": "c", "start_sec": 6, "end_sec": 8, "any_order_group": "g"}])", "consecutive"}}) {
    auto r = ParseStepsJson(c.json);
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.says), std::string::npos) << r.status().message();
  }
}

TEST(StepsFileTest, StepsNamedWithoutTimesAreToBePlaced) {
  auto r = ParseStepsJson(R"({"steps": [{"name": "open"}, {"name": "clean", "critical": true}, {"name": "close"}]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 3u);
  for (const StepSpec& s : *r) EXPECT_FALSE(s.timed) << s.name;
  EXPECT_TRUE((*r)[1].rules.critical);
  // Written back without times, and read again the same.
  nlohmann::json j = StepsToJson(*r);
  EXPECT_FALSE(j[0].contains("start_sec"));
  auto again = StepsFromJson(j);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE((*again)[2].timed);
  EXPECT_EQ((*again)[2].name, "close");
  // Times on some steps only, or half a time, are errors that say so.
  auto mixed = ParseStepsJson(R"([{"name": "a", "start_sec": 0, "end_sec": 4}, {"name": "b"}])");
  ASSERT_FALSE(mixed.ok());
  EXPECT_NE(mixed.status().message().find("step 2 (b): give start_sec and end_sec on every step or on none"),
            std::string::npos)
      << mixed.status().message();
  auto half = ParseStepsJson(R"([{"name": "a", "end_sec": 4}])");
  ASSERT_FALSE(half.ok());
  EXPECT_NE(half.status().message().find("give both start_sec and end_sec, or neither"), std::string::npos)
      << half.status().message();
}

TEST(StepsFileTest, FileErrorsNameTheFile) {
  testing::TempDir dir;
  auto r = ReadStepsFile(Env::Default(), dir.file("steps.json"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("steps.json"), std::string::npos);
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), dir.file("bad.json"), "[1, 2").ok());
  r = ReadStepsFile(Env::Default(), dir.file("bad.json"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("bad.json"), std::string::npos);
}

}  // namespace
}  // namespace sopilot
