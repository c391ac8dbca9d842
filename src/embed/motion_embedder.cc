#include "embed/motion_embedder.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>
#include <opencv2/video/tracking.hpp>

#include "base/exception_border.h"
#include "embed/unit_vector.h"

namespace sopilot {

MotionEmbedder::MotionEmbedder() = default;
MotionEmbedder::~MotionEmbedder() = default;

const cv::Mat& MotionEmbedder::GreyOf(const Frame& f) {
  auto it = grey_cache_.find(f.id);
  if (it != grey_cache_.end()) return it->second;
  cv::Mat grey, small;
  cv::cvtColor(f.rgb, grey, cv::COLOR_RGB2GRAY);
  const int side = std::max(grey.cols, grey.rows);
  if (side > kFlowSide) {
    const double scale = static_cast<double>(kFlowSide) / side;
    cv::resize(grey, small, cv::Size(std::max(1, static_cast<int>(std::lround(grey.cols * scale))),
                                     std::max(1, static_cast<int>(std::lround(grey.rows * scale)))),
               0, 0, cv::INTER_AREA);
  } else {
    small = grey;
  }
  return grey_cache_[f.id] = small;
}

const MotionEmbedder::PairHistogram& MotionEmbedder::PairOf(const Frame& a, const Frame& b) {
  auto it = pair_cache_.find(b.id);
  if (it != pair_cache_.end() && it->second->earlier_id == a.id) return *it->second;
  auto h = std::make_unique<PairHistogram>();
  h->earlier_id = a.id;
  const cv::Mat& ga = GreyOf(a);
  const cv::Mat& gb = GreyOf(b);
  if (ga.size() == gb.size() && ga.cols >= 8 && ga.rows >= 8) {
    cv::Mat flow;
    cv::calcOpticalFlowFarneback(ga, gb, flow, 0.5, 3, 15, 3, 5, 1.2, 0);
    const int w = flow.cols, hgt = flow.rows;
    std::array<double, kDim> acc{};
    std::array<int, kGrid * kGrid> pixels{};
    for (int y = 0; y < hgt; ++y) {
      const cv::Point2f* p = flow.ptr<cv::Point2f>(y);
      const int gy = std::min(kGrid - 1, y * kGrid / hgt);
      for (int x = 0; x < w; ++x) {
        const int cell = gy * kGrid + std::min(kGrid - 1, x * kGrid / w);
        ++pixels[cell];
        const float dx = p[x].x, dy = p[x].y;
        const double mag = std::sqrt(static_cast<double>(dx) * dx + static_cast<double>(dy) * dy);
        if (mag < 1e-3) continue;
        double angle = std::atan2(dy, dx);  // -pi..pi
        int bin = static_cast<int>(std::floor((angle + M_PI) / (2 * M_PI) * kBins));
        bin = std::clamp(bin, 0, kBins - 1);
        acc[cell * kBins + bin] += mag;
      }
    }
    for (int c = 0; c < kGrid * kGrid; ++c) {
      for (int k = 0; k < kBins; ++k) {
        h->bins[c * kBins + k] = pixels[c] > 0 ? static_cast<float>(acc[c * kBins + k] / pixels[c]) : 0.0f;
      }
    }
  }
  return *(pair_cache_[b.id] = std::move(h));
}

Status MotionEmbedder::Embed(const Clip& clip, float* out) {
  const int T = static_cast<int>(clip.frames.size());
  if (T == 0) return Status::InvalidArgument("cannot embed a clip without frames");
  return CallGuarded("motion-v1 embedding", [&]() -> Status {
    // Frames before this clip will not come back (clips arrive in order).
    const int64_t first_id = clip.frames.front()->id;
    std::erase_if(grey_cache_, [&](const auto& kv) { return kv.first < first_id; });
    std::erase_if(pair_cache_, [&](const auto& kv) { return kv.first <= first_id; });
    std::vector<double> v(kDim, 0.0);
    int pairs = 0;
    for (int t = 0; t + 1 < T; ++t) {
      const Frame& a = *clip.frames[t];
      const Frame& b = *clip.frames[t + 1];
      ++pairs;
      if (a.id == b.id) continue;  // a repeated frame (padding, slow source): no motion
      const PairHistogram& h = PairOf(a, b);
      for (int i = 0; i < kDim; ++i) v[i] += h.bins[i];
    }
    for (double& x : v) x = pairs > 0 ? std::sqrt(x / pairs) : 0.0;
    WriteUnitVector(v, out);
    return Status::Ok();
  });
}

}  // namespace sopilot
