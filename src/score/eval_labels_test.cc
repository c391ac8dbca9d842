#include "score/eval_labels.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "testing/temp_dir.h"

namespace sopilot {
namespace {

// The fixture's format (../shared/fixtures/maintenance_filter_swap/labels.json), shortened.
constexpr const char* kLabels = R"({
  "task_id": "filters",
  "about": "ignored",
  "steps": ["REMOVE", "CLEAN", "SWAP", "CHECK"],
  "videos": {
    "gold": {"timeline": [["REMOVE", 0, 6], ["CLEAN", 6, 12], ["SWAP", 12, 18], ["CHECK", 18, 24]],
             "expected_deviations": [], "allowed_deviations": []},
    "missing": {"timeline": [["REMOVE", 0, 6], ["SWAP", 6, 12], ["CHECK", 12, 24]],
                "expected_deviations": [{"type": "step_missing", "gold_step": "CLEAN"}],
                "allowed_deviations": []},
    "mixed": {"timeline": [["REMOVE", 0, 6], ["SWAP", 6, 13.2], ["CLEAN", 13.2, 19.2], ["CHECK", 19.2, 24]],
              "expected_deviations": [{"type": "order_swap", "gold_steps": ["CLEAN", "SWAP"]},
                                      {"type": "over_time", "gold_step": "SWAP"}],
              "allowed_deviations": [{"type": "execution_deviation", "gold_step": "CLEAN", "note": "overlay"}]},
    "busy": {"file": "takes/busy.emb", "idle": [[20, 24]],
             "expected_deviations": [{"type": "extra_segment", "trainee_time": [20, 24]}]}
  }
})";

EvalLabels Parse(const std::string& text = kLabels) {
  auto labels = ParseEvalLabels(text, "/data/set");
  EXPECT_TRUE(labels.ok()) << labels.status().ToString();
  return labels.ok() ? *labels : EvalLabels{};
}

const LabelledVideo& Video(const EvalLabels& labels, const std::string& name) {
  for (const LabelledVideo& v : labels.videos) {
    if (v.name == name) return v;
  }
  ADD_FAILURE() << "no video " << name;
  return labels.videos.front();
}

// Steps as the segmenter names them ("step 1"...), at the given gold starts;
// the last ends at `end`.
ScoreReport Report(const std::vector<double>& starts, double end = 24) {
  ScoreReport r;
  r.score = 100;
  r.verdict = "pass";
  for (size_t k = 0; k < starts.size(); ++k) {
    StepResult s;
    s.index = static_cast<int>(k);
    s.name = "step " + std::to_string(k + 1);
    s.gold_time = {starts[k], k + 1 < starts.size() ? starts[k + 1] : end};
    r.steps.push_back(s);
  }
  return r;
}

StepRef Ref(const ScoreReport& r, int k) {
  StepRef ref;
  ref.index = k;
  ref.name = r.steps[k].name;
  ref.gold_time = r.steps[k].gold_time;
  return ref;
}

void AddDeviation(ScoreReport* r, const std::string& type, int k, int other = -1) {
  Deviation d;
  d.type = type;
  d.step = Ref(*r, k);
  if (other >= 0) d.other = Ref(*r, other);
  r->deviations.push_back(d);
}

void AddExtra(ScoreReport* r, double start, double end) {
  Deviation d;
  d.type = kExtraSegment;
  d.step.trainee_time = TimeSpan{start, end};
  r->deviations.push_back(d);
}

