#include "align/cost_matrix.h"

#include <cmath>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "align/align_test_util.h"

namespace sopilot {
namespace {

using align_test::RandomUnitRows;

// Rows with arbitrary norms, so the cost has to normalise copies.
FloatMatrix RandomRows(int rows, int cols, unsigned seed) {
  FloatMatrix m = RandomUnitRows(rows, cols, seed);
  for (int i = 0; i < rows; ++i)
    for (int k = 0; k < cols; ++k) m.at(i, k) *= 0.5f + static_cast<float>(i % 7);
  return m;
}

// 1 - cos in double, the slow obvious way.
double NaiveCost(const FloatMatrix& g, int i, const FloatMatrix& t, int j) {
  double gg = 0, tt = 0, gt = 0;
  for (int k = 0; k < g.cols; ++k) {
    gg += double(g.at(i, k)) * g.at(i, k);
    tt += double(t.at(j, k)) * t.at(j, k);
    gt += double(g.at(i, k)) * t.at(j, k);
  }
  const double gn = std::sqrt(gg) > 1e-12 ? std::sqrt(gg) : 1.0;
  const double tn = std::sqrt(tt) > 1e-12 ? std::sqrt(tt) : 1.0;
  return 1.0 - gt / (gn * tn);
}

TEST(CostMatrixTest, EqualsNaiveDoubleLoop) {
  const FloatMatrix g = RandomRows(37, 904, 1), t = RandomRows(53, 904, 2);
  auto c = CosineCostMatrix(g, t);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->rows, 37);
  ASSERT_EQ(c->cols, 53);
  for (int i = 0; i < g.rows; ++i)
    for (int j = 0; j < t.rows; ++j)
      ASSERT_NEAR(c->at(i, j), NaiveCost(g, i, t, j), 2e-6) << i << "," << j;
}

TEST(CostMatrixTest, UnitRowsGiveTheSameCostAsUnnormalisedOnes) {
  const FloatMatrix g = RandomRows(20, 64, 3), t = RandomRows(30, 64, 4);
  FloatMatrix gu = g, tu = t;
  NormalizeRows(&gu);
  NormalizeRows(&tu);
  auto a = CosineCostMatrix(g, t);
  auto b = CosineCostMatrix(gu, tu);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->data, b->data);  // same normalisation, same sgemm
}

TEST(CostMatrixTest, OneHotCostsAreZeroAndOne) {
  const FloatMatrix g = align_test::OneHotSequence({0, 1, 2}, 3);
  const FloatMatrix t = align_test::OneHotSequence({2, 0}, 3);
  auto c = CosineCostMatrix(g, t);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->data, (std::vector<float>{1, 0, 1, 1, 0, 1}));
}

TEST(CostMatrixTest, ZeroRowCostsOne) {
  FloatMatrix g = RandomRows(3, 8, 5);
  for (int k = 0; k < 8; ++k) g.at(1, k) = 0.f;
  const FloatMatrix t = RandomRows(4, 8, 6);
  auto c = CosineCostMatrix(g, t);
  ASSERT_TRUE(c.ok());
  for (int j = 0; j < 4; ++j) EXPECT_EQ(c->at(1, j), 1.0f);
}

// The linear-memory DTW relies on tiles being bit-identical to the full
// matrix: the DP must see the same costs in both modes. That has to hold
// whatever kernels OpenBLAS picks, so run this under OPENBLAS_CORETYPE=Haswell,
// Sandybridge, Prescott too: their kernels round an element differently
// depending on where it falls in the product, which a naive tile gets wrong.
TEST(CostMatrixTest, TilesAreBitIdenticalToTheFullMatrix) {
  const FloatMatrix g = RandomUnitRows(300, 904, 7), t = RandomUnitRows(200, 904, 8);
  struct Tile { int i0, i1, j0, j1; };
  auto check = [&](CostTiling tiling, std::initializer_list<Tile> tiles) {
    SCOPED_TRACE(testing::Message() << "tiling " << tiling.rows << "x" << tiling.cols);
    auto cost = CosineCost::Create(g, t, tiling);
    ASSERT_TRUE(cost.ok());
    auto full = cost->ComputeAll();
    ASSERT_TRUE(full.ok());
    for (const Tile& tile : tiles) {
      const int w = tile.j1 - tile.j0;
      std::vector<float> out(static_cast<size_t>(tile.i1 - tile.i0) * w, -5.f);
      cost->ComputeTile(tile.i0, tile.i1, tile.j0, tile.j1, out.data());
      for (int i = tile.i0; i < tile.i1; ++i)
        for (int j = tile.j0; j < tile.j1; ++j) {
          const float a = out[static_cast<size_t>(i - tile.i0) * w + (j - tile.j0)];
          const float b = full->at(i, j);
          ASSERT_EQ(std::memcmp(&a, &b, sizeof a), 0)
              << "tile [" << tile.i0 << "," << tile.i1 << ")x[" << tile.j0 << "," << tile.j1
              << ") at " << i << "," << j << ": " << a << " vs " << b;
        }
    }
  };
  // The default grid is one tile here: every rectangle is that tile, copied
  // out (each costs a whole sgemm, so only a few; valgrind is slow).
  check({}, {Tile{0, 300, 0, 200}, Tile{150, 151, 0, 200}, Tile{3, 4, 17, 20}});
  // Grids of many ragged tiles; the last ends in a 1-row and a 1-column tile
  // (OpenBLAS treats M or N = 1 apart).
  for (const CostTiling tiling : {CostTiling{64, 96}, CostTiling{7, 13}, CostTiling{13, 199}}) {
    check(tiling, {Tile{0, 7, 0, 200}, Tile{7, 70, 0, 200}, Tile{150, 151, 0, 200},
                   Tile{290, 300, 5, 6}, Tile{3, 4, 17, 20}, Tile{10, 40, 30, 90},
                   Tile{299, 300, 199, 200}, Tile{0, 64, 0, 200}, Tile{64, 128, 96, 192},
                   Tile{60, 130, 90, 200}, Tile{100, 117, 150, 200}, Tile{256, 300, 192, 200}});
  }
}

