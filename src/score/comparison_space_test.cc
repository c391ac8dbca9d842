#include "score/comparison_space.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace sopilot {
namespace {

// 2 s clips every 2 s (no two share time), steps by index, and a
// similarity matrix written by hand.
std::vector<ClipSpan> Clips(int n) {
  std::vector<ClipSpan> c;
  for (int i = 0; i < n; ++i) c.push_back({i, 2.0 * i, 2.0 * i + 2});
  return c;
}

TEST(ComparisonSpaceTest, SameAndNeighbourStepLevels) {
  // Steps: 0 = clips 0-1, 1 = clips 2-3, 2 = clip 4.
  const std::vector<int> step_of = {0, 0, 1, 1, 2};
  FloatMatrix sim(5, 5);
  auto set = [&](int a, int b, float v) { sim.at(a, b) = sim.at(b, a) = v; };
  for (int i = 0; i < 5; ++i) sim.at(i, i) = 1;
  set(0, 1, 0.9f);  // step 0 alike within
  set(2, 3, 0.6f);  // step 1 less so
  set(0, 2, 0.7f);
  set(0, 3, 0.2f);
  set(1, 2, 0.3f);
  set(1, 3, 0.8f);
  set(2, 4, 0.1f);
  set(3, 4, 0.4f);
  std::vector<double> same = SameStepSimilarity(sim, Clips(5), step_of);
  EXPECT_NEAR(same[0], 0.9, 1e-6);
  EXPECT_NEAR(same[2], 0.6, 1e-6);
  EXPECT_TRUE(std::isnan(same[4]));  // a step of one clip has no partner

  NeighbourSimilarity n = NeighbourStepSimilarity(sim, Clips(5), step_of, 3);
  ASSERT_EQ(n.into_next.size(), 2u);
  // Step 0's clips into step 1: clip 0 best 0.7, clip 1 best 0.8; their median.
  EXPECT_NEAR(n.into_next[0], 0.75, 1e-6);
  // Step 1's clips into step 0: clip 2 best 0.7, clip 3 best 0.8.
  EXPECT_NEAR(n.into_previous[0], 0.75, 1e-6);
  EXPECT_NEAR(n.into_next[1], 0.25, 1e-6);     // clips 2, 3 into step 2: 0.1, 0.4
  EXPECT_NEAR(n.into_previous[1], 0.4, 1e-6);  // clip 4 into step 1
  // Clips that share time are never compared: with 2 s clips every 0.5 s,
  // neighbours' clips at the boundary overlap and would look alike.
  std::vector<ClipSpan> overlapping = {{0, 0, 2}, {1, 0.5, 2.5}};
  FloatMatrix two(2, 2);
  two.at(0, 1) = two.at(1, 0) = 0.99f;
  NeighbourSimilarity none = NeighbourStepSimilarity(two, overlapping, {0, 1}, 2);
  EXPECT_TRUE(std::isnan(none.into_next[0]));
  EXPECT_TRUE(NeighbourStepSimilarity(two, overlapping, {0, 0}, 1).into_next.empty());
}

TEST(ComparisonSpaceTest, ShortStepsAreReadOnTheClipsInsideThem) {
  // 2 s clips every 0.5 s over 9 s; steps of 3 s, 4 s and 2 s.
  std::vector<ClipSpan> clips;
  for (int i = 0; i * 0.5 + 2 <= 9.0 + 1e-9; ++i) clips.push_back({i, 0.5 * i, 0.5 * i + 2});
  const std::vector<TimeSpan> steps = {{0, 3}, {3, 7}, {7, 9}};
  const std::vector<int> core_of = CoreStepOfClip(clips, steps);
  ASSERT_EQ(core_of.size(), clips.size());
  // 0-2, 0.5-2.5 and 1-3 lie in the first step; 1.5-3.5 to 2.5-4.5 straddle.
  EXPECT_EQ(core_of, (std::vector<int>{0, 0, 0, -1, -1, -1, 1, 1, 1, 1, 1, -1, -1, -1, 2}));

  // Every pair of clips alike at 0.2, except the first step's core clips
  // furthest apart (0-2 and 1-3) at 0.9, and the 4 s step's clips sharing
  // no time (3-5 and 5-7) at 0.6.
  FloatMatrix sim(static_cast<int>(clips.size()), static_cast<int>(clips.size()));
  for (float& v : sim.data) v = 0.2f;
  auto set = [&](int a, int b, float v) { sim.at(a, b) = sim.at(b, a) = v; };
  set(0, 2, 0.9f);
  set(6, 10, 0.6f);
  const std::vector<ShortStepSelf> self = ShortStepSelfSimilarity(sim, clips, core_of, steps.size());
  ASSERT_EQ(self.size(), 3u);
  // The 3 s step has no two core clips apart: short, read on 0-2 and 1-3.
  EXPECT_TRUE(self[0].short_step);
  EXPECT_NEAR(self[0].value, 0.9, 1e-6);
  // The 4 s step has (3-5 and 5-7): it keeps the ordinary levels.
  EXPECT_FALSE(self[1].short_step);
  EXPECT_TRUE(std::isnan(self[1].value));
  // The 2 s step has one core clip: short, with nothing to read.
  EXPECT_TRUE(self[2].short_step);
  EXPECT_TRUE(std::isnan(self[2].value));
}

// A workbench as an embedder sees it: every clip holds the scene's large
// common part, its step's own direction and a little noise; `steps` steps
// of 5 one-second clips each. `lamp` (when not empty) is added to every clip
// from `lamp_from` on: the light changed during the recording.
struct Workbench {
  int dims = 32;
  std::vector<float> scene, lamp;
  std::vector<std::vector<float>> step;
};

std::vector<float> RandomVector(std::mt19937* rng, int dims, double scale) {
  std::normal_distribution<float> n(0.0f, static_cast<float>(scale / std::sqrt(dims)));
  std::vector<float> v(dims);
  for (float& x : v) x = n(*rng);
  return v;
}

Workbench MakeWorkbench(unsigned seed, int steps) {
  std::mt19937 rng(seed);
  Workbench w;
  w.scene = RandomVector(&rng, w.dims, 3.0);
  w.lamp = RandomVector(&rng, w.dims, 4.0);
  for (int k = 0; k < steps; ++k) w.step.push_back(RandomVector(&rng, w.dims, 1.0));
  return w;
}

FloatMatrix Film(const Workbench& w, const std::vector<int>& steps, unsigned noise_seed, int lamp_from = -1) {
  std::mt19937 rng(noise_seed);
  const int n = static_cast<int>(steps.size()) * 5;
  FloatMatrix m(n, w.dims);
  for (int i = 0; i < n; ++i) {
    std::vector<float> noise = RandomVector(&rng, w.dims, 0.1);
    for (int k = 0; k < w.dims; ++k) {
      m.at(i, k) = w.scene[k] + w.step[steps[i / 5]][k] + noise[k] + (lamp_from >= 0 && i >= lamp_from ? w.lamp[k] : 0);
    }
  }
  NormalizeRows(&m);
  return m;
}

// For each trainee clip, the gold clip it is most alike to.
std::vector<int> BestGoldClip(const ComparisonSpace& s) {
  std::vector<int> best(s.trainee.rows, -1);
  for (int t = 0; t < s.trainee.rows; ++t) {
    double top = -2;
    for (int g = 0; g < s.gold.rows; ++g) {
      double dot = 0;
      for (int k = 0; k < s.gold.cols; ++k) dot += static_cast<double>(s.gold.at(g, k)) * s.trainee.at(t, k);
      if (dot > top) top = dot, best[t] = g;
    }
  }
  return best;
}

bool SameSpace(const ComparisonSpace& a, const ComparisonSpace& b) {
  return a.gold.data == b.gold.data && a.trainee.data == b.trainee.data;
}

TEST(ComparisonSpaceTest, ALampSwitchedOnHalfwayIsRemovedWhereItHolds) {
  const Workbench bench = MakeWorkbench(1, 10);
  const std::vector<int> order = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};  // 50 s
  const FloatMatrix gold = Film(bench, order, 2);
  const FloatMatrix lit = Film(bench, order, 3, /*lamp_from=*/25);
  const std::vector<ClipSpan> clips = Clips(50);  // 2 s clips every 2 s: 100 s
  const double window = 3 * 10.0;                  // three 10 s steps each way
  const ComparisonSpace whole = MakeComparisonSpace(gold, lit);
  const ComparisonSpace local = MakeLocalComparisonSpace(gold, clips, lit, clips, window);
  EXPECT_LT(MedianMismatch(local), 0.5 * MedianMismatch(whole))
      << "whole " << MedianMismatch(whole) << ", local " << MedianMismatch(local);
  const ComparisonSpace chosen = ChooseComparisonSpace(gold, clips, lit, clips, window);
  EXPECT_TRUE(SameSpace(chosen, local));
  // Each lit clip finds its own step in the gold again, on both sides of
  // the switch; the whole-video centring loses the lit half.
  auto right = [&](const ComparisonSpace& s) {
    int n = 0;
    std::vector<int> best = BestGoldClip(s);
    for (int t = 0; t < 50; ++t) n += best[t] / 5 == t / 5;
    return n;
  };
  EXPECT_GE(right(chosen), 45);
  EXPECT_LT(right(whole), right(chosen));
  // The embeddings as given, the lamp taken out: away from the switch (where
  // a window holds both lights), a lit clip is as alike to its gold clip as
  // an unlit one is, where as given it is less so. Both are a constant away
  // (the lamp's share of the trainee's mean), as under a lamp that holds for
  // a whole recording.
  ASSERT_EQ(chosen.trainee_levelled.rows, 50);
  ASSERT_EQ(chosen.gold_levelled.rows, 50);
  EXPECT_EQ(whole.trainee_levelled.rows, 0);
  auto cosine = [](const FloatMatrix& a, int i, const FloatMatrix& b, int j) {
    double dot = 0, na = 0, nb = 0;
    for (int k = 0; k < a.cols; ++k) {
      dot += static_cast<double>(a.at(i, k)) * b.at(j, k);
      na += static_cast<double>(a.at(i, k)) * a.at(i, k);
      nb += static_cast<double>(b.at(j, k)) * b.at(j, k);
    }
    return dot / std::sqrt(na * nb);
  };
  double given_lit = 0, given_unlit = 0, levelled_lit = 0, levelled_unlit = 0;
  for (int i = 0; i < 15; ++i) {
    given_unlit += cosine(lit, i, gold, i) / 15;
    given_lit += cosine(lit, 35 + i, gold, 35 + i) / 15;
    levelled_unlit += cosine(chosen.trainee_levelled, i, chosen.gold_levelled, i) / 15;
    levelled_lit += cosine(chosen.trainee_levelled, 35 + i, chosen.gold_levelled, 35 + i) / 15;
  }
  EXPECT_LT(given_lit, given_unlit - 0.05);
  EXPECT_NEAR(levelled_lit, levelled_unlit, 0.02) << "as given: lit " << given_lit << ", unlit " << given_unlit
                                                   << "; levelled: lit " << levelled_lit << ", unlit " << levelled_unlit;
}