TEST(EvalLabelsTest, ParsesTheFixtureFormat) {
  EvalLabels labels = Parse();
  EXPECT_EQ(labels.task_id, "filters");
  EXPECT_EQ(labels.steps, (std::vector<std::string>{"REMOVE", "CLEAN", "SWAP", "CHECK"}));
  EXPECT_EQ(labels.gold, "gold");
  EXPECT_FALSE(labels.use_labelled_steps);
  ASSERT_EQ(labels.videos.size(), 4u);
  // The gold first, then file order (not alphabetical).
  EXPECT_EQ(labels.videos[0].name, "gold");
  EXPECT_EQ(labels.videos[1].name, "missing");
  EXPECT_EQ(labels.videos[2].name, "mixed");
  EXPECT_EQ(labels.videos[3].name, "busy");
  EXPECT_EQ(labels.videos[0].file, "/data/set/gold.mp4");
  EXPECT_EQ(labels.videos[3].file, "/data/set/takes/busy.emb");
  ASSERT_EQ(labels.gold_video().timeline.size(), 4u);
  EXPECT_EQ(labels.gold_video().timeline[2].name, "SWAP");
  EXPECT_DOUBLE_EQ(labels.gold_video().timeline[2].time.start_sec, 12);
  const LabelledVideo& mixed = Video(labels, "mixed");
  ASSERT_EQ(mixed.expected.size(), 2u);
  EXPECT_EQ(mixed.expected[0].type, "order_swap");
  EXPECT_EQ(mixed.expected[0].gold_steps, (std::vector<std::string>{"CLEAN", "SWAP"}));
  ASSERT_EQ(mixed.allowed.size(), 1u);
  EXPECT_EQ(mixed.allowed[0].note, "overlay");
  const LabelledVideo& busy = Video(labels, "busy");
  EXPECT_TRUE(busy.timeline.empty());
  ASSERT_EQ(busy.idle.size(), 1u);
  ASSERT_TRUE(busy.expected[0].trainee_time);
  EXPECT_DOUBLE_EQ(busy.expected[0].trainee_time->end_sec, 24);
  std::vector<StepSpec> specs = labels.GoldSteps();
  ASSERT_EQ(specs.size(), 4u);
  EXPECT_EQ(specs[3].name, "CHECK");
  EXPECT_DOUBLE_EQ(specs[3].gold_time.start_sec, 18);
}

TEST(EvalLabelsTest, OptionalFields) {
  auto labels = ParseEvalLabels(R"({"steps": ["a", "b"], "gold": "ref", "use_labelled_steps": true,
      "videos": {"t1": {"file": "/abs/t1.mp4", "expected_deviations": []},
                 "ref": {"file": "ref.emb", "timeline": [["a", 0, 3], ["b", 3, 7]], "expected_deviations": []}}})",
                                "");
  ASSERT_TRUE(labels.ok()) << labels.status().ToString();
  EXPECT_EQ(labels->gold, "ref");
  EXPECT_TRUE(labels->use_labelled_steps);
  EXPECT_EQ(labels->videos[0].name, "ref");
  EXPECT_EQ(labels->videos[0].file, "ref.emb");
  EXPECT_EQ(labels->videos[1].file, "/abs/t1.mp4");
  EXPECT_TRUE(labels->videos[1].allowed.empty());
  EXPECT_TRUE(labels->steps_given());

  // "names": the labelled names without their times, placed by the scorer.
  auto named = ParseEvalLabels(R"({"steps": ["a", "b"], "use_labelled_steps": "names",
      "videos": {"gold": {"timeline": [["a", 0, 3], ["b", 3, 7]], "expected_deviations": []}}})", "");
  ASSERT_TRUE(named.ok()) << named.status().ToString();
  EXPECT_FALSE(named->use_labelled_steps);
  EXPECT_TRUE(named->place_labelled_names);
  EXPECT_TRUE(named->steps_given());
  std::vector<StepSpec> specs = named->GoldSteps();
  ASSERT_EQ(specs.size(), 2u);
  EXPECT_EQ(specs[1].name, "b");
  EXPECT_FALSE(specs[1].timed);
}

