#include "score/step_matcher.h"

#include <gtest/gtest.h>

namespace sopilot {
namespace {

// Similarities of n clips to K steps from a label per clip: `hit` for the
// clip's own step, `miss` for the others; kNoStep clips get `idle` for all.
StepSimilarity FromLabels(const std::vector<int>& truth, int k, float hit = 0.98f, float miss = 0.6f,
                          float idle = 0.3f) {
  StepSimilarity ss;
  ss.sim = FloatMatrix(static_cast<int>(truth.size()), k);
  ss.best_gold.assign(truth.size(), std::vector<int>(k, 0));
  for (size_t i = 0; i < truth.size(); ++i) {
    for (int s = 0; s < k; ++s) ss.sim.at(i, s) = truth[i] == kNoStep ? idle : truth[i] == s ? hit : miss;
  }
  return ss;
}

// As the product samples: 2 s clips every 0.5 s, so a finding must be worth
// four clips of evidence.
constexpr int kClipOfEvidence = 4;

std::vector<ClipSpan> Clips(int n, double seconds = 2.0, double stride = 0.5) {
  std::vector<ClipSpan> c;
  for (int i = 0; i < n; ++i) c.push_back({i, i * stride, i * stride + seconds});
  return c;
}

// Runs of `n` clips of each label in turn.
std::vector<int> Runs(std::initializer_list<std::pair<int, int>> runs) {
  std::vector<int> out;
  for (auto [label, n] : runs) out.insert(out.end(), n, label);
  return out;
}

TEST(StepMatcherTest, LabelsFollowTheBestStepInAnyOrder) {
  std::vector<int> truth = {0, 0, 0, 0, 2, 2, 2, 2, 1, 1, 1, 1};
  StepSimilarity ss = FromLabels(truth, 3);
  LabelingParams p = ChooseLabelingParams(ss, 0.7, kClipOfEvidence);
  EXPECT_EQ(LabelClips(ss, p), truth);
}

TEST(StepMatcherTest, LastStepsAlmostLikeAnEarlierOneAreNotLeftOut) {
  // A periodic scene: the clips of the last two steps are nearly as like
  // step 2 as like their own. Staying in step 2 to the end leaves two steps
  // out, which costs what reaching the last step would (two changes), not
  // a single one.
  std::vector<int> truth;
  for (int k = 0; k < 5; ++k) truth.insert(truth.end(), 4, k);
  StepSimilarity ss = FromLabels(truth, 5);
  for (int i = 12; i < 20; ++i) ss.sim.at(i, 2) = 0.9795f;
  EXPECT_EQ(LabelClips(ss, ChooseLabelingParams(ss, 0.5, kClipOfEvidence)), truth);
}

TEST(StepMatcherTest, OneNoisyClipDoesNotSplitAStep) {
  std::vector<int> truth = {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1};
  StepSimilarity ss = FromLabels(truth, 2);
  ss.sim.at(3, 0) = 0.80f;  // clip 3 resembles step 1 a little more
  ss.sim.at(3, 1) = 0.82f;
  LabelingParams p = ChooseLabelingParams(ss, 0.7, kClipOfEvidence);
  EXPECT_EQ(LabelClips(ss, p), truth);
}

TEST(StepMatcherTest, UnrelatedClipsAreNone) {
  // A 4 s stop between two 4 s steps.
  std::vector<int> truth = Runs({{0, 8}, {kNoStep, 8}, {1, 8}});
  StepSimilarity ss = FromLabels(truth, 2);
  LabelingParams p = ChooseLabelingParams(ss, 0.7, kClipOfEvidence);
  EXPECT_DOUBLE_EQ(p.none_threshold, 0.7);
  EXPECT_EQ(LabelClips(ss, p), truth);
}

TEST(StepMatcherTest, StepsThatCannotBeToldApartFollowTheGoldOrder) {
  // Steps 0 and 2 look the same (repetitive content, or a video against
  // itself): a clip of either matches both equally. The gold order decides.
  std::vector<int> truth = {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2};
  StepSimilarity ss = FromLabels(truth, 3);
  for (int i = 0; i < 12; ++i) {
    if (truth[i] != 1) ss.sim.at(i, 0) = ss.sim.at(i, 2) = 0.98f;
  }
  LabelingParams p = ChooseLabelingParams(ss, 0.5, kClipOfEvidence);
  EXPECT_GT(p.jump_penalty, 0);
  EXPECT_EQ(LabelClips(ss, p), truth);
}

TEST(StepMatcherTest, LeavingStepsOutCostsWhatDoingThemWould) {
  // A periodic scene named as five steps: the last holds every pattern, so
  // each clip matches it as well as its own step, to the rounding of floats
  // (1e-7 either way). Jumping from step 0 to the last, or starting there,
  // cost one penalty where going through the three or four steps between
  // cost a change each: the first steps were "missing" from the gold itself.
  // Going through four steps now costs what starting at the last does (a
  // clip's length), and the tie goes to the gold's proportions (the trainee
  // is the gold: its clips lie where the gold's steps do).
  std::vector<int> truth = Runs({{0, 6}, {1, 6}, {2, 6}, {3, 6}, {4, 12}});
  StepSimilarity ss = FromLabels(truth, 5);
  const double n = static_cast<double>(truth.size());
  for (size_t i = 0; i < truth.size(); ++i) {
    ss.sim.at(i, 4) = ss.sim.at(i, truth[i]) + (i % 2 ? 1e-7f : -1e-7f);
    ss.clip_position.push_back((i + 0.5) / n);
  }
  ss.step_share = {{0, 6 / n}, {6 / n, 12 / n}, {12 / n, 18 / n}, {18 / n, 24 / n}, {24 / n, 1}};
  LabelingParams p = ChooseLabelingParams(ss, 0.5, kClipOfEvidence);
  EXPECT_EQ(LabelClips(ss, p), truth);
  // The same from a first step the clips do tell apart: a jump from it past
  // three steps cost one penalty, against three changes for going through.
  for (int i = 0; i < 6; ++i) ss.sim.at(i, 4) = 0.6f;
  EXPECT_EQ(LabelClips(ss, ChooseLabelingParams(ss, 0.5, kClipOfEvidence)), truth);
  // A step really left out is still left out: its clips are another's.
  std::vector<int> without = Runs({{0, 6}, {2, 6}, {3, 6}, {4, 12}});
  StepSimilarity w = FromLabels(without, 5);
  EXPECT_EQ(LabelClips(w, ChooseLabelingParams(w, 0.5, kClipOfEvidence)), without);
  // And one done first, then the rest in order: a swap costs what it did.
  std::vector<int> swapped = Runs({{1, 6}, {0, 6}, {2, 6}, {3, 6}, {4, 6}});
  StepSimilarity sw = FromLabels(swapped, 5);
  EXPECT_EQ(LabelClips(sw, ChooseLabelingParams(sw, 0.5, kClipOfEvidence)), swapped);
}

TEST(StepMatcherTest, TiesGoToTheGoldsProportions) {
  // Three steps the clips cannot tell apart at all (to 1e-7, less than the
  // resolution): where the changes fall was the order of the candidates'
  // choice. With the places of clips and steps known, the labelling follows
  // the gold's proportions: a quarter, a quarter, a half.
  const int n = 20;
  StepSimilarity ss = FromLabels(std::vector<int>(n, 0), 3);
  for (int i = 0; i < n; ++i) {
    for (int k = 0; k < 3; ++k) ss.sim.at(i, k) = 0.98f + ((i + k) % 2 ? 1e-7f : -1e-7f);
    ss.clip_position.push_back((i + 0.5) / n);
  }
  ss.step_share = {{0.0, 0.25}, {0.25, 0.5}, {0.5, 1.0}};
  LabelingParams p = ChooseLabelingParams(ss, 0.5, kClipOfEvidence);
  EXPECT_EQ(LabelClips(ss, p), Runs({{0, 5}, {1, 5}, {2, 10}}));
  // Evidence still wins over proportions: clips that show step 2 early.
  for (int i = 0; i < 10; ++i) ss.sim.at(i, 2) = 0.99f;
  EXPECT_EQ(LabelClips(ss, p), std::vector<int>(n, 2));
}

TEST(StepMatcherTest, AShortLastStepWithLittleEvidenceIsStillLabelled) {
  // A video against itself: the last step's clips match it perfectly and the
  // step before almost as well; other clips tell the steps apart clearly, so
  // a change costs far more than the last step's evidence. Ending before the
  // last step leaves the gold order, so the last step is still visited.
  std::vector<int> truth = {0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2};
  StepSimilarity ss = FromLabels(truth, 3, 1.0f, 0.2f);
  for (int i = 10; i < 13; ++i) ss.sim.at(i, 1) = 0.95f;
  LabelingParams p = ChooseLabelingParams(ss, 0.3, kClipOfEvidence);
  ASSERT_GT(p.switch_penalty, 3 * 0.05);
  EXPECT_EQ(LabelClips(ss, p), truth);
}

TEST(StepMatcherTest, OrderIsLeftOnlyForEvidenceLongerThanAMoment) {
  // Step 2 done before step 1 for a whole window of clips: out of order.
  std::vector<int> swapped = {0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1};
  StepSimilarity ss = FromLabels(swapped, 3);
  LabelingParams p = ChooseLabelingParams(ss, 0.5, kClipOfEvidence);
  EXPECT_EQ(LabelClips(ss, p), swapped);
  // One clip that resembles step 2 a little more, in the middle of step 1:
  // not worth leaving the order.
  std::vector<int> truth = {0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2};
  StepSimilarity one = FromLabels(truth, 3);
  one.sim.at(6, 1) = 0.80f;
  one.sim.at(6, 2) = 0.82f;
  EXPECT_EQ(LabelClips(one, ChooseLabelingParams(one, 0.5, kClipOfEvidence)), truth);
}

TEST(StepMatcherTest, TimeOnNoStepBetweenStepsNeedsAClipsLengthOfEvidence) {
  // A correct performance of steps of 6, 12 and 6 s in which, in the middle
  // of step 1, the clips look a little less like any step than the none
  // level for 1.5 s (3 clips). Each is worth the typical margin (0.38), no
  // more. At one clip's margin, as before 2026-12-06, that was time on no
  // step between two steps (an extra_segment); coming back from it is now
  // worth a clip's length of such clips, so it is noise.
  const std::vector<int> truth = Runs({{0, 12}, {1, 24}, {2, 12}});
  StepSimilarity ss = FromLabels(truth, 3);
  for (int i = 22; i <= 24; ++i) {
    for (int k = 0; k < 3; ++k) ss.sim.at(i, k) = 0.32f;  // the none level (0.7) less the margin
  }
  EXPECT_EQ(LabelClips(ss, ChooseLabelingParams(ss, 0.7, kClipOfEvidence)), truth);
  std::vector<int> one_clip = truth;
  for (int i = 22; i <= 24; ++i) one_clip[i] = kNoStep;
  EXPECT_EQ(LabelClips(ss, ChooseLabelingParams(ss, 0.7, 1)), one_clip);

  // A stop of 4 s is time on no step.
  StepSimilarity stop = FromLabels(truth, 3);
  std::vector<int> stopped = truth;
  for (int i = 20; i <= 27; ++i) {
    for (int k = 0; k < 3; ++k) stop.sim.at(i, k) = 0.32f;
    stopped[i] = kNoStep;
  }
  EXPECT_EQ(LabelClips(stop, ChooseLabelingParams(stop, 0.7, kClipOfEvidence)), stopped);

  // Before the first step and after the last it is idle, however short: a
  // change only.
  const std::vector<int> edges = Runs({{kNoStep, 3}, {0, 12}, {1, 12}, {2, 12}, {kNoStep, 3}});
  StepSimilarity idle = FromLabels(edges, 3, 0.98f, 0.6f, 0.32f);
  EXPECT_EQ(LabelClips(idle, ChooseLabelingParams(idle, 0.7, kClipOfEvidence)), edges);
}

TEST(SegmentLabelsTest, ADetourThroughAStepDoneElsewhereIsBlur) {
  // 0 0 0 0 [1] 2 2 2 2 2 2 1 1 1 1 1 1: the single clip of step 1 between
  // 0 and 2 is the blur of the change (step 1 is done at length later).
  std::vector<int> labels = {0, 0, 0, 0, 1, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1};
  std::vector<int> truth = {0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1};
  StepSimilarity ss = FromLabels(truth, 3);
  ss.sim.at(4, 1) = 0.9f;  // resembles step 1 most, yet is blur
  ss.sim.at(4, 0) = 0.85f;
  auto segs = SegmentLabels(labels, ss, Clips(17), 10.0, 2.0);
  ASSERT_EQ(segs.size(), 3u);
  EXPECT_EQ(segs[0].step, 0);
  EXPECT_EQ(segs[0].last_clip, 4);
  EXPECT_EQ(segs[1].step, 2);
  EXPECT_EQ(segs[2].step, 1);
}

TEST(StepMatcherTest, OtherStepSimilarityIsTheMedianBestElsewhere) {
  // Three clips in two steps; clip 0 resembles step B at 0.5, clip 1 at 0.7.
  FloatMatrix gs(3, 3);
  float v[3][3] = {{1, 0.9f, 0.5f}, {0.9f, 1, 0.7f}, {0.5f, 0.7f, 1}};
  for (int i = 0; i < 3; ++i) for (int j = 0; j < 3; ++j) gs.at(i, j) = v[i][j];
  std::vector<Step> steps = {{0, "A", {0, 2}, {0, 1}, {}}, {1, "B", {2, 3}, {2}, {}}};
  auto other = OtherStepSimilarity(gs, steps);
  ASSERT_EQ(other.size(), 2u);
  EXPECT_FLOAT_EQ(other[0], 0.6f);  // median of 0.5 and 0.7
  EXPECT_FLOAT_EQ(other[1], 0.7f);
  EXPECT_TRUE(OtherStepSimilarity(gs, {steps[0]}).empty());
}

TEST(SegmentLabelsTest, ShortBlurBetweenStepsIsSharedOut) {
  // Steps 0 and 1 with three "none" clips between them (the blur of 2 s clips).
  std::vector<int> labels = {0, 0, 0, 0, 0, kNoStep, kNoStep, kNoStep, 1, 1, 1, 1, 1};
  StepSimilarity ss = FromLabels({0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1}, 2);
  auto segs = SegmentLabels(labels, ss, Clips(13), 8.0, 2.0);
  ASSERT_EQ(segs.size(), 2u);
  EXPECT_EQ(segs[0].step, 0);
  EXPECT_EQ(segs[1].step, 1);
  EXPECT_DOUBLE_EQ(segs[0].time.start_sec, 0.0);
  EXPECT_DOUBLE_EQ(segs[1].time.end_sec, 8.0);
  EXPECT_NEAR(segs[0].time.end_sec, 4.25, 0.26);  // between clip 6 (centre 4.0) and 7 (4.5)
}

TEST(SegmentLabelsTest, LongUnrelatedStretchStaysASegment) {
  std::vector<int> labels = {0, 0, 0, 0, kNoStep, kNoStep, kNoStep, kNoStep, kNoStep, kNoStep, 1, 1, 1};
  StepSimilarity ss = FromLabels(labels, 2);
  auto segs = SegmentLabels(labels, ss, Clips(13), 8.0, 2.0);
  ASSERT_EQ(segs.size(), 3u);
  EXPECT_EQ(segs[1].step, kNoStep);
}

TEST(SegmentLabelsTest, StepInterruptedBrieflyIsOneStep) {
  std::vector<int> labels = {0, 0, 0, 0, 1, 1, 0, 0, 0, 0};
  StepSimilarity ss = FromLabels(labels, 2);
  auto segs = SegmentLabels(labels, ss, Clips(10), 6.5, 2.0);
  ASSERT_EQ(segs.size(), 1u);
  EXPECT_EQ(segs[0].step, 0);
  EXPECT_EQ(segs[0].last_clip, 9);
}

TEST(SegmentLabelsTest, AShortShareOfAnAlikeRunIsNotADetour) {
  // Three steps nobody can tell apart, shared out in the gold's proportion:
  // the middle share is short, and its clips resemble its neighbours as much.
  std::vector<int> labels = {0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 2};
  StepSimilarity ss = FromLabels(std::vector<int>(15, 0), 3);
  for (int i = 0; i < 15; ++i) ss.sim.at(i, 1) = ss.sim.at(i, 2) = ss.sim.at(i, 0);
  auto detour = SegmentLabels(labels, ss, Clips(15), 9.0, 2.0);
  EXPECT_EQ(detour.size(), 2u);  // told nothing: taken for a detour through the blur
  auto shared = SegmentLabels(labels, ss, Clips(15), 9.0, 2.0, {true, true});
  ASSERT_EQ(shared.size(), 3u);
  EXPECT_EQ(shared[1].step, 1);
  EXPECT_EQ(shared[1].first_clip, 6);
  EXPECT_EQ(shared[1].last_clip, 8);
  // Beside unexplained time: "none" is no step, alike to none (an index of
  // -1 once read outside `alike_next`; AddressSanitizer caught it).
  std::vector<int> after_idle(8, kNoStep);
  after_idle.insert(after_idle.end(), {0, 0, 0, 1, 1, 1, 1, 1, 1});
  StepSimilarity idle_ss = FromLabels(after_idle, 3);
  for (int i = 8; i < 17; ++i) idle_ss.sim.at(i, 1) = idle_ss.sim.at(i, 0) = 0.98f;
  auto idle = SegmentLabels(after_idle, idle_ss, Clips(17), 10.0, 2.0, {true, true});
  ASSERT_EQ(idle.size(), 3u);
  EXPECT_EQ(idle[0].step, kNoStep);
  EXPECT_EQ(idle[1].step, 0);
}

TEST(SegmentLabelsTest, AShortShareAtTheEndOfAnAlikeRunIsADetourOnlyOnEvidence) {
  // Steps 0 and 1 nobody can tell apart, then step 2 told apart: the run's
  // time shared out leaves step 1 a short share beside step 2. Its clips
  // resemble step 0 as much by definition; they resemble step 2 less, so
  // the share stays (a periodic scene lost that step against itself).
  std::vector<int> labels = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2};
  StepSimilarity ss = FromLabels(labels, 3);
  for (int i = 0; i < 12; ++i) ss.sim.at(i, 0) = ss.sim.at(i, 1) = 0.98f;
  auto kept = SegmentLabels(labels, ss, Clips(18), 10.5, 2.0, {true, false});
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept[1].step, 1);
  EXPECT_EQ(kept[1].first_clip, 8);
  EXPECT_EQ(kept[1].last_clip, 11);
  // Told apart from nothing (no alike run), the same share is a detour.
  EXPECT_EQ(SegmentLabels(labels, ss, Clips(18), 10.5, 2.0).size(), 2u);
  // Where its clips resemble the step on its other side as much, it is
  // still a detour through the blur.
  for (int i = 8; i < 12; ++i) ss.sim.at(i, 2) = 0.98f;
  auto detour = SegmentLabels(labels, ss, Clips(18), 10.5, 2.0, {true, false});
  ASSERT_EQ(detour.size(), 2u);
  EXPECT_EQ(detour[0].step, 0);
  EXPECT_EQ(detour[1].step, 2);
}