// Different grids are different sgemm calls: equal only to float rounding.
TEST(CostMatrixTest, GridsAgreeToFloatRounding) {
  const FloatMatrix g = RandomUnitRows(300, 904, 7), t = RandomUnitRows(200, 904, 8);
  auto reference = CosineCostMatrix(g, t);
  ASSERT_TRUE(reference.ok());
  for (const CostTiling tiling : {CostTiling{64, 96}, CostTiling{7, 13}}) {
    auto cost = CosineCost::Create(g, t, tiling);
    ASSERT_TRUE(cost.ok());
    auto c = cost->ComputeAll();
    ASSERT_TRUE(c.ok());
    for (size_t k = 0; k < c->data.size(); ++k)
      ASSERT_NEAR(c->data[k], reference->data[k], 1e-6) << tiling.rows << "x" << tiling.cols;
  }
}

TEST(CostMatrixTest, DefaultGrid) {
  // Columns in even tiles of at most 1024; rows by ~16 MB per row of tiles,
  // a multiple of 32 and at least 128, capped at the matrix.
  const FloatMatrix narrow = RandomUnitRows(2000, 8, 1);
  auto a = CosineCost::Create(narrow, narrow);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->tile_rows(), 2000);
  EXPECT_EQ(a->tile_cols(), 1000);
  const FloatMatrix wide = RandomUnitRows(14400, 8, 2);
  auto b = CosineCost::Create(narrow, wide);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->tile_rows(), 288);
  EXPECT_EQ(b->tile_cols(), 960);
  auto c = CosineCost::Create(RandomUnitRows(5, 8, 3), RandomUnitRows(7, 8, 4));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->tile_rows(), 5);
  EXPECT_EQ(c->tile_cols(), 7);
  auto d = CosineCost::Create(narrow, wide, CostTiling{5000, 100});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->tile_rows(), 2000);  // capped at the matrix
  EXPECT_EQ(d->tile_cols(), 100);
  EXPECT_EQ(CosineCost::Create(narrow, wide, CostTiling{-1, 0}).status().code(),
            Status::Code::kInvalidArgument);
}

TEST(CostMatrixTest, RejectsBadInput) {
  const FloatMatrix ok = RandomRows(4, 8, 9);
  const FloatMatrix empty;
  EXPECT_EQ(CosineCostMatrix(empty, ok).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(CosineCostMatrix(ok, empty).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(CosineCostMatrix(FloatMatrix(3, 0), FloatMatrix(3, 0)).status().code(),
            Status::Code::kInvalidArgument);

  auto mismatch = CosineCostMatrix(ok, RandomRows(4, 9, 10));
  EXPECT_EQ(mismatch.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(mismatch.status().message().find("widths differ"), std::string::npos)
      << mismatch.status().ToString();

  FloatMatrix malformed = ok;
  malformed.data.pop_back();
  EXPECT_EQ(CosineCostMatrix(ok, malformed).status().code(), Status::Code::kInvalidArgument);

  FloatMatrix nan = ok;
  nan.at(2, 3) = std::numeric_limits<float>::quiet_NaN();
  auto r = CosineCostMatrix(nan, ok);
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("row 2"), std::string::npos) << r.status().ToString();
}

TEST(CostMatrixTest, CheckCostMatrix) {
  EXPECT_TRUE(CheckCostMatrix(FloatMatrix(2, 3)).ok());
  EXPECT_FALSE(CheckCostMatrix(FloatMatrix()).ok());
  FloatMatrix inf(2, 3);
  inf.at(1, 2) = std::numeric_limits<float>::infinity();
  EXPECT_FALSE(CheckCostMatrix(inf).ok());
  FloatMatrix malformed(2, 3);
  malformed.cols = 4;
  EXPECT_FALSE(CheckCostMatrix(malformed).ok());
}

}  // namespace
}  // namespace sopilot
