#include "align/drop_dtw.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <new>
#include <string>
#include <vector>

#include "align/cost_matrix.h"

namespace sopilot {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// One traceback byte per cell. Numeric order within a field is tie order.
//   bits 0-1, how D was reached: 0 match (M), 1 drop gold, 2 drop trainee
//   bits 2-3, how M was reached: 0 diagonal (from D), 1 up (U), 2 left (L)
//   bit 4, U: 0 directly from M above, 1 over one more dropped gold clip
//   bit 5, L: 0 directly from M to the left, 1 over one more dropped trainee
enum : unsigned { kMatch = 0, kDropGold = 1, kDropTrainee = 2 };
enum : unsigned { kDiag = 0, kUp = 1, kLeft = 2 };

// Branch-free "index of the first minimum of (a, b, c)", in tie order.
inline unsigned FirstMin3(double a, double b, double c) {
  const unsigned not_a = !((a <= b) & (a <= c));
  const unsigned not_b = !(b <= c);
  return not_a * (1u + not_b);
}

Result<double> ResolveDropCost(const DropCost& d, const FloatMatrix& cost, const char* side) {
  if (std::isnan(d.value)) {
    return Status::InvalidArgument(std::string(side) + " drop cost is NaN");
  }
  if (d.kind == DropCost::Kind::kConstant) {
    if (d.value < 0) {
      return Status::InvalidArgument(std::string(side) + " drop cost is negative: " +
                                     std::to_string(d.value));
    }
    return d.value;
  }
  return CostPercentile(cost, d.value);
}

}  // namespace

Result<double> CostPercentile(const FloatMatrix& cost, double p) {
  if (!(p >= 0.0 && p <= 100.0)) {
    return Status::InvalidArgument("percentile outside [0, 100]: " + std::to_string(p));
  }
  SOPILOT_RETURN_IF_ERROR(CheckCostMatrix(cost));
  std::vector<float> v;
  try {
    v = cost.data;
  } catch (const std::bad_alloc&) {
    return Status::Internal("out of memory computing a cost percentile");
  }
  // numpy 'linear': position p/100·(N-1) between the order statistics.
  const double pos = p / 100.0 * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  std::nth_element(v.begin(), v.begin() + lo, v.end());
  const double a = v[lo];
  if (hi == lo) return a;
  const double b = *std::min_element(v.begin() + lo + 1, v.end());
  return a + (b - a) * (pos - static_cast<double>(lo));
}

