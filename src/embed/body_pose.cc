#include "embed/body_pose.h"

#include <algorithm>
#include <cmath>

#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include "embed/letterbox.h"

namespace sopilot {

Result<std::unique_ptr<BodyPose>> BodyPose::Open(const std::string& model) {
  ModelSignature sig;
  sig.input = {1, 3, kInput, kInput};
  sig.output_names = {"heatmaps", "centers", "regress", "offsets"};
  sig.outputs = {{1, BodyKeypoints::kCount, kGrid, kGrid},
                 {1, 1, kGrid, kGrid},
                 {1, 2 * BodyKeypoints::kCount, kGrid, kGrid},
                 {1, 2 * BodyKeypoints::kCount, kGrid, kGrid}};
  SOPILOT_ASSIGN_OR_RETURN(std::unique_ptr<DnnModel> net, DnnModel::Load(model, sig));
  return std::unique_ptr<BodyPose>(new BodyPose(std::move(net)));
}

Result<BodyKeypoints> BodyPose::Find(const cv::Mat& rgb) {
  if (rgb.empty() || rgb.type() != CV_8UC3) return Status::InvalidArgument("body pose needs an RGB picture");
  const Letterbox box = Letterbox::Of(rgb, kInput);
  // The original takes whole numbers 0..255.
  cv::Mat blob = cv::dnn::blobFromImage(box.square, 1.0, cv::Size(), cv::Scalar(), false, false);
  SOPILOT_ASSIGN_OR_RETURN(std::vector<cv::Mat> out, net_->Run(blob));
  const int cells = kGrid * kGrid;
  const float* heat = out[0].ptr<float>();
  const float* centres = out[1].ptr<float>();
  const float* regress = out[2].ptr<float>();
  const float* offsets = out[3].ptr<float>();

  const int centre = static_cast<int>(std::max_element(centres, centres + cells) - centres);
  const int cy = centre / kGrid, cx = centre % kGrid;
  BodyKeypoints body;
  for (int k = 0; k < BodyKeypoints::kCount; ++k) {
    const float ry = cy + regress[(2 * k) * cells + centre];
    const float rx = cx + regress[(2 * k + 1) * cells + centre];
    int best = 0;
    float best_value = -1;
    const float* hk = heat + k * cells;
    for (int y = 0; y < kGrid; ++y) {
      for (int x = 0; x < kGrid; ++x) {
        const float d = std::sqrt((y - ry) * (y - ry) + (x - rx) * (x - rx));
        const float v = hk[y * kGrid + x] / (d + 1.8f);
        if (v > best_value) {
          best_value = v;
          best = y * kGrid + x;
        }
      }
    }
    const int ky = best / kGrid, kx = best % kGrid;
    const float fy = (ky + offsets[(2 * k) * cells + best]) / kGrid;
    const float fx = (kx + offsets[(2 * k + 1) * cells + best]) / kGrid;
    body.scores[k] = std::clamp(hk[best], 0.0f, 1.0f);
    body.points[k] = box.ToPicture(fx * kInput, fy * kInput);
  }
  return body;
}

}  // namespace sopilot
