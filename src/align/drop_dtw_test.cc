#include "align/drop_dtw.h"

#include <limits>
#include <numeric>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "align/align_test_util.h"
#include "align/cost_matrix.h"
#include "align/dtw.h"

namespace sopilot {
namespace {

using align_test::BruteForceDropDtw;
using align_test::OneHotSequence;
using align_test::RandomCost;
using align_test::RandomUnitRows;
using Cells = std::vector<std::pair<int, int>>;

constexpr double kInf = std::numeric_limits<double>::infinity();

template <typename A>
Cells CellsOf(const A& a) {
  Cells c;
  for (const AlignedPair& p : a.path) c.emplace_back(p.gold, p.trainee);
  return c;
}

std::vector<int> Range(int begin, int end) {
  std::vector<int> v(end - begin);
  std::iota(v.begin(), v.end(), begin);
  return v;
}

DropDtwOptions Constant(double gold, double trainee) {
  return DropDtwOptions{DropCost::Constant(gold), DropCost::Constant(trainee)};
}

// Every clip is either matched or dropped, never both; the kept clips form a
// DTW path over the kept rows and columns; the costs add up.
void ExpectConsistent(const DropDtwAlignment& a, const FloatMatrix& cost) {
  std::vector<int> gold_seen(cost.rows, 0), trainee_seen(cost.cols, 0);
  for (int g : a.dropped_gold) gold_seen[g] += 100;
  for (int t : a.dropped_trainee) trainee_seen[t] += 100;
  double match = 0;
  for (size_t k = 0; k < a.path.size(); ++k) {
    const AlignedPair& p = a.path[k];
    gold_seen[p.gold] |= 1;
    trainee_seen[p.trainee] |= 1;
    match += cost.at(p.gold, p.trainee);
    EXPECT_EQ(p.similarity, 1.0f - cost.at(p.gold, p.trainee));
    if (k == 0) continue;
    const AlignedPair& q = a.path[k - 1];
    // Across dropped clips a step may skip indices, but a repeated index
    // means the other side advanced past only dropped clips.
    EXPECT_TRUE(p.gold >= q.gold && p.trainee >= q.trainee && (p.gold > q.gold || p.trainee > q.trainee));
  }
  for (int g = 0; g < cost.rows; ++g) EXPECT_TRUE(gold_seen[g] == 1 || gold_seen[g] == 100) << g;
  for (int t = 0; t < cost.cols; ++t) EXPECT_TRUE(trainee_seen[t] == 1 || trainee_seen[t] == 100) << t;
  EXPECT_TRUE(std::is_sorted(a.dropped_gold.begin(), a.dropped_gold.end()));
  EXPECT_TRUE(std::is_sorted(a.dropped_trainee.begin(), a.dropped_trainee.end()));
  EXPECT_NEAR(a.match_cost, match, 1e-9);
  double total = match;
  if (!a.dropped_gold.empty()) total += a.gold_drop_cost * a.dropped_gold.size();
  if (!a.dropped_trainee.empty()) total += a.trainee_drop_cost * a.dropped_trainee.size();
  EXPECT_NEAR(a.total_cost, total, 1e-9);
}

TEST(DropDtwTest, DropsAnInsertedUnrelatedSegment) {
  // Trainee does steps 1, 2, then something unrelated (walks away), then 3.
  const FloatMatrix gold = OneHotSequence({0, 0, 0, 1, 1, 1, 2, 2, 2}, 4);
  const FloatMatrix trainee = OneHotSequence({0, 0, 0, 1, 1, 1, 3, 3, 3, 2, 2, 2}, 4);
  auto a = AlignDropDtw(gold, trainee, Constant(0.5, 0.5));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->dropped_trainee, Range(6, 9));
  EXPECT_TRUE(a->dropped_gold.empty());
  EXPECT_EQ(a->path.size(), 9u);
  for (const AlignedPair& p : a->path) EXPECT_EQ(p.similarity, 1.0f);
  EXPECT_DOUBLE_EQ(a->total_cost, 1.5);
  auto cost = CosineCostMatrix(gold, trainee);
  ExpectConsistent(*a, *cost);

