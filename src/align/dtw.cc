#include "align/dtw.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "align/cost_matrix.h"

namespace sopilot {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Traceback moves, 2 bits per cell. The numeric order is the tie order.
enum Move : unsigned { kDiag = 0, kUp = 1, kLeft = 2 };

// Linear mode computes the cost in blocks of about this many bytes.
constexpr size_t kCostBlockBytes = size_t{16} << 20;

// The move into every DP cell (i, j), 1 <= i <= m, 1 <= j <= n, packed four
// cells per byte: m·n/4 bytes, the only O(m·n) memory of the linear mode.
class Traceback {
 public:
  Traceback(int m, int n)
      : stride_((static_cast<size_t>(n) + 3) / 4), bits_(static_cast<size_t>(m) * stride_, 0) {}
  uint8_t* row(int i) { return bits_.data() + static_cast<size_t>(i - 1) * stride_; }
  unsigned at(int i, int j) const {
    const size_t k = static_cast<size_t>(j - 1);
    return (bits_[static_cast<size_t>(i - 1) * stride_ + k / 4] >> (2 * (k % 4))) & 3u;
  }

 private:
  size_t stride_;
  std::vector<uint8_t> bits_;
};

// One DP row: cur[1..n] from prev[0..n] (row i-1) and cost[0..n-1] (gold clip
// i-1), and the packed moves into those cells.
void DtwRow(const double* prev, const float* cost, int n, double* cur, uint8_t* moves) {
  // The recurrence is serial along the row only through `left`; the min of
  // diagonal and up does not depend on it, so the loop-carried chain is one
  // min and one add. Moves are found afterwards, from the finished rows.
  double left = kInf;  // D[i][0]
  cur[0] = kInf;
  for (int j = 1; j <= n; ++j) {
    const double diag = prev[j - 1], up = prev[j];
    const double best = diag <= up ? diag : up;
    left = static_cast<double>(cost[j - 1]) + (best <= left ? best : left);
    cur[j] = left;
  }
  // Move = 0 if diag is a minimum, else 1 if up is, else 2: the original's
  // exact-equality order. Branch-free: (not diag) * (1 + not up).
  for (int q = 0; 4 * q < n; ++q) {
    unsigned byte = 0;
    const int jend = std::min(n, 4 * q + 4);
    for (int j = 4 * q + 1; j <= jend; ++j) {
      const double diag = prev[j - 1], up = prev[j], lft = cur[j - 1];
      const unsigned not_diag = !((diag <= up) & (diag <= lft));
      const unsigned not_up = !(up <= lft);
      byte |= (not_diag * (1u + not_up)) << (2 * (j - 1 - 4 * q));
    }
    moves[q] = static_cast<uint8_t>(byte);
  }
}

struct DpResult {
  std::vector<std::pair<int, int>> cells;  // (gold, trainee), first cell first
  double total_cost = 0.0;
};

// Runs the DP over gold rows 1..m; cost_row(i) returns the costs of gold clip
// i (n floats), valid until the next call. Rows are requested in order.
template <typename CostRow>
Result<DpResult> RunDtw(int m, int n, const DtwOptions& options, CostRow&& cost_row) {
  std::vector<double> prev, cur;
  Traceback moves(0, 0);
  try {
    prev.assign(static_cast<size_t>(n) + 1, kInf);
    cur.assign(static_cast<size_t>(n) + 1, kInf);
    moves = Traceback(m, n);
  } catch (const std::bad_alloc&) {
    return Status::Internal("out of memory for a " + std::to_string(m) + "x" + std::to_string(n) +
                            " DTW traceback");
  }
  if (options.open_begin) {
    std::fill(prev.begin(), prev.end(), 0.0);
  } else {
    prev[0] = 0.0;
  }
  for (int i = 1; i <= m; ++i) {
    DtwRow(prev.data(), cost_row(i - 1), n, cur.data(), moves.row(i));
    prev.swap(cur);
  }
  // prev now holds D[m][*].
  int j = n;
  if (options.open_end) {
    j = 1;  // strict < keeps the smallest j among equal minima
    for (int k = 2; k <= n; ++k) {
      if (prev[k] < prev[j]) j = k;
    }
  }
  DpResult out;
  out.total_cost = prev[j];
  int i = m;
  out.cells.reserve(static_cast<size_t>(m) + n);
  while (i > 0) {
    if (j <= 0) return Status::Internal("DTW traceback left the grid");
    out.cells.emplace_back(i - 1, j - 1);
    switch (moves.at(i, j)) {
      case kDiag: --i; --j; break;
      case kUp: --i; break;
      default: --j; break;
    }
  }
  // Without open_begin the only finite way into row 0 is D[0][0].
  if (!options.open_begin && j != 0) return Status::Internal("DTW traceback missed (0,0)");
  std::reverse(out.cells.begin(), out.cells.end());
  return out;
}

Alignment MakeAlignment(const DpResult& dp) {
  Alignment a;
  a.total_cost = dp.total_cost;
  a.mean_cost = dp.total_cost / static_cast<double>(dp.cells.size());
  a.path.reserve(dp.cells.size());
  for (const auto& [g, t] : dp.cells) a.path.push_back(AlignedPair{g, t, 0.f});
  return a;
}

void FillSimilarity(const FloatMatrix& cost, Alignment* a) {
  for (AlignedPair& p : a->path) p.similarity = 1.0f - cost.at(p.gold, p.trainee);
}

// Linear mode: the cost in blocks of rows, then the path cells' costs again.
Result<Alignment> AlignDtwLinear(const CosineCost& cost, const DtwOptions& options) {
  const int m = cost.gold_clips(), n = cost.trainee_clips();
  const size_t auto_rows = kCostBlockBytes / (sizeof(float) * static_cast<size_t>(n));
  const int block_rows = static_cast<int>(std::clamp<size_t>(
      options.linear_block_rows > 0 ? static_cast<size_t>(options.linear_block_rows) : auto_rows,
      1, static_cast<size_t>(m)));
  std::vector<float> block;
  try {
    block.resize(static_cast<size_t>(block_rows) * n);
  } catch (const std::bad_alloc&) {
    return Status::Internal("out of memory for a DTW cost block");
  }
  int block_begin = 0, block_end = 0;
  auto cost_row = [&](int i) -> const float* {
    if (i >= block_end) {
      block_begin = i;
      block_end = std::min(m, i + block_rows);
      cost.ComputeTile(block_begin, block_end, 0, n, block.data());
    }
    return block.data() + static_cast<size_t>(i - block_begin) * n;
  };
  SOPILOT_ASSIGN_OR_RETURN(DpResult dp, RunDtw(m, n, options, cost_row));
  Alignment a = MakeAlignment(dp);

  // The path cells of up to block_rows gold rows span a monotone band of
  // columns; one tile per band costs about one block of sgemm in all.
  size_t k = 0;
  while (k < a.path.size()) {
    const int i0 = a.path[k].gold;
    const int j0 = a.path[k].trainee;
    size_t end = k;
    while (end < a.path.size() && a.path[end].gold < i0 + block_rows &&
           static_cast<size_t>(a.path[end].trainee - j0 + 1) * (a.path[end].gold - i0 + 1) <=
               block.size()) {
      ++end;
    }
    const int i1 = a.path[end - 1].gold + 1;
    const int j1 = a.path[end - 1].trainee + 1;
    cost.ComputeTile(i0, i1, j0, j1, block.data());
    for (size_t q = k; q < end; ++q) {
      const float c = block[static_cast<size_t>(a.path[q].gold - i0) * (j1 - j0) +
                            (a.path[q].trainee - j0)];
      a.path[q].similarity = 1.0f - c;
    }
    k = end;
  }
  return a;
}

}  // namespace