// Each bad file fails with InvalidArgument and a message naming the problem.
TEST(EvalLabelsTest, BadLabelsSayWhatIsWrong) {
  const std::string gold = R"("gold": {"timeline": [["a", 0, 3], ["b", 3, 7]], "expected_deviations": []})";
  auto with = [&](const std::string& trainee) {
    return R"({"steps": ["a", "b"], "videos": {)" + gold + R"(, "t": )" + trainee + "}}";
  };
  struct Case {
    std::string text, message;
  } cases[] = {
      {"not json", "not valid JSON"},
      {"[1]", "JSON object"},
      {R"({"videos": {}})", "missing \"steps\""},
      {R"({"steps": [], "videos": {}})", "steps: must be a non-empty array"},
      {R"({"steps": ["a", "a"], "videos": {}})", "steps[1]: \"a\" is listed twice"},
      {R"({"steps": ["a", "b"]})", "missing \"videos\""},
      {R"({"steps": ["a", "b"], "videos": {"ref": {"expected_deviations": []}}})", "has no gold video \"gold\""},
      {R"({"steps": ["a", "b"], "gold": "x", "videos": {)" + gold + "}}", "has no gold video \"x\" (named by \"gold\")"},
      {R"({"steps": ["a", "b"], "use_labelled_steps": "yes", "videos": {)" + gold + "}}",
       "use_labelled_steps: must be true, false or \"names\""},
      {R"({"steps": ["a", "b"], "videos": {"gold": {"expected_deviations": []}}})",
       "videos.gold: the gold video needs a \"timeline\""},
      {R"({"steps": ["a", "b"], "videos": {"gold": {"timeline": [["a", 0, 3], ["b", 3, 7]]}}})",
       "videos.gold: missing \"expected_deviations\""},
      {R"({"steps": ["a", "b"], "videos": {"gold": {"timeline": [["b", 0, 3], ["a", 3, 7]], "expected_deviations": []}}})",
       "videos.gold.timeline[0]: is \"b\" but \"steps\" has \"a\""},
      {R"({"steps": ["a", "b"], "videos": {"gold": {"timeline": [["a", 0, 3]], "expected_deviations": []}}})",
       "must list each of the 2 steps once"},
      {R"({"steps": ["a", "b"], "videos": {"gold": {"timeline": [["a", 0, 4], ["b", 3, 7]], "expected_deviations": []}}})",
       "videos.gold.timeline[1]: starts before the step above it ends"},
      {R"({"steps": ["a", "b"], "videos": {"gold": {"timeline": [["a", 0, 3], ["c", 3, 7]], "expected_deviations": []}}})",
       "videos.gold.timeline[1]: unknown step \"c\""},
      {R"({"steps": ["a", "b"], "videos": {"gold": {"timeline": [["a", 3, 0], ["b", 3, 7]], "expected_deviations": []}}})",
       "videos.gold.timeline[0]: needs 0 <= start < end"},
      {R"({"steps": ["a", "b"], "videos": {"gold": {"timeline": [["a", "0", 3], ["b", 3, 7]], "expected_deviations": []}}})",
       "videos.gold.timeline[0]: must be [step, start, end], start and end in seconds"},
      {with(R"({"expected_deviations": [{"gold_step": "a"}]})"), "videos.t.expected_deviations[0]: missing \"type\""},
      {with(R"({"expected_deviations": [{"type": "step_skipped", "gold_step": "a"}]})"),
       "videos.t.expected_deviations[0]: unknown type \"step_skipped\""},
      {with(R"({"expected_deviations": [{"type": "step_missing"}]})"),
       "videos.t.expected_deviations[0]: step_missing needs \"gold_step\""},
      {with(R"({"expected_deviations": [{"type": "over_time", "gold_step": "z"}]})"),
       "videos.t.expected_deviations[0].gold_step: unknown step \"z\""},
      {with(R"({"expected_deviations": [], "allowed_deviations": [{"type": "order_swap", "gold_steps": ["a"]}]})"),
       "videos.t.allowed_deviations[0].gold_steps: must be [A, B]"},
      {with(R"({"expected_deviations": [{"type": "order_swap", "gold_steps": ["a", "q"]}]})"),
       "videos.t.expected_deviations[0].gold_steps[1]: unknown step \"q\""},
      {with(R"({"expected_deviations": [{"type": "order_swap", "gold_steps": ["a", "a"]}]})"), "names one step twice"},
      {with(R"({"expected_deviations": [{"type": "extra_segment"}]})"),
       "extra_segment needs \"trainee_time\""},
      {with(R"({"expected_deviations": [{"type": "extra_segment", "trainee_time": [5]}]})"),
       "trainee_time: must be [start, end]"},
      {with(R"({"expected_deviations": {}})"), "videos.t.expected_deviations: must be an array"},
      {with(R"({"file": 3, "expected_deviations": []})"), "videos.t.file: must be a non-empty path"},
      {with(R"({"idle": [[4, 2]], "expected_deviations": []})"), "videos.t.idle[0]: needs 0 <= start < end"},
      {with(R"({"timeline": [["a", 5, 6], ["b", 0, 3]], "expected_deviations": []})"),
       "videos.t.timeline[1]: starts before the entry above it"},
  };
  for (const Case& c : cases) {
    auto r = ParseEvalLabels(c.text, "");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << c.text;
    EXPECT_NE(r.status().message().find(c.message), std::string::npos)
        << "wanted \"" << c.message << "\" in: " << r.status().message();
  }
}

