#include "score/sop_evaluator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

#include "score/scene_embeddings_test_util.h"

namespace sopilot {
namespace {

EmbeddingSet Video(const std::vector<int>& scenes, const std::vector<double>& seconds, int seed = 1,
                   const std::string& model = "heuristic-v1") {
  return testing::SceneEmbeddings(scenes, seconds, seed, model);
}

TEST(EvaluateSopTest, GoldAgainstItselfIsAPerfectPass) {
  EmbeddingSet gold = Video({0, 1, 2, 3}, {6, 6, 6, 6});
  auto r = EvaluateSop(gold, gold, ScoreOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->score, 100.0);
  EXPECT_EQ(r->verdict, "pass");
  EXPECT_EQ(r->steps.size(), 4u);
  EXPECT_TRUE(r->deviations.empty());
  EXPECT_EQ(r->metrics.size(), 15u);
  EXPECT_EQ(r->metrics.front().first, "miss");
  EXPECT_EQ(r->metrics.back().first, "mean_alignment_cost");
  EXPECT_EQ(r->gold_boundaries.back(), r->gold_clips);
  EXPECT_FALSE(r->alignment.empty());
}

TEST(EvaluateSopTest, AnotherPerformanceOfTheSameStepsPasses) {
  EmbeddingSet gold = Video({0, 1, 2, 3}, {6, 6, 6, 6}, 1);
  auto r = EvaluateSop(gold, Video({0, 1, 2, 3}, {6.2, 5.8, 6.3, 6}, 2), ScoreOptions{});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->deviations.empty()) << r->deviations[0].type;
  EXPECT_EQ(r->verdict, "pass");
}

TEST(EvaluateSopTest, EachDeviationCostsItsWeight) {
  EmbeddingSet gold = Video({0, 1, 2, 3}, {6, 6, 6, 6});
  ScoreOptions o;
  auto missing = EvaluateSop(gold, Video({0, 2, 3}, {6, 6, 6}, 3), o);
  ASSERT_TRUE(missing.ok());
  ASSERT_EQ(missing->deviations.size(), 1u);
  EXPECT_EQ(missing->deviations[0].type, kStepMissing);
  EXPECT_DOUBLE_EQ(missing->deviations[0].penalty, o.weights.miss);
  EXPECT_DOUBLE_EQ(missing->score, 100 - o.weights.miss);
  o.weights.miss = 50;
  auto heavier = EvaluateSop(gold, Video({0, 2, 3}, {6, 6, 6}, 3), o);
  EXPECT_DOUBLE_EQ(heavier->score, 50.0);
  EXPECT_EQ(heavier->verdict, "fail");
}

// A missing step's reason says what the trainee video showed instead, in
// terms a supervisor can check against it, never "most like it" at a level
// above what counted as done.
const Deviation* MissingStep(const ScoreReport& r) {
  for (const Deviation& d : r.deviations) {
    if (d.type == kStepMissing) return &d;
  }
  return nullptr;
}

TEST(EvaluateSopTest, AMissingStepSaysWhatWasSeenInstead) {
  EmbeddingSet gold = Video({0, 1, 2, 3}, {6, 6, 6, 6});
  // Left out: the moment most like it belongs to a step that was done.
  auto left_out = EvaluateSop(gold, Video({0, 2, 3}, {6, 6, 6}, 3), ScoreOptions{});
  ASSERT_TRUE(left_out.ok());
  const Deviation* d = MissingStep(*left_out);
  ASSERT_NE(d, nullptr);
  EXPECT_NE(d->reason.find("step \"step 2\" was not seen in the trainee video: the moment most like it (0:"),
            std::string::npos) << d->reason;
  EXPECT_NE(d->reason.find("looked more like step \"step 3\", done at 0:06"), std::string::npos) << d->reason;
  // Shown for a moment only: how long, when, and how long counts.
  auto glimpse = EvaluateSop(gold, Video({0, 1, 2, 3}, {6, 1.0, 6, 6}, 4), ScoreOptions{});
  ASSERT_TRUE(glimpse.ok());
  d = MissingStep(*glimpse);
  ASSERT_NE(d, nullptr);
  // It showed 6.0-7.0 s; the clips place it to about a quarter of a clip.
  double shown = 0, from_min = 0, from_sec = 0, to_min = 0, to_sec = 0;
  const size_t at = d->reason.find("it showed for only ");
  ASSERT_NE(at, std::string::npos) << d->reason;
  ASSERT_EQ(std::sscanf(d->reason.c_str() + at, "it showed for only %lf s (%lf:%lf-%lf:%lf)", &shown, &from_min,
                        &from_sec, &to_min, &to_sec),
            5)
      << d->reason;
  EXPECT_NEAR(shown, 1.0, 0.5) << d->reason;
  EXPECT_NEAR(60 * from_min + from_sec, 6.0, 0.5) << d->reason;
  EXPECT_NEAR(60 * to_min + to_sec, 7.0, 0.5) << d->reason;
  EXPECT_NE(d->reason.find("less than the 2.0 s it takes to count as done"), std::string::npos) << d->reason;
  // Nothing of the procedure: too faint a resemblance, said against the gold.
  auto unrelated = EvaluateSop(gold, Video({9, 10}, {12, 12}, 5), ScoreOptions{});
  ASSERT_TRUE(unrelated.ok());
  ASSERT_EQ(unrelated->deviations.size(), 5u);  // four steps missing, 24 s of something else
  EXPECT_EQ(unrelated->verdict, "fail");
  EXPECT_EQ(unrelated->verdict_reason,
            "no step of the procedure was seen in this video: it shows another task, or this one filmed so "
            "differently (another place or camera view) that nothing in it matches the gold");
  for (const Deviation& m : unrelated->deviations) {
    if (m.type != kStepMissing) continue;
    EXPECT_NE(m.reason.find("as much as the gold's steps resemble themselves at another moment; 50% counts as the "
                            "procedure"),
              std::string::npos)
        << m.reason;
  }
}

// Four 6 s steps whose content overlaps as real steps do (each shares a
// direction with the next), clips of 2 s every 0.5 s, with `noise` added to
// every clip: the more noise, the less a clip says which step it shows.
EmbeddingSet OverlappingSteps(double noise, int seed) {
  EmbeddingSet s = Video({0, 1, 2, 3}, {6, 6, 6, 6}, seed);
  std::mt19937 rng(42);
  std::normal_distribution<float> g(0, 1);
  const int dim = s.vectors.cols;
  std::vector<std::vector<float>> basis(5, std::vector<float>(dim));
  for (auto& b : basis) for (float& x : b) x = g(rng);
  std::mt19937 noise_rng(seed);
  for (size_t i = 0; i < s.clips.size(); ++i) {
    for (int j = 0; j < dim; ++j) s.vectors.at(i, j) = 0;
    for (int k = 0; k < 4; ++k) {
      double a = std::max(6.0 * k, s.clips[i].start_sec), b = std::min(6.0 * (k + 1), s.clips[i].end_sec);
      if (b <= a) continue;
      for (int j = 0; j < dim; ++j) s.vectors.at(i, j) += (b - a) * (basis[k][j] + basis[k + 1][j]);
    }
    for (int j = 0; j < dim; ++j) s.vectors.at(i, j) += noise * g(noise_rng);
  }
  NormalizeRows(&s.vectors);
  return s;
}

// The same procedure filmed ever less clearly (more noise on every clip):
// judged while its moments still tell the steps apart; needs_review, saying
// why, once they resemble their matched step closer to how much the gold's
// steps resemble one another than to how much each resembles itself
// (whatever the findings would say); fail once it no longer resembles the
// procedure at all.
TEST(EvaluateSopTest, StepsThatCannotBeToldApartNeedReviewNotAVerdict) {
  const EmbeddingSet gold = OverlappingSteps(0.5, 1);
  auto clear = EvaluateSop(gold, OverlappingSteps(1.0, 2), ScoreOptions{});
  ASSERT_TRUE(clear.ok()) << clear.status().ToString();
  EXPECT_EQ(clear->verdict, "pass");
  EXPECT_TRUE(clear->verdict_reason.empty()) << clear->verdict_reason;

  auto blurred = EvaluateSop(gold, OverlappingSteps(3.25, 2), ScoreOptions{});
  ASSERT_TRUE(blurred.ok());
  EXPECT_EQ(blurred->verdict, "needs_review");
  EXPECT_NE(blurred->verdict_reason.find("this video's steps cannot be told apart well enough to judge them one by "
                                         "one: its moments resemble the gold step they were matched to (typically 0."),
            std::string::npos)
      << blurred->verdict_reason;
  EXPECT_NE(blurred->verdict_reason.find("closer to how much the gold's steps resemble one another (0."),
            std::string::npos)
      << blurred->verdict_reason;
  EXPECT_NE(blurred->verdict_reason.find("than to how much each step resembles itself at another moment (0."),
            std::string::npos)
      << blurred->verdict_reason;

  // Its moments still resemble their step more than one gold step resembles
  // another, but nearer that than the gold's own steps at another moment: a
  // pass with no finding would still be a guess (another correct take of real
  // hand washing sits here, doc/scoring.md section 6).
  auto between = EvaluateSop(gold, OverlappingSteps(2.25, 2), ScoreOptions{});
  ASSERT_TRUE(between.ok());
  EXPECT_EQ(between->verdict, "needs_review") << between->score;
  double typical = 0, other = 0, same = 0;
  const size_t at = between->verdict_reason.find("(typically ");
  ASSERT_NE(at, std::string::npos) << between->verdict_reason;
  ASSERT_EQ(std::sscanf(between->verdict_reason.c_str() + at,
                        "(typically %lf) closer to how much the gold's steps resemble one another (%lf) than to how "
                        "much each step resembles itself at another moment (%lf)",
                        &typical, &other, &same),
            3)
      << between->verdict_reason;
  EXPECT_GT(typical, other);
  EXPECT_LT(typical, other + 0.5 * (same - other));

  auto unrelated = EvaluateSop(gold, OverlappingSteps(6.0, 2), ScoreOptions{});
  ASSERT_TRUE(unrelated.ok());
  EXPECT_EQ(unrelated->verdict, "fail");
  EXPECT_EQ(unrelated->verdict_reason.find("steps cannot be told apart"), std::string::npos)
      << unrelated->verdict_reason;
  // A video against itself is judged, however much noise it holds.
  const EmbeddingSet noisy = OverlappingSteps(3.25, 3);
  auto self = EvaluateSop(noisy, noisy, ScoreOptions{});
  ASSERT_TRUE(self.ok());
  EXPECT_EQ(self->verdict, "pass");
  EXPECT_TRUE(self->verdict_reason.empty()) << self->verdict_reason;
}

std::vector<StepSpec> FourSteps() {
  std::vector<StepSpec> s;
  const char* names[] = {"Remove", "Clean", "Swap", "Check"};
  for (int k = 0; k < 4; ++k) s.push_back({names[k], {6.0 * k, 6.0 * (k + 1)}, {}});
  return s;
}

TEST(EvaluateSopTest, ACriticalStepMissingFailsWhateverTheScore) {
  EmbeddingSet gold = Video({0, 1, 2, 3}, {6, 6, 6, 6});
  EmbeddingSet skipped_clean = Video({0, 2, 3}, {6, 6, 6}, 3);
  std::vector<StepSpec> steps = FourSteps();
  auto plain = EvaluateSop(gold, skipped_clean, ScoreOptions{}, &steps);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->verdict, "needs_review");  // 65: one step missing
  EXPECT_FALSE(plain->deviations[0].critical);
  steps[1].rules.critical = true;
  auto critical = EvaluateSop(gold, skipped_clean, ScoreOptions{}, &steps);
  ASSERT_TRUE(critical.ok());
  EXPECT_DOUBLE_EQ(critical->score, plain->score);  // the score is the same; the verdict is not
  EXPECT_EQ(critical->verdict, "fail");
  ASSERT_EQ(critical->deviations.size(), 1u);
  EXPECT_TRUE(critical->deviations[0].critical);
  EXPECT_EQ(critical->deviations[0].step.name, "Clean");
  EXPECT_NE(critical->verdict_reason.find("\"Clean\""), std::string::npos) << critical->verdict_reason;
  // A critical step done properly changes nothing.
  auto done = EvaluateSop(gold, Video({0, 1, 2, 3}, {6, 6, 6, 6}, 4), ScoreOptions{}, &steps);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->verdict, "pass");
  EXPECT_TRUE(done->verdict_reason.empty());
}

