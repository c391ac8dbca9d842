#include "align/dtw.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "align/cost_matrix.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace sopilot {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Traceback moves. The numeric order is the tie order.
enum Move : unsigned { kDiag = 0, kUp = 1, kLeft = 2 };

// The DP runs over bands of this many gold rows as a wavefront: at step t
// row r of the band is at column t - r, so the rows are independent within a
// step and the SIMD kernel keeps one row per vector lane. 32 rows fill 8 AVX2
// vectors; the traceback stores one 64-bit word per step, 2 bits a row.
constexpr int kBandRows = 32;

// The move into every DP cell (i, j), 1 <= i <= m, 1 <= j <= n, in the
// wavefront's own order: per band, per step t = j + r (r = row in the band),
// bit 2r says "diag is a minimum" and bit 2r+1 "up <= left". That decides the
// move in tie order and costs 2 bits a cell (plus 31 words a band), the only
// O(m·n) memory of the linear mode.
class Traceback {
 public:
  Traceback(int m, int n)
      : steps_(static_cast<size_t>(n) + kBandRows - 1),
        words_(static_cast<size_t>((m + kBandRows - 1) / kBandRows) * steps_) {}
  // The words of the band whose first row is i (i - 1 a multiple of kBandRows).
  uint64_t* band(int i) { return words_.data() + static_cast<size_t>(i - 1) / kBandRows * steps_; }
  unsigned at(int i, int j) const {
    const int r = (i - 1) % kBandRows;
    const uint64_t w = words_[static_cast<size_t>(i - 1) / kBandRows * steps_ + (j + r - 1)];
    const unsigned bits = static_cast<unsigned>(w >> (2 * r)) & 3u;
    return (bits & 1u) ? kDiag : (bits & 2u) ? kUp : kLeft;
  }

 private:
  size_t steps_;
  std::vector<uint64_t> words_;
};

// The portable DP for R consecutive gold rows starting at row `shift` of a
// band, as a scalar wavefront: the R loop-carried chains (one min and one
// add each) are independent and overlap in the CPU instead of stalling.
// prev = D[i-1][0..n] for the first row i; cost = R rows of n floats with
// row stride `stride`; writes D[i+R-1][0..n] to last (not aliasing prev) and
// ORs the traceback bits into the band's words.
template <int R>
void DtwRowsScalar(const double* prev, const float* cost, size_t stride, int n, double* last,
                   uint64_t* words, int shift) {
  double cur[R], old[R];  // D of each row at its latest column, and the one before
  for (int r = 0; r < R; ++r) cur[r] = old[r] = kInf;  // D[·][0] = +inf
  last[0] = kInf;
  uint64_t bits = 0;
  // Rows are visited bottom-up within a step, so row r still sees row r-1's
  // values from the previous step: D[r-1][j] in cur, D[r-1][j-1] in old.
  auto cell = [&](int r, int j) __attribute__((always_inline)) {
    const double up = r == 0 ? prev[j] : cur[r - 1];
    const double diag = r == 0 ? prev[j - 1] : old[r - 1];
    const double left = cur[r];
    const double diag_up = diag <= up ? diag : up;
    const double best = diag_up <= left ? diag_up : left;
    const double d = static_cast<double>(cost[r * stride + (j - 1)]) + best;
    const uint64_t diag_min = (diag <= up) & (diag <= left);
    const uint64_t up_le_left = up <= left;
    bits |= (diag_min | up_le_left << 1) << (2 * (shift + r));
    old[r] = left;
    cur[r] = d;
    if (r == R - 1) last[j] = d;
  };
  // Step t of these rows is step t + shift of the band.
  for (int t = 1; t < n + R; ++t) {
    bits = 0;
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
    words[t + shift - 1] |= bits;
  }
}

// Rows per scalar sub-band: enough independent chains to hide the min+add
// latency without spilling out of registers (measured: 4 rows 1.8 ns/cell,
// 6 rows 1.5, 8 rows 1.5 on the 2-core AVX-512 box).
constexpr int kScalarRows = 6;

