#include "score/sop_evaluator.h"

#include <gtest/gtest.h>

#include <random>

namespace sopilot {
namespace {

// An embedding set of scenes (unit vectors, one per step) with the given
// lengths, 2 s clips every 0.5 s, clips straddling a change mixing scenes.
EmbeddingSet Video(const std::vector<int>& scenes, const std::vector<double>& seconds, int seed = 1,
                   const std::string& model = "heuristic-v1") {
  std::mt19937 scene_rng(42);
  std::normal_distribution<float> g(0, 1);
  const int dim = 32;
  std::vector<std::vector<float>> basis(12, std::vector<float>(dim));
  for (auto& b : basis) for (float& x : b) x = g(scene_rng);
  std::mt19937 noise_rng(seed);
  EmbeddingSet s;
  s.model = model;
  s.sampling = {4, 2.0, 0.5, 320, 0.6};
  double total = 0;
  for (double x : seconds) total += x;
  s.source.duration_sec = total;
  for (double t = 0; t + 2.0 <= total + 1e-9; t += 0.5) s.clips.push_back({int(s.clips.size()), t, t + 2.0});
  s.vectors = FloatMatrix(s.clips.size(), dim);
  for (size_t i = 0; i < s.clips.size(); ++i) {
    double start = 0;
    for (size_t k = 0; k < scenes.size(); ++k) {
      double a = std::max(start, s.clips[i].start_sec), b = std::min(start + seconds[k], s.clips[i].end_sec);
      if (b > a) for (int j = 0; j < dim; ++j) s.vectors.at(i, j) += (b - a) * basis[scenes[k]][j];
      start += seconds[k];
    }
    for (int j = 0; j < dim; ++j) s.vectors.at(i, j) += 0.2f * g(noise_rng);
  }
  NormalizeRows(&s.vectors);
  return s;
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