  // Plain DTW has to pay for the segment by matching it.
  auto dtw = AlignDtw(gold, trainee);
  ASSERT_TRUE(dtw.ok());
  EXPECT_DOUBLE_EQ(dtw->total_cost, 3.0);
}

TEST(DropDtwTest, DropsAGoldSegmentAbsentFromTheTrainee) {
  // The trainee skips step 2.
  const FloatMatrix gold = OneHotSequence({0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3}, 4);
  const FloatMatrix trainee = OneHotSequence({0, 0, 0, 2, 2, 2, 3, 3, 3}, 4);
  auto a = AlignDropDtw(gold, trainee, Constant(0.5, 0.5));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->dropped_gold, Range(3, 6));
  EXPECT_TRUE(a->dropped_trainee.empty());
  EXPECT_EQ(CellsOf(*a), (Cells{{0, 0}, {1, 1}, {2, 2}, {6, 3}, {7, 4}, {8, 5}, {9, 6},
                                {10, 7}, {11, 8}}));
  EXPECT_DOUBLE_EQ(a->total_cost, 1.5);
}

TEST(DropDtwTest, ExpensiveDropsKeepEverything) {
  const FloatMatrix gold = OneHotSequence({0, 0, 1, 1, 2, 2}, 4);
  const FloatMatrix trainee = OneHotSequence({0, 0, 3, 1, 1, 2, 2}, 4);
  auto a = AlignDropDtw(gold, trainee, Constant(5, 5));
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->dropped_gold.empty());
  EXPECT_TRUE(a->dropped_trainee.empty());
  EXPECT_DOUBLE_EQ(a->total_cost, 1.0);
}

TEST(DropDtwTest, CheapDropsDropEverything) {
  const FloatMatrix c = RandomCost(3, 4, 1, 0, 0.5f, 2.0f);
  auto a = AlignDropDtwFromCost(c, Constant(0.1, 0.1));
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->path.empty());
  EXPECT_EQ(a->dropped_gold, Range(0, 3));
  EXPECT_EQ(a->dropped_trainee, Range(0, 4));
  EXPECT_NEAR(a->total_cost, 0.7, 1e-12);
}

TEST(DropDtwTest, InfiniteDropCostsAreExactlyDtw) {
  unsigned seed = 300;
  for (int trial = 0; trial < 150; ++trial) {
    const int m = 1 + trial % 17, n = 1 + (trial * 5) % 19;
    const FloatMatrix c = RandomCost(m, n, ++seed, trial % 3 == 0 ? 0 : 2 + trial % 3);
    auto a = AlignDropDtwFromCost(c, Constant(kInf, kInf));
    auto b = AlignDtwFromCost(c);
    ASSERT_TRUE(a.ok());
    ASSERT_TRUE(b.ok());
    ASSERT_EQ(CellsOf(*a), CellsOf(*b)) << "trial " << trial;
    EXPECT_TRUE(a->dropped_gold.empty());
    EXPECT_TRUE(a->dropped_trainee.empty());
    EXPECT_EQ(a->total_cost, b->total_cost);
  }
}

TEST(DropDtwTest, MatchesBruteForceOnSmallRandomInputs) {
  unsigned seed = 700;
  const std::pair<double, double> drops[] = {{0.3, 0.3}, {0.8, 0.5}, {0.5, 1.2}, {2.5, 0.05},
                                             {kInf, 0.7}, {0.9, kInf}};
  for (int m = 1; m <= 5; ++m)
    for (int n = 1; n <= 5; ++n)
      for (const auto& [dg, dt] : drops) {
        const FloatMatrix c = RandomCost(m, n, ++seed, (m + n) % 2 ? 0 : 4);
        auto a = AlignDropDtwFromCost(c, Constant(dg, dt));
        ASSERT_TRUE(a.ok());
        SCOPED_TRACE(testing::Message() << m << "x" << n << " drops " << dg << "," << dt);
        EXPECT_NEAR(a->total_cost, BruteForceDropDtw(c, dg, dt), 1e-9);
        ExpectConsistent(*a, c);
      }
}

