#include "align/dtw.h"

#include <limits>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "align/align_test_util.h"
#include "align/cost_matrix.h"

namespace sopilot {
namespace {

using align_test::BruteForceDtw;
using align_test::OneHotSequence;
using align_test::RandomCost;
using align_test::RandomUnitRows;
using Cells = std::vector<std::pair<int, int>>;

Cells CellsOf(const Alignment& a) {
  Cells c;
  for (const AlignedPair& p : a.path) c.emplace_back(p.gold, p.trainee);
  return c;
}

// The Python original's dtw_align transcribed literally: full (m+1)×(n+1)
// double matrix, trace 0/1/2 by exact equality with the min.
struct Reference { Cells path; double total; };
Reference ReferenceDtw(const FloatMatrix& c, bool open_begin, bool open_end) {
  const int m = c.rows, n = c.cols;
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<std::vector<double>> D(m + 1, std::vector<double>(n + 1, inf));
  std::vector<std::vector<int>> T(m + 1, std::vector<int>(n + 1, -1));
  D[0][0] = 0;
  if (open_begin) for (int j = 0; j <= n; ++j) D[0][j] = 0;
  for (int i = 1; i <= m; ++i)
    for (int j = 1; j <= n; ++j) {
      const double diag = D[i - 1][j - 1], up = D[i - 1][j], left = D[i][j - 1];
      const double best = std::min({diag, up, left});
      D[i][j] = double(c.at(i - 1, j - 1)) + best;
      T[i][j] = diag == best ? 0 : (up == best ? 1 : 2);
    }
  int j = n;
  if (open_end) {
    for (int k = 1; k <= n; ++k) if (D[m][k] < D[m][j] || (D[m][k] == D[m][j] && k < j)) j = k;
  }
  Reference r{{}, D[m][j]};
  int i = m;
  while (i > 0 && j > 0) {
    r.path.emplace_back(i - 1, j - 1);
    const int t = T[i][j];
    if (t == 0) { --i; --j; } else if (t == 1) { --i; } else { --j; }
  }
  std::reverse(r.path.begin(), r.path.end());
  return r;
}

// Monotone, unit steps, ends where it should, costs add up to total_cost.
void ExpectWellFormed(const Alignment& a, const FloatMatrix& cost, bool open_begin,
                      bool open_end) {
  ASSERT_FALSE(a.path.empty());
  if (!open_begin) {
    EXPECT_EQ(a.path.front().trainee, 0);
  }
  EXPECT_EQ(a.path.front().gold, 0);
  EXPECT_EQ(a.path.back().gold, cost.rows - 1);
  if (!open_end) {
    EXPECT_EQ(a.path.back().trainee, cost.cols - 1);
  }
  double sum = 0;
  for (size_t k = 0; k < a.path.size(); ++k) {
    const AlignedPair& p = a.path[k];
    sum += cost.at(p.gold, p.trainee);
    EXPECT_EQ(p.similarity, 1.0f - cost.at(p.gold, p.trainee));
    if (k == 0) continue;
    const int dg = p.gold - a.path[k - 1].gold, dt = p.trainee - a.path[k - 1].trainee;
    EXPECT_TRUE((dg == 1 || dg == 0) && (dt == 1 || dt == 0) && dg + dt > 0)
        << "bad step at " << k;
  }
  EXPECT_NEAR(a.total_cost, sum, 1e-9 * (1 + std::abs(sum)));
  EXPECT_DOUBLE_EQ(a.mean_cost, a.total_cost / a.path.size());
}

TEST(DtwTest, OriginalWorkedExampleExtraClip) {
  // gold [s1,s1,s2,s2,s3,s3] vs trainee [s1,s1,s1,s2,s2,s3,s3] (§8.1).
  const FloatMatrix gold = OneHotSequence({0, 0, 1, 1, 2, 2}, 3);
  const FloatMatrix trainee = OneHotSequence({0, 0, 0, 1, 1, 2, 2}, 3);
  auto a = AlignDtw(gold, trainee);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(CellsOf(*a), (Cells{{0, 0}, {0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}, {5, 6}}));
  for (const AlignedPair& p : a->path) EXPECT_EQ(p.similarity, 1.0f);
  EXPECT_EQ(a->total_cost, 0.0);
  EXPECT_EQ(a->mean_cost, 0.0);
}

TEST(DtwTest, OriginalWorkedExampleMissingStep) {
  // gold vs [s1,s1,s3,s3]: the s2 clips land on trainee s1 clips (§8.1).
  const FloatMatrix gold = OneHotSequence({0, 0, 1, 1, 2, 2}, 3);
  const FloatMatrix trainee = OneHotSequence({0, 0, 2, 2}, 3);
  auto a = AlignDtw(gold, trainee);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(CellsOf(*a), (Cells{{0, 0}, {1, 0}, {2, 0}, {3, 1}, {4, 2}, {5, 3}}));
  EXPECT_EQ(a->path[2].similarity, 0.0f);
  EXPECT_EQ(a->path[3].similarity, 0.0f);
  EXPECT_DOUBLE_EQ(a->total_cost, 2.0);
  EXPECT_DOUBLE_EQ(a->mean_cost, 2.0 / 6);
}

TEST(DtwTest, SingleClip) {
  const FloatMatrix g = RandomUnitRows(1, 16, 1);
  auto a = AlignDtw(g, g);
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->path.size(), 1u);
  EXPECT_EQ(a->path[0].gold, 0);
  EXPECT_EQ(a->path[0].trainee, 0);
  EXPECT_GT(a->path[0].similarity, 0.99f);
}

TEST(DtwTest, UpBeatsLeftOnTies) {
  // D[2][2]: diag 1, up 0.5, left 0.5 -> up, i.e. gold advances last.
  FloatMatrix c(2, 2);
  c.data = {1.0f, -0.5f, -0.5f, 0.0f};
  auto a = AlignDtwFromCost(c);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(CellsOf(*a), (Cells{{0, 0}, {0, 1}, {1, 1}}));
  EXPECT_DOUBLE_EQ(a->total_cost, 0.5);
}

TEST(DtwTest, DiagonalBeatsUpAndLeftOnTies) {
  auto a = AlignDtwFromCost(FloatMatrix(3, 3));  // all zero: everything ties
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(CellsOf(*a), (Cells{{0, 0}, {1, 1}, {2, 2}}));
}

TEST(DtwTest, MatchesBruteForceOnSmallRandomInputs) {
  unsigned seed = 100;
  for (int m = 1; m <= 6; ++m)
    for (int n = 1; n <= 6; ++n)
      for (int variant = 0; variant < 4; ++variant) {
        const bool ob = variant & 1, oe = variant & 2;
        const FloatMatrix c = RandomCost(m, n, ++seed);
        DtwOptions opt;
        opt.open_begin = ob;
        opt.open_end = oe;
        auto a = AlignDtwFromCost(c, opt);
        ASSERT_TRUE(a.ok());
        SCOPED_TRACE(testing::Message() << m << "x" << n << " ob=" << ob << " oe=" << oe);
        EXPECT_NEAR(a->total_cost, BruteForceDtw(c, ob, oe), 1e-9);
        ExpectWellFormed(*a, c, ob, oe);
      }
}

TEST(DtwTest, MatchesTheOriginalsTieBreakingExactly) {
  // Costs on a coarse grid make ties everywhere; the path must still be the
  // original's, move for move.
  unsigned seed = 500;
  for (int trial = 0; trial < 200; ++trial) {
    const int m = 1 + trial % 23, n = 1 + (trial * 7) % 29;
    const bool ob = trial % 3 == 1, oe = trial % 5 == 2;
    const FloatMatrix c = RandomCost(m, n, ++seed, trial % 2 ? 2 : 4);
    DtwOptions opt;
    opt.open_begin = ob;
    opt.open_end = oe;
    auto a = AlignDtwFromCost(c, opt);
    ASSERT_TRUE(a.ok());
    const Reference r = ReferenceDtw(c, ob, oe);
    ASSERT_EQ(CellsOf(*a), r.path) << "trial " << trial;
    EXPECT_EQ(a->total_cost, r.total);
  }
}

TEST(DtwTest, WholeAndPartialBandsMatchTheOriginalExactly) {
  // The DP runs in bands of 32 gold rows, whole ones with SIMD where the CPU
  // has it. Cover whole and partial bands, trainee lengths around the bands'
  // ragged ends, ties everywhere, and negative and zero costs.
  unsigned seed = 900;
  for (int m : {32, 33, 64, 95, 130}) {
    for (int n : {1, 2, 7, 8, 31, 32, 39, 40, 41, 47, 100}) {
      for (int variant = 0; variant < 4; ++variant) {
        ++seed;
        const float lo = seed % 3 == 0 ? -1.f : 0.f;
        const FloatMatrix c = RandomCost(m, n, seed, seed % 2 ? 2 : 4, lo, lo + 2.f);
        DtwOptions opt;
        opt.open_begin = variant & 1;
        opt.open_end = variant & 2;
        auto a = AlignDtwFromCost(c, opt);
        ASSERT_TRUE(a.ok());
        const Reference r = ReferenceDtw(c, opt.open_begin, opt.open_end);
        ASSERT_EQ(CellsOf(*a), r.path) << m << "x" << n << " variant " << variant;
        EXPECT_EQ(a->total_cost, r.total);
      }
    }
  }
}

// Bit-identical on every OpenBLAS core type (run it under
// OPENBLAS_CORETYPE=Haswell, Sandybridge, Prescott too): both modes take each
// cost from the same per-grid-tile sgemm.
TEST(DtwTest, FullAndLinearMemoryGiveIdenticalResults) {
  const FloatMatrix g = RandomUnitRows(300, 904, 11), t = RandomUnitRows(200, 904, 12);
  // Every variant on the default grid (one tile here); on grids of many
  // ragged tiles one variant does (the grid only changes the costs), which
  // keeps the test quick under valgrind.
  for (const CostTiling tiling : {CostTiling{}, CostTiling{64, 96}, CostTiling{50, 30}}) {
    const bool default_grid = tiling.rows == 0;
    for (int variant = default_grid ? 0 : 3; variant < 4; ++variant) {
      DtwOptions full;
      full.open_begin = variant & 1;
      full.open_end = variant & 2;
      full.memory = DtwOptions::Memory::kFull;
      full.cost_tiling = tiling;
      auto a = AlignDtw(g, t, full);
      ASSERT_TRUE(a.ok());
      for (int block_rows : {0, 1, 7, 64, 299}) {
        DtwOptions linear = full;
        linear.memory = DtwOptions::Memory::kLinear;
        linear.linear_block_rows = block_rows;
        auto b = AlignDtw(g, t, linear);
        ASSERT_TRUE(b.ok());
        SCOPED_TRACE(testing::Message() << "tiling " << tiling.rows << "x" << tiling.cols
                                        << " variant " << variant << " block_rows "
                                        << block_rows);
        ASSERT_EQ(CellsOf(*a), CellsOf(*b));
        for (size_t k = 0; k < a->path.size(); ++k)
          ASSERT_EQ(a->path[k].similarity, b->path[k].similarity) << k;
        EXPECT_EQ(a->total_cost, b->total_cost);
        EXPECT_EQ(a->mean_cost, b->mean_cost);
      }
    }
  }
}

// Another grid moves costs by float rounding only; on Gaussian data there
// are no near-ties, so the path stays.
TEST(DtwTest, GridsGiveTheSamePath) {
  const FloatMatrix g = RandomUnitRows(300, 904, 11), t = RandomUnitRows(200, 904, 12);
  auto a = AlignDtw(g, t);
  ASSERT_TRUE(a.ok());
  for (const CostTiling tiling : {CostTiling{64, 96}, CostTiling{7, 13}}) {
    DtwOptions options;
    options.cost_tiling = tiling;
    auto b = AlignDtw(g, t, options);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(CellsOf(*a), CellsOf(*b)) << tiling.rows << "x" << tiling.cols;
    EXPECT_NEAR(a->total_cost, b->total_cost, 1e-6 * a->path.size());
  }
}

TEST(DtwTest, AutoSwitchesToLinearAboveTheLimit) {
  const FloatMatrix g = RandomUnitRows(120, 32, 13), t = RandomUnitRows(90, 32, 14);
  DtwOptions small_limit;
  small_limit.full_cost_limit_bytes = 1000;  // forces kLinear
  small_limit.linear_block_rows = 16;
  auto a = AlignDtw(g, t);
  auto b = AlignDtw(g, t, small_limit);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(CellsOf(*a), CellsOf(*b));
  EXPECT_EQ(a->total_cost, b->total_cost);
}

TEST(DtwTest, EmbeddingsAndPrecomputedCostAgree) {
  const FloatMatrix g = RandomUnitRows(40, 64, 15), t = RandomUnitRows(55, 64, 16);
  auto cost = CosineCostMatrix(g, t);
  ASSERT_TRUE(cost.ok());
  auto a = AlignDtw(g, t);
  auto b = AlignDtwFromCost(*cost);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(CellsOf(*a), CellsOf(*b));
  EXPECT_EQ(a->total_cost, b->total_cost);
  const Reference r = ReferenceDtw(*cost, false, false);
  EXPECT_EQ(CellsOf(*a), r.path);
  ExpectWellFormed(*a, *cost, false, false);
}

TEST(DtwTest, OpenBeginAndEndSkipUnrelatedTraineeClips) {
  // Trainee: 3 unrelated clips, the procedure, then 2 unrelated clips.
  const FloatMatrix gold = OneHotSequence({0, 0, 1, 1, 2, 2}, 4);
  const FloatMatrix trainee = OneHotSequence({3, 3, 3, 0, 0, 1, 1, 2, 2, 3, 3}, 4);
  DtwOptions opt;
  opt.open_begin = true;
  opt.open_end = true;
  auto a = AlignDtw(gold, trainee, opt);
  ASSERT_TRUE(a.ok());
  // Trainee 7 and 8 are both s3, so ending at 7 costs 0 too: the earliest
  // equal end wins.
  EXPECT_EQ(CellsOf(*a), (Cells{{0, 3}, {1, 4}, {2, 5}, {3, 6}, {4, 7}, {5, 7}}));
  EXPECT_EQ(a->total_cost, 0.0);

  opt.open_end = false;  // must now end at trainee 10, paying for 2 clips
  auto b = AlignDtw(gold, trainee, opt);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->path.front().trainee, 3);
  EXPECT_EQ(b->path.back().trainee, 10);
  EXPECT_DOUBLE_EQ(b->total_cost, 2.0);

