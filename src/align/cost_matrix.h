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
#pragma once

#include <optional>

#include "base/matrix.h"
#include "base/status.h"

namespace sopilot {

// The cosine cost of one gold/trainee pair of sequences, computed on demand:
// all at once, or tile by tile for the linear-memory DTW (so the m×n matrix
// never has to exist).
class CosineCost {
 public:
  // Fails with InvalidArgument if either side is empty (no rows or no
  // columns), malformed (data.size() != rows*cols), holds a non-finite value,
  // or if the widths differ. When a side's rows are already unit the object
  // borrows it: the caller's matrix must then outlive the CosineCost.
  static Result<CosineCost> Create(const FloatMatrix& gold, const FloatMatrix& trainee);

  CosineCost(CosineCost&&) = default;
  CosineCost& operator=(CosineCost&&) = default;
  CosineCost(const CosineCost&) = delete;
  CosineCost& operator=(const CosineCost&) = delete;

  int gold_clips() const { return gold().rows; }
  int trainee_clips() const { return trainee().rows; }
  int dims() const { return gold().cols; }

  // Writes C[i][j] for i in [i0, i1), j in [j0, j1) to out, row-major with row
  // stride j1 - j0, with one sgemm. Requires 0 <= i0 < i1 <= gold_clips() and
  // 0 <= j0 < j1 <= trainee_clips().
  //
  // Each element comes out bit-identical to ComputeAll()'s, whatever the tile:
  // the linear-memory DTW depends on it. OpenBLAS sends tiny products
  // (M·N·K <= 100³ on AVX-512 in 0.3.21; M or N = 1 in later versions) to
  // kernels that round differently, so a tile that small is computed as part
  // of a larger block of whole rows (or the whole matrix) and copied out.
  void ComputeTile(int i0, int i1, int j0, int j1, float* out) const;

  // The whole gold_clips() × trainee_clips() matrix, with one sgemm. Fails
  // only if the memory cannot be allocated.
  Result<FloatMatrix> ComputeAll() const;

 private:
  CosineCost() = default;
  // The one sgemm behind every value; fills out with ones first unless it is.
  void Sgemm(int i0, int i1, int j0, int j1, float* out, bool out_is_ones = false) const;
  const FloatMatrix& gold() const { return gold_copy_ ? *gold_copy_ : *gold_; }
  const FloatMatrix& trainee() const { return trainee_copy_ ? *trainee_copy_ : *trainee_; }

  const FloatMatrix* gold_ = nullptr;  // borrowed when already unit
  const FloatMatrix* trainee_ = nullptr;
  std::optional<FloatMatrix> gold_copy_;  // normalised copies otherwise
  std::optional<FloatMatrix> trainee_copy_;
};

// CosineCost::Create(gold, trainee) then ComputeAll(): the full m×n cost.
Result<FloatMatrix> CosineCostMatrix(const FloatMatrix& gold, const FloatMatrix& trainee);

// Checks a precomputed cost matrix for the aligners: non-empty, well-formed,
// every value finite. `what` names it in the message.
Status CheckCostMatrix(const FloatMatrix& cost, const char* what = "cost matrix");

}  // namespace sopilot