TEST(EvalLabelsTest, ReadChecksTheFilesAndNamesTheLabelsFile) {
  testing::TempDir dir;
  std::string path = dir.file("labels.json");
  std::ofstream(path) << R"({"steps": ["a", "b"], "videos": {
      "gold": {"timeline": [["a", 0, 3], ["b", 3, 7]], "expected_deviations": []},
      "t": {"file": "sub/t.emb", "expected_deviations": []}}})";
  auto r = ReadEvalLabels(Env::Default(), path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  EXPECT_NE(r.status().message().find(path + ": videos.gold: file " + dir.file("gold.mp4") + " does not exist"),
            std::string::npos)
      << r.status().message();
  std::ofstream(dir.file("gold.mp4")) << "x";
  r = ReadEvalLabels(Env::Default(), path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("videos.t: file " + dir.file("sub/t.emb") + " does not exist"),
            std::string::npos)
      << r.status().message();
  std::filesystem::create_directory(dir.file("sub"));
  std::ofstream(dir.file("sub/t.emb")) << "x";
  r = ReadEvalLabels(Env::Default(), path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->videos[1].file, dir.file("sub/t.emb"));

  std::ofstream(path) << R"({"steps": ["a"], "videos": {"gold": {"timeline": [["a", 0, 3]]}}})";
  r = ReadEvalLabels(Env::Default(), path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(path + ": videos.gold: missing \"expected_deviations\""), std::string::npos)
      << r.status().message();
  r = ReadEvalLabels(Env::Default(), dir.file("none.json"));
  EXPECT_FALSE(r.ok());
}

TEST(EvalLabelsTest, FoundStepsMapToTheLabelledStepTheyOverlapMost) {
  EvalLabels labels = Parse();
  // Found boundaries a little off the labelled 6, 12, 18.
  ScoreReport r = Report({0, 6.5, 11.5, 18.4});
  AddDeviation(&r, kStepMissing, 1);  // 6.5-11.5: CLEAN
  PairOutcome p = MatchDeviations(labels, Video(labels, "missing"), r);
  EXPECT_EQ(p.video, "missing");
  EXPECT_EQ(p.expected, 1);
  EXPECT_EQ(p.found, 1);
  EXPECT_EQ(p.missed, 0);
  EXPECT_EQ(p.false_count, 0);
  ASSERT_EQ(p.deviations.size(), 1u);
  EXPECT_EQ(p.deviations[0].labelled_steps, (std::vector<std::string>{"CLEAN"}));
  EXPECT_EQ(p.deviations[0].outcome, "true");

  // A found step straddling two labelled ones goes to the larger overlap.
  ScoreReport merged = Report({0, 6, 16});  // 6-16: CLEAN 6 s, SWAP 4 s
  AddDeviation(&merged, kStepMissing, 1);
  p = MatchDeviations(labels, Video(labels, "missing"), merged);
  EXPECT_EQ(p.deviations[0].labelled_steps[0], "CLEAN");
  EXPECT_EQ(p.found, 1);
  ScoreReport merged2 = Report({0, 10, 24}, 30);  // 10-24: CLEAN 2, SWAP 6, CHECK 6: the first of the largest
  AddDeviation(&merged2, kStepMissing, 1);
  p = MatchDeviations(labels, Video(labels, "missing"), merged2);
  EXPECT_EQ(p.deviations[0].labelled_steps[0], "SWAP");
  EXPECT_EQ(p.found, 0);
  EXPECT_EQ(p.missed, 1);
  EXPECT_EQ(p.false_count, 1);
}

