// PoseEmbedder: "pose-v1", what the hands do.
//
// Per sampled frame, HandTracker finds up to two hands (21 landmarks each).
// Each hand becomes 45 numbers: its landmarks relative to the wrist, divided
// by the hand's size (wrist to middle-finger base), so that where the hand is
// and how near the camera do not change its shape; and where the wrist is in
// the picture and how large the hand is. The two hands keep their slots from
// frame to frame (nearest wrist), so a hand that leaves the picture for a
// moment does not swap places with the other.
//
// BodyPose finds the person's 17 body keypoints (every other sampled frame:
// a body moves slower than fingers, and MoveNet costs as much as a hand);
// each visible keypoint (score >= kMinBodyScore) becomes its position
// relative to the shoulders' midpoint, divided by the shoulder width.
//
// A clip is four blocks, each L2-normalised and weighted:
//   shape   per slot: the mean hand over the frames it was seen, times the
//           fraction of frames it was seen, and that fraction (2 x 46);
//   motion  per slot: the mean absolute change of the hand between
//           consecutive frames where it was seen (2 x 45);
//   body    the mean keypoint positions (times the fraction seen), those
//           fractions, and the keypoints' mean absolute motion (34 + 17 + 34);
//   flow    MotionEmbedder's optical-flow orientation histograms (128).
// Missing detections are explicit: an unseen hand has fraction 0 and a zero
// block, not a made-up pose. The whole vector is L2-normalised.
//
// Why: on real footage every step has the same colours and place; what
// differs is the hands' pose and motion (doc/embedders.md has the figures).
//
// Thread safety: none; one instance per ingest.
#pragma once

#include <array>
#include <memory>
#include <unordered_map>

#include "embed/embedder.h"
#include "embed/body_pose.h"
#include "embed/hand_tracker.h"
#include "embed/motion_embedder.h"

namespace sopilot {

class PoseEmbedder : public Embedder {
 public:
  static constexpr const char* kName = "pose-v1";
  static constexpr int kHandFeatures = 45;  // 21 x (x, y) + wrist x, y + size
  static constexpr int kShapeBlock = 2 * (kHandFeatures + 1);
  static constexpr int kMotionBlock = 2 * kHandFeatures;
  static constexpr int kBodyFeatures = 3 * BodyKeypoints::kCount;  // x, y, seen
  static constexpr int kBodyBlock = kBodyFeatures + 2 * BodyKeypoints::kCount;
  static constexpr int kDim = kShapeBlock + kMotionBlock + kBodyBlock + MotionEmbedder::kDim;
  static constexpr float kMinBodyScore = 0.3f;
  // Block weights (doc/embedders.md): the hands' shape leads; their motion
  // and the flow of the whole picture support it.
  static constexpr float kShapeWeight = 1.0f;
  static constexpr float kMotionWeight = 0.5f;
  static constexpr float kBodyWeight = 0.5f;
  static constexpr float kFlowWeight = 0.7f;

  // Loads the palm detector, hand landmark and body networks (paths from
  // the model manifest, embed/model_manifest.h).
  static Result<std::unique_ptr<PoseEmbedder>> Open(const std::string& palm_model,
                                                    const std::string& landmark_model,
                                                    const std::string& body_model);

  std::string name() const override { return kName; }
  int dim() const override { return kDim; }
  Status Embed(const Clip& clip, float* out) override;

  // Frames whose hands were looked for so far (for tests and benchmarks).
  int64_t frames_tracked() const { return frames_tracked_; }

 private:
  struct FrameHands {
    std::array<bool, 2> seen{};
    std::array<std::array<float, kHandFeatures>, 2> hand{};
    std::array<float, kBodyFeatures> body{};  // x, y per keypoint (0 when unseen), then seen flags
  };
  PoseEmbedder(std::unique_ptr<HandTracker> tracker, std::unique_ptr<BodyPose> body);
  Result<const FrameHands*> HandsOf(const Frame& frame);

  std::unique_ptr<HandTracker> tracker_;
  std::unique_ptr<BodyPose> body_;
  std::array<float, kBodyFeatures> last_body_{};
  MotionEmbedder flow_;
  std::unordered_map<int64_t, FrameHands> cache_;  // by frame id
  // Last seen wrist per slot, picture fractions; starts left and right.
  std::array<cv::Point2f, 2> slot_wrist_{cv::Point2f(0.33f, 0.5f), cv::Point2f(0.67f, 0.5f)};
  int64_t frames_tracked_ = 0;
};

}  // namespace sopilot