// A band of 1..kBandRows rows without SIMD: sub-bands of kScalarRows, D
// passed down through `mid` (n+1 doubles).
void DtwBandScalar(const double* prev, const float* cost, size_t stride, int rows, int n,
                   double* last, uint64_t* words, double* mid) {
  std::fill(words, words + n + kBandRows - 1, uint64_t{0});
  const double* in = prev;
  for (int s = 0; s < rows; s += kScalarRows) {
    const float* c = cost + s * stride;
    switch (std::min(kScalarRows, rows - s)) {
      case 6: DtwRowsScalar<6>(in, c, stride, n, last, words, s); break;
      case 5: DtwRowsScalar<5>(in, c, stride, n, last, words, s); break;
      case 4: DtwRowsScalar<4>(in, c, stride, n, last, words, s); break;
      case 3: DtwRowsScalar<3>(in, c, stride, n, last, words, s); break;
      case 2: DtwRowsScalar<2>(in, c, stride, n, last, words, s); break;
      default: DtwRowsScalar<1>(in, c, stride, n, last, words, s); break;
    }
    if (s + kScalarRows < rows) {
      std::copy(last, last + n + 1, mid);
      in = mid;
    }
  }
}

#if defined(__x86_64__) || defined(__i386__)
#define SOPILOT_DTW_AVX2 1

// The default build targets generic x86-64, so the AVX2 kernel is compiled
// for AVX2 on its own and picked at run time.
bool HasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}

// [a3, b0, b1, b2]: lane r gets lane r-1, lane 0 gets a's last lane.
__attribute__((target("avx2"), always_inline)) inline __m256d ShiftIn(__m256d a, __m256d b) {
  return _mm256_shuffle_pd(_mm256_permute2f128_pd(a, b, 0x21), b, 0x5);
}

// skew[s][r] = cost[r][t0 + s - r - 1] for s < 8 and the band's kBandRows
// rows: the costs of step t0 + s in lane order, by 8×8 transposes of rows
// loaded at skewed offsets. Every column must lie in [0, n).
__attribute__((target("avx2"))) void SkewCostAvx2(const float* cost, size_t stride, int t0,
                                                   float (*skew)[kBandRows]) {
  for (int r0 = 0; r0 < kBandRows; r0 += 8) {
    __m256 a[8];
    for (int q = 0; q < 8; ++q) {
      const int r = r0 + q;
      a[q] = _mm256_loadu_ps(cost + r * stride + (t0 - r - 1));
    }
    __m256 u[8], v[8];
    for (int q = 0; q < 8; q += 2) {
      u[q] = _mm256_unpacklo_ps(a[q], a[q + 1]);
      u[q + 1] = _mm256_unpackhi_ps(a[q], a[q + 1]);
    }
    for (int q = 0; q < 8; q += 4) {
      v[q] = _mm256_shuffle_ps(u[q], u[q + 2], 0x44);
      v[q + 1] = _mm256_shuffle_ps(u[q], u[q + 2], 0xEE);
      v[q + 2] = _mm256_shuffle_ps(u[q + 1], u[q + 3], 0x44);
      v[q + 3] = _mm256_shuffle_ps(u[q + 1], u[q + 3], 0xEE);
    }
    for (int s = 0; s < 4; ++s) {
      _mm256_store_ps(&skew[s][r0], _mm256_permute2f128_ps(v[s], v[s + 4], 0x20));
      _mm256_store_ps(&skew[s + 4][r0], _mm256_permute2f128_ps(v[s], v[s + 4], 0x31));
    }
  }
}

