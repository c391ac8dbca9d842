#include "embed/heuristic_embedder.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>

namespace sopilot {

namespace {
constexpr int kLowW = 16, kLowH = 9, kLowLen = kLowW * kLowH * 3;
constexpr int kBins = 8;
}  // namespace

// Per-frame sums, kept exact in integers where the pixels are integers.
struct HeuristicEmbedder::FrameStats {
  int64_t pixels = 0;
  std::array<int64_t, 3> sum{};    // of channel values 0..255
  std::array<int64_t, 3> sumsq{};
  int64_t gray_sum = 0;            // of R+G+B, 0..765
  int64_t gray_sumsq = 0;
  double edge_density = 0;         // fraction of Canny edge pixels
  std::array<int64_t, 3 * kBins> hist{};
  std::array<float, kLowLen> low{};  // x resized to 16x9
};

// |gray_{t+1} - gray_t| sums over one pair of frames, in units of R+G+B.
struct HeuristicEmbedder::PairStats {
  int64_t earlier_id = -1;
  int64_t pixels = 0;
  int64_t abs_sum = 0;
  int64_t sq_sum = 0;
  int max_abs = 0;
};

HeuristicEmbedder::HeuristicEmbedder() = default;
HeuristicEmbedder::~HeuristicEmbedder() = default;

const HeuristicEmbedder::FrameStats& HeuristicEmbedder::StatsOf(const Frame& f) {
  auto it = frame_cache_.find(f.id);
  if (it != frame_cache_.end()) return *it->second;
  auto s = std::make_unique<FrameStats>();
  const cv::Mat& rgb = f.rgb;
  s->pixels = static_cast<int64_t>(rgb.rows) * rgb.cols;
  for (int y = 0; y < rgb.rows; ++y) {
    const uint8_t* p = rgb.ptr<uint8_t>(y);
    for (int x = 0; x < rgb.cols; ++x, p += 3) {
      int g = 0;
      for (int c = 0; c < 3; ++c) {
        int v = p[c];
        s->sum[c] += v;
        s->sumsq[c] += v * v;
        // np.histogram(v / 255, 8, (0, 1)) puts v in bin min(7, 8v // 255).
        s->hist[c * kBins + std::min(kBins - 1, (kBins * v) / 255)] += 1;
        g += v;
      }
      s->gray_sum += g;
      s->gray_sumsq += g * g;
    }
  }
  cv::Mat edges;
  cv::Canny(rgb, edges, 80, 160);  // 3-channel: max gradient over channels, as the original
  s->edge_density = static_cast<double>(cv::countNonZero(edges)) / std::max<int64_t>(1, s->pixels);
  cv::Mat xf, low;
  rgb.convertTo(xf, CV_32FC3, 1.0 / 255.0);
  cv::resize(xf, low, cv::Size(kLowW, kLowH), 0, 0, cv::INTER_AREA);
  for (int y = 0; y < kLowH; ++y) {
    const float* p = low.ptr<float>(y);
    std::copy(p, p + kLowW * 3, s->low.begin() + y * kLowW * 3);
  }
  return *(frame_cache_[f.id] = std::move(s));
}

const HeuristicEmbedder::PairStats& HeuristicEmbedder::PairOf(const Frame& a, const Frame& b) {
  auto it = pair_cache_.find(b.id);
  if (it != pair_cache_.end() && it->second->earlier_id == a.id) return *it->second;
  auto s = std::make_unique<PairStats>();
  s->earlier_id = a.id;
  if (a.rgb.size() == b.rgb.size()) {
    s->pixels = static_cast<int64_t>(a.rgb.rows) * a.rgb.cols;
    for (int y = 0; y < a.rgb.rows; ++y) {
      const uint8_t* p = a.rgb.ptr<uint8_t>(y);
      const uint8_t* q = b.rgb.ptr<uint8_t>(y);
      for (int x = 0; x < a.rgb.cols; ++x, p += 3, q += 3) {
        int d = std::abs((q[0] + q[1] + q[2]) - (p[0] + p[1] + p[2]));
        s->abs_sum += d;
        s->sq_sum += static_cast<int64_t>(d) * d;
        s->max_abs = std::max(s->max_abs, d);
      }
    }
  }
  return *(pair_cache_[b.id] = std::move(s));
}

Status HeuristicEmbedder::Embed(const Clip& clip, float* out) {
  const int T = static_cast<int>(clip.frames.size());
  if (T == 0) return Status::InvalidArgument("cannot embed a clip without frames");
  // Frames before this clip will not come back (clips arrive in order).
  const int64_t first_id = clip.frames.front()->id;
  std::erase_if(frame_cache_, [&](const auto& kv) { return kv.first < first_id; });
  std::erase_if(pair_cache_, [&](const auto& kv) { return kv.first <= first_id; });

  std::vector<const FrameStats*> fs(T);
  for (int t = 0; t < T; ++t) fs[t] = &StatsOf(*clip.frames[t]);

  std::vector<double> v(kDim, 0.0);
  double n = 0;
  std::array<double, 3> sum{}, sumsq{};
  double gsum = 0, gsumsq = 0;
  std::array<double, 3 * kBins> hist{};
  for (const FrameStats* s : fs) {
    n += static_cast<double>(s->pixels);
    for (int c = 0; c < 3; ++c) {
      sum[c] += static_cast<double>(s->sum[c]);
      sumsq[c] += static_cast<double>(s->sumsq[c]);
    }
    gsum += static_cast<double>(s->gray_sum);
    gsumsq += static_cast<double>(s->gray_sumsq);
    for (int b = 0; b < 3 * kBins; ++b) hist[b] += static_cast<double>(s->hist[b]);
  }
  if (n <= 0) return Status::InvalidArgument("cannot embed a clip of empty frames");

  auto stddev = [](double s, double ss, double count, double scale) {
    double mean = s / count;
    return std::sqrt(std::max(0.0, ss / count - mean * mean)) / scale;
  };
  // 0-5: mean and std of x per channel.
  for (int c = 0; c < 3; ++c) {
    v[c] = sum[c] / n / 255.0;
    v[3 + c] = stddev(sum[c], sumsq[c], n, 255.0);
  }
  // 6-8: mean of frames [T/2, T) minus mean of frames [0, max(1, T/2)).
  if (T > 1) {
    const int half = T / 2;
    auto range_mean = [&](int from, int to, int c) {
      double s = 0, cnt = 0;
      for (int t = from; t < to; ++t) {
        s += static_cast<double>(fs[t]->sum[c]);
        cnt += static_cast<double>(fs[t]->pixels);
      }
      return s / cnt / 255.0;
    };
    for (int c = 0; c < 3; ++c) v[6 + c] = range_mean(half, T, c) - range_mean(0, std::max(1, half), c);
  }
  // 9-10: gray mean and std.
  v[9] = gsum / n / 765.0;
  v[10] = stddev(gsum, gsumsq, n, 765.0);
  // 11-13: motion between consecutive frames.
  if (T > 1) {
    double m = 0, abs_sum = 0, sq_sum = 0;
    int max_abs = 0;
    for (int t = 0; t + 1 < T; ++t) {
      const Frame& a = *clip.frames[t];
      const Frame& b = *clip.frames[t + 1];
      if (a.id == b.id) {  // a repeated frame (padding, slow source): no motion
        m += static_cast<double>(fs[t]->pixels);
        continue;
      }
      const PairStats& p = PairOf(a, b);
      m += static_cast<double>(p.pixels);
      abs_sum += static_cast<double>(p.abs_sum);
      sq_sum += static_cast<double>(p.sq_sum);
      max_abs = std::max(max_abs, p.max_abs);
    }
    if (m > 0) {
      v[11] = abs_sum / m / 765.0;
      v[12] = stddev(abs_sum, sq_sum, m, 765.0);
      v[13] = max_abs / 765.0;
    }
  }
  // 14-15: edge density over frames.
  {
    double s = 0, ss = 0;
    for (const FrameStats* f : fs) {
      s += f->edge_density;
      ss += f->edge_density * f->edge_density;
    }
    v[14] = s / T;
    v[15] = std::sqrt(std::max(0.0, ss / T - v[14] * v[14]));
  }
  // 16-39: density histograms, bin width 1/8.
  for (int b = 0; b < 3 * kBins; ++b) v[16 + b] = kBins * hist[b] / n;
  // 40-471: mean low-resolution frame; 472-903: last minus first.
  for (int i = 0; i < kLowLen; ++i) {
    double s = 0;
    for (const FrameStats* f : fs) s += f->low[i];
    v[40 + i] = s / T;
    v[40 + kLowLen + i] = static_cast<double>(fs[T - 1]->low[i]) - fs[0]->low[i];
  }

  double norm = 0;
  for (double x : v) norm += x * x;
  norm = std::sqrt(norm);
  double inv = norm > 1e-12 ? 1.0 / norm : 1.0;
  for (int i = 0; i < kDim; ++i) out[i] = static_cast<float>(v[i] * inv);
  return Status::Ok();
}

}  // namespace sopilot