TEST(SegmentLabelsTest, AShortRunAtItsStepsOwnLevelIsNoDetour) {
  // 0 0 0 0 0 0 [1 1 1 1] 2 2 2 2 2 2: the short run of step 1 resembles
  // step 2 as much as step 1 (a periodic scene shows step 1's pattern again
  // in step 2), at 0.98.
  std::vector<int> labels = {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2};
  StepSimilarity ss = FromLabels(labels, 3);
  for (int i = 6; i < 10; ++i) ss.sim.at(i, 2) = 0.98f;
  // Unknown levels: taken for the blur of the change from 0 to 2.
  EXPECT_EQ(SegmentLabels(labels, ss, Clips(16), 9.5, 2.0).size(), 2u);
  // Step 1's own moments resemble each other at 0.95: clips at 0.98 are
  // step 1 itself, not blur.
  ss.self_level = {0.95, 0.95, 0.95};
  auto kept = SegmentLabels(labels, ss, Clips(16), 9.5, 2.0);
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept[1].step, 1);
  EXPECT_EQ(kept[1].first_clip, 6);
  EXPECT_EQ(kept[1].last_clip, 9);
  // Blur mixes steps 0 and 2 and reaches step 1 below its own level.
  for (int i = 6; i < 10; ++i) ss.sim.at(i, 1) = ss.sim.at(i, 2) = 0.8f;
  EXPECT_EQ(SegmentLabels(labels, ss, Clips(16), 9.5, 2.0).size(), 2u);
}

