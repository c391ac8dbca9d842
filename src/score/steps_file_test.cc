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
