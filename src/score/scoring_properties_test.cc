// Properties the scoring rules must have on any footage (issue "Scoring that
// works on real camera footage"): a video against itself is perfect whatever
// it shows; unrelated footage fails whatever the gold yields; what a camera
// changes between two days (lighting, white balance, resolution, frame rate,
// compression, a small zoom, sensor noise) changes nothing; idle time before
// and after the work is reported and costs nothing. Videos are generated with
// ffmpeg; the real hand-washing takes of ../shared are used when present.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <sstream>

#include "embed/embedder_registry.h"
#include "ingest/ingest.h"
#include "score/sop_evaluator.h"
#include "score/step_matcher.h"
#include "score/step_placer.h"
#include "testing/command.h"
#include "testing/temp_dir.h"
#include "testing/test_videos.h"

namespace sopilot {
namespace {

using testing::DistinctScenes;
using testing::Segment;

std::string Describe(const ScoreReport& r) {
  std::string s = "score " + std::to_string(r.score) + " " + r.verdict + ", " + std::to_string(r.steps.size()) +
                  " steps:";
  for (const Deviation& d : r.deviations) s += " " + d.type + "(" + std::to_string(d.step.index) + ")";
  return s;
}

// Every finding of `r` is an extra_segment, and there is one: a stop within
// 1 s of [start, end] of the trainee video, whose reason says that nothing
// moved and, unless `beside` is empty, names the step beside it.
void ExpectOnlyAStop(const ScoreReport& r, double start, double end, const std::string& beside,
                     const std::string& what = "") {
  const Deviation* extra = nullptr;
  for (const Deviation& d : r.deviations) {
    EXPECT_EQ(d.type, kExtraSegment) << what << Describe(r);
    if (d.type == kExtraSegment) extra = &d;
  }
  ASSERT_NE(extra, nullptr) << what << Describe(r);
  ASSERT_TRUE(extra->step.trainee_time.has_value()) << what;
  EXPECT_NEAR(extra->step.trainee_time->start_sec, start, 1.0) << what << extra->reason;
  EXPECT_NEAR(extra->step.trainee_time->end_sec, end, 1.0) << what << extra->reason;
  EXPECT_NE(extra->reason.find("nothing in view moved"), std::string::npos) << what << extra->reason;
  if (!beside.empty()) {
    EXPECT_NE(extra->reason.find("\"" + beside + "\""), std::string::npos) << what << extra->reason;
  }
}

std::string HandwashDir() {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(SOPILOT_SOURCE_DIR) / ".." / "shared" / "fixtures" / "handwash";
  return fs::exists(dir / "make-pair.sh") ? fs::canonical(dir).string() : "";
}

// The steps of a make-pair.sh timeline ("CODE START END FILE" per line),
// timed, each named "code CODE".
std::vector<StepSpec> TimelineSteps(const std::string& timeline) {
  std::vector<StepSpec> steps;
  std::istringstream lines(timeline);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream f(line);
    std::string code;
    double start = 0, end = 0;
    if (!(f >> code >> start >> end)) continue;
    StepSpec s;
    s.name = "code " + code;
    s.gold_time = {start, end};
    steps.push_back(s);
  }
  return steps;
}

// Three real takes, each with the steps its clips hold (make-pair.sh codes):
// the gold take, another take at the same basin, a take at another basin.
const std::vector<std::pair<std::string, std::string>> kTakes = {
    {"004", "1 2 3 4 5 6 7 8 9 10 11"}, {"008", "1 2 5 6 7 9 10 11"}, {"010", "2 3 4 5 6 7 9 10 11"}};

class ScoringPropertiesTest : public ::testing::Test {
 protected:
  EmbeddingSet Embed(const std::string& path, const std::string& embedder_name = "heuristic-v1") {
    auto embedder = MakeEmbedder(embedder_name);
    EXPECT_TRUE(embedder.ok());
    if (!embedder.ok()) return EmbeddingSet{};
    auto set = IngestVideo(path, IngestOptions{}, embedder->get());
    EXPECT_TRUE(set.ok()) << path << ": " << set.status().ToString();
    return set.ok() ? *set : EmbeddingSet{};
  }
  EmbeddingSet Source(const std::string& name, const std::string& source, double seconds) {
    std::string path = dir_.file(name + ".mp4");
    testing::MakeVideo(path, source, seconds);
    return Embed(path);
  }
  std::string Procedure(const std::string& name, const std::vector<int>& scenes, double seconds_each,
                        const std::string& before = "", const std::string& after = "") {
    std::vector<Segment> segments;
    if (!before.empty()) segments.push_back({before, 4.0});
    for (int k : scenes) segments.push_back({DistinctScenes()[k], seconds_each});
    if (!after.empty()) segments.push_back({after, 3.0});
    std::string path = dir_.file(name + ".mp4");
    testing::MakeProcedureVideo(path, segments);
    return path;
  }
  // The segments joined into a video, embedded.
  EmbeddingSet SegmentsVideo(const std::string& name, const std::vector<Segment>& segments) {
    std::string path = dir_.file(name + ".mp4");
    testing::MakeProcedureVideo(path, segments);
    return Embed(path);
  }
  // Hand-washing take 004's clips of `codes` joined by make-pair.sh in the
  // fixtures' directory `hw`: the video's path and make-pair's timeline
  // ("CODE START END FILE" per step).
  std::pair<std::string, std::string> Take004(const std::string& hw, const std::string& name,
                                              const std::string& codes) {
    std::string path = dir_.file(name + ".mp4");
    auto made = testing::RunCommand(hw + "/make-pair.sh 004 " + testing::ShellQuote(codes) + " " +
                                    testing::ShellQuote(path));
    EXPECT_EQ(made.exit_code, 0) << made.err;
    return {path, made.out};
  }
  // Hand-washing take `take`'s clips of `codes` joined into `name`.mp4 by
  // make-pair.sh: the video's path and the labelled start of every step
  // after the first (none when make-pair failed).
  std::pair<std::string, std::vector<double>> TakeWithBoundaries(const std::string& hw, const std::string& take,
                                                                 const std::string& codes, const std::string& name) {
    std::string path = dir_.file(name + ".mp4");
    auto made = testing::RunCommand(hw + "/make-pair.sh " + take + " " + testing::ShellQuote(codes) + " " +
                                    testing::ShellQuote(path));
    EXPECT_EQ(made.exit_code, 0) << made.err;
    std::vector<double> starts;
    for (const StepSpec& step : TimelineSteps(made.out)) starts.push_back(step.gold_time.start_sec);
    if (!starts.empty()) starts.erase(starts.begin());  // the first step starts at 0
    return {path, starts};
  }
  // `source` re-encoded through an ffmpeg filter chain, as another camera day.
  // x264's fastest preset at its default quality: half the encoding time of
  // `veryfast` on the real takes (most of these tests' time), and the
  // compression is not what these variants are about (the crf nuisance
  // names its own codec).
  std::string Filtered(const std::string& source, const std::string& name, const std::string& filter,
                       const std::string& codec = "-c:v libx264 -pix_fmt yuv420p -preset ultrafast") {
    std::string path = dir_.file(name + ".mp4");
    std::string err = testing::Ffmpeg("-i " + testing::ShellQuote(source) + " -vf " + testing::ShellQuote(filter) +
                                      " -an " + codec + " " + testing::ShellQuote(path));
    EXPECT_EQ(err, "") << name;
    return path;
  }
  static ScoreReport Score(const EmbeddingSet& gold, const EmbeddingSet& trainee) {
    auto r = EvaluateSop(gold, trainee, ScoreOptions{});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ScoreReport{};
  }
  static void ExpectPerfect(const EmbeddingSet& v, const std::string& what) {
    ScoreReport r = Score(v, v);
    EXPECT_EQ(r.score, 100.0) << what << ": " << Describe(r);
    EXPECT_EQ(r.verdict, "pass") << what;
    EXPECT_TRUE(r.deviations.empty()) << what << ": " << Describe(r);
    EXPECT_TRUE(r.idle.empty()) << what;
    // With steps a supervisor typed, wherever they fall: equal steps that cut
    // through what the video shows, some of them alike (a static scene split
    // in five is five steps nobody can tell apart).
    const double duration = std::max(v.source.duration_sec, v.clips.empty() ? 0.0 : v.clips.back().end_sec);
    for (int n : {2, 5}) {
      std::vector<StepSpec> steps;
      for (int k = 0; k < n; ++k) {
        steps.push_back({"step " + std::to_string(k + 1), {duration * k / n, duration * (k + 1) / n}, {}});
      }
      auto typed = EvaluateSop(v, v, ScoreOptions{}, &steps);
      ASSERT_TRUE(typed.ok()) << what << ": " << typed.status().ToString();
      EXPECT_EQ(typed->score, 100.0) << what << ", " << n << " typed steps: " << Describe(*typed);
      EXPECT_TRUE(typed->deviations.empty()) << what << ", " << n << " typed steps: " << Describe(*typed);
      // Named only: placed by the scorer, wherever the clips split best.
      for (StepSpec& step : steps) step.timed = false;
      auto named = EvaluateSop(v, v, ScoreOptions{}, &steps);
      ASSERT_TRUE(named.ok()) << what << ": " << named.status().ToString();
      EXPECT_EQ(named->score, 100.0) << what << ", " << n << " named steps: " << Describe(*named);
      EXPECT_TRUE(named->deviations.empty()) << what << ", " << n << " named steps: " << Describe(*named);
    }
  }