  opt.open_begin = false;  // closed: the leading clips cost too
  auto c = AlignDtw(gold, trainee, opt);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->path.front().trainee, 0);
  EXPECT_DOUBLE_EQ(c->total_cost, 5.0);
}

TEST(DtwTest, OpenEndTakesTheEarliestOfEqualEnds) {
  // Gold s1; trainee s1,s1: D[1][1] = D[1][2] = 0.
  auto a = AlignDtw(OneHotSequence({0}, 2), OneHotSequence({0, 0}, 2), {false, true});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(CellsOf(*a), (Cells{{0, 0}}));
}

TEST(DtwTest, NoClipCountLimit) {
  const FloatMatrix g = RandomUnitRows(2001, 8, 17), t = RandomUnitRows(2500, 8, 18);
  auto a = AlignDtw(g, t);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->path.front().gold, 0);
  EXPECT_EQ(a->path.back().gold, 2000);
  EXPECT_EQ(a->path.back().trainee, 2499);
}

TEST(DtwTest, RejectsBadInput) {
  const FloatMatrix ok = RandomUnitRows(3, 4, 19);
  EXPECT_EQ(AlignDtw(FloatMatrix(), ok).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(AlignDtw(ok, FloatMatrix()).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(AlignDtw(ok, RandomUnitRows(3, 5, 20)).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(AlignDtwFromCost(FloatMatrix()).status().code(), Status::Code::kInvalidArgument);
  FloatMatrix nan(2, 2);
  nan.at(0, 1) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(AlignDtwFromCost(nan).status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace sopilot