TEST(SegmentLabelsTest, AChangeTheGoldShowsIsMovedByTheGoldsEdgeOffsets) {
  // 0 0 0 0 0 0 1 1 1 1 1 1 then 0 again: centres 1.0 .. 7.0 s; the
  // similarities cross halfway between the clips centred at 3.5 and 4.0.
  std::vector<int> labels = Runs({{0, 6}, {1, 6}, {0, 6}});
  StepSimilarity ss = FromLabels(labels, 2);
  const double crossing = SegmentLabels(labels, ss, Clips(18), 10.5, 2.0)[0].time.end_sec;
  EXPECT_DOUBLE_EQ(crossing, 3.75);
  // In the gold, step 0 ends 0.4 s after its last clip's centre and step 1
  // starts 0.1 s before its first's: the change 1 follows 0 moves by
  // their mean. The change back from 1 to 0 is none the gold shows, and
  // stays where the clips cross.
  ss.edge_offset = {{0.0, 0.4}, {-0.1, 0.3}};
  auto moved = SegmentLabels(labels, ss, Clips(18), 10.5, 2.0);
  ASSERT_EQ(moved.size(), 3u);
  EXPECT_DOUBLE_EQ(moved[0].time.end_sec, 3.75 + 0.5 * (0.4 - 0.1));
  EXPECT_DOUBLE_EQ(moved[1].time.end_sec, 6.75);
}