TEST(DropDtwTest, PercentileDropCost) {
  FloatMatrix c(10, 10);
  for (int k = 0; k < 100; ++k) c.data[k] = static_cast<float>((k * 37) % 100);  // 0..99 shuffled
  EXPECT_DOUBLE_EQ(*CostPercentile(c, 0), 0.0);
  EXPECT_DOUBLE_EQ(*CostPercentile(c, 100), 99.0);
  EXPECT_DOUBLE_EQ(*CostPercentile(c, 50), 49.5);
  EXPECT_NEAR(*CostPercentile(c, 30), 29.7, 1e-12);
  DropDtwOptions opt{DropCost::Percentile(50), DropCost::Percentile(10)};
  auto a = AlignDropDtwFromCost(c, opt);
  ASSERT_TRUE(a.ok());
  EXPECT_DOUBLE_EQ(a->gold_drop_cost, 49.5);
  EXPECT_NEAR(a->trainee_drop_cost, 9.9, 1e-12);
  ExpectConsistent(*a, c);
}

TEST(DropDtwTest, PercentileBetweenTheClustersDropsAnIdleSegment) {
  // Same step: cost 0.1; different steps or idle (-1): 0.9. 27 of the 108
  // cells are same-step, so the 25th percentile falls between the clusters:
  // position 0.25 * 107 = 26.75 between the 27th value (0.1) and the 28th
  // (0.9), i.e. 0.7.
  const std::vector<int> gold = {0, 0, 0, 1, 1, 1, 2, 2, 2};
  const std::vector<int> trainee = {0, 0, 0, 1, 1, 1, -1, -1, -1, 2, 2, 2};
  FloatMatrix c(9, 12);
  for (int i = 0; i < 9; ++i)
    for (int j = 0; j < 12; ++j) c.at(i, j) = gold[i] == trainee[j] ? 0.1f : 0.9f;
  auto a = AlignDropDtwFromCost(c, {DropCost::Percentile(25), DropCost::Percentile(25)});
  ASSERT_TRUE(a.ok());
  EXPECT_NEAR(a->trainee_drop_cost, 0.1 + 0.8 * 0.75, 1e-6);
  EXPECT_EQ(a->dropped_trainee, Range(6, 9));
  EXPECT_TRUE(a->dropped_gold.empty());
  ExpectConsistent(*a, c);

  // At the 20th percentile the drop cost is 0.1, a tie with every good
  // match: matches win ties, so only the idle clips go.
  auto b = AlignDropDtwFromCost(c, {DropCost::Percentile(20), DropCost::Percentile(20)});
  ASSERT_TRUE(b.ok());
  EXPECT_NEAR(b->trainee_drop_cost, 0.1, 1e-7);
  EXPECT_EQ(b->dropped_trainee, Range(6, 9));
  EXPECT_TRUE(b->dropped_gold.empty());
  EXPECT_EQ(b->path.size(), 9u);
}

TEST(DropDtwTest, RejectsBadOptionsAndInput) {
  const FloatMatrix c = RandomCost(3, 3, 2);
  EXPECT_EQ(AlignDropDtwFromCost(c, Constant(-1, 1)).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(AlignDropDtwFromCost(c, Constant(1, std::nan(""))).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(AlignDropDtwFromCost(c, {DropCost::Percentile(101), DropCost::Percentile(5)})
                .status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(AlignDropDtwFromCost(FloatMatrix()).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(AlignDropDtw(RandomUnitRows(2, 3, 1), RandomUnitRows(2, 4, 1)).status().code(),
            Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace sopilot