Result<DropDtwAlignment> AlignDropDtwFromCost(const FloatMatrix& cost,
                                              const DropDtwOptions& options) {
  SOPILOT_RETURN_IF_ERROR(CheckCostMatrix(cost));
  SOPILOT_ASSIGN_OR_RETURN(const double dg, ResolveDropCost(options.gold_drop, cost, "gold"));
  SOPILOT_ASSIGN_OR_RETURN(const double dt,
                           ResolveDropCost(options.trainee_drop, cost, "trainee"));
  const int m = cost.rows, n = cost.cols;
  const size_t width = static_cast<size_t>(n) + 1;

  // D: best over all choices on the prefixes; M: best whose last kept pair
  // is (i-1, j-1); U: best "M above, possibly across dropped gold clips",
  // the predecessor of an up move; L: likewise to the left.
  std::vector<double> d_prev, d_cur, m_prev, m_cur, u_prev, u_cur;
  std::vector<uint8_t> moves;
  try {
    d_prev.assign(width, kInf);
    d_cur.assign(width, kInf);
    m_prev.assign(width, kInf);
    m_cur.assign(width, kInf);
    u_prev.assign(width, kInf);
    u_cur.assign(width, kInf);
    moves.assign(static_cast<size_t>(m) * n, 0);
  } catch (const std::bad_alloc&) {
    return Status::Internal("out of memory for a " + std::to_string(m) + "x" + std::to_string(n) +
                            " Drop-DTW traceback");
  }
  d_prev[0] = 0.0;
  for (int j = 1; j <= n; ++j) d_prev[j] = d_prev[j - 1] + dt;

  for (int i = 1; i <= m; ++i) {
    const float* c = cost.row(i - 1);
    uint8_t* mv = moves.data() + static_cast<size_t>(i - 1) * n;
    d_cur[0] = d_prev[0] + dg;
    m_cur[0] = kInf;
    double l = kInf;  // L[i][j-1]
    for (int j = 1; j <= n; ++j) {
      const double u_via = u_prev[j] + dg;
      const unsigned u_bit = !(m_prev[j] <= u_via);
      const double u = u_bit ? u_via : m_prev[j];
      const double l_via = l + dt;
      const unsigned l_bit = !(m_cur[j - 1] <= l_via);
      l = l_bit ? l_via : m_cur[j - 1];

      const double diag = d_prev[j - 1];
      const unsigned m_move = FirstMin3(diag, u, l);
      const double m_best = m_move == kDiag ? diag : (m_move == kUp ? u : l);
      const double mm = static_cast<double>(c[j - 1]) + m_best;

      const double drop_gold = d_prev[j] + dg;
      const double drop_trainee = d_cur[j - 1] + dt;
      const unsigned d_move = FirstMin3(mm, drop_gold, drop_trainee);
      d_cur[j] = d_move == kMatch ? mm : (d_move == kDropGold ? drop_gold : drop_trainee);
      m_cur[j] = mm;
      u_cur[j] = u;
      mv[j - 1] = static_cast<uint8_t>(d_move | (m_move << 2) | (u_bit << 4) | (l_bit << 5));
    }
    d_prev.swap(d_cur);
    m_prev.swap(m_cur);
    u_prev.swap(u_cur);
  }

  DropDtwAlignment out;
  out.gold_drop_cost = dg;
  out.trainee_drop_cost = dt;
  out.total_cost = d_prev[n];

  // Walk back through the states. At (i, j), 1-based prefix lengths.
  enum class State { kD, kM, kU, kL };
  State s = State::kD;
  int i = m, j = n;
  auto move_at = [&](int gi, int tj) { return moves[static_cast<size_t>(gi - 1) * n + (tj - 1)]; };
  while (i > 0 || j > 0) {
    if (s == State::kD) {
      if (i == 0) { out.dropped_trainee.push_back(--j); continue; }
      if (j == 0) { out.dropped_gold.push_back(--i); continue; }
      const unsigned d_move = move_at(i, j) & 3u;
      if (d_move == kMatch) {
        s = State::kM;
      } else if (d_move == kDropGold) {
        out.dropped_gold.push_back(--i);
      } else {
        out.dropped_trainee.push_back(--j);
      }
    } else if (i == 0 || j == 0) {
      return Status::Internal("Drop-DTW traceback left the grid");
    } else if (s == State::kM) {
      out.path.push_back(AlignedPair{i - 1, j - 1, 1.0f - cost.at(i - 1, j - 1)});
      out.match_cost += cost.at(i - 1, j - 1);
      const unsigned m_move = (move_at(i, j) >> 2) & 3u;
      if (m_move == kDiag) {
        --i; --j; s = State::kD;
      } else {
        s = m_move == kUp ? State::kU : State::kL;
      }
    } else if (s == State::kU) {
      // U[i][j] is about the pair (·, j-1) above row i.
      if ((move_at(i, j) >> 4) & 1u) out.dropped_gold.push_back(i - 2);
      else s = State::kM;
      --i;
    } else {  // State::kL
      if ((move_at(i, j) >> 5) & 1u) out.dropped_trainee.push_back(j - 2);
      else s = State::kM;
      --j;
    }
  }
  if (s != State::kD) return Status::Internal("Drop-DTW traceback ended inside a match");
  std::reverse(out.path.begin(), out.path.end());
  std::reverse(out.dropped_gold.begin(), out.dropped_gold.end());
  std::reverse(out.dropped_trainee.begin(), out.dropped_trainee.end());
  return out;
}

Result<DropDtwAlignment> AlignDropDtw(const FloatMatrix& gold, const FloatMatrix& trainee,
                                      const DropDtwOptions& options) {
  SOPILOT_ASSIGN_OR_RETURN(FloatMatrix cost, CosineCostMatrix(gold, trainee));
  return AlignDropDtwFromCost(cost, options);
}

}  // namespace sopilot
