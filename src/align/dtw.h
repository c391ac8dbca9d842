// Exact dynamic time warping of a trainee sequence onto the gold sequence,
// with the optimal path.
//
// Semantics are the Python original's (step_engine.dtw_align): cost
// C = 1 - cosine, symmetric step pattern with all weights 1 (a diagonal step is
// not weighted 2), no band or slope constraint, over a DP of doubles with
// D[0][0] = 0 and every other border cell +inf:
//   D[i][j] = C[i-1][j-1] + min(D[i-1][j-1], D[i-1][j], D[i][j-1]).
// Ties are broken by exact comparison, in this order: diagonal, then "up"
// (D[i-1][j]: gold advances, the trainee clip repeats), then "left"
// (D[i][j-1]: trainee advances). The same inputs always give the same path.
//
// Unlike the original there is no clip-count limit, and empty input is an
// error (InvalidArgument) rather than an empty path with mean_cost 1.0; the
// caller decides what an empty video scores.
#pragma once

#include <cstddef>

#include "align/alignment.h"
#include "align/cost_matrix.h"
#include "base/matrix.h"
#include "base/status.h"

namespace sopilot {

struct DtwOptions {
  // The path may start at any trainee clip: gold clip 0 must still be
  // matched, but D[0][j] = 0 for every j, so leading trainee clips are free.
  bool open_begin = false;
  // The path may end at any trainee clip: the end cell is the smallest
  // D[m][j] over j, the smallest j on ties. Trailing trainee clips are free.
  bool open_end = false;

  // Where the cost lives. kFull computes the m×n float cost matrix, one
  // sgemm per tile of the cost's grid (align/cost_matrix.h). kLinear
  // computes one row of those tiles at a time (about 16 MB) and keeps only
  // two DP rows; the path is recovered from 2-bit traceback directions
  // (m·n/4 bytes) and the path cells' costs are recomputed, one grid tile per
  // tile the path crosses. Both give the same path and bit-identical costs,
  // whatever kernels OpenBLAS uses. kAuto picks kFull while m·n·4 bytes <=
  // full_cost_limit_bytes.
  enum class Memory { kAuto, kFull, kLinear };
  Memory memory = Memory::kAuto;
  size_t full_cost_limit_bytes = size_t{256} << 20;
  // kLinear hands the DP at most this many gold rows of cost at a time
  // (0: a whole row of tiles). It changes neither the result nor the sgemm
  // work; tests vary it to cover DP bands that straddle two hand-outs.
  int linear_block_rows = 0;
  // The cost's tile grid; 0 picks CosineCost's default. Full and linear
  // memory agree bit for bit on any one grid; different grids can differ in
  // the last bit. Tests pick small grids; production leaves it alone.
  CostTiling cost_tiling = {};
};

// Aligns trainee (n×d) onto gold (m×d) under the cosine cost of
// align/cost_matrix.h. Fails with InvalidArgument on empty, malformed or
// non-finite input or mismatched widths.
Result<Alignment> AlignDtw(const FloatMatrix& gold, const FloatMatrix& trainee,
                           const DtwOptions& options = {});

// The same DP over a precomputed cost (rows = gold clips, columns = trainee
// clips; any finite values). options.memory is ignored: the cost already
// exists, and the DP itself always uses linear memory plus the traceback bits.
Result<Alignment> AlignDtwFromCost(const FloatMatrix& cost, const DtwOptions& options = {});

}  // namespace sopilot