TEST(EvalLabelsTest, ExecutionDeviationMapsByItsOwnGoldTime) {
  EvalLabels labels = Parse();
  ScoreReport r = Report({0, 6, 18});  // the segmenter merged CLEAN and SWAP into step 2
  Deviation d;
  d.type = kExecutionDeviation;
  d.step = Ref(r, 1);
  d.step.gold_time = TimeSpan{6.5, 10};  // the stretch that looked unlike the gold: in CLEAN
  r.deviations.push_back(d);
  PairOutcome p = MatchDeviations(labels, Video(labels, "mixed"), r);
  EXPECT_EQ(p.deviations[0].labelled_steps[0], "CLEAN");
  EXPECT_EQ(p.deviations[0].outcome, "allowed");
  EXPECT_EQ(p.allowed, 1);
  EXPECT_EQ(p.false_count, 0);
  // Without a gold time of its own the step's is used.
  r.deviations[0].step.gold_time.reset();
  p = MatchDeviations(labels, Video(labels, "mixed"), r);
  EXPECT_EQ(p.deviations[0].labelled_steps[0], "CLEAN");  // 6-18: CLEAN and SWAP tie, the first wins
}

TEST(EvalLabelsTest, OrderSwapMatchesEitherOrder) {
  EvalLabels labels = Parse();
  for (bool reversed : {false, true}) {
    ScoreReport r = Report({0, 6, 12, 18});
    AddDeviation(&r, kOrderSwap, reversed ? 2 : 1, reversed ? 1 : 2);
    AddDeviation(&r, kOverTime, 2);
    PairOutcome p = MatchDeviations(labels, Video(labels, "mixed"), r);
    EXPECT_EQ(p.expected, 2);
    EXPECT_EQ(p.found, 2) << reversed;
    EXPECT_EQ(p.missed, 0);
    EXPECT_EQ(p.false_count, 0);
    EXPECT_EQ(p.deviations[0].labelled_steps.size(), 2u);
  }
  // A swap of other steps is false, and the labelled one is missed.
  ScoreReport r = Report({0, 6, 12, 18});
  AddDeviation(&r, kOrderSwap, 2, 3);
  PairOutcome p = MatchDeviations(labels, Video(labels, "mixed"), r);
  EXPECT_EQ(p.found, 0);
  EXPECT_EQ(p.missed, 2);
  EXPECT_EQ(p.false_count, 1);
  ASSERT_EQ(p.missed_labels.size(), 2u);
  EXPECT_EQ(p.missed_labels[0].type, "order_swap");
  EXPECT_EQ(p.missed_labels[1].type, "over_time");
}

TEST(EvalLabelsTest, TypeMustAgree) {
  EvalLabels labels = Parse();
  ScoreReport r = Report({0, 6, 12, 18});
  AddDeviation(&r, kExecutionDeviation, 1);  // CLEAN, but the label says step_missing
  PairOutcome p = MatchDeviations(labels, Video(labels, "missing"), r);
  EXPECT_EQ(p.found, 0);
  EXPECT_EQ(p.missed, 1);
  EXPECT_EQ(p.false_count, 1);
  EXPECT_EQ(p.deviations[0].outcome, "false");
}

TEST(EvalLabelsTest, SeveralFindingsOfOneLabelCountOnce) {
  EvalLabels labels = Parse();
  ScoreReport r = Report({0, 6, 9, 12, 18});  // CLEAN split in two
  AddDeviation(&r, kStepMissing, 1);
  AddDeviation(&r, kStepMissing, 2);
  PairOutcome p = MatchDeviations(labels, Video(labels, "missing"), r);
  EXPECT_EQ(p.expected, 1);
  EXPECT_EQ(p.found, 1);
  EXPECT_EQ(p.false_count, 0);
  EXPECT_EQ(p.deviations[1].outcome, "true");
}

TEST(EvalLabelsTest, ExtraSegmentsMatchByTraineeTime) {
  EvalLabels labels = Parse();
  ScoreReport r = Report({0, 6, 12, 18});
  AddExtra(&r, 21, 23.5);  // inside the labelled [20, 24]
  AddExtra(&r, 2, 4);      // not labelled
  PairOutcome p = MatchDeviations(labels, Video(labels, "busy"), r);
  EXPECT_EQ(p.found, 1);
  EXPECT_EQ(p.false_count, 1);
  EXPECT_EQ(p.deviations[0].outcome, "true");
  EXPECT_EQ(p.deviations[1].outcome, "false");
  EXPECT_TRUE(p.deviations[1].labelled_steps.empty());
  ScoreReport touching = Report({0, 6, 12, 18});
  AddExtra(&touching, 18, 20);  // ends where the label starts: no overlap
  p = MatchDeviations(labels, Video(labels, "busy"), touching);
  EXPECT_EQ(p.found, 0);
  EXPECT_EQ(p.missed, 1);
  EXPECT_EQ(p.false_count, 1);
}

