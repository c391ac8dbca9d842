// BodyPose: one person's 17 body keypoints in a picture (MoveNet
// SinglePose Lightning, converted at setup; tools/models/, doc/models.md).
//
// The network is cut before its ArgMax/GatherNd decoding, which OpenCV 4.6
// cannot run; Find decodes its four maps as the original graph does: the
// person centre is the best cell of the centre map; each keypoint is the
// heatmap cell that is strongest once divided by its distance from where
// the centre's regression puts that keypoint, refined by the offset map.
//
// Keypoints are in COCO order (nose, eyes, ears, shoulders, elbows, wrists,
// hips, knees, ankles), in picture pixels, each with a score 0..1. The
// picture is letterboxed into the square input, so it is not stretched.
//
// Thread safety: none; one instance per thread.
#pragma once

#include <array>
#include <memory>
#include <string>

#include <opencv2/core.hpp>

#include "base/status.h"
#include "embed/dnn_model.h"

namespace sopilot {

struct BodyKeypoints {
  static constexpr int kCount = 17;
  std::array<cv::Point2f, kCount> points;  // picture pixels
  std::array<float, kCount> scores{};      // 0..1
};

class BodyPose {
 public:
  static constexpr int kInput = 192;
  static constexpr int kGrid = 48;

  // Loads the network; errors name the file (DnnModel::Load).
  static Result<std::unique_ptr<BodyPose>> Open(const std::string& model);

  // The keypoints of the most central person in `rgb` (CV_8UC3, R G B).
  Result<BodyKeypoints> Find(const cv::Mat& rgb);

 private:
  explicit BodyPose(std::unique_ptr<DnnModel> net) : net_(std::move(net)) {}
  std::unique_ptr<DnnModel> net_;
};

}  // namespace sopilot