TEST(ComparisonSpaceTest, WithoutAChangeOfLightTheWholeVideoIsCentred) {
  const Workbench bench = MakeWorkbench(4, 10);
  const std::vector<int> order = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  const FloatMatrix gold = Film(bench, order, 5);
  const std::vector<ClipSpan> clips = Clips(50);
  // The video against itself.
  EXPECT_TRUE(SameSpace(ChooseComparisonSpace(gold, clips, gold, clips, 30), MakeComparisonSpace(gold, gold)));
  // Another performance: two steps left out, one done twice; other noise.
  const std::vector<int> other_order = {0, 1, 2, 5, 6, 6, 7, 8, 9};
  const FloatMatrix other = Film(bench, other_order, 6);
  const std::vector<ClipSpan> other_clips = Clips(45);
  EXPECT_TRUE(SameSpace(ChooseComparisonSpace(gold, clips, other, other_clips, 30), MakeComparisonSpace(gold, other)));
  // Videos no longer than two windows: the whole-video centring.
  const FloatMatrix lit = Film(bench, order, 7, /*lamp_from=*/25);
  EXPECT_TRUE(SameSpace(ChooseComparisonSpace(gold, clips, lit, clips, 50), MakeComparisonSpace(gold, lit)));
}

TEST(ComparisonSpaceTest, UnrelatedFootageStaysFarWhicheverCentring) {
  const Workbench bench = MakeWorkbench(8, 10), elsewhere = MakeWorkbench(9, 10);
  const std::vector<int> order = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  const FloatMatrix gold = Film(bench, order, 10);
  const std::vector<ClipSpan> clips = Clips(50);
  for (int lamp_from : {-1, 25}) {
    const FloatMatrix unrelated = Film(elsewhere, order, 11, lamp_from);
    const ComparisonSpace s = ChooseComparisonSpace(gold, clips, unrelated, clips, 30);
    EXPECT_GT(MedianMismatch(s), 0.5) << "lamp from clip " << lamp_from;
  }
}

