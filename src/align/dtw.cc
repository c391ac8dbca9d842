#include "align/dtw.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
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

// The DP for a band of R consecutive gold rows, as a wavefront: row r
// trails row r-1 by one column, so the R loop-carried chains (one min and one
// add each) are independent and overlap in the CPU instead of stalling.
// prev = D[i-1][0..n] for the band's first row i; cost = R rows of n floats
// with row stride `stride`; writes D[i+R-1][0..n] to last (not aliasing prev)
// and one move byte per cell to moves (R rows of n bytes).
template <int R>
void DtwBand(const double* prev, const float* cost, size_t stride, int n, double* last,
             uint8_t* moves) {
  double cur[R], old[R];  // D of each row at its latest column, and the one before
  for (int r = 0; r < R; ++r) cur[r] = old[r] = kInf;  // D[·][0] = +inf
  last[0] = kInf;
  // Rows are visited bottom-up within a step, so row r still sees row r-1's
  // values from the previous step: D[r-1][j] in cur, D[r-1][j-1] in old.
  auto cell = [&](int r, int j) __attribute__((always_inline)) {
    const double up = r == 0 ? prev[j] : cur[r - 1];
    const double diag = r == 0 ? prev[j - 1] : old[r - 1];
    const double left = cur[r];
    const double diag_up = diag <= up ? diag : up;
    const double best = diag_up <= left ? diag_up : left;
    const double d = static_cast<double>(cost[r * stride + (j - 1)]) + best;
    // Move: 0 if diag is a minimum, else 1 if up is, else 2 (the original's
    // exact-equality order), branch-free as (not diag) * (1 + not up).
    const unsigned not_diag = !((diag <= up) & (diag <= left));
    const unsigned not_up = !(up <= left);
    moves[r * static_cast<size_t>(n) + (j - 1)] = static_cast<uint8_t>(not_diag * (1u + not_up));
    old[r] = left;
    cur[r] = d;
    if (r == R - 1) last[j] = d;
  };
  for (int t = 1; t < n + R; ++t) {
    if (t >= R && t <= n) {  // every row inside the grid
#pragma GCC unroll 16
      for (int r = R - 1; r >= 0; --r) cell(r, t - r);
    } else {
#pragma GCC unroll 16
      for (int r = R - 1; r >= 0; --r) {
        const int j = t - r;
        if (j >= 1 && j <= n) cell(r, j);
      }
    }
  }
}

// Packs one row of move bytes (0..2) four to a byte.
void PackMoves(const uint8_t* bytes, int n, uint8_t* packed) {
  int q = 0;
  for (; 4 * q + 4 <= n; ++q) {
    uint32_t w;
    std::memcpy(&w, bytes + 4 * q, 4);  // little-endian: byte k at bits 8k
    packed[q] = static_cast<uint8_t>((w & 0x3u) | ((w >> 6) & 0xCu) | ((w >> 12) & 0x30u) |
                                     ((w >> 18) & 0xC0u));
  }
  if (4 * q < n) {
    unsigned b = 0;
    for (int j = 4 * q; j < n; ++j) b |= static_cast<unsigned>(bytes[j]) << (2 * (j - 4 * q));
    packed[q] = static_cast<uint8_t>(b);
  }
}

// Rows per band: enough independent chains to hide the min+add latency
// without spilling the band's state out of registers (measured: 4 rows
// 1.8 ns/cell, 6 rows 1.5, 8 rows 1.5 on the 2-core AVX-512 box).
constexpr int kBandRows = 6;

struct DpResult {
  std::vector<std::pair<int, int>> cells;  // (gold, trainee), first cell first
  double total_cost = 0.0;
};

// Runs the DP over gold rows 1..m. cost_rows(i) returns {costs of gold clip
// i, number of rows available from there at stride n}; rows are requested
// in order and each pointer stays valid until the next call.
template <typename CostRows>
Result<DpResult> RunDtw(int m, int n, const DtwOptions& options, CostRows&& cost_rows) {
  std::vector<double> prev, cur;
  std::vector<uint8_t> band_moves;
  Traceback moves(0, 0);
  try {
    prev.assign(static_cast<size_t>(n) + 1, kInf);
    cur.assign(static_cast<size_t>(n) + 1, kInf);
    band_moves.resize(static_cast<size_t>(kBandRows) * n);
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
  for (int i = 1; i <= m;) {
    const auto [rows, available] = cost_rows(i - 1);
    const int band = std::min({kBandRows, available, m - i + 1});
    const size_t stride = static_cast<size_t>(n);
    switch (band) {
      case 6: DtwBand<6>(prev.data(), rows, stride, n, cur.data(), band_moves.data()); break;
      case 5: DtwBand<5>(prev.data(), rows, stride, n, cur.data(), band_moves.data()); break;
      case 4: DtwBand<4>(prev.data(), rows, stride, n, cur.data(), band_moves.data()); break;
      case 3: DtwBand<3>(prev.data(), rows, stride, n, cur.data(), band_moves.data()); break;
      case 2: DtwBand<2>(prev.data(), rows, stride, n, cur.data(), band_moves.data()); break;
      default: DtwBand<1>(prev.data(), rows, stride, n, cur.data(), band_moves.data()); break;
    }
    for (int r = 0; r < band; ++r) {
      PackMoves(band_moves.data() + static_cast<size_t>(r) * n, n, moves.row(i + r));
    }
    prev.swap(cur);
    i += band;
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
  auto cost_rows = [&](int i) -> std::pair<const float*, int> {
    if (i >= block_end) {
      block_begin = i;
      block_end = std::min(m, i + block_rows);
      cost.ComputeTile(block_begin, block_end, 0, n, block.data());
    }
    return {block.data() + static_cast<size_t>(i - block_begin) * n, block_end - i};
  };
  SOPILOT_ASSIGN_OR_RETURN(DpResult dp, RunDtw(m, n, options, cost_rows));
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
      DpResult dp, RunDtw(cost.rows, cost.cols, options, [&](int i) {
        return std::pair<const float*, int>(cost.row(i), cost.rows - i);
      }));
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
      DpResult dp, RunDtw(c.rows, c.cols, options, [&](int i) {
        return std::pair<const float*, int>(c.row(i), c.rows - i);
      }));
  Alignment a = MakeAlignment(dp);
  FillSimilarity(c, &a);
  return a;
}

}  // namespace sopilot