TEST(LabelClipsByAlikeRunsTest, AlikeStepsAreLabelledAsOneThenSharedAsInTheGold) {
  // Twelve clips as like step 0 as step 1 (the gold cannot tell them apart),
  // then four of step 2.
  std::vector<int> truth(16, 0);
  for (int i = 12; i < 16; ++i) truth[i] = 2;
  StepSimilarity ss = FromLabels(truth, 3);
  for (int i = 0; i < 12; ++i) ss.sim.at(i, 1) = ss.sim.at(i, 0);
  const std::vector<int> labels =
      LabelClipsByAlikeRuns(ss, 0.5, kClipOfEvidence, {true, false}, {2.0, 4.0, 2.0}, Clips(16), 9.5, 2.0);
  std::vector<int> expected(16, 2);
  for (int i = 0; i < 4; ++i) expected[i] = 0;  // 2 s of the 6 s run: a third of its 12 clips
  for (int i = 4; i < 12; ++i) expected[i] = 1;
  EXPECT_EQ(labels, expected);
  // Without alike steps it is LabelClips.
  EXPECT_EQ(LabelClipsByAlikeRuns(ss, 0.5, kClipOfEvidence, {false, false}, {2.0, 4.0, 2.0}, Clips(16), 9.5, 2.0),
            LabelClips(ss, ChooseLabelingParams(ss, 0.5, kClipOfEvidence)));
}