TEST(ComparisonSpaceTest, AStillTraineeHasNothingOfAMovingGold) {
  const Workbench bench = MakeWorkbench(12, 10);
  const std::vector<int> order = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  const FloatMatrix gold = Film(bench, order, 13);
  const std::vector<ClipSpan> clips = Clips(50);
  // The same workbench with nobody at it: its scene, and a thousandth of a
  // filmed clip for the sensor's noise (well under kStaticSpread).
  const FloatMatrix still = Film(bench, std::vector<int>(10, 0), 14);
  FloatMatrix empty_bench = still;
  for (int i = 0; i < empty_bench.rows; ++i) {
    for (int k = 0; k < empty_bench.cols; ++k) empty_bench.at(i, k) = bench.scene[k] + 0.001f * still.at(i, k);
  }
  NormalizeRows(&empty_bench);
  const ComparisonSpace s = ChooseComparisonSpace(gold, clips, empty_bench, clips, 30);
  EXPECT_TRUE(s.centred);
  EXPECT_TRUE(s.trainee_still);
  EXPECT_TRUE(std::all_of(s.trainee.data.begin(), s.trainee.data.end(), [](float x) { return x == 0.0f; }));
  EXPECT_EQ(s.gold_levelled.rows, 0) << "a still trainee has no light to level";
  // A still gold is compared as given, whatever the trainee.
  const ComparisonSpace as_given = MakeComparisonSpace(empty_bench, gold);
  EXPECT_FALSE(as_given.centred);
  EXPECT_FALSE(as_given.trainee_still);
  EXPECT_EQ(as_given.trainee.data, gold.data);
  // Neither still: nothing of this applies.
  EXPECT_FALSE(MakeComparisonSpace(gold, gold).trainee_still);
}

TEST(ComparisonSpaceTest, TheWindowIsThreeStepsOrWhatAShortVideoLeaves) {
  // Long enough: three median steps each way.
  EXPECT_DOUBLE_EQ(LocalWindowSeconds(6, 120, 0.5), 18);
  // 24 s of four 6 s steps: the window leaving two windows and a step.
  EXPECT_DOUBLE_EQ(LocalWindowSeconds(6, 24, 0.5), 9);
  // The same video whose found steps came out 0.0035 s longer (the learned
  // embedder's boundaries on the maintenance gold): still four steps, to a
  // stride. Compared exactly, it fell to three steps each way, which holds
  // the whole video, and a lamp switched on halfway cost two steps.
  EXPECT_NEAR(LocalWindowSeconds(6.0035, 24, 0.5), 8.998, 1e-3);
  // Three steps' worth: a window would take the step itself out.
  EXPECT_DOUBLE_EQ(LocalWindowSeconds(6, 18, 0.5), 18);
}

}  // namespace
}  // namespace sopilot
