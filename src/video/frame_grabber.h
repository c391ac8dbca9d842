// FramesAt: the pictures of a video at given times, for reports and pages
// that show a moment of a recording beside another.
//
// One sequential decode at a low rate (the decoder cannot seek reliably in
// every container), keeping only the frames asked for: memory is the
// answer's size, time is one decode of the file.
#pragma once

#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "base/status.h"

namespace sopilot {

// For each time (seconds from the start), the RGB frame (CV_8UC3) nearest to
// it, its longest side at most `max_side`; a time past the end gets the last
// frame. Fails as VideoDecoder::Open does for a file that is not a video.
Result<std::vector<cv::Mat>> FramesAt(const std::string& path, const std::vector<double>& times, int max_side);

}  // namespace sopilot