TEST(EvalLabelsTest, ExpectedWinsOverAllowed) {
  auto labels = ParseEvalLabels(R"({"steps": ["a", "b"], "videos": {
      "gold": {"timeline": [["a", 0, 3], ["b", 3, 7]], "expected_deviations": []},
      "t": {"expected_deviations": [{"type": "over_time", "gold_step": "b"}],
            "allowed_deviations": [{"type": "over_time", "gold_step": "b"}, {"type": "over_time", "gold_step": "a"}]}}})",
                                "");
  ASSERT_TRUE(labels.ok()) << labels.status().ToString();
  ScoreReport r = Report({0, 3}, 7);
  AddDeviation(&r, kOverTime, 0);
  AddDeviation(&r, kOverTime, 1);
  PairOutcome p = MatchDeviations(*labels, labels->videos[1], r);
  EXPECT_EQ(p.deviations[0].outcome, "allowed");
  EXPECT_EQ(p.deviations[1].outcome, "true");
  EXPECT_EQ(p.found, 1);
  EXPECT_EQ(p.allowed, 1);
  EXPECT_EQ(p.false_count, 0);
}

TEST(EvalLabelsTest, LabelledStepsMapByIndex) {
  auto labels = ParseEvalLabels(R"({"steps": ["a", "b", "c"], "use_labelled_steps": true, "videos": {
      "gold": {"timeline": [["a", 0, 3], ["b", 3, 7], ["c", 7, 9]], "expected_deviations": []},
      "t": {"expected_deviations": [{"type": "step_missing", "gold_step": "b"}]}}})",
                                "");
  ASSERT_TRUE(labels.ok()) << labels.status().ToString();
  ScoreReport r;
  for (const StepSpec& s : labels->GoldSteps()) {
    StepResult step;
    step.index = static_cast<int>(r.steps.size());
    step.name = s.name;
    step.gold_time = s.gold_time;
    r.steps.push_back(step);
  }
  Deviation d;
  d.type = kStepMissing;
  d.step.index = 1;
  d.step.name = "b";
  d.step.gold_time = TimeSpan{6.8, 7};  // the index decides, not the time
  r.deviations.push_back(d);
  PairOutcome p = MatchDeviations(*labels, labels->videos[1], r);
  EXPECT_EQ(p.deviations[0].labelled_steps[0], "b");
  EXPECT_EQ(p.found, 1);
}

TEST(EvalLabelsTest, WhatTheVerdictShouldBe) {
  EvalLabels labels = Parse();
  ScoreReport clean = Report({0, 6, 12, 18});
  PairOutcome gold = MatchDeviations(labels, labels.gold_video(), clean);
  EXPECT_EQ(gold.expected, 0);
  ASSERT_TRUE(gold.should_pass);
  EXPECT_TRUE(*gold.should_pass);
  EXPECT_TRUE(*gold.verdict_agrees);
  clean.verdict = "needs_review";
  EXPECT_FALSE(*MatchDeviations(labels, labels.gold_video(), clean).verdict_agrees);
  // A missing step should not pass.
  PairOutcome missing = MatchDeviations(labels, Video(labels, "missing"), clean);
  EXPECT_FALSE(*missing.should_pass);
  EXPECT_TRUE(*missing.verdict_agrees);
  clean.verdict = "pass";
  EXPECT_FALSE(*MatchDeviations(labels, Video(labels, "missing"), clean).verdict_agrees);
  // An extra segment alone says nothing of the verdict.
  PairOutcome busy = MatchDeviations(labels, Video(labels, "busy"), clean);
  EXPECT_FALSE(busy.should_pass);
  EXPECT_FALSE(busy.verdict_agrees);
}