Result<Alignment> AlignDtwFromCost(const FloatMatrix& cost, const DtwOptions& options) {
  SOPILOT_RETURN_IF_ERROR(CheckCostMatrix(cost));
  SOPILOT_ASSIGN_OR_RETURN(
      DpResult dp, RunDtw(cost.rows, cost.cols, options, [&](int i) { return cost.row(i); }));
  Alignment a = MakeAlignment(dp);
  FillSimilarity(cost, &a);
  return a;
}

Result<Alignment> AlignDtw(const FloatMatrix& gold, const FloatMatrix& trainee,
                           const DtwOptions& options) {
  SOPILOT_ASSIGN_OR_RETURN(CosineCost cost, CosineCost::Create(gold, trainee));
  bool full = true;
  switch (options.memory) {
    case DtwOptions::Memory::kFull: full = true; break;
    case DtwOptions::Memory::kLinear: full = false; break;
    case DtwOptions::Memory::kAuto:
      full = static_cast<size_t>(cost.gold_clips()) * cost.trainee_clips() * sizeof(float) <=
             options.full_cost_limit_bytes;
      break;
  }
  if (!full) return AlignDtwLinear(cost, options);
  SOPILOT_ASSIGN_OR_RETURN(FloatMatrix c, cost.ComputeAll());
  SOPILOT_ASSIGN_OR_RETURN(
      DpResult dp, RunDtw(c.rows, c.cols, options, [&](int i) { return c.row(i); }));
  Alignment a = MakeAlignment(dp);
  FillSimilarity(c, &a);
  return a;
}

}  // namespace sopilot
