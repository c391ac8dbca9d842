#include "align/cost_matrix.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <vector>

namespace sopilot {

namespace {

// Unit rows are reused as they are; normalising them again would only move
// the last bit, and skipping the copy saves memory on long videos.
constexpr double kUnitTolerance = 1e-5;

// Validates one side and reports whether every row is unit or zero.
Status InspectSide(const FloatMatrix& m, const char* name, bool* all_unit) {
  if (m.rows <= 0 || m.cols <= 0) {
    return Status::InvalidArgument(std::string(name) + " embeddings are empty (" +
                                   std::to_string(m.rows) + "x" + std::to_string(m.cols) + ")");
  }
  if (m.data.size() != static_cast<size_t>(m.rows) * m.cols) {
    return Status::InvalidArgument(std::string(name) + " embeddings are malformed: " +
                                   std::to_string(m.data.size()) + " values for " +
                                   std::to_string(m.rows) + "x" + std::to_string(m.cols));
  }
  *all_unit = true;
  for (int i = 0; i < m.rows; ++i) {
    // Float accumulation (BLAS-fast) is ample for a 1e-5 tolerance; an inf
    // or NaN anywhere in the row makes the sum non-finite.
    const double ss = cblas_sdot(m.cols, m.row(i), 1, m.row(i), 1);
    if (!std::isfinite(ss)) {
      return Status::InvalidArgument(std::string(name) + " embedding row " + std::to_string(i) +
                                     " has a non-finite value");
    }
    // NormalizeRows leaves rows with norm <= 1e-12 alone, so they count as done.
    if (ss > 1e-24 && std::fabs(ss - 1.0) > kUnitTolerance) *all_unit = false;
  }
  return Status::Ok();
}

// The default grid; see CostTiling.
constexpr int kMaxTileCols = 1024;
constexpr size_t kRowOfTilesBytes = size_t{16} << 20;
constexpr int kTileRowsMultiple = 32;
constexpr int kMinTileRows = 128;

int DefaultTileCols(int n) {
  // Even tiles rather than full ones and a sliver: each tile keeps OpenBLAS
  // efficient (see CostTiling for what the width costs).
  const int tiles = (n + kMaxTileCols - 1) / kMaxTileCols;
  return (n + tiles - 1) / tiles;
}

int DefaultTileRows(int m, int n) {
  const size_t fit = kRowOfTilesBytes / (sizeof(float) * static_cast<size_t>(n));
  const size_t rows = std::max<size_t>(kMinTileRows, fit / kTileRowsMultiple * kTileRowsMultiple);
  return static_cast<int>(std::min<size_t>(rows, static_cast<size_t>(m)));
}

}  // namespace

Result<CosineCost> CosineCost::Create(const FloatMatrix& gold, const FloatMatrix& trainee,
                                      CostTiling tiling) {
  bool gold_unit = false, trainee_unit = false;
  SOPILOT_RETURN_IF_ERROR(InspectSide(gold, "gold", &gold_unit));
  SOPILOT_RETURN_IF_ERROR(InspectSide(trainee, "trainee", &trainee_unit));
  if (gold.cols != trainee.cols) {
    return Status::InvalidArgument("embedding widths differ: gold has " + std::to_string(gold.cols) +
                                   " dims, trainee has " + std::to_string(trainee.cols));
  }
  if (tiling.rows < 0 || tiling.cols < 0) {
    return Status::InvalidArgument("cost tiles must not have a negative size (" +
                                   std::to_string(tiling.rows) + "x" +
                                   std::to_string(tiling.cols) + ")");
  }
  CosineCost cost;
  const int m = gold.rows, n = trainee.rows;
  cost.tile_rows_ = tiling.rows > 0 ? std::min(tiling.rows, m) : DefaultTileRows(m, n);
  cost.tile_cols_ = tiling.cols > 0 ? std::min(tiling.cols, n) : DefaultTileCols(n);
  try {
    if (gold_unit) {
      cost.gold_ = &gold;
    } else {
      cost.gold_copy_ = gold;
      NormalizeRows(&*cost.gold_copy_);
    }
    if (trainee_unit) {
      cost.trainee_ = &trainee;
    } else {
      cost.trainee_copy_ = trainee;
      NormalizeRows(&*cost.trainee_copy_);
    }
  } catch (const std::bad_alloc&) {
    return Status::Internal("out of memory normalising embeddings");
  }
  return cost;
}

void CosineCost::SgemmTile(int r0, int r1, int c0, int c1, float* out, size_t ld,
                           bool out_is_ones) const {
  const FloatMatrix& g = gold();
  const FloatMatrix& t = trainee();
  const int rows = r1 - r0, cols = c1 - c0, d = g.cols;
  // C starts at 1 and sgemm adds -G·Tᵀ (beta = 1): 1 - g·t in one pass.
  if (!out_is_ones) {
    for (int r = 0; r < rows; ++r) std::fill_n(out + r * ld, cols, 1.0f);
  }
  // Only the shape and the rows of G and T may vary from tile to tile: ld
  // (and where out lies) does not change the arithmetic, so a tile computed
  // into the full matrix and into a scratch buffer agree.
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, cols, d, -1.0f, g.row(r0), d,
              t.row(c0), d, 1.0f, out, static_cast<int>(ld));
}