  testing::TempDir dir_;
};

TEST_F(ScoringPropertiesTest, AnyVideoAgainstItselfIsPerfect) {
  ExpectPerfect(Source("testsrc2", "testsrc2=size=320x240:rate=12", 60), "60 s testsrc2 (repetitive)");
  ExpectPerfect(Source("static", "color=c=gray:size=320x240:rate=12", 20), "a static grey scene");
  ExpectPerfect(Source("mandelbrot", "mandelbrot=size=320x240:rate=12", 20), "mandelbrot");
  ExpectPerfect(Source("life", "life=size=320x240:rate=12:mold=10:ratio=0.3:random_seed=5", 30), "life");
  ExpectPerfect(Source("cellauto", "cellauto=size=320x240:rate=12:rule=110:random_seed=3", 20), "cellauto");
  ExpectPerfect(Source("noise", "color=c=gray:size=320x240:rate=12,noise=alls=40:allf=t", 20), "sensor noise only");
  // Test patterns that come round again every 12 s. At 25 fps the steps
  // found are three alike periods and a short step where the fourth begins,
  // at the end of their alike run (it was lost as a detour: 65); at 12 fps
  // the first step shows again in the last, so the gold's steps resemble
  // one another as much as a copy does (needs_review).
  ExpectPerfect(Source("mptestsrc25", "mptestsrc=rate=25", 40), "40 s of mptestsrc at 25 fps (periodic)");
  ExpectPerfect(Source("mptestsrc12", "mptestsrc=rate=12", 40), "40 s of mptestsrc at 12 fps (periodic)");
  // A slowly turning gradient: named as five steps, its clips tied between
  // steps and the ties went to the order of candidates (4.4, fail).
  ExpectPerfect(Source("gradients", "gradients=size=320x240:rate=12:speed=0.05", 40), "40 s of a turning gradient");
  const std::string procedure = Procedure("procedure", {0, 1, 2, 3, 4, 5, 6}, 4.0);
  ExpectPerfect(Embed(procedure), "a seven-step procedure");
  // The rules do not depend on the embedder: motion features too, where
  // still stretches give all-zero clips.
  ExpectPerfect(Embed(procedure, "motion-v1"), "a seven-step procedure, motion-v1");
  const std::string still = dir_.file("still.mp4");
  testing::MakeVideo(still, "color=c=gray:size=320x240:rate=12", 12);
  ExpectPerfect(Embed(still, "motion-v1"), "a still scene, motion-v1 (every clip all zero)");
  // Ten minutes of a periodic pattern (small and slow to stay quick).
  ExpectPerfect(Source("ten_minutes", "testsrc2=size=160x120:rate=6", 600), "10 minutes of testsrc2");
}

TEST_F(ScoringPropertiesTest, RealHandWashingTakesAgainstThemselvesArePerfect) {
  std::string hw = HandwashDir();
  if (hw.empty()) GTEST_SKIP() << "../shared/fixtures/handwash is absent (a user's clone); generated videos cover this";
  for (const auto& [take, codes] : kTakes) {
    std::string path = dir_.file("take" + take + ".mp4");
    auto made = testing::RunCommand(hw + "/make-pair.sh " + take + " " + testing::ShellQuote(codes) + " " +
                                    testing::ShellQuote(path));
    ASSERT_EQ(made.exit_code, 0) << made.err;
    ExpectPerfect(Embed(path), "hand-washing take " + take);
  }
}

// Issue item 4: where the supervisor names the steps without timing them,
// they are placed in a real take, and each named step lands on the step of
// that name when the embedder tells the steps apart. Joined clips have hard
// cuts; the placement does not look for cuts, only for where the clips split
// best into that many groups. Prints the error of each boundary (doc/scoring.md
// has the table).
TEST_F(ScoringPropertiesTest, RealHandWashingStepsNamedArePlacedNearTheirBoundaries) {
  std::string hw = HandwashDir();
  if (hw.empty()) GTEST_SKIP() << "../shared/fixtures/handwash is absent; step_placer_test covers the placement";
  for (const auto& [take, codes] : kTakes) {
    const auto [path, labelled] = TakeWithBoundaries(hw, take, codes, "take" + take);
    ASSERT_GE(labelled.size(), 7u) << "take " << take;
    std::vector<StepSpec> named(labelled.size() + 1);
    for (size_t k = 0; k < named.size(); ++k) {
      named[k].name = "step " + std::to_string(k + 1);
      named[k].timed = false;
    }
    for (const char* embedder : {"heuristic-v1", "motion-v1"}) {
      EmbeddingSet set = Embed(path, embedder);
      auto placed = PlaceSteps(named, set.vectors, set.clips, set.clips.back().end_sec, set.sampling.clip_seconds);
      ASSERT_TRUE(placed.ok()) << placed.status().ToString();
      int near = 0;
      std::string errors;
      for (size_t k = 0; k < labelled.size(); ++k) {
        double err = std::abs((*placed)[k + 1].gold_time.start_sec - labelled[k]);
        near += err <= set.sampling.clip_seconds;  // no nearer than the clip straddling it can say
        char buf[16];
        std::snprintf(buf, sizeof buf, " %.1f", err);
        errors += buf;
      }
      std::printf("take %s, %s: boundary error per step (s):%s\n", take.c_str(), embedder, errors.c_str());
      // Flow tells these steps apart at one basin (doc/embedders.md): every
      // named step lands on its own, within a clip, at takes 004 and 008.
      if (std::string(embedder) == "motion-v1" && take != "010") {
        EXPECT_EQ(near, static_cast<int>(labelled.size())) << "take " << take << ":" << errors;
      }
      // Whatever the placement, a take against itself with the steps placed
      // in it is perfect.
      auto self = EvaluateSop(set, set, ScoreOptions{}, &named);
      ASSERT_TRUE(self.ok()) << self.status().ToString();
      EXPECT_EQ(self->score, 100.0) << "take " << take << ", " << embedder << ": " << Describe(*self);
      EXPECT_TRUE(self->deviations.empty()) << Describe(*self);
    }
  }
}

// Issue item 4: the steps found in a real take lie near the labelled ones,
// and are not many more. Hands rub back and forth inside a step, so clips
// side by side differ there as much as across a boundary; a cut is kept only
// where the clips beside it resemble their own side more than the other
// (KeepSeparatingCuts). Take 004 gave 20 steps for 11 labelled before that.
// Prints, per take, the count and each labelled boundary's distance to the
// nearest found one (doc/scoring.md).
TEST_F(ScoringPropertiesTest, RealHandWashingStepsFoundLieNearTheLabelledOnes) {
  std::string hw = HandwashDir();
  if (hw.empty()) GTEST_SKIP() << "../shared/fixtures/handwash is absent; step_segmenter_test covers the rule";
  for (const auto& [take, codes] : kTakes) {
    const auto [path, labelled] = TakeWithBoundaries(hw, take, codes, "found" + take);
    ASSERT_GE(labelled.size(), 7u) << "take " << take;
    EmbeddingSet set = Embed(path);
    auto self = EvaluateSop(set, set, ScoreOptions{});
    ASSERT_TRUE(self.ok()) << self.status().ToString();
    int near = 0;
    std::string errors;
    for (double at : labelled) {
      double err = std::numeric_limits<double>::infinity();
      for (size_t k = 1; k < self->steps.size(); ++k) {
        err = std::min(err, std::abs(self->steps[k].gold_time.start_sec - at));
      }
      near += err <= set.sampling.clip_seconds;  // no nearer than the clip straddling it can say
      char buf[16];
      std::snprintf(buf, sizeof buf, " %.1f", err);
      errors += buf;
    }
    std::printf("take %s: %zu steps found, %zu labelled; boundary error per step (s):%s\n", take.c_str(),
                self->steps.size(), labelled.size() + 1, errors.c_str());
    if (take == "004") {
      EXPECT_LE(self->steps.size(), (labelled.size() + 1) * 3 / 2) << errors;
      EXPECT_GE(near, static_cast<int>(labelled.size()) - 1) << errors;
    }
  }
}

// Another person at another basin, filmed from the side (1920x1080 VP9 at
// 25 fps, ten steps, some under 3 s, with wetting, soap, rinsing and drying
// around the washing): against itself the procedure is perfect, with the
// steps found, typed, named, and with its labelled steps.
TEST_F(ScoringPropertiesTest, AnotherPersonsProcedureAgainstItselfIsPerfect) {
  namespace fs = std::filesystem;
  std::string hw = HandwashDir();
  const fs::path other = hw.empty() ? fs::path() : fs::path(hw) / "other-person";
  if (hw.empty() || !fs::exists(other / "who_1_wet-vp9.webm")) {
    GTEST_SKIP() << "../shared/fixtures/handwash/other-person is absent; AnyVideoAgainstItselfIsPerfect covers this";
  }
  // The ten clips joined without re-encoding, with their times.
  const std::string list = dir_.file("steps.txt"), path = dir_.file("procedure.webm");
  std::vector<StepSpec> steps;
  std::string lines;
  double at = 0;
  for (int n = 1; n <= 10; ++n) {
    std::string clip;
    for (const auto& e : fs::directory_iterator(other)) {
      if (e.path().filename().string().rfind("who_" + std::to_string(n) + "_", 0) == 0) clip = e.path().string();
    }
    ASSERT_FALSE(clip.empty()) << "no clip of step " << n << " in " << other;
    lines += "file " + testing::ShellQuote(clip) + "\n";
    auto probe = testing::RunCommand("ffprobe -v error -show_entries format=duration -of csv=p=0 " +
                                     testing::ShellQuote(clip));
    ASSERT_EQ(probe.exit_code, 0) << probe.err;
    const double seconds = std::atof(probe.out.c_str());
    ASSERT_GT(seconds, 0) << probe.out;
    steps.push_back({"step " + std::to_string(n), {at, at + seconds}, {}});
    at += seconds;
  }
  std::FILE* f = std::fopen(list.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs(lines.c_str(), f);
  std::fclose(f);
  ASSERT_EQ(testing::Ffmpeg("-f concat -safe 0 -i " + testing::ShellQuote(list) + " -c copy " +
                            testing::ShellQuote(path)),
            "");
  for (const char* embedder : {"heuristic-v1", "motion-v1"}) {
    EmbeddingSet procedure = Embed(path, embedder);
    ExpectPerfect(procedure, std::string("another person's procedure, ") + embedder);
    auto labelled = EvaluateSop(procedure, procedure, ScoreOptions{}, &steps);
    ASSERT_TRUE(labelled.ok()) << labelled.status().ToString();
    EXPECT_EQ(labelled->score, 100.0) << embedder << ", labelled steps: " << Describe(*labelled);
    EXPECT_TRUE(labelled->deviations.empty()) << embedder << ", labelled steps: " << Describe(*labelled);
  }
}

TEST_F(ScoringPropertiesTest, UnrelatedFootageFails) {
  // A gold that yields a single step: anything unrelated must still fail.
  EmbeddingSet one_step = Source("testsrc", "testsrc=size=320x240:rate=12", 12);
  ASSERT_EQ(Score(one_step, one_step).steps.size(), 1u);
  EmbeddingSet mandelbrot = Source("mandelbrot", "mandelbrot=size=320x240:rate=12", 12);
  EmbeddingSet black = Source("black", "color=c=black:size=320x240:rate=12", 12);
  // A gold that ends with a step whose picture changes (testsrc): a still
  // picture (smptehdbars) or a texture that looks the same from one clip to
  // the next (cellauto, life) at the gold's end is taken for the camera
  // left running (work_span.h), and the trainee's last moments matched it.
  EmbeddingSet gold = Embed(Procedure("gold", {0, 1, 2, 8}, 4.0));
  EmbeddingSet other = Embed(Procedure("other", {6, 7, 8, 9}, 4.0));
  for (auto [g, t, what] : std::vector<std::tuple<const EmbeddingSet*, const EmbeddingSet*, std::string>>{
           {&one_step, &mandelbrot, "one-step gold vs mandelbrot"},
           {&one_step, &black, "one-step gold vs a black screen"},
           {&gold, &other, "a procedure vs another procedure"},
           {&gold, &black, "a procedure vs a black screen"},
           {&gold, &mandelbrot, "a procedure vs mandelbrot"}}) {
    ScoreReport r = Score(*g, *t);
    EXPECT_EQ(r.verdict, "fail") << what << ": " << Describe(r);
    EXPECT_TRUE(r.idle.empty()) << what << ": unrelated footage is not idle time";
  }
  // Nothing at all: a still scene against a gold whose steps move. Compared
  // as given (as a still gold still is), its features resembled every step
  // as much as they resemble one another: 65, needs_review, for the two
  // steps of 30 s of mandelbrot (before 2026-12-07). Centred, nothing of it
  // is left, and every finding says what the supervisor will see.
  EmbeddingSet moving = Source("mandelbrot30", "mandelbrot=size=320x240:rate=12", 30);
  EmbeddingSet still = Source("still", "smptehdbars=size=320x240:rate=12", 30);
  const ScoreReport nothing = Score(moving, still);
  EXPECT_EQ(nothing.verdict, "fail") << Describe(nothing);
  EXPECT_NE(nothing.verdict_reason.find("nothing in view moved in it (0:00.0-0:30.0)"), std::string::npos)
      << nothing.verdict_reason;
  for (const Deviation& d : nothing.deviations) {
    EXPECT_NE(d.reason.find("nothing in view moved in it (0:00.0-0:30.0)"), std::string::npos) << d.reason;
  }
  std::string hw = HandwashDir();
  if (hw.empty()) GTEST_SKIP() << "../shared/fixtures/handwash is absent; the generated cases above ran";
  std::string take = dir_.file("take004.mp4");
  ASSERT_EQ(testing::RunCommand(hw + "/make-pair.sh 004 '1 2 3 4 5 6 7 8 9 10 11' " + take).exit_code, 0);
  EmbeddingSet washing = Embed(take);
  EXPECT_EQ(Score(gold, washing).verdict, "fail") << Describe(Score(gold, washing));
  EXPECT_EQ(Score(washing, gold).verdict, "fail") << Describe(Score(washing, gold));
  // The real take against the still test card: needs_review before
  // 2026-12-07 ("its steps cannot be told apart"), every step missing.
  EXPECT_EQ(Score(washing, still).verdict, "fail") << Describe(Score(washing, still));
}

TEST_F(ScoringPropertiesTest, CameraNuisancesChangeNothing) {
  const std::string gold_path = Procedure("gold", {0, 1, 2, 3, 4, 5}, 4.0);
  const std::string missing_path = Procedure("missing", {0, 1, 3, 4, 5}, 4.0);  // step 3 left out
  EmbeddingSet gold = Embed(gold_path);
  // What changes between two days at one workbench.
  const std::vector<std::pair<std::string, std::string>> nuisances = {
      {"lighting", "eq=brightness=0.06:contrast=0.9:saturation=0.85"},
      {"white_balance", "colorbalance=rs=0.08:gs=0.02:bs=-0.08"},
      {"half_resolution_15fps", "scale=iw/2:-2,fps=15"},
      {"zoom_shift", "crop=iw*0.92:ih*0.92:iw*0.03:ih*0.05,scale=320:180"},
      {"sensor_noise", "noise=alls=10:allf=t"},
  };
  for (const auto& [name, filter] : nuisances) {
    ScoreReport r = Score(gold, Embed(Filtered(gold_path, name, filter)));
    EXPECT_EQ(r.verdict, "pass") << name << ": " << Describe(r);
    EXPECT_TRUE(r.deviations.empty()) << name << ": " << Describe(r);
    ScoreReport m = Score(gold, Embed(Filtered(missing_path, name + "_missing", filter)));
    ASSERT_EQ(m.deviations.size(), 1u) << name << " (step 3 missing): " << Describe(m);
    EXPECT_EQ(m.deviations[0].type, kStepMissing) << name;
    EXPECT_EQ(m.deviations[0].step.index, 2) << name;
  }
  ScoreReport crf = Score(gold, Embed(Filtered(gold_path, "compressed", "null",
                                               "-c:v libx264 -pix_fmt yuv420p -preset veryfast -crf 35")));
  EXPECT_EQ(crf.verdict, "pass") << "heavy compression: " << Describe(crf);
}

// The light changing during the recording, as a lamp switched on halfway
// or a camera's automatic exposure drifting: a correct performance still
// passes, and a take with a scene left out after the change reports just
// what it reports under one light: one finding, where the scene was.
// Generated steps differ from each other by more than the lamp changes
// them, so the whole-video centring already holds here; on real footage it
// does not (TheLightChangingDuringARealRecordingChangesNothing, and
// comparison_space_test on generated embeddings).
TEST_F(ScoringPropertiesTest, TheLightChangingDuringTheRecordingChangesNothing) {
  const std::string gold_path = Procedure("gold", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 3.0);
  const std::string missing_path = Procedure("missing", {0, 1, 2, 3, 4, 5, 7, 8, 9}, 3.0);  // scene 7 left out
  const EmbeddingSet gold = Embed(gold_path);
  // The steps are found in the gold (eight of them): the one holding scene
  // 7 at 18-21 s may hold some of scene 6 too, which was done. So it is
  // either missing or done in part, in a fraction of its time.
  const ScoreReport one_light = Score(gold, Embed(missing_path));
  ASSERT_EQ(one_light.deviations.size(), 1u) << Describe(one_light);
  const Deviation& left_out = one_light.deviations[0];
  EXPECT_TRUE(left_out.type == kStepMissing || (left_out.type == kExecutionDeviation &&
                                                left_out.reason.find("part of the step may have been skipped") !=
                                                    std::string::npos))
      << Describe(one_light) << ": " << left_out.reason;
  ASSERT_TRUE(left_out.step.gold_time.has_value());
  EXPECT_NEAR(0.5 * (left_out.step.gold_time->start_sec + left_out.step.gold_time->end_sec), 19.5, 1.5)
      << "the step left out lies at " << left_out.step.gold_time->start_sec << "-"
      << left_out.step.gold_time->end_sec << " s";
  const std::string lamp = "eq=brightness=0.06:contrast=0.9:saturation=0.85";
  const std::string k = "min(t/30,1)";
  const std::vector<std::pair<std::string, std::string>> changes = {
      {"lamp_halfway", lamp + ":enable='gte(t,15)'"},
      {"lamp_drifting",
       "eq=brightness='0.06*" + k + "':contrast='1-0.1*" + k + "':saturation='1-0.15*" + k + "':eval=frame"}};
  for (const auto& [name, filter] : changes) {
    ScoreReport r = Score(gold, Embed(Filtered(gold_path, name, filter)));
    EXPECT_EQ(r.verdict, "pass") << name << ": " << Describe(r);
    EXPECT_TRUE(r.deviations.empty()) << name << ": " << Describe(r);
    ScoreReport m = Score(gold, Embed(Filtered(missing_path, name + "_missing", filter)));
    ASSERT_EQ(m.deviations.size(), 1u) << name << " (scene 7 left out): " << Describe(m);
    EXPECT_EQ(m.deviations[0].type, left_out.type) << name << ": " << m.deviations[0].reason;
    EXPECT_EQ(m.deviations[0].step.index, left_out.step.index) << name << ": " << m.deviations[0].reason;
  }
}

TEST_F(ScoringPropertiesTest, IdleLeadInAndTailAreReportedAndCostNothing) {
  // Steps with texture and colour throughout. (Known limit, doc/scoring.md:
  // with heuristic-v1, an empty flat scene before a procedure that has a
  // dark, nearly flat step is still taken for that step done early.)
  EmbeddingSet gold = Embed(Procedure("gold", {0, 1, 3, 5, 8}, 4.0));
  // 4 s of an empty grey scene before the work and 3 s of black after it.
  EmbeddingSet trainee = Embed(Procedure("idle", {0, 1, 3, 5, 8}, 4.0, "color=c=gray", "color=c=black"));
  ScoreReport r = Score(gold, trainee);
  EXPECT_EQ(r.score, 100.0) << Describe(r);
  EXPECT_EQ(r.verdict, "pass");
  EXPECT_TRUE(r.deviations.empty()) << Describe(r);
  ASSERT_EQ(r.idle.size(), 2u) << Describe(r);
  EXPECT_EQ(r.idle[0].kind, kIdleLeadIn);
  EXPECT_NEAR(r.idle[0].trainee_time.start_sec, 0.0, 1e-9);
  EXPECT_NEAR(r.idle[0].trainee_time.end_sec, 4.0, 1.0);
  EXPECT_EQ(r.idle[1].kind, kIdleTail);
  EXPECT_NEAR(r.idle[1].trainee_time.start_sec, 24.0, 1.0);
  // The steps are found where they are, after the lead-in.
  ASSERT_EQ(r.steps.size(), 5u);
  ASSERT_TRUE(r.steps[0].trainee_time.has_value());
  EXPECT_NEAR(r.steps[0].trainee_time->start_sec, 4.0, 1.0);
}

// A lead-in or tail shorter than the blur between two steps (a clip length
// plus a stride): too short for a "none" run of its own, it used to count as
// the first step, which then took too long and looked unlike the gold (75,
// needs_review, for 1.5 s of an empty scene). The first step now starts at
// its first clip that looks like it; the time before is idle.
TEST_F(ScoringPropertiesTest, AShortLeadInOrTailIsIdleAndCostsNothing) {
  const std::vector<int> scenes = {0, 1, 3, 5, 8};
  EmbeddingSet gold = Embed(Procedure("gold", scenes, 4.0));
  for (const char* empty : {"color=c=gray", "color=c=black"}) {
    for (double idle : {1.0, 1.5, 2.0, 2.5}) {
      const std::string what = std::string(empty) + " for " + std::to_string(idle) + " s";
      std::vector<Segment> work;
      for (int k : scenes) work.push_back({DistinctScenes()[k], 4.0});
      std::vector<Segment> lead = work, tail = work;
      lead.insert(lead.begin(), {empty, idle});
      tail.push_back({empty, idle});
      testing::MakeProcedureVideo(dir_.file("lead.mp4"), lead);
      testing::MakeProcedureVideo(dir_.file("tail.mp4"), tail);

      ScoreReport r = Score(gold, Embed(dir_.file("lead.mp4")));
      EXPECT_EQ(r.score, 100.0) << "lead-in, " << what << ": " << Describe(r);
      EXPECT_TRUE(r.deviations.empty()) << "lead-in, " << what << ": " << Describe(r);
      ASSERT_FALSE(r.idle.empty()) << "lead-in, " << what;
      EXPECT_EQ(r.idle[0].kind, kIdleLeadIn) << what;
      EXPECT_NEAR(r.idle[0].trainee_time.start_sec, 0.0, 1e-9) << what;
      // Where the work starts, to within half a clip.
      EXPECT_NEAR(r.idle[0].trainee_time.end_sec, idle, 1.0) << what;
      ASSERT_TRUE(r.steps[0].trainee_time.has_value());
      EXPECT_NEAR(r.steps[0].trainee_time->start_sec, idle, 1.0) << what;

      ScoreReport t = Score(gold, Embed(dir_.file("tail.mp4")));
      EXPECT_EQ(t.score, 100.0) << "tail, " << what << ": " << Describe(t);
      EXPECT_TRUE(t.deviations.empty()) << "tail, " << what << ": " << Describe(t);
      for (const IdleSpan& span : t.idle) {
        EXPECT_EQ(span.kind, kIdleTail) << what;
        EXPECT_NEAR(span.trainee_time.start_sec, 20.0, 1.0) << what;
      }
    }
  }
  // A first step of 3 s after 1 s of an empty scene: the first clip holds
  // half of each, so it is taken for the step, and the step seemed to take
  // 4 s, over its time. The half clip a first step may hold unseen is not
  // held against it (FindOverTime).
  std::vector<Segment> work = {{DistinctScenes()[0], 3.0}, {DistinctScenes()[1], 4.0}, {DistinctScenes()[3], 4.0},
                               {DistinctScenes()[5], 4.0}, {DistinctScenes()[8], 3.0}};
  testing::MakeProcedureVideo(dir_.file("short_gold.mp4"), work);
  EmbeddingSet short_gold = Embed(dir_.file("short_gold.mp4"));
  for (const char* empty : {"color=c=gray", "color=c=black"}) {
    std::vector<Segment> lead = work;
    lead.insert(lead.begin(), {empty, 1.0});
    testing::MakeProcedureVideo(dir_.file("short_lead.mp4"), lead);
    ScoreReport r = Score(short_gold, Embed(dir_.file("short_lead.mp4")));
    EXPECT_EQ(r.score, 100.0) << "3 s first step after 1 s of " << empty << ": " << Describe(r);
    EXPECT_TRUE(r.deviations.empty()) << "3 s first step after 1 s of " << empty << ": " << Describe(r);
  }
  // Still over time when it is: the first step done for 6 s against 3 s.
  work[0].seconds = 6.0;
  testing::MakeProcedureVideo(dir_.file("slow_first.mp4"), work);
  ScoreReport slow = Score(short_gold, Embed(dir_.file("slow_first.mp4")));
  ASSERT_EQ(slow.deviations.size(), 1u) << Describe(slow);
  EXPECT_EQ(slow.deviations[0].type, kOverTime) << Describe(slow);
  EXPECT_EQ(slow.deviations[0].step.index, 0) << Describe(slow);
}

// The gold's camera started early too, and the supervisor's timed steps
// leave that time out: it is no step. (Before, the lead-in counted as the
// first step's evidence, and the gold against itself took its first step
// for over time: 85, needs_review.)
TEST_F(ScoringPropertiesTest, GoldTimeOutsideTheUsersTimedStepsIsNoStep) {
  // 4 s of an empty grey scene, five 4 s steps, 3 s of black.
  EmbeddingSet gold = Embed(Procedure("gold_idle", {0, 1, 3, 5, 8}, 4.0, "color=c=gray", "color=c=black"));
  std::vector<StepSpec> steps;
  for (int k = 0; k < 5; ++k) {
    StepSpec s;
    s.name = "step " + std::to_string(k + 1);
    s.gold_time = {4.0 + 4.0 * k, 8.0 + 4.0 * k};
    steps.push_back(s);
  }
  auto score = [&](const EmbeddingSet& trainee) {
    auto r = EvaluateSop(gold, trainee, ScoreOptions{}, &steps);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ScoreReport{};
  };
  ScoreReport self = score(gold);
  EXPECT_EQ(self.score, 100.0) << Describe(self);
  EXPECT_EQ(self.verdict, "pass");
  EXPECT_TRUE(self.deviations.empty()) << Describe(self);
  ASSERT_EQ(self.idle.size(), 2u) << Describe(self);
  EXPECT_EQ(self.idle[0].kind, kIdleLeadIn);
  EXPECT_NEAR(self.idle[0].trainee_time.end_sec, 4.0, 1.0);
  EXPECT_EQ(self.idle[1].kind, kIdleTail);
  EXPECT_NEAR(self.idle[1].trainee_time.start_sec, 24.0, 1.0);
  // The gold map says which clips are no step.
  ASSERT_FALSE(self.gold_step_map.empty());
  EXPECT_EQ(self.gold_step_map.front(), kNoStep);
  EXPECT_EQ(self.gold_step_map.back(), kNoStep);
  // A trainee filmed without the idle time passes as it is.
  ScoreReport tight = score(Embed(Procedure("tight", {0, 1, 3, 5, 8}, 4.0)));
  EXPECT_EQ(tight.verdict, "pass") << Describe(tight);
  EXPECT_TRUE(tight.deviations.empty()) << Describe(tight);
  // And a trainee without step 3 still misses exactly step 3.
  ScoreReport missing = score(Embed(Procedure("missing3", {0, 1, 5, 8}, 4.0, "color=c=gray", "color=c=black")));
  ASSERT_EQ(missing.deviations.size(), 1u) << Describe(missing);
  EXPECT_EQ(missing.deviations[0].type, kStepMissing);
  EXPECT_EQ(missing.deviations[0].step.index, 2);

  // Timed steps with time between them (the supervisor timed the first
  // half of each scene): that time is timed with the step before it, so
  // the gold against itself is still perfect (before: over time on every
  // step but the last).
  for (int k = 0; k < 5; ++k) steps[k].gold_time = {4.0 + 4.0 * k, 6.0 + 4.0 * k};
  ScoreReport gaps = score(gold);
  EXPECT_EQ(gaps.score, 100.0) << Describe(gaps);
  EXPECT_TRUE(gaps.deviations.empty()) << Describe(gaps);
}

TEST_F(ScoringPropertiesTest, AGoldFilmedWithTheCameraRunningIsScoredOnItsWork) {
  // The supervisor's camera ran 5 s before the work and 5 s after it, and
  // the steps are found or named, not timed. The still scene is no step
  // (score/work_span.h): before, found steps took it for steps of their
  // own, and a trainee filmed without that time failed.
  const std::string empty = "color=c=0x6a6258:size=320x180,noise=alls=8:allf=t";
  auto video = [&](const std::string& name, const std::vector<int>& scenes, double before, double after) {
    std::vector<Segment> segments;
    if (before > 0) segments.push_back({empty, before});
    for (int k : scenes) segments.push_back({DistinctScenes()[k], 4.0});
    if (after > 0) segments.push_back({empty, after});
    std::string path = dir_.file(name + ".mp4");
    testing::MakeProcedureVideo(path, segments);
    return Embed(path);
  };
  const std::vector<int> work = {0, 1, 2, 4, 6};  // five steps in which something moves
  EmbeddingSet gold = video("gold_camera_early", work, 5.0, 5.0);
  EmbeddingSet tight = video("tight", work, 0, 0);
  EmbeddingSet long_lead = video("long_lead", work, 10.0, 2.0);
  EmbeddingSet missing = video("missing_third", {0, 1, 4, 6}, 0, 0);
  std::vector<StepSpec> named;
  for (int k = 0; k < 5; ++k) {
    StepSpec s;
    s.name = "step " + std::to_string(k + 1);
    s.timed = false;
    named.push_back(s);
  }
  for (const bool with_names : {false, true}) {
    const std::string way = with_names ? "named steps" : "found steps";
    auto score = [&](const EmbeddingSet& trainee) {
      auto r = EvaluateSop(gold, trainee, ScoreOptions{}, with_names ? &named : nullptr);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      return r.ok() ? *r : ScoreReport{};
    };
    ScoreReport self = score(gold);
    EXPECT_EQ(self.score, 100.0) << way << ": " << Describe(self);
    EXPECT_TRUE(self.deviations.empty()) << way << ": " << Describe(self);
    ASSERT_FALSE(self.steps.empty()) << way;
    EXPECT_NEAR(self.steps.front().gold_time.start_sec, 5.0, 1.0) << way;
    EXPECT_NEAR(self.steps.back().gold_time.end_sec, 25.0, 1.0) << way;
    EXPECT_EQ(self.gold_step_map.front(), kNoStep) << way;
    EXPECT_EQ(self.gold_step_map.back(), kNoStep) << way;
    ASSERT_EQ(self.idle.size(), 2u) << way << ": " << Describe(self);
    EXPECT_NEAR(self.idle[0].trainee_time.end_sec, 5.0, 1.0) << way;
    EXPECT_NEAR(self.idle[1].trainee_time.start_sec, 25.0, 1.0) << way;
    // The gold's own empty time is listed, for the supervisor to check.
    ASSERT_EQ(self.gold_idle.size(), 2u) << way << ": " << Describe(self);
    EXPECT_EQ(self.gold_idle[0].kind, kIdleLeadIn) << way;
    EXPECT_EQ(self.gold_idle[0].gold_time.start_sec, 0.0) << way;
    EXPECT_NEAR(self.gold_idle[0].gold_time.end_sec, 5.0, 1.0) << way;
    EXPECT_EQ(self.gold_idle[1].kind, kIdleTail) << way;
    EXPECT_NEAR(self.gold_idle[1].gold_time.start_sec, 25.0, 1.0) << way;
    EXPECT_NEAR(self.gold_idle[1].gold_time.end_sec, 30.0, 0.1) << way;
    for (const auto& [trainee, what] : std::vector<std::pair<const EmbeddingSet*, std::string>>{
             {&tight, "filmed without the empty time"}, {&long_lead, "a longer lead-in, a shorter tail"}}) {
      ScoreReport r = score(*trainee);
      EXPECT_EQ(r.verdict, "pass") << way << ", " << what << ": " << Describe(r);
      EXPECT_TRUE(r.deviations.empty()) << way << ", " << what << ": " << Describe(r);
    }
    // The third step left out is named, with its gold time.
    ScoreReport m = score(missing);
    ASSERT_EQ(m.deviations.size(), 1u) << way << ": " << Describe(m);
    EXPECT_EQ(m.deviations[0].type, kStepMissing) << way;
    ASSERT_TRUE(m.deviations[0].step.gold_time.has_value()) << way;
    EXPECT_NEAR(m.deviations[0].step.gold_time->start_sec, 13.0, 1.0) << way;
  }
}

// The same on real footage: take 004's first five steps, the gold with its
// first frame held 6 s before them and its last frame 5 s after, with sensor
// noise, as a camera left running films a person standing still (at 360x240:
// another camera than the trainees'). Steps found. Before the rule the held
// frame was found as "step 1", and the take as filmed missed it (65).
TEST_F(ScoringPropertiesTest, ARealGoldFilmedWithTheCameraRunningIsScoredOnItsWork) {
  std::string hw = HandwashDir();
  if (hw.empty()) {
    GTEST_SKIP() << "../shared/fixtures/handwash is absent; AGoldFilmedWithTheCameraRunningIsScoredOnItsWork covers "
                    "the rule on generated videos";
  }
  const auto [work, timeline] = Take004(hw, "work", "1 2 3 4 5");
  const auto [without_step3, unused] = Take004(hw, "without_step3", "1 2 3 5");  // code 4 is Step_3
  // Where Step_3 lies in the gold, after its 6 s held lead-in.
  double step3_start = -1, step3_end = -1;
  for (const StepSpec& step : TimelineSteps(timeline)) {
    if (step.name == "code 4") step3_start = step.gold_time.start_sec + 6.0, step3_end = step.gold_time.end_sec + 6.0;
  }
  ASSERT_GT(step3_start, 0) << timeline;
  const std::string first = dir_.file("first.png"), last = dir_.file("last.png"), gold_path = dir_.file("held.mp4");
  ASSERT_EQ(testing::Ffmpeg("-i " + testing::ShellQuote(work) + " -frames:v 1 " + testing::ShellQuote(first)), "");
  ASSERT_EQ(testing::Ffmpeg("-sseof -1 -i " + testing::ShellQuote(work) + " -update 1 " + testing::ShellQuote(last)),
            "");
  const std::string still = "noise=alls=6:allf=t,scale=360:240,format=yuv420p,setsar=1";
  ASSERT_EQ(testing::Ffmpeg("-loop 1 -t 6 -framerate 30 -i " + testing::ShellQuote(first) + " -i " +
                            testing::ShellQuote(work) + " -loop 1 -t 5 -framerate 30 -i " + testing::ShellQuote(last) +
                            " -filter_complex " +
                            testing::ShellQuote("[0:v]" + still + "[a];[1:v]scale=360:240,format=yuv420p,setsar=1,"
                                                "fps=30[b];[2:v]" + still + "[c];[a][b][c]concat=n=3:v=1:a=0[out]") +
                            " -map '[out]' -c:v libx264 -preset ultrafast -crf 20 " + testing::ShellQuote(gold_path)),
            "");
  EmbeddingSet gold = Embed(gold_path);
  ScoreReport self = Score(gold, gold);
  EXPECT_EQ(self.score, 100.0) << Describe(self);
  ASSERT_EQ(self.idle.size(), 2u) << Describe(self);
  EXPECT_NEAR(self.idle[0].trainee_time.end_sec, 6.0, 1.0);
  ScoreReport as_filmed = Score(gold, Embed(work));
  EXPECT_EQ(as_filmed.verdict, "pass") << Describe(as_filmed);
  EXPECT_TRUE(as_filmed.deviations.empty()) << Describe(as_filmed);
  ScoreReport missing = Score(gold, Embed(without_step3));
  ASSERT_EQ(missing.deviations.size(), 1u) << Describe(missing);
  EXPECT_EQ(missing.deviations[0].type, kStepMissing);
  ASSERT_TRUE(missing.deviations[0].step.gold_time.has_value());
  const TimeSpan found = *missing.deviations[0].step.gold_time;
  EXPECT_GT(std::min(found.end_sec, step3_end) - std::max(found.start_sec, step3_start), 0.5 * (step3_end - step3_start))
      << "the missing step lies at " << found.start_sec << "-" << found.end_sec << " s, Step_3 at " << step3_start
      << "-" << step3_end << " s";
}

// The stop between two steps on real footage: take 004's first five steps,
// the hands held still 6 s (the last frame of Step_3 with sensor noise)
// before Step_4_Left. The stop is time on no step, whichever way the gold's
// steps come: found, timed by the user, or named and placed.
TEST_F(ScoringPropertiesTest, ARealStopBetweenStepsIsTimeOnNoStep) {
  std::string hw = HandwashDir();
  if (hw.empty()) {
    GTEST_SKIP() << "../shared/fixtures/handwash is absent; APauseBetweenStepsIsTimeOnNoStep covers the rule on "
                    "generated videos";
  }
  const auto [work, timeline] = Take004(hw, "work", "1 2 3 4 5");
  const auto [before, unused_before] = Take004(hw, "before", "1 2 3 4");
  const auto [after, unused_after] = Take004(hw, "after", "5");
  const std::vector<StepSpec> timed = TimelineSteps(timeline);
  ASSERT_EQ(timed.size(), 5u) << timeline;
  const double stop_start = timed[3].gold_time.end_sec, stop_end = stop_start + 6.0;
  const std::string last = dir_.file("last.png"), stopped = dir_.file("stopped.mp4");
  ASSERT_EQ(testing::Ffmpeg("-sseof -1 -i " + testing::ShellQuote(before) + " -update 1 " + testing::ShellQuote(last)),
            "");
  ASSERT_EQ(testing::Ffmpeg("-i " + testing::ShellQuote(before) + " -loop 1 -t 6 -framerate 30 -i " +
                            testing::ShellQuote(last) + " -i " + testing::ShellQuote(after) + " -filter_complex " +
                            testing::ShellQuote("[0:v]format=yuv420p,setsar=1,fps=30[a];[1:v]noise=alls=6:allf=t,"
                                                "format=yuv420p,setsar=1[b];[2:v]format=yuv420p,setsar=1,fps=30[c];"
                                                "[a][b][c]concat=n=3:v=1:a=0[out]") +
                            " -map '[out]' -c:v libx264 -preset ultrafast -crf 20 " + testing::ShellQuote(stopped)),
            "");
  const EmbeddingSet gold = Embed(work), trainee = Embed(stopped);
  std::vector<StepSpec> named = timed;
  for (StepSpec& s : named) s.timed = false;
  const std::vector<std::pair<std::string, const std::vector<StepSpec>*>> ways = {
      {"found", nullptr}, {"timed", &timed}, {"named", &named}};
  for (const auto& [way, steps] : ways) {
    auto scored = EvaluateSop(gold, trainee, ScoreOptions{}, steps);
    ASSERT_TRUE(scored.ok()) << way << ": " << scored.status().ToString();
    const ScoreReport& r = *scored;
    EXPECT_EQ(r.deviations.size(), 1u) << way << ": " << Describe(r);
    ExpectOnlyAStop(r, stop_start, stop_end, way == "found" ? "" : "code 4", way + ": ");
  }
}

// The light changing during a real recording (the lamp of
// CameraNuisancesChangeNothing switched on halfway through, or drifting in
// over the whole take as automatic exposure does), against take 004 as
// filmed. With the whole-video centring alone, the lamp switched on halfway
// failed the take (0.0, nine false findings) and hid a step left out among
// seven; each video centred over a few steps each way is chosen where it
// removes most of what set the trainee apart (comparison_space.h).
TEST_F(ScoringPropertiesTest, TheLightChangingDuringARealRecordingChangesNothing) {
  std::string hw = HandwashDir();
  if (hw.empty()) {
    GTEST_SKIP() << "../shared/fixtures/handwash is absent; comparison_space_test covers the rule on generated "
                    "embeddings";
  }
  const auto [gold_path, timeline] = Take004(hw, "gold", "1 2 3 4 5 6 7 8 9 10 11");
  const auto [without_path, without_timeline] = Take004(hw, "without_step3", "1 2 3 5 6 7 8 9 10 11");
  const std::vector<StepSpec> timed = TimelineSteps(timeline);
  ASSERT_EQ(timed.size(), 11u) << timeline;
  const TimeSpan step3 = timed[3].gold_time;  // code 4
  const double gold_end = timed.back().gold_time.end_sec;
  const double without_end = TimelineSteps(without_timeline).back().gold_time.end_sec;
  const std::string lamp = "eq=brightness=0.06:contrast=0.9:saturation=0.85";
  auto halfway = [&](double seconds) { return lamp + ":enable='gte(t," + std::to_string(seconds) + ")'"; };
  const std::string k = "min(t/" + std::to_string(gold_end) + ",1)";
  const std::string drifting =
      "eq=brightness='0.06*" + k + "':contrast='1-0.1*" + k + "':saturation='1-0.15*" + k + "':eval=frame";
  const EmbeddingSet gold = Embed(gold_path);
  const EmbeddingSet lamp_halfway = Embed(Filtered(gold_path, "lamp_halfway", halfway(gold_end / 2)));
  const EmbeddingSet lamp_drifting = Embed(Filtered(gold_path, "lamp_drifting", drifting));
  const EmbeddingSet without =
      Embed(Filtered(without_path, "without_step3_lamp_halfway", halfway(without_end / 2)));
  // Every finding lies where the lamp came on: the few seconds in which a
  // window holds both lights.
  auto at_the_switch = [](const Deviation& d, double switch_at) {
    return d.step.trainee_time.has_value() && d.step.trainee_time->end_sec > switch_at - 8 &&
           d.step.trainee_time->start_sec < switch_at + 8;
  };
  for (const auto& [way, steps] : std::vector<std::pair<std::string, const std::vector<StepSpec>*>>{
           {"found", nullptr}, {"timed", &timed}}) {
    auto score = [&](const EmbeddingSet& trainee) {
      auto r = EvaluateSop(gold, trainee, ScoreOptions{}, steps);
      EXPECT_TRUE(r.ok()) << way << ": " << r.status().ToString();
      return r.ok() ? *r : ScoreReport{};
    };
    const ScoreReport half = score(lamp_halfway);
    EXPECT_EQ(half.verdict, "pass") << way << ", lamp switched on halfway: " << Describe(half);
    for (const Deviation& d : half.deviations) {
      EXPECT_TRUE(at_the_switch(d, gold_end / 2)) << way << ", lamp switched on halfway: " << d.type << ": " << d.reason;
    }
    const ScoreReport drift = score(lamp_drifting);
    EXPECT_EQ(drift.verdict, "pass") << way << ", lamp drifting: " << Describe(drift);
    EXPECT_TRUE(drift.deviations.empty()) << way << ", lamp drifting: " << Describe(drift);
    // Step_3 missing, named once, and nothing else but at the switch.
    const ScoreReport missing = score(without);
    const Deviation* step_missing = nullptr;
    for (const Deviation& d : missing.deviations) {
      if (d.type == kStepMissing) {
        EXPECT_EQ(step_missing, nullptr) << way << ", without Step_3: " << Describe(missing);
        step_missing = &d;
      } else {
        EXPECT_TRUE(at_the_switch(d, without_end / 2)) << way << ", without Step_3: " << d.type << ": " << d.reason;
      }
    }
    ASSERT_NE(step_missing, nullptr) << way << ", without Step_3: " << Describe(missing);
    ASSERT_TRUE(step_missing->step.gold_time.has_value()) << way;
    const TimeSpan found = *step_missing->step.gold_time;
    EXPECT_GT(std::min(found.end_sec, step3.end_sec) - std::max(found.start_sec, step3.start_sec),
              0.5 * step3.duration())
        << way << ": the missing step lies at " << found.start_sec << "-" << found.end_sec << " s, Step_3 at "
        << step3.start_sec << "-" << step3.end_sec << " s";
  }
}

// People work at their own pace: take 004 with every frame's time scaled by
// 0.9 and by 1.1 (the same hands 10 % faster or slower throughout, under the
// 15 % over-time tolerance) is no step done wrongly. Its motion is another
// speed, so moments of a step look less like the gold; none of them for a
// clip's length (doc/scoring.md section 5, execution_deviation). Before
// that rule the slower take, steps found, was 55 `fail`. With the labelled
// steps, it passes with nothing found; found or named, the boundaries may
// put a step over the tolerance (a limit of the boundaries, see
// doc/scoring.md "Known limits"), never anything else.
TEST_F(ScoringPropertiesTest, ARealTakeAtAnotherPaceIsNoStepDoneWrongly) {
  std::string hw = HandwashDir();
  if (hw.empty()) {
    GTEST_SKIP() << "../shared/fixtures/handwash is absent; "
                    "EvaluateSopTest.AStepLooksUnlikeTheGoldForAClipsLengthBeforeItIsAFinding covers the rule";
  }
  const auto [gold_path, timeline] = Take004(hw, "gold", "1 2 3 4 5 6 7 8 9 10 11");
  const std::vector<StepSpec> timed = TimelineSteps(timeline);
  ASSERT_EQ(timed.size(), 11u) << timeline;
  std::vector<StepSpec> named = timed;
  for (StepSpec& s : named) s.timed = false;
  const EmbeddingSet gold = Embed(gold_path);
  for (const char* pace : {"0.9", "1.1"}) {
    // Shrunk as ingest shrinks it (longest side 320), to keep the encode short.
    const std::string filter = std::string("setpts=") + pace + "*PTS,fps=30,scale=320:-2";
    const EmbeddingSet trainee = Embed(Filtered(gold_path, std::string("pace") + pace, filter));
    for (const auto& [way, steps] : std::vector<std::pair<std::string, const std::vector<StepSpec>*>>{
             {"found", nullptr}, {"timed", &timed}, {"named", &named}}) {
      auto r = EvaluateSop(gold, trainee, ScoreOptions{}, steps);
      ASSERT_TRUE(r.ok()) << way << ": " << r.status().ToString();
      const std::string what = std::string("pace ") + pace + ", steps " + way + ": ";
      for (const Deviation& d : r->deviations) {
        EXPECT_EQ(d.type, kOverTime) << what << d.type << ": " << d.reason;
      }
      if (way == "timed") {
        EXPECT_EQ(r->verdict, "pass") << what << Describe(*r);
        EXPECT_TRUE(r->deviations.empty()) << what << Describe(*r);
      }
    }
  }
}

// Item 9: say what was seen. A trainee who stops and stands still inside a
// step makes it over time; the reason says that nothing in view moved, and
// when, so the supervisor knows what to look for. A step done slowly but
// moving all the while says nothing of the kind.
TEST_F(ScoringPropertiesTest, TheLightChangingDuringAShortRealRecordingChangesNothing) {
  // The maintenance gold (24 s, four steps of about 6 s) with a lamp
  // switched on halfway: too short for two windows of three steps, so it
  // was centred whole and failed (10.2, the last step "time outside the
  // procedure"). A shorter window that still holds a step and a half each
  // way fits it.
  const std::string dir = testing::SharedFixtureDir();
  if (dir.empty()) {
    GTEST_SKIP() << "../shared/fixtures/maintenance_filter_swap is absent; comparison_space_test covers the rule on "
                    "generated embeddings";
  }
  const std::string gold_path = dir + "/gold.mp4";
  const EmbeddingSet gold = Embed(gold_path);
  const std::string lamp = "eq=brightness=0.06:contrast=0.9:saturation=0.85";
  ScoreReport r = Score(gold, Embed(Filtered(gold_path, "lamp_halfway", lamp + ":enable='gte(t,12)'")));
  EXPECT_EQ(r.verdict, "pass") << Describe(r);
  EXPECT_TRUE(r.deviations.empty()) << Describe(r);
  for (const StepResult& step : r.steps) EXPECT_EQ(step.status, "ok") << step.name << ": " << Describe(r);
}

TEST_F(ScoringPropertiesTest, AStepThatStoodStillSaysSo) {
  const std::vector<std::string>& scenes = DistinctScenes();
  EmbeddingSet gold =
      SegmentsVideo("gold", {{scenes[0], 4}, {scenes[1], 4}, {scenes[2], 4}, {scenes[4], 4}, {scenes[6], 4}});
  // In the middle of the second step, its picture frozen from 8 s to 14 s:
  // the step done slowly, its time the step's.
  EmbeddingSet stood = SegmentsVideo("stood", {{scenes[0], 4},
                                               {scenes[1] + ",trim=duration=4,tpad=stop_mode=clone:stop_duration=6", 10},
                                               {scenes[1], 4},
                                               {scenes[2], 4},
                                               {scenes[4], 4},
                                               {scenes[6], 4}});
  EmbeddingSet slow =
      SegmentsVideo("slow", {{scenes[0], 4}, {scenes[1], 8}, {scenes[2], 4}, {scenes[4], 4}, {scenes[6], 4}});
  auto over_time_of_step2 = [](const ScoreReport& r) -> const Deviation* {
    for (const Deviation& d : r.deviations) {
      if (d.type == kOverTime && d.step.index == 1) return &d;
    }
    return nullptr;
  };
  ScoreReport r = Score(gold, stood);
  const Deviation* d = over_time_of_step2(r);
  ASSERT_NE(d, nullptr) << Describe(r);
  const std::string said = d->reason;
  const size_t at = said.find("nothing in view moved for ");
  ASSERT_NE(at, std::string::npos) << said;
  double seconds = 0;
  ASSERT_EQ(std::sscanf(said.c_str() + at, "nothing in view moved for %lf s", &seconds), 1) << said;
  EXPECT_NEAR(seconds, 6.0, 1.0) << said;
  EXPECT_NE(said.find("(0:0"), std::string::npos) << said;  // the stretch starts in the first 10 s
  for (const Deviation& e : r.deviations) EXPECT_NE(e.type, kExtraSegment) << Describe(r);
  ScoreReport s = Score(gold, slow);
  const Deviation* o = over_time_of_step2(s);
  ASSERT_NE(o, nullptr) << Describe(s);
  EXPECT_EQ(o->reason.find("nothing in view moved"), std::string::npos) << o->reason;
}

// A step broken off for something else and then finished is one doing of
// the step: the time away is the finding, once (before 2026-12-07 the
// step's second part was also "done again", and its first, alone, "done in
// half its time").
TEST_F(ScoringPropertiesTest, AStepTakenUpAgainAfterAnInterruptionIsOneDoingOfIt) {
  const std::vector<std::string>& scenes = DistinctScenes();
  EmbeddingSet gold =
      SegmentsVideo("gold", {{scenes[0], 6}, {scenes[1], 6}, {scenes[2], 6}, {scenes[4], 6}, {scenes[8], 6}});
  // The second step's first 3 s, 4 s of something no step shows (9 s to
  // 13 s), then its last 3 s.
  ScoreReport r = Score(gold, SegmentsVideo("interrupted", {{scenes[0], 6},
                                                            {scenes[1], 3},
                                                            {scenes[6], 4},
                                                            {scenes[1] + ",trim=start=3,setpts=PTS-STARTPTS", 3},
                                                            {scenes[2], 6},
                                                            {scenes[4], 6},
                                                            {scenes[8], 6}}));
  int away = 0;
  for (const Deviation& d : r.deviations) {
    EXPECT_FALSE(d.type == kExtraSegment && d.step.index == 1) << Describe(r);  // not "done again"
    EXPECT_NE(d.type, kExecutionDeviation) << Describe(r);                       // nor half done
    if (d.type != kExtraSegment || d.step.index != -1) continue;
    ++away;
    ASSERT_TRUE(d.step.trainee_time.has_value());
    EXPECT_NEAR(d.step.trainee_time->start_sec, 9.0, 1.0) << Describe(r);
    EXPECT_NEAR(d.step.trainee_time->end_sec, 13.0, 1.0) << Describe(r);
  }
  EXPECT_EQ(away, 1) << Describe(r);
  ASSERT_TRUE(r.steps[1].trainee_time.has_value()) << Describe(r);
  EXPECT_NEAR(r.steps[1].trainee_time->start_sec, 6.0, 1.0) << Describe(r);
  EXPECT_NEAR(r.steps[1].trainee_time->end_sec, 16.0, 1.0) << Describe(r);
  EXPECT_GE(r.steps[1].duration_ratio, 0.9) << Describe(r);
}

TEST_F(ScoringPropertiesTest, APauseBetweenStepsIsTimeOnNoStep) {
  const std::vector<std::string>& scenes = DistinctScenes();
  // Every step moves (a still one held longer is that step over time).
  EmbeddingSet gold =
      SegmentsVideo("gold", {{scenes[0], 4}, {scenes[1], 4}, {scenes[2], 4}, {scenes[4], 4}, {scenes[8], 4}});
  // The second step done, then its last picture held 6 s (8 s to 14 s)
  // before the third: the trainee stopped between two steps, which the
  // issue counts as time on nothing the procedure asks for.
  const std::string stop = ",trim=duration=4,tpad=stop_mode=clone:stop_duration=6";
  ScoreReport r = Score(gold, SegmentsVideo("between", {{scenes[0], 4}, {scenes[1] + stop, 10}, {scenes[2], 4},
                                                {scenes[4], 4}, {scenes[8], 4}}));
  ExpectOnlyAStop(r, 8.0, 14.0, r.steps[1].name);
  EXPECT_EQ(r.steps[1].status, "ok") << Describe(r);
  ASSERT_TRUE(r.steps[2].trainee_time.has_value());
  EXPECT_NEAR(r.steps[2].trainee_time->start_sec, 14.0, 1.0) << Describe(r);
  // The same stop before the work and after it is idle, not a deviation.
  const std::string wait = ",trim=duration=4,tpad=start_mode=clone:start_duration=6";
  ScoreReport edges = Score(gold, SegmentsVideo("edges", {{scenes[0] + wait, 10}, {scenes[1], 4}, {scenes[2], 4},
                                                  {scenes[4], 4}, {scenes[8] + stop, 10}}));
  EXPECT_TRUE(edges.deviations.empty()) << Describe(edges);
  ASSERT_EQ(edges.idle.size(), 2u) << Describe(edges);
  EXPECT_EQ(edges.idle[0].kind, kIdleLeadIn);
  EXPECT_NEAR(edges.idle[0].trainee_time.end_sec, 6.0, 1.0) << Describe(edges);
  EXPECT_EQ(edges.idle[1].kind, kIdleTail);
  EXPECT_NEAR(edges.idle[1].trainee_time.start_sec, 26.0, 1.0) << Describe(edges);
}

// A stop beside steps the gold cannot tell apart: the scorer shares such a
// run's time in the gold's proportion, and the sharing used to cut the stop
// into parts too short to be seen still (the run was over time instead).
TEST_F(ScoringPropertiesTest, AStopBesideStepsTheGoldCannotTellApartIsTimeOnNoStep) {
  const std::vector<std::string>& scenes = DistinctScenes();
  // One moving scene typed as three 3 s steps ("bolt 1" to "bolt 3"): an
  // alike run. Before and after it, steps of their own. testsrc2 looks the
  // same from bolt to bolt; mandelbrot's zoom does not (doc/scoring.md,
  // "Steps shorter than two clips").
  EmbeddingSet gold = SegmentsVideo("gold", {{scenes[1], 4}, {scenes[0], 9}, {scenes[2], 4}, {scenes[4], 4}});
  std::vector<StepSpec> steps;
  auto step = [&](const std::string& name, double start, double end) {
    StepSpec s;
    s.name = name;
    s.gold_time = {start, end};
    steps.push_back(s);
  };
  step("first", 0, 4);
  step("bolt 1", 4, 7);
  step("bolt 2", 7, 10);
  step("bolt 3", 10, 13);
  step("third", 13, 17);
  step("fourth", 17, 21);
  // The trainee holds the run's first picture 6 s (4 s to 10 s) before
  // doing it: shared 5 s a bolt, the stop filled "bolt 1" and 1 s of
  // "bolt 2", neither long enough to be seen still on its own.
  const std::string wait = ",trim=duration=9,tpad=start_mode=clone:start_duration=6";
  EmbeddingSet trainee =
      SegmentsVideo("stopped", {{scenes[1], 4}, {scenes[0] + wait, 15}, {scenes[2], 4}, {scenes[4], 4}});
  auto scored = EvaluateSop(gold, trainee, ScoreOptions{}, &steps);
  ASSERT_TRUE(scored.ok()) << scored.status().ToString();
  const ScoreReport& r = *scored;
  ExpectOnlyAStop(r, 4.0, 10.0, "bolt 1");
  // The bolts are done after the stop, each in about its gold time.
  for (int k = 1; k <= 3; ++k) {
    EXPECT_EQ(r.steps[k].status, "ok") << r.steps[k].name << ": " << Describe(r);
    ASSERT_TRUE(r.steps[k].trainee_time.has_value()) << r.steps[k].name;
    EXPECT_NEAR(r.steps[k].trainee_time->start_sec, 10.0 + 3.0 * (k - 1), 1.0) << r.steps[k].name;
  }
}

TEST_F(ScoringPropertiesTest, AStepLeftOutOfShortTypedStepsIsNamedMissing) {
  // Ten distinct scenes typed as 3 s steps: with 2 s clips every clip of a
  // step but one or two straddles a boundary. The trainee leaves out the
  // seventh step (index 6, 18-21 s in the gold).
  const EmbeddingSet gold = Embed(Procedure("gold", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 3.0));
  const EmbeddingSet missing = Embed(Procedure("missing", {0, 1, 2, 3, 4, 5, 7, 8, 9}, 3.0));
  std::vector<StepSpec> steps;
  for (int k = 0; k < 10; ++k) {
    StepSpec s;
    s.name = "step " + std::to_string(k + 1);
    s.gold_time = {3.0 * k, 3.0 * (k + 1)};
    steps.push_back(s);
  }
  auto scored = EvaluateSop(gold, missing, ScoreOptions{}, &steps);
  ASSERT_TRUE(scored.ok()) << scored.status().ToString();
  const ScoreReport& r = *scored;
  ASSERT_EQ(r.deviations.size(), 1u) << Describe(r);
  EXPECT_EQ(r.deviations[0].type, kStepMissing) << Describe(r);
  EXPECT_EQ(r.deviations[0].step.name, "step 7") << r.deviations[0].reason;
  for (const StepResult& step : r.steps) {
    if (step.name != "step 7") {
      EXPECT_EQ(step.status, "ok") << step.name << ": " << Describe(r);
    }
  }
  // Done in full, the same typed steps are all there.
  auto whole = EvaluateSop(gold, gold, ScoreOptions{}, &steps);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->score, 100.0) << Describe(*whole);
}

}  // namespace
}  // namespace sopilot