TEST(EvaluateSopTest, AnOptionalStepLeftOutCostsNothing) {
  EmbeddingSet gold = Video({0, 1, 2, 3}, {6, 6, 6, 6});
  std::vector<StepSpec> steps = FourSteps();
  steps[1].rules.optional = true;
  auto r = EvaluateSop(gold, Video({0, 2, 3}, {6, 6, 6}, 3), ScoreOptions{}, &steps);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->deviations.empty()) << r->deviations[0].type;
  EXPECT_EQ(r->score, 100.0);
  EXPECT_EQ(r->steps[1].status, "skipped");
  // Left out without the rule, it is missing.
  steps[1].rules.optional = false;
  auto strict = EvaluateSop(gold, Video({0, 2, 3}, {6, 6, 6}, 3), ScoreOptions{}, &steps);
  EXPECT_EQ(strict->steps[1].status, "missing");
}

TEST(EvaluateSopTest, StepsOfOneAnyOrderGroupMayBeSwapped) {
  EmbeddingSet gold = Video({0, 1, 2, 3}, {6, 6, 6, 6});
  EmbeddingSet swapped = Video({0, 2, 1, 3}, {6, 6, 6, 6}, 5);
  std::vector<StepSpec> steps = FourSteps();
  auto strict = EvaluateSop(gold, swapped, ScoreOptions{}, &steps);
  ASSERT_TRUE(strict.ok());
  ASSERT_EQ(strict->deviations.size(), 1u);
  EXPECT_EQ(strict->deviations[0].type, kOrderSwap);
  steps[1].rules.any_order_group = steps[2].rules.any_order_group = "clean-and-swap";
  auto grouped = EvaluateSop(gold, swapped, ScoreOptions{}, &steps);
  ASSERT_TRUE(grouped.ok());
  EXPECT_TRUE(grouped->deviations.empty()) << grouped->deviations[0].type;
  EXPECT_EQ(grouped->verdict, "pass");
  // A group elsewhere does not excuse this swap.
  steps[1].rules.any_order_group = steps[2].rules.any_order_group = "";
  steps[2].rules.any_order_group = steps[3].rules.any_order_group = "swap-and-check";
  auto other = EvaluateSop(gold, swapped, ScoreOptions{}, &steps);
  ASSERT_EQ(other->deviations.size(), 1u);
  EXPECT_EQ(other->deviations[0].type, kOrderSwap);
}