void CosineCost::ComputeTiles(int i0, int i1, int j0, int j1, float* out,
                              bool out_is_ones) const {
  const int m = gold_clips(), n = trainee_clips();
  const size_t ld = static_cast<size_t>(j1 - j0);
  std::vector<float> scratch;  // for tiles that stick out of the rectangle
  for (int r0 = i0 / tile_rows_ * tile_rows_; r0 < i1; r0 += tile_rows_) {
    const int r1 = std::min(m, r0 + tile_rows_);
    for (int c0 = j0 / tile_cols_ * tile_cols_; c0 < j1; c0 += tile_cols_) {
      const int c1 = std::min(n, c0 + tile_cols_);
      if (r0 >= i0 && r1 <= i1 && c0 >= j0 && c1 <= j1) {
        SgemmTile(r0, r1, c0, c1, out + static_cast<size_t>(r0 - i0) * ld + (c0 - j0), ld,
                  out_is_ones);
        continue;
      }
      const size_t width = static_cast<size_t>(c1 - c0);
      scratch.resize(static_cast<size_t>(r1 - r0) * width);
      SgemmTile(r0, r1, c0, c1, scratch.data(), width, /*out_is_ones=*/false);
      const int a0 = std::max(r0, i0), a1 = std::min(r1, i1);
      const int b0 = std::max(c0, j0), b1 = std::min(c1, j1);
      for (int i = a0; i < a1; ++i) {
        const float* src = scratch.data() + static_cast<size_t>(i - r0) * width + (b0 - c0);
        std::copy(src, src + (b1 - b0), out + static_cast<size_t>(i - i0) * ld + (b0 - j0));
      }
    }
  }
}

void CosineCost::ComputeTile(int i0, int i1, int j0, int j1, float* out) const {
  ComputeTiles(i0, i1, j0, j1, out, /*out_is_ones=*/false);
}

Result<FloatMatrix> CosineCost::ComputeAll() const {
  FloatMatrix c;
  c.rows = gold_clips();
  c.cols = trainee_clips();
  try {
    // Straight to ones: one pass over fresh memory, not zeros then ones.
    c.data.assign(static_cast<size_t>(c.rows) * c.cols, 1.0f);
  } catch (const std::bad_alloc&) {
    return Status::Internal("out of memory for a " + std::to_string(gold_clips()) + "x" +
                            std::to_string(trainee_clips()) + " cost matrix");
  }
  ComputeTiles(0, c.rows, 0, c.cols, c.data.data(), /*out_is_ones=*/true);
  return c;
}

Result<FloatMatrix> CosineCostMatrix(const FloatMatrix& gold, const FloatMatrix& trainee) {
  SOPILOT_ASSIGN_OR_RETURN(CosineCost cost, CosineCost::Create(gold, trainee));
  return cost.ComputeAll();
}

Status CheckCostMatrix(const FloatMatrix& cost, const char* what) {
  if (cost.rows <= 0 || cost.cols <= 0) {
    return Status::InvalidArgument(std::string(what) + " is empty (" + std::to_string(cost.rows) +
                                   "x" + std::to_string(cost.cols) + ")");
  }
  if (cost.data.size() != static_cast<size_t>(cost.rows) * cost.cols) {
    return Status::InvalidArgument(std::string(what) + " is malformed: " +
                                   std::to_string(cost.data.size()) + " values for " +
                                   std::to_string(cost.rows) + "x" + std::to_string(cost.cols));
  }
  // Branch-free scan first (all-ones exponent = inf or NaN); find the
  // offender only if there is one.
  unsigned non_finite = 0;
  for (float v : cost.data) {
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    non_finite |= (bits & 0x7f800000u) == 0x7f800000u;
  }
  if (!non_finite) return Status::Ok();
  for (size_t k = 0; k < cost.data.size(); ++k) {
    if (!std::isfinite(cost.data[k])) {
      return Status::InvalidArgument(std::string(what) + " has a non-finite value at (" +
                                     std::to_string(k / cost.cols) + "," +
                                     std::to_string(k % cost.cols) + ")");
    }
  }
  return Status::Ok();
}

}  // namespace sopilot