TEST(ShareTimeAmongAlikeStepsTest, AlikeStepsShareTheirTimeAsInTheGold) {
  // Step 0 got one clip and step 1 the rest of their shared time, as a tie
  // between two steps the gold cannot tell apart may come out; step 2 is
  // told apart from step 1.
  const std::vector<ClipSpan> clips = Clips(20);  // centres 1.0, 1.5, ..., 10.5
  const std::vector<TraineeSegment> labelled = {
      {0, 0, 0, {0.0, 1.25}}, {1, 1, 13, {1.25, 7.25}}, {2, 14, 19, {7.25, 11.5}}};
  std::vector<TraineeSegment> segs = labelled;
  ShareTimeAmongAlikeSteps(clips, {4.0, 4.0, 3.0}, {true, false}, &segs);
  ASSERT_EQ(segs.size(), 3u);
  EXPECT_DOUBLE_EQ(segs[0].time.start_sec, 0.0);
  EXPECT_DOUBLE_EQ(segs[0].time.end_sec, 3.625);  // half of 0-7.25, as 4 s of 8 in the gold
  EXPECT_DOUBLE_EQ(segs[1].time.start_sec, 3.625);
  EXPECT_DOUBLE_EQ(segs[1].time.end_sec, 7.25);
  EXPECT_EQ(segs[0].last_clip, 5);  // centre 3.5; clip 6's is 4.0
  EXPECT_EQ(segs[1].first_clip, 6);
  EXPECT_EQ(segs[1].last_clip, 13);
  EXPECT_DOUBLE_EQ(segs[2].time.start_sec, 7.25);  // not alike: left as labelled
  EXPECT_EQ(segs[2].first_clip, 14);

  // In the gold's proportion, not in equal parts.
  segs = labelled;
  ShareTimeAmongAlikeSteps(clips, {2.0, 6.0, 3.0}, {true, false}, &segs);
  EXPECT_DOUBLE_EQ(segs[0].time.end_sec, 1.8125);
}