// A step broken off and then taken up again is one doing of the step: the
// interruption is the finding, once, and the step's time is its parts'.
std::string Describe(const ScoreReport& r) {
  std::string out;
  for (const Deviation& d : r.deviations) out += d.type + " step " + std::to_string(d.step.index) + ": " + d.reason + "\n";
  return out;
}

TEST(EvaluateSopTest, AStepTakenUpAgainAfterAnInterruptionIsOneDoingOfIt) {
  EmbeddingSet gold = Video({0, 1, 2, 3}, {6, 6, 6, 6});
  // Step 2 broken off for 4 s of something else (scene 9), then finished.
  auto away = EvaluateSop(gold, Video({0, 1, 9, 1, 2, 3}, {6, 3, 4, 3, 6, 6}, 7), ScoreOptions{});
  ASSERT_TRUE(away.ok()) << away.status().ToString();
  int interruptions = 0;
  for (const Deviation& d : away->deviations) {
    EXPECT_FALSE(d.type == kExtraSegment && d.step.index == 1) << Describe(*away);  // not "done again"
    if (d.type != kExtraSegment || d.step.index != -1) continue;
    ++interruptions;
    ASSERT_TRUE(d.step.trainee_time.has_value());
    EXPECT_GE(d.step.trainee_time->start_sec, 9 - 0.1);
    EXPECT_LE(d.step.trainee_time->end_sec, 13 + 0.1);
  }
  EXPECT_EQ(interruptions, 1) << Describe(*away);
  // Step 2's doing spans the interruption and took its two parts' time. A
  // clip straddles each edge of the interruption, and the labels give the
  // step up to half a clip of it at each: its time errs long by that much
  // (here over the 15 % tolerance, and reported as over time).
  ASSERT_TRUE(away->steps[1].trainee_time.has_value());
  EXPECT_NEAR(away->steps[1].trainee_time->start_sec, 6, 0.5);
  EXPECT_NEAR(away->steps[1].trainee_time->end_sec, 16, 0.5);
  EXPECT_GE(away->steps[1].duration_ratio, 1.0 - 0.05);
  EXPECT_LE(away->steps[1].duration_ratio, (6.0 + 2.0) / 6.0);

  // Done slowly around the interruption: over time, in its two parts.
  auto slow = EvaluateSop(gold, Video({0, 1, 9, 1, 2, 3}, {6, 5, 4, 5, 6, 6}, 7), ScoreOptions{});
  ASSERT_TRUE(slow.ok());
  const Deviation* over = nullptr;
  for (const Deviation& d : slow->deviations) {
    if (d.type == kOverTime && d.step.index == 1) over = &d;
  }
  ASSERT_NE(over, nullptr) << Describe(*slow);
  EXPECT_THAT(over->reason, ::testing::HasSubstr("% longer; tolerance 15%), in 2 parts")) << Describe(*slow);

  // Broken off by a moment of step 4, which is then done at its place: that
  // moment is step 4 done again, and step 2 is not.
  auto early = EvaluateSop(gold, Video({0, 1, 3, 1, 2, 3}, {6, 3, 3, 3, 6, 6}, 8), ScoreOptions{});
  ASSERT_TRUE(early.ok());
  ASSERT_EQ(early->deviations.size(), 1u) << Describe(*early);
  EXPECT_EQ(early->deviations[0].type, kExtraSegment);
  EXPECT_EQ(early->deviations[0].step.index, 3);
  EXPECT_THAT(early->deviations[0].reason, ::testing::HasSubstr("done again (it is also done at 0:21"));

  // A step done in between is no interruption: the step after it is done again.
  auto again = EvaluateSop(gold, Video({0, 1, 2, 1, 3}, {6, 6, 6, 4, 6}, 9), ScoreOptions{});
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->deviations.size(), 1u) << Describe(*again);
  EXPECT_EQ(again->deviations[0].type, kExtraSegment);
  EXPECT_EQ(again->deviations[0].step.index, 1);
  EXPECT_THAT(again->deviations[0].reason,
              ::testing::MatchesRegex(R"(step "step 2" done again \(it is also done at 0:0[56]\.[0-9]-0:1[12]\.[0-9]\))"));
}

