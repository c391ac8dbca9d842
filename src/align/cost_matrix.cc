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

}  // namespace

Result<CosineCost> CosineCost::Create(const FloatMatrix& gold, const FloatMatrix& trainee) {
  bool gold_unit = false, trainee_unit = false;
  SOPILOT_RETURN_IF_ERROR(InspectSide(gold, "gold", &gold_unit));
  SOPILOT_RETURN_IF_ERROR(InspectSide(trainee, "trainee", &trainee_unit));
  if (gold.cols != trainee.cols) {
    return Status::InvalidArgument("embedding widths differ: gold has " + std::to_string(gold.cols) +
                                   " dims, trainee has " + std::to_string(trainee.cols));
  }
  CosineCost cost;
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

void CosineCost::Sgemm(int i0, int i1, int j0, int j1, float* out, bool out_is_ones) const {
  const FloatMatrix& g = gold();
  const FloatMatrix& t = trainee();
  const int rows = i1 - i0, cols = j1 - j0, d = g.cols;
  // C starts at 1 and sgemm adds -G·Tᵀ (beta = 1): 1 - g·t in one pass.
  if (!out_is_ones) std::fill(out, out + static_cast<size_t>(rows) * cols, 1.0f);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, cols, d,
              -1.0f, g.row(i0), d, t.row(j0), d, 1.0f, out, cols);
}

namespace {

// Above 100³ with a margin; see ComputeTile in the header.
constexpr double kSmallProduct = double{1 << 20};

bool TakesSmallPath(int rows, int cols, int d) {
  return static_cast<double>(rows) * cols * d <= kSmallProduct || rows < 2 || cols < 2;
}

}  // namespace

void CosineCost::ComputeTile(int i0, int i1, int j0, int j1, float* out) const {
  const int m = gold_clips(), n = trainee_clips(), d = dims();
  const bool whole = i0 == 0 && i1 == m && j0 == 0 && j1 == n;
  if (whole || !TakesSmallPath(i1 - i0, j1 - j0, d)) {
    Sgemm(i0, i1, j0, j1, out);
    return;
  }
  // Whole rows, enough of them to leave the small path, or all of them
  // (then it is ComputeAll's own call).
  const double per_row = static_cast<double>(n) * d;
  const int wanted = std::max({i1 - i0, 2, static_cast<int>(kSmallProduct / per_row) + 1});
  const int rows = std::min(m, wanted);
  const int r1 = std::min(m, i0 + rows);
  const int r0 = r1 - rows;
  std::vector<float> block(static_cast<size_t>(rows) * n);
  Sgemm(r0, r1, 0, n, block.data());
  const int cols = j1 - j0;
  for (int i = i0; i < i1; ++i) {
    const float* src = block.data() + static_cast<size_t>(i - r0) * n + j0;
    std::copy(src, src + cols, out + static_cast<size_t>(i - i0) * cols);
  }
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
  Sgemm(0, c.rows, 0, c.cols, c.data.data(), /*out_is_ones=*/true);
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