TEST(ShareTimeAmongAlikeStepsTest, StepsToldApartOrOutOfOrderAreLeftAsLabelled) {
  const std::vector<ClipSpan> clips = Clips(20);
  const std::vector<TraineeSegment> labelled = {
      {0, 0, 0, {0.0, 1.25}}, {1, 1, 13, {1.25, 7.25}}, {2, 14, 19, {7.25, 11.5}}};
  auto same = [&](const std::vector<TraineeSegment>& a) {
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i].first_clip != labelled[i].first_clip || a[i].last_clip != labelled[i].last_clip ||
          a[i].time.end_sec != labelled[i].time.end_sec) {
        return false;
      }
    }
    return a.size() == labelled.size();
  };
  std::vector<TraineeSegment> segs = labelled;
  ShareTimeAmongAlikeSteps(clips, {4.0, 4.0, 3.0}, {false, false}, &segs);
  EXPECT_TRUE(same(segs));
  // Alike, but done in the other order: a swap the clips did show.
  std::vector<TraineeSegment> swapped = {{1, 0, 0, {0.0, 1.25}}, {0, 1, 13, {1.25, 7.25}}};
  ShareTimeAmongAlikeSteps(clips, {4.0, 4.0}, {true}, &swapped);
  EXPECT_EQ(swapped[0].last_clip, 0);
  // A share too short to hold a clip: left as labelled.
  segs = labelled;
  ShareTimeAmongAlikeSteps(clips, {0.1, 8.0, 3.0}, {true, false}, &segs);
  EXPECT_TRUE(same(segs));
}

}  // namespace
}  // namespace sopilot