TEST(EvaluateSopTest, AStepsOwnToleranceDecidesItsOverTime) {
  EmbeddingSet gold = Video({0, 1, 2, 3}, {6, 6, 6, 6});
  EmbeddingSet slow = Video({0, 1, 2, 3}, {6, 9, 6, 6}, 6);  // Clean takes 50 % longer
  std::vector<StepSpec> steps = FourSteps();
  auto r = EvaluateSop(gold, slow, ScoreOptions{}, &steps);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->deviations.size(), 1u);
  EXPECT_EQ(r->deviations[0].type, kOverTime);
  steps[1].rules.time_tolerance = 0.6;
  auto tolerant = EvaluateSop(gold, slow, ScoreOptions{}, &steps);
  ASSERT_TRUE(tolerant.ok());
  EXPECT_TRUE(tolerant->deviations.empty()) << tolerant->deviations[0].reason;
}

// A step's clips lie on the clip grid, so its outer clips' centres stand
// up to half a stride inside its edges, by different amounts on the two
// sides of a change. The trainee's change is placed where the gold's is,
// not where a straddling clip is equally like the two steps' facing clips:
// identity boundaries were 0.25 s off, and a take 10 % slower had a 6 s
// step 17 % over time.
TEST(EvaluateSopTest, TraineeBoundariesLieWhereTheWorkChangesWhereverTheClipGridFalls) {
  const std::vector<double> seconds = {5.8, 6.45, 5.9, 5.85};
  std::vector<StepSpec> steps;
  const char* names[] = {"Remove", "Clean", "Swap", "Check"};
  double at = 0;
  for (int k = 0; k < 4; ++k) {
    steps.push_back({names[k], {at, at + seconds[k]}, {}});
    at += seconds[k];
  }
  EmbeddingSet gold = Video({0, 1, 2, 3}, seconds);
  for (double pace : {1.0, 0.9, 1.1}) {
    std::vector<double> scaled;
    for (double x : seconds) scaled.push_back(pace * x);
    auto r = EvaluateSop(gold, pace == 1.0 ? gold : Video({0, 1, 2, 3}, scaled, 7), ScoreOptions{}, &steps);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(r->deviations.empty()) << "pace " << pace << ": " << r->deviations[0].reason;
    ASSERT_EQ(r->steps.size(), 4u);
    double change = 0;
    for (int k = 0; k < 3; ++k) {
      change += scaled[k];
      ASSERT_TRUE(r->steps[k].trainee_time.has_value());
      EXPECT_NEAR(r->steps[k].trainee_time->end_sec, change, pace == 1.0 ? 0.02 : 0.12)
          << "pace " << pace << ", change " << k + 1;
    }
  }
}

