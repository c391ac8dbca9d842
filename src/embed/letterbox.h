// Letterbox: a picture fitted into a square network input without being
// stretched, and the way back to the picture's pixels.
#pragma once

#include <algorithm>
#include <cmath>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace sopilot {

struct Letterbox {
  cv::Mat square;  // side x side, CV_8UC3, the picture centred on black
  float scale = 1;  // input pixels per picture pixel
  int pad_x = 0, pad_y = 0;

  // `rgb` shrunk (or grown) to fit `side`, centred.
  static Letterbox Of(const cv::Mat& rgb, int side) {
    Letterbox l;
    l.scale = static_cast<float>(side) / std::max(rgb.cols, rgb.rows);
    const int w = std::max(1, static_cast<int>(std::lround(rgb.cols * l.scale)));
    const int h = std::max(1, static_cast<int>(std::lround(rgb.rows * l.scale)));
    l.pad_x = (side - w) / 2;
    l.pad_y = (side - h) / 2;
    l.square = cv::Mat(side, side, CV_8UC3, cv::Scalar(0, 0, 0));
    cv::resize(rgb, l.square(cv::Rect(l.pad_x, l.pad_y, w, h)), cv::Size(w, h), 0, 0, cv::INTER_LINEAR);
    return l;
  }
  // An input pixel position back in the picture's pixels.
  cv::Point2f ToPicture(float x, float y) const { return {(x - pad_x) / scale, (y - pad_y) / scale}; }
};

}  // namespace sopilot
