#include "watch/watch_rules.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>

namespace sopilot::watch {
namespace {

Placement Place(const std::string& rel, const WatchRules& rules = {}) {
  auto p = PlaceFile(rel, rules);
  EXPECT_TRUE(p.ok()) << rel << ": " << p.status().ToString();
  return p.ok() ? *p : Placement{};
}

TEST(WatchRulesTest, TaskAndRoleFromTheLayout) {
  EXPECT_EQ(Place("filter/gold/a.mp4").task_id, "filter");
  EXPECT_EQ(Place("filter/gold/a.mp4").role, "gold");
  EXPECT_EQ(Place("filter/gold/a.mp4").why, "directory");
  EXPECT_EQ(Place("Filter-X/TRAINEE/a.mp4").task_id, "Filter-X") << "the task keeps its case";
  EXPECT_EQ(Place("Filter-X/TRAINEE/a.mp4").role, "trainee") << "the role is lower-cased";
  EXPECT_EQ(Place("filter/site1/audit/a.mp4").role, "audit") << "p[2]";
  EXPECT_EQ(Place("filter/a/b/c/gold/a.mp4").role, "gold") << "p[n-2]";
  EXPECT_EQ(Place("filter/a/gold/c/d/a.mp4").role, "gold") << "p[2]";
  EXPECT_EQ(Place("filter/a/b/gold/d/a.mp4").role, "trainee") << "p[3] of 6 is not looked at";
  // A file named like a role is not a directory.
  EXPECT_EQ(Place("filter/x/gold").role, "trainee");
}

TEST(WatchRulesTest, RoleFromNamePatternsThenDefault) {
  EXPECT_EQ(Place("filter/cam1_gold.mp4").role, "gold");
  EXPECT_EQ(Place("filter/cam1_gold.mp4").why, "name pattern");
  EXPECT_EQ(Place("filter/cam1_Trainee.MOV").role, "trainee");
  EXPECT_EQ(Place("filter/cam1.mp4").role, "trainee");
  EXPECT_EQ(Place("filter/cam1.mp4").why, "default");
  WatchRules r;
  r.default_role = "audit";
  r.gold_pattern = "GOLD-*";
  r.trainee_pattern = "*-t.*";
  EXPECT_EQ(Place("filter/gold-1.mp4", r).role, "gold");
  EXPECT_EQ(Place("filter/x-t.mp4", r).role, "trainee");
  EXPECT_EQ(Place("filter/cam1_gold.mp4", r).role, "audit");
  // The layout wins over the name.
  EXPECT_EQ(Place("filter/trainee/x_gold.mp4").role, "trainee");
}

TEST(WatchRulesTest, RootFilesNeedADefaultTask) {
  auto none = PlaceFile("x_gold.mp4", {});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(none.status().message().find("cannot tell the task of 'x_gold.mp4'"), std::string::npos);
  EXPECT_NE(none.status().message().find("--task"), std::string::npos);
  WatchRules r;
  r.default_task = "filter";
  EXPECT_EQ(Place("x_gold.mp4", r).task_id, "filter");
  EXPECT_EQ(Place("x_gold.mp4", r).role, "gold");
  // DIR/<role>/file: the role, and the default task (the original took the
  // role for a task name).
  EXPECT_EQ(Place("gold/x.mp4", r).task_id, "filter");
  EXPECT_EQ(Place("gold/x.mp4", r).role, "gold");
  EXPECT_FALSE(PlaceFile("gold/x.mp4", {}).ok());
}

TEST(WatchRulesTest, VideosAndHiddenPaths) {
  for (const char* yes : {"a.mp4", "a.MP4", "a.mov", "a.m4v", "a.avi", "a.mkv", "a.webm", "x.y.Mov"}) {
    EXPECT_TRUE(HasVideoExtension(yes)) << yes;
  }
  for (const char* no : {"a.txt", "a.mp4.part", "mp4", ".mp4", "a", "a.crdownload", "a.mp4~"}) {
    EXPECT_FALSE(HasVideoExtension(no)) << no;
  }
  EXPECT_TRUE(IsHiddenPath(".processing/x.mp4"));
  EXPECT_TRUE(IsHiddenPath("task/.x.mp4.Ab12Cd"));
  EXPECT_TRUE(IsHiddenPath("task/.git/gold/x.mp4"));
  EXPECT_FALSE(IsHiddenPath("task/gold/x.mp4"));
}

TEST(WatchRulesTest, TagIsTheOriginals) {
  std::string tag = MakeTag(1770543961.7, "0a1b2c3d", "my video (1).mp4");
  EXPECT_EQ(tag, "20260208T094601Z_0a1b2c3d_my_video__1_.mp4");
}

TEST(WatchRulesTest, OptionsFromEnvironment) {
  std::map<std::string, std::string> env = {{"SOPILOT_WATCH_DIR", "/in"},
                                            {"SOPILOT_WATCH_TASK_ID", " filter "},
                                            {"SOPILOT_WATCH_ROLE", "Gold"},
                                            {"SOPILOT_WATCH_GOLD_PATTERN", "g_*"},
                                            {"SOPILOT_WATCH_TRAINEE_PATTERN", "t_*"},
                                            {"SOPILOT_WATCH_SETTLE_SEC", "0.5"},
                                            {"SOPILOT_WATCH_POLL_SEC", "2"}};
  auto get = [&](const char* n) -> const char* {
    auto it = env.find(n);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  auto o = WatchOptionsFromEnvironment(get);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->dir, "/in");
  EXPECT_EQ(o->rules.default_task, "filter");
  EXPECT_EQ(o->rules.default_role, "gold");
  EXPECT_EQ(o->rules.gold_pattern, "g_*");
  EXPECT_EQ(o->rules.trainee_pattern, "t_*");
  EXPECT_DOUBLE_EQ(o->settle_sec, 0.5);
  EXPECT_DOUBLE_EQ(o->rescan_sec, 2);
  EXPECT_TRUE(ValidateWatchOptions(*o).ok());

  env = {{"SOPILOT_WATCH_SETTLE_SEC", "soon"}, {"SOPILOT_WATCH_POLL_SEC", "x"}};
  auto bad = WatchOptionsFromEnvironment(get);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("SOPILOT_WATCH_SETTLE_SEC"), std::string::npos);
  EXPECT_NE(bad.status().message().find("SOPILOT_WATCH_POLL_SEC"), std::string::npos);

  WatchOptions w;
  w.rules.default_role = "boss";
  w.settle_sec = -1;
  w.rules.gold_pattern = "";
  Status st = ValidateWatchOptions(w);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("'boss'"), std::string::npos);
  EXPECT_NE(st.message().find("settle"), std::string::npos);
  EXPECT_NE(st.message().find("gold pattern"), std::string::npos);
}

}  // namespace
}  // namespace sopilot::watch