// Clips start every 0.5 s and are 2 s long: two neighbours share 1.5 s. A
// step done wrongly is a finding once a clip's length of frames of their
// own looks unlike it (four clips), not for a moment (two clips, 1 s of
// their own: a person's pace shifting for an instant in a correct take).
TEST(EvaluateSopTest, AStepLooksUnlikeTheGoldForAClipsLengthBeforeItIsAFinding) {
  EmbeddingSet gold = Video({0, 1, 2, 3}, {6, 6, 6, 6});
  std::vector<StepSpec> steps = FourSteps();
  // Clips of "Clean" (6-12 s) from `first`, `count` of them, moved halfway
  // to scene 5: still more like Clean than like anything else, yet below
  // the typical match by more than half the gap to the other steps.
  auto done_wrongly_for = [&](int first, int count, const ScoreOptions& options = ScoreOptions{}) {
    EmbeddingSet trainee = Video({0, 1, 2, 3}, {6, 6, 6, 6}, 7);
    EmbeddingSet other = Video({5}, {24}, 8);
    for (int i = first; i < first + count; ++i) {
      for (int j = 0; j < trainee.vectors.cols; ++j) {
        trainee.vectors.at(i, j) = 0.55f * trainee.vectors.at(i, j) + 0.45f * other.vectors.at(i, j);
      }
    }
    NormalizeRows(&trainee.vectors);
    auto r = EvaluateSop(gold, trainee, options, &steps);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ScoreReport{};
  };
  ASSERT_DOUBLE_EQ(gold.clips[16].start_sec, 8.0);
  ScoreReport moment = done_wrongly_for(16, 2);  // 8.0-10.5 s
  EXPECT_TRUE(moment.deviations.empty()) << moment.deviations[0].type << ": " << moment.deviations[0].reason;
  EXPECT_EQ(moment.verdict, "pass");
  ScoreReport clip = done_wrongly_for(16, 4);  // 8.0-11.5 s
  ASSERT_EQ(clip.deviations.size(), 1u);
  EXPECT_EQ(clip.deviations[0].type, kExecutionDeviation);
  EXPECT_EQ(clip.deviations[0].step.name, "Clean");
  ASSERT_TRUE(clip.deviations[0].step.trainee_time.has_value());
  EXPECT_NEAR(clip.deviations[0].step.trainee_time->start_sec, 8.0, 1e-9);
  EXPECT_NEAR(clip.deviations[0].step.trainee_time->end_sec, 11.5, 1e-9);
  // A length the user sets is counted a stride per clip: 1 s is two clips.
  ScoreOptions brief;
  brief.min_deviation_seconds = 1.0;
  ScoreReport strict = done_wrongly_for(16, 2, brief);
  ASSERT_EQ(strict.deviations.size(), 1u);
  EXPECT_EQ(strict.deviations[0].type, kExecutionDeviation);
}

