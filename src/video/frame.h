// Frame: one sampled picture, RGB, already rotated upright and resized.
#pragma once

#include <cstdint>
#include <memory>

#include <opencv2/core.hpp>

namespace sopilot {

struct Frame {
  int64_t id = 0;       // distinct per decoded source frame; equal ids mean equal pixels
  double pts_sec = 0;   // presentation time of the source frame, from the first frame
  cv::Mat rgb;          // CV_8UC3, channels in R, G, B order
};

// Frames are shared: overlapping clips, and samples that repeat a source frame
// (a source slower than the sampling rate), point at one Frame.
using FramePtr = std::shared_ptr<const Frame>;

}  // namespace sopilot
