#include "score/below_line.h"

#include <gtest/gtest.h>

#include <vector>

namespace sopilot {
namespace {

using P = std::vector<std::pair<int, int>>;

P Spans(const std::vector<double>& sims, double line, int min_clips) {
  P out;
  for (const ClipStretch& s : StretchesBelowLine(sims, line, min_clips)) out.emplace_back(s.first, s.last);
  return out;
}

TEST(StretchesBelowLineTest, ARunOfClipsAllBelowIsFound) {
  const std::vector<double> sims = {0.97, 0.96, 0.6, 0.55, 0.62, 0.58, 0.97, 0.98};
  EXPECT_EQ(Spans(sims, 0.73, 4), (P{{2, 5}}));
  const std::vector<ClipStretch> s = StretchesBelowLine(sims, 0.73, 4);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_NEAR(s[0].mean, (0.6 + 0.55 + 0.62 + 0.58) / 4, 1e-12);
}

TEST(StretchesBelowLineTest, ClipsAHairAboveTheLineDoNotBreakAStepBelowIt) {
  // The maintenance wrong tool 10 % slower: every few clips one sits just
  // above the line, and no four in a row are under it.
  const std::vector<double> sims = {0.96, 0.73, 0.70, 0.72, 0.73, 0.71, 0.73, 0.72, 0.71, 0.72, 0.97};
  EXPECT_EQ(Spans(sims, 0.728, 4), (P{{2, 9}}));  // starts and ends on a clip below the line
}

TEST(StretchesBelowLineTest, TooFewClipsBelowAreNoFinding) {
  // Three clips below, fewer than four.
  EXPECT_EQ(Spans({0.97, 0.5, 0.5, 0.5, 0.97, 0.97}, 0.73, 4), P{});
  // One clip far below among clips at the level pulls a window's mean down,
  // but what is left below the line is one clip.
  EXPECT_EQ(Spans({0.97, 0.97, 0.97, 0.0, 0.97, 0.97, 0.97}, 0.73, 4), P{});
  // Fewer clips than a window.
  EXPECT_EQ(Spans({0.1, 0.1, 0.1}, 0.73, 4), P{});
  EXPECT_EQ(Spans({}, 0.73, 4), P{});
}

TEST(StretchesBelowLineTest, ClipsAtTheLevelSplitTwoStretches) {
  const std::vector<double> sims = {0.5, 0.5, 0.5, 0.5, 0.97, 0.97, 0.97, 0.97, 0.6, 0.6, 0.6, 0.6};
  EXPECT_EQ(Spans(sims, 0.73, 4), (P{{0, 3}, {8, 11}}));
}

TEST(StretchesBelowLineTest, AStepAboveTheLineHasNone) {
  EXPECT_EQ(Spans({0.74, 0.75, 0.74, 0.76, 0.74}, 0.73, 4), P{});
  // A clip exactly at the line is not below it.
  EXPECT_EQ(Spans({0.73, 0.73, 0.73, 0.73}, 0.73, 4), P{});
}

TEST(StretchesBelowLineTest, AWindowOfOneIsEachClipBelow) {
  EXPECT_EQ(Spans({0.9, 0.5, 0.9, 0.5, 0.5}, 0.73, 1), (P{{1, 1}, {3, 4}}));
  EXPECT_EQ(Spans({0.9, 0.5}, 0.73, 0), (P{{1, 1}}));  // taken as 1
}

}  // namespace
}  // namespace sopilot
