// Cosine cost between gold and trainee clip embeddings: C = 1 - G·Tᵀ.
//
// Rows are compared as unit vectors. Rows that are already unit length
// (|‖r‖² - 1| <= 1e-5) or zero are used as given, without a copy; otherwise
// the whole side is copied and normalised with NormalizeRows, which leaves
// zero rows at zero (so a zero row costs 1 against everything, as in the
// Python original). C lies in [0, 2] up to float rounding; it is not clamped.
//
// All products come from cblas_sgemm (float32), each element being
// fl(1 - g·t), the original's `1.0 - g @ t.T` in float32.
//
// Bit-identity. The matrix is cut into a fixed grid of tiles (CostTiling) and
// every element, whether it comes from ComputeAll() or ComputeTile(), is
// produced by the one sgemm of the grid tile that holds it: the same call
// shape (rows, columns, dims, strides of G and T) over the same rows of G and
// T. So the full-memory and linear-memory DTW see bit-identical costs whatever
// kernels OpenBLAS picks (OPENBLAS_CORETYPE=Haswell, Prescott, ... or the
// machine's own). That is the only reason for the grid: one sgemm over some
// other rectangle would not do, because OpenBLAS's x86 kernels round an
// element differently depending on where it falls in their register blocking
// (the M and N unroll remainders, the threads' partition of the product, the
// SkylakeX small-matrix path for small products). Which rectangles agree
// with which is a property of the kernel, so nothing but the identical call
// is safe on every core.
//
// What is not promised: that two grids give the same bits (they agree to
// a few 1e-7, the float rounding of the 904-term dot products), or that the
// bits survive a change of OpenBLAS core type or thread count
// (openblas_set_num_threads) between the two computations.
#pragma once

#include <optional>

#include "base/matrix.h"
#include "base/status.h"

namespace sopilot {

// The grid the cost is computed on: tiles of rows × cols (gold × trainee
// clips), the last row and column of tiles cut short by the matrix edge.
// 0 picks the default: columns split evenly into tiles of at most 1024, rows
// by about 16 MB of cost per row of tiles (a multiple of 32 rows, at least
// 128), both capped at the matrix. Against one sgemm per row of tiles,
// 1024-column tiles are ~2% slower at 2000² and ~9% on 288 × 14,400; the
// linear-memory DTW also recomputes every tile its path crosses, ~8.5% of a
// 14,400² matrix. Wider tiles trade the first cost for the second; narrower
// ones the reverse; 1024 is near the best sum. The default is what
// production uses; tests pick small grids so that a small matrix still has
// many tiles.
struct CostTiling {
  int rows = 0;
  int cols = 0;
};

// The cosine cost of one gold/trainee pair of sequences, computed on demand:
// all at once, or tile by tile for the linear-memory DTW (so the m×n matrix
// never has to exist).
class CosineCost {
 public:
  // Fails with InvalidArgument if either side is empty (no rows or no
  // columns), malformed (data.size() != rows*cols), holds a non-finite value,
  // or if the widths differ, or tiling has a negative size. When a side's
  // rows are already unit the object borrows it: the caller's matrix must
  // then outlive the CosineCost.
  static Result<CosineCost> Create(const FloatMatrix& gold, const FloatMatrix& trainee,
                                   CostTiling tiling = {});

  CosineCost(CosineCost&&) = default;
  CosineCost& operator=(CosineCost&&) = default;
  CosineCost(const CosineCost&) = delete;
  CosineCost& operator=(const CosineCost&) = delete;

  int gold_clips() const { return gold().rows; }
  int trainee_clips() const { return trainee().rows; }
  int dims() const { return gold().cols; }

  // The grid (see CostTiling): tile (a, b) covers gold clips
  // [a·tile_rows(), (a+1)·tile_rows()) and trainee clips
  // [b·tile_cols(), (b+1)·tile_cols()), clipped to the matrix.
  int tile_rows() const { return tile_rows_; }
  int tile_cols() const { return tile_cols_; }

  // Writes C[i][j] for i in [i0, i1), j in [j0, j1) to out, row-major with row
  // stride j1 - j0. Requires 0 <= i0 < i1 <= gold_clips() and
  // 0 <= j0 < j1 <= trainee_clips().
  //
  // Each element comes out bit-identical to ComputeAll()'s, whatever the
  // rectangle (see the top of this file): every grid tile it overlaps is
  // computed with its own sgemm, straight into out when the rectangle holds
  // the whole tile, otherwise into a scratch tile whose overlap is copied
  // out. Rectangles made of whole tiles (a row of tiles, one tile) cost no
  // more sgemm than their own size; others cost the tiles they touch.
  void ComputeTile(int i0, int i1, int j0, int j1, float* out) const;

  // The whole gold_clips() × trainee_clips() matrix, one sgemm per grid tile.
  // Fails only if the memory cannot be allocated.
  Result<FloatMatrix> ComputeAll() const;

 private:
  CosineCost() = default;
  // Every grid tile overlapping [i0, i1) × [j0, j1), into out (row stride
  // j1 - j0); out already holds ones when out_is_ones.
  void ComputeTiles(int i0, int i1, int j0, int j1, float* out, bool out_is_ones) const;
  // The one sgemm behind every value: C for the grid tile [r0, r1) × [c0, c1)
  // into out with row stride ld, filling it with ones first unless it is.
  void SgemmTile(int r0, int r1, int c0, int c1, float* out, size_t ld, bool out_is_ones) const;
  const FloatMatrix& gold() const { return gold_copy_ ? *gold_copy_ : *gold_; }
  const FloatMatrix& trainee() const { return trainee_copy_ ? *trainee_copy_ : *trainee_; }

  const FloatMatrix* gold_ = nullptr;  // borrowed when already unit
  const FloatMatrix* trainee_ = nullptr;
  std::optional<FloatMatrix> gold_copy_;  // normalised copies otherwise
  std::optional<FloatMatrix> trainee_copy_;
  int tile_rows_ = 0;
  int tile_cols_ = 0;
};

// CosineCost::Create(gold, trainee) then ComputeAll(): the full m×n cost.
Result<FloatMatrix> CosineCostMatrix(const FloatMatrix& gold, const FloatMatrix& trainee);

// Checks a precomputed cost matrix for the aligners: non-empty, well-formed,
// every value finite. `what` names it in the message.
Status CheckCostMatrix(const FloatMatrix& cost, const char* what = "cost matrix");

}  // namespace sopilot