// A step whose clips sit at the line, some a hair above it, is below it as a
// whole: the maintenance wrong tool filmed 10 % slower read 0.70-0.73
// against a line of 0.728 and passed, no four clips in a row under it.
TEST(EvaluateSopTest, AStepAtTheLineIsJudgedByItsMeanNotClipByClip) {
  EmbeddingSet gold = Video({0, 1, 2, 3}, {6, 6, 6, 6});
  std::vector<StepSpec> steps = FourSteps();
  // Clips 13.. of "Clean" (6-12 s; clip 13 is 6.5-8.5 s) moved towards
  // scene 5 by weights[n].
  auto moved = [&](const std::vector<float>& weights) {
    EmbeddingSet trainee = Video({0, 1, 2, 3}, {6, 6, 6, 6}, 7);
    EmbeddingSet other = Video({5}, {24}, 8);
    for (size_t n = 0; n < weights.size(); ++n) {
      const int i = 13 + static_cast<int>(n);
      for (int j = 0; j < trainee.vectors.cols; ++j) {
        trainee.vectors.at(i, j) = (1 - weights[n]) * trainee.vectors.at(i, j) + weights[n] * other.vectors.at(i, j);
      }
    }
    NormalizeRows(&trainee.vectors);
    auto r = EvaluateSop(gold, trainee, ScoreOptions{}, &steps);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ScoreReport{};
  };
  auto done_wrongly = [](const ScoreReport& r) {
    return std::any_of(r.deviations.begin(), r.deviations.end(),
                       [](const Deviation& d) { return d.type == kExecutionDeviation && d.step.name == "Clean"; });
  };
  // The heaviest move that four clips in a row take without a finding: the
  // clips then sit just above the line.
  float at_line = 0;
  for (float w = 0.02f; w < 0.6f; w += 0.02f) {
    if (done_wrongly(moved(std::vector<float>(4, w)))) break;
    at_line = w;
  }
  ASSERT_GT(at_line, 0.0f);
  ASSERT_LT(at_line, 0.45f);
  // Two clips well below, one just above, over and over: never three in a
  // row under the line, but the stretch as a whole under it.
  const float below = 0.45f;
  const std::vector<float> hovering = {below, below, at_line, below, below, at_line, below};
  ScoreReport r = moved(hovering);
  ASSERT_TRUE(done_wrongly(r)) << r.score << " " << r.verdict;
  for (const Deviation& d : r.deviations) {
    if (d.type != kExecutionDeviation) continue;
    ASSERT_TRUE(d.step.trainee_time.has_value());
    // Starts and ends on a clip under the line: clips 13 to 19 (6.5-11.5 s).
    EXPECT_NEAR(d.step.trainee_time->start_sec, 6.5, 1e-9) << d.reason;
    EXPECT_NEAR(d.step.trainee_time->end_sec, 11.5, 1e-9) << d.reason;
  }
  // One clip far under the line among clips at the level is still nothing.
  ScoreReport one = moved({0, 0, 0, 0.9f, 0, 0, 0});
  EXPECT_FALSE(done_wrongly(one)) << one.score << " " << one.verdict;
}