TEST(EvalLabelsTest, SegmentationAccuracy) {
  EvalLabels labels = Parse();
  SegmentationAccuracy a = MeasureSegmentation(labels, Report({0, 6.5, 11.5, 18.25}));
  EXPECT_EQ(a.found_steps, 4);
  EXPECT_EQ(a.labelled_steps, 4);
  ASSERT_EQ(a.boundaries.size(), 3u);  // CLEAN, SWAP, CHECK start
  EXPECT_EQ(a.boundaries[0].step, "CLEAN");
  EXPECT_DOUBLE_EQ(a.boundaries[0].labelled_sec, 6);
  EXPECT_DOUBLE_EQ(a.boundaries[0].found_sec, 6.5);
  EXPECT_DOUBLE_EQ(a.boundaries[1].error_sec, 0.5);
  EXPECT_DOUBLE_EQ(a.boundaries[2].error_sec, 0.25);
  EXPECT_DOUBLE_EQ(a.mean_error_sec, 1.25 / 3);
  EXPECT_DOUBLE_EQ(a.max_error_sec, 0.5);
  EXPECT_EQ(a.labelled_found, 3);  // each within a second
  EXPECT_EQ(a.extra_found, 0);
  // A step split where the labels do not: a boundary near none of them.
  a = MeasureSegmentation(labels, Report({0, 3, 6, 12.9, 18}));
  EXPECT_EQ(a.labelled_found, 3);
  EXPECT_EQ(a.extra_found, 1);  // 3 s; 12.9 is within a second of SWAP's 12
  a = MeasureSegmentation(labels, Report({0, 3, 6, 13.1, 18}));
  EXPECT_EQ(a.labelled_found, 2);  // SWAP's nearest is 1.1 s away
  EXPECT_EQ(a.extra_found, 2);
  // Two steps found: each labelled boundary goes to the nearest found start.
  a = MeasureSegmentation(labels, Report({0, 12}));
  EXPECT_EQ(a.found_steps, 2);
  EXPECT_DOUBLE_EQ(a.boundaries[0].error_sec, 6);  // 6 is as near 0 as 12
  EXPECT_DOUBLE_EQ(a.boundaries[1].error_sec, 0);
  EXPECT_DOUBLE_EQ(a.boundaries[2].error_sec, 6);
  EXPECT_DOUBLE_EQ(a.max_error_sec, 6);
  EXPECT_EQ(a.labelled_found, 1);
  EXPECT_EQ(a.extra_found, 0);
  // Placed names: step i is compared with the labelled step i, so a step
  // placed near another's boundary is no match.
  labels.place_labelled_names = true;
  a = MeasureSegmentation(labels, Report({0, 11.5, 12.5, 18}));
  EXPECT_DOUBLE_EQ(a.boundaries[0].error_sec, 5.5);  // CLEAN placed at 11.5
  EXPECT_DOUBLE_EQ(a.boundaries[1].error_sec, 0.5);
  EXPECT_DOUBLE_EQ(a.boundaries[2].error_sec, 0);
  EXPECT_DOUBLE_EQ(a.max_error_sec, 5.5);
  EXPECT_EQ(a.labelled_found, 2);  // by index: CLEAN's is not found
  labels.place_labelled_names = false;
  a = MeasureSegmentation(labels, ScoreReport{});
  EXPECT_EQ(a.found_steps, 0);
  EXPECT_TRUE(a.boundaries.empty());
  EXPECT_EQ(a.labelled_found, 0);
  EXPECT_EQ(a.extra_found, 0);
}

TEST(EvalLabelsTest, TotalsAddUp) {
  EvalLabels labels = Parse();
  ScoreReport r = Report({0, 6, 12, 18});
  AddDeviation(&r, kOverTime, 0);
  EvalTotals t;
  t.Add(MatchDeviations(labels, labels.gold_video(), r));        // 1 false, pass agrees
  t.Add(MatchDeviations(labels, Video(labels, "missing"), r));   // 1 missed, 1 false, pass disagrees
  t.Add(MatchDeviations(labels, Video(labels, "busy"), r));      // 1 missed, 1 false, no verdict check
  EXPECT_EQ(t.pairs, 3);
  EXPECT_EQ(t.expected, 2);
  EXPECT_EQ(t.found, 0);
  EXPECT_EQ(t.missed, 2);
  EXPECT_EQ(t.false_count, 3);
  EXPECT_EQ(t.verdicts_checked, 2);
  EXPECT_EQ(t.verdicts_agree, 1);
  EvalTotals sum;
  sum.Add(t);
  sum.Add(t);
  EXPECT_EQ(sum.pairs, 6);
  EXPECT_EQ(sum.verdicts_agree, 2);
}

}  // namespace
}  // namespace sopilot