// One full band of kBandRows rows, 4 rows per AVX2 vector, the same
// arithmetic as DtwRowsScalar lane by lane. _mm256_min_pd(x, y) is
// x < y ? x : y, so min(up, diag) and min(left, diag_up) pick exactly what
// the scalar ternaries pick. prev must be readable and last writable
// kBandRows doubles past both ends (D rows are padded): lanes outside the
// grid compute throwaway values that only ever flow to other such lanes.
__attribute__((target("avx2"))) void DtwBandAvx2(const double* prev, const float* cost,
                                                  size_t stride, int n, double* last,
                                                  uint64_t* words) {
  constexpr int kVecs = kBandRows / 4;
  __m256d cur[kVecs], up_old[kVecs];  // D at each lane's column, and last step's "up"
  for (int k = 0; k < kVecs; ++k) cur[k] = up_old[k] = _mm256_set1_pd(kInf);
  up_old[0] = _mm256_set_pd(kInf, kInf, kInf, prev[0]);  // lane 0's first diag
  alignas(32) float skew[8][kBandRows];
  const int steps = n + kBandRows - 1;
  for (int t0 = 1; t0 <= steps; t0 += 8) {
    if (t0 >= kBandRows && t0 + 7 <= n) {
      SkewCostAvx2(cost, stride, t0, skew);
    } else {  // the band's ragged ends: 0 for cells outside the grid
      for (int s = 0; s < 8; ++s) {
        for (int r = 0; r < kBandRows; ++r) {
          const int col = t0 + s - r - 1;
          skew[s][r] = col >= 0 && col < n ? cost[r * stride + col] : 0.0f;
        }
      }
    }
    const int count = std::min(8, steps - t0 + 1);
    for (int s = 0; s < count; ++s) {
      const int t = t0 + s;
      __m256d up[kVecs];
      up[0] = ShiftIn(_mm256_broadcast_sd(prev + t), cur[0]);
      for (int k = 1; k < kVecs; ++k) up[k] = ShiftIn(cur[k - 1], cur[k]);
      uint64_t bits = 0;
      for (int k = 0; k < kVecs; ++k) {
        const __m256d diag = up_old[k], left = cur[k];
        const __m256d best = _mm256_min_pd(left, _mm256_min_pd(up[k], diag));
        // diag == best iff diag <= up and diag <= left (no NaN here).
        const __m256d diag_min = _mm256_cmp_pd(diag, best, _CMP_EQ_OQ);
        const __m256d up_le_left = _mm256_cmp_pd(up[k], left, _CMP_LE_OQ);
        // Low half of each lane from diag_min, high half from up_le_left:
        // the sign bits are then the 2-bit traceback entries in row order.
        const __m256 both = _mm256_blend_ps(_mm256_castpd_ps(diag_min),
                                            _mm256_castpd_ps(up_le_left), 0xAA);
        bits |= static_cast<uint64_t>(_mm256_movemask_ps(both)) << (8 * k);
        up_old[k] = up[k];
        cur[k] = _mm256_add_pd(_mm256_cvtps_pd(_mm_load_ps(&skew[s][4 * k])), best);
      }
      words[t - 1] = bits;
      _mm_storeh_pd(last + t - (kBandRows - 1), _mm256_extractf128_pd(cur[kVecs - 1], 1));
    }
  }
  last[0] = kInf;
}
#endif

struct DpResult {
  std::vector<std::pair<int, int>> cells;  // (gold, trainee), first cell first
  double total_cost = 0.0;
};