// A long procedure past the bound on pairs is scored on merged clips: the
// same verdicts, time codes still in seconds, and the report says so.
TEST(EvaluateSopTest, LongVideosAreScoredOnMergedClipsWithinTheBound) {
  EmbeddingSet gold = Video({0, 1, 2, 3, 4, 5}, {60, 60, 60, 60, 60, 60}, 1);
  ScoreOptions o;
  o.max_pairs = 100'000;  // gold and trainee have about 700 clips each
  auto self = EvaluateSop(gold, gold, o);
  ASSERT_TRUE(self.ok()) << self.status().ToString();
  EXPECT_GT(self->clips_merged, 1);
  EXPECT_LE(int64_t{self->gold_clips} * self->gold_clips, o.max_pairs);
  EXPECT_EQ(self->score, 100.0);
  EXPECT_TRUE(self->deviations.empty());

  auto missing = EvaluateSop(gold, Video({0, 1, 3, 4, 5}, {60, 60, 60, 60, 60}, 3), o);
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  ASSERT_EQ(missing->deviations.size(), 1u);
  EXPECT_EQ(missing->deviations[0].type, kStepMissing);
  EXPECT_EQ(missing->deviations[0].step.index, 2);
  ASSERT_TRUE(missing->deviations[0].step.gold_time.has_value());
  EXPECT_NEAR(missing->deviations[0].step.gold_time->start_sec, 120, 3);

  o.max_pairs = 0;  // no bound: the clips as ingested
  auto fine = EvaluateSop(gold, gold, o);
  ASSERT_TRUE(fine.ok());
  EXPECT_EQ(fine->clips_merged, 1);
  EXPECT_EQ(fine->gold_clips, gold.vectors.rows);
}

