#include "score/closest_gold.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace sopilot {
namespace {

std::vector<int64_t> RankedIds(const std::vector<GoldCandidate>& candidates) {
  std::vector<int64_t> ids;
  for (size_t i : RankGoldCandidates(candidates)) ids.push_back(candidates[i].gold_video_id);
  return ids;
}

TEST(RankGoldCandidatesTest, HighestScoreFirst) {
  EXPECT_EQ(RankedIds({{1, 70.0, false}, {2, 92.5, false}, {3, 81.0, false}}), (std::vector<int64_t>{2, 3, 1}));
}

TEST(RankGoldCandidatesTest, TiesGoToThePreferredGoldThenToTheLowerId) {
  EXPECT_EQ(RankedIds({{4, 90.0, false}, {7, 90.0, true}, {2, 90.0, false}, {1, 50.0, true}}),
            (std::vector<int64_t>{7, 2, 4, 1}));
  // Preference never outweighs a higher score.
  EXPECT_EQ(RankedIds({{1, 89.9, true}, {2, 90.0, false}}), (std::vector<int64_t>{2, 1}));
}

TEST(RankGoldCandidatesTest, UnscoredGoldsComeLastByIdWhateverThePreference) {
  EXPECT_EQ(RankedIds({{5, std::nullopt, true}, {3, 10.0, false}, {1, std::nullopt, false}}),
            (std::vector<int64_t>{3, 1, 5}));
  // None scored: the first is unscored, which says there is no closest gold.
  auto none = RankGoldCandidates({{2, std::nullopt, false}, {1, std::nullopt, false}});
  ASSERT_EQ(none.size(), 2u);
  EXPECT_EQ(none[0], 1u);
  EXPECT_TRUE(RankGoldCandidates({}).empty());
}

TEST(RankGoldCandidatesTest, TheRankingDoesNotDependOnTheInputOrder) {
  std::vector<GoldCandidate> c = {{1, 80.0, false}, {2, 80.0, false}, {3, 95.0, false}, {4, std::nullopt, false},
                                  {5, 80.0, true}};
  const std::vector<int64_t> expected = {3, 5, 1, 2, 4};
  std::sort(c.begin(), c.end(), [](const GoldCandidate& a, const GoldCandidate& b) {
    return a.gold_video_id < b.gold_video_id;
  });
  do {
    EXPECT_EQ(RankedIds(c), expected);
  } while (std::next_permutation(c.begin(), c.end(), [](const GoldCandidate& a, const GoldCandidate& b) {
    return a.gold_video_id < b.gold_video_id;
  }));
}

}  // namespace
}  // namespace sopilot