// Runs the DP over gold rows 1..m. cost_rows(i) returns {costs of gold clip
// i, number of rows available from there at stride n}; rows are requested
// in order and each pointer stays valid until the next call.
template <typename CostRows>
Result<DpResult> RunDtw(int m, int n, const DtwOptions& options, CostRows&& cost_rows) {
  // Two D rows padded with kBandRows of +inf on each side (see DtwBandAvx2),
  // one for the scalar sub-bands, and a band of cost when it spans blocks.
  const size_t padded = static_cast<size_t>(n) + 1 + 2 * kBandRows;
  std::vector<double> rows_buf;
  std::vector<float> band_cost;
  Traceback moves(0, 0);
  try {
    rows_buf.assign(3 * padded, kInf);
    moves = Traceback(m, n);
  } catch (const std::bad_alloc&) {
    return Status::Internal("out of memory for a " + std::to_string(m) + "x" + std::to_string(n) +
                            " DTW traceback");
  }
  double* prev = rows_buf.data() + kBandRows;
  double* cur = prev + padded;
  double* mid = cur + padded;
  if (options.open_begin) {
    std::fill(prev, prev + n + 1, 0.0);
  } else {
    prev[0] = 0.0;
  }
  const size_t stride = static_cast<size_t>(n);
  for (int i = 1; i <= m; i += kBandRows) {
    const int rows = std::min(kBandRows, m - i + 1);
    auto [cost, available] = cost_rows(i - 1);
    if (available < rows) {  // the band spans two cost blocks: copy it
      try {
        band_cost.resize(static_cast<size_t>(kBandRows) * n);
      } catch (const std::bad_alloc&) {
        return Status::Internal("out of memory for a DTW band");
      }
      for (int r = 0; r < rows;) {
        auto [p, a] = r == 0 ? std::pair(cost, available) : cost_rows(i - 1 + r);
        const int take = std::min(a, rows - r);
        std::copy(p, p + take * stride, band_cost.data() + r * stride);
        r += take;
      }
      cost = band_cost.data();
    }
    uint64_t* words = moves.band(i);
#ifdef SOPILOT_DTW_AVX2
    if (rows == kBandRows && HasAvx2()) {
      DtwBandAvx2(prev, cost, stride, n, cur, words);
      std::swap(prev, cur);
      continue;
    }
#endif
    DtwBandScalar(prev, cost, stride, rows, n, cur, words, mid);
    std::swap(prev, cur);
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

// Linear mode: the cost a row of grid tiles at a time, then the grid tiles
// the path crosses again. Both are ComputeTile calls on whole grid tiles, so
// they cost no more sgemm than they hand back and give the full mode's bits.
Result<Alignment> AlignDtwLinear(const CosineCost& cost, const DtwOptions& options) {
  const int m = cost.gold_clips(), n = cost.trainee_clips();
  const int tile_rows = cost.tile_rows(), tile_cols = cost.tile_cols();
  const int hand_out =
      options.linear_block_rows > 0 ? std::min(options.linear_block_rows, tile_rows) : tile_rows;
  std::vector<float> block;  // one row of tiles; later one tile
  try {
    block.resize(static_cast<size_t>(tile_rows) * n);
  } catch (const std::bad_alloc&) {
    return Status::Internal("out of memory for a DTW cost block");
  }
  int block_begin = 0, block_end = 0;
  auto cost_rows = [&](int i) -> std::pair<const float*, int> {
    if (i >= block_end) {  // rows come in order: i is the start of the next row of tiles
      block_begin = i / tile_rows * tile_rows;
      block_end = std::min(m, block_begin + tile_rows);
      cost.ComputeTile(block_begin, block_end, 0, n, block.data());
    }
    const int end = std::min(block_end, (i / hand_out + 1) * hand_out);
    return {block.data() + static_cast<size_t>(i - block_begin) * n, end - i};
  };
  SOPILOT_ASSIGN_OR_RETURN(DpResult dp, RunDtw(m, n, options, cost_rows));
  Alignment a = MakeAlignment(dp);

  // The path is monotone, so its cells in any one grid tile are consecutive
  // and a tile, once left, is never entered again.
  size_t k = 0;
  while (k < a.path.size()) {
    const int ti = a.path[k].gold / tile_rows, tj = a.path[k].trainee / tile_cols;
    size_t end = k + 1;
    while (end < a.path.size() && a.path[end].gold / tile_rows == ti &&
           a.path[end].trainee / tile_cols == tj) {
      ++end;
    }
    const int i0 = ti * tile_rows, i1 = std::min(m, i0 + tile_rows);
    const int j0 = tj * tile_cols, j1 = std::min(n, j0 + tile_cols);
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
  SOPILOT_ASSIGN_OR_RETURN(CosineCost cost,
                           CosineCost::Create(gold, trainee, options.cost_tiling));
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