// `v` as a camera sees it: every clip also holds the scene's common part
// (`scene`), and from `lamp_from_sec` on a lamp's (`lamp`).
EmbeddingSet Lit(EmbeddingSet v, const std::vector<float>& scene, const std::vector<float>& lamp,
                 double lamp_from_sec) {
  for (size_t i = 0; i < v.clips.size(); ++i) {
    const bool lit = v.clips[i].start_sec >= lamp_from_sec;
    for (int j = 0; j < v.vectors.cols; ++j) v.vectors.at(static_cast<int>(i), j) += scene[j] + (lit ? lamp[j] : 0.0f);
  }
  NormalizeRows(&v.vectors);
  return v;
}

TEST(EvaluateSopTest, WorkFilmedUnderAnotherLightAtTheEndIsNotTimeOutsideTheProcedure) {
  // A lamp switched on halfway through a short recording (centred whole:
  // comparison_space.h). The steps done under it still look like theirs
  // once each video's mean is taken out, but the embeddings as given, which
  // the rule for an empty scene before or after the work reads, see all of
  // them unlike the gold. Several steps done one after another there are
  // work, not a camera left running.
  std::mt19937 rng(7);
  std::normal_distribution<float> g(0, 1);
  std::vector<float> scene(32), lamp(32);
  for (float& x : scene) x = g(rng) / std::sqrt(32.0f);        // |scene| ~ 1
  for (float& x : lamp) x = 1.5f * g(rng) / std::sqrt(32.0f);  // |lamp| ~ 1.5
  const EmbeddingSet gold = Lit(Video({0, 1, 2, 3, 4, 5}, {6, 6, 6, 6, 6, 6}, 1), scene, lamp, 1e9);
  const EmbeddingSet trainee = Lit(Video({0, 1, 2, 3, 4, 5}, {6, 6, 6, 6, 6, 6}, 2), scene, lamp, 18.0);
  auto r = EvaluateSop(gold, trainee, ScoreOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->steps.size(), 6u);
  for (const StepResult& step : r->steps) {
    EXPECT_NE(step.status, "missing") << step.name;
    ASSERT_TRUE(step.trainee_time.has_value()) << step.name;
    EXPECT_NEAR(step.trainee_time->start_sec, step.gold_time.start_sec, 1.0) << step.name;
  }
  for (const Deviation& d : r->deviations) EXPECT_NE(d.type, kStepMissing) << d.reason;
  EXPECT_TRUE(r->idle.empty());
  // One step under the lamp at the end stays the rule's: it could be an
  // empty scene that looks like a flat step.
}

TEST(EvaluateSopTest, RefusesIncomparableInputs) {
  EmbeddingSet gold = Video({0, 1}, {4, 4});
  EXPECT_FALSE(EvaluateSop(gold, Video({0, 1}, {4, 4}, 1, "vjepa2"), ScoreOptions{}).ok());
  EmbeddingSet other = Video({0, 1}, {4, 4});
  other.sampling.clip_seconds = 4.0;
  auto r = EvaluateSop(gold, other, ScoreOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("clip settings"), std::string::npos);
  EXPECT_FALSE(EvaluateSop(gold, EmbeddingSet{}, ScoreOptions{}).ok());
  ScoreOptions bad;
  bad.weights.dev = -1;
  EXPECT_FALSE(EvaluateSop(gold, gold, bad).ok());
}

TEST(ScoreOptionsTest, EnvironmentOverridesAndRejectsGarbage) {
  ScoreOptions o;
  setenv("SOPILOT_WEIGHT_MISS", "40", 1);
  setenv("SOPILOT_TIME_TOLERANCE", "0.3", 1);
  ASSERT_TRUE(ScoreOptionsFromEnvironment(&o).ok());
  EXPECT_EQ(o.weights.miss, 40);
  EXPECT_EQ(o.time_tolerance, 0.3);
  setenv("SOPILOT_WEIGHT_SWAP", "lots", 1);
  Status st = ScoreOptionsFromEnvironment(&o);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("SOPILOT_WEIGHT_SWAP"), std::string::npos);
  unsetenv("SOPILOT_WEIGHT_MISS");
  unsetenv("SOPILOT_TIME_TOLERANCE");
  unsetenv("SOPILOT_WEIGHT_SWAP");
}

}  // namespace
}  // namespace sopilot
