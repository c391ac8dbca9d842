#include "embed/hand_tracker.h"

#include <algorithm>
#include <cmath>

#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include "embed/letterbox.h"

namespace sopilot {
namespace {

// MediaPipe's SSD anchors for the 256 x 256 palm detector: a 32 x 32 grid
// with 2 anchors per cell, 16 x 16 with 2, and 8 x 8 with 6, row by row,
// each centred in its cell (fixed anchor size, so only centres matter).
std::vector<cv::Point2f> PalmAnchors() {
  std::vector<cv::Point2f> anchors;
  anchors.reserve(HandTracker::kAnchors);
  const struct { int grid, per_cell; } layers[] = {{32, 2}, {16, 2}, {8, 6}};
  for (const auto& layer : layers) {
    for (int y = 0; y < layer.grid; ++y) {
      for (int x = 0; x < layer.grid; ++x) {
        for (int k = 0; k < layer.per_cell; ++k) {
          anchors.emplace_back((x + 0.5f) / layer.grid, (y + 0.5f) / layer.grid);
        }
      }
    }
  }
  return anchors;
}

float Sigmoid(float x) { return 1.0f / (1.0f + std::exp(-std::clamp(x, -60.0f, 60.0f))); }

// The square crop a hand's landmarks are read from, as MediaPipe derives it
// from a palm: rotated so that wrist -> middle finger base points up, moved
// half a palm towards the fingers, 2.6 palms wide.
struct HandCrop {
  cv::Point2f centre;
  float side = 0;
  float rotation = 0;  // radians
  // Crop pixel (u, v) of a kLandmarkInput-sized crop -> picture pixel.
  cv::Point2f ToPicture(float u, float v) const {
    const float s = side / HandTracker::kLandmarkInput;
    const float dx = (u - HandTracker::kLandmarkInput / 2.0f) * s;
    const float dy = (v - HandTracker::kLandmarkInput / 2.0f) * s;
    const float c = std::cos(rotation), sn = std::sin(rotation);
    return {centre.x + c * dx - sn * dy, centre.y + sn * dx + c * dy};
  }
};

HandCrop CropFromPalm(const cv::Rect2f& box, const cv::Point2f& wrist, const cv::Point2f& middle_base) {
  HandCrop crop;
  float r = static_cast<float>(M_PI / 2 - std::atan2(-(middle_base.y - wrist.y), middle_base.x - wrist.x));
  r = static_cast<float>(r - 2 * M_PI * std::floor((r + M_PI) / (2 * M_PI)));
  crop.rotation = r;
  const float w = box.width, h = box.height;
  const cv::Point2f c(box.x + w / 2, box.y + h / 2);
  // MediaPipe's RectTransformation with shift_y = -0.5, scale 2.6, square_long.
  crop.centre = {c.x + 0.5f * h * std::sin(r), c.y - 0.5f * h * std::cos(r)};
  crop.side = std::max(w, h) * 2.6f;
  return crop;
}

}  // namespace

HandTracker::HandTracker(std::unique_ptr<DnnModel> palm, std::unique_ptr<DnnModel> landmarks)
    : palm_(std::move(palm)), landmarks_(std::move(landmarks)), anchors_(PalmAnchors()) {}

Result<std::unique_ptr<HandTracker>> HandTracker::Open(const std::string& palm_model,
                                                       const std::string& landmark_model) {
  ModelSignature palm_sig;
  palm_sig.input = {1, 3, kPalmInput, kPalmInput};
  palm_sig.outputs = {{1, kAnchors, 19}};
  SOPILOT_ASSIGN_OR_RETURN(std::unique_ptr<DnnModel> palm, DnnModel::Load(palm_model, palm_sig));
  ModelSignature hand_sig;
  hand_sig.input = {1, 3, kLandmarkInput, kLandmarkInput};
  // The converted network's outputs, by name (tools/models/README.md):
  // screen landmarks (21 x 3, crop pixels) and hand presence (after sigmoid).
  hand_sig.output_names = {"landmarks", "presence"};
  hand_sig.outputs = {{1, 63}, {1, 1}};
  SOPILOT_ASSIGN_OR_RETURN(std::unique_ptr<DnnModel> hand, DnnModel::Load(landmark_model, hand_sig));
  return std::unique_ptr<HandTracker>(new HandTracker(std::move(palm), std::move(hand)));
}

Result<std::vector<HandTracker::Palm>> HandTracker::FindPalms(const cv::Mat& rgb) {
  // Letterboxed into the square input, so the picture is not stretched.
  const Letterbox box = Letterbox::Of(rgb, kPalmInput);
  // The detector takes RGB in [-1, 1].
  cv::Mat blob =
      cv::dnn::blobFromImage(box.square, 1.0 / 127.5, cv::Size(), cv::Scalar(127.5, 127.5, 127.5), false, false);
  SOPILOT_ASSIGN_OR_RETURN(std::vector<cv::Mat> out, palm_->Run(blob));
  const float* raw = out[0].ptr<float>();

  std::vector<cv::Rect2d> boxes;
  std::vector<float> scores;
  std::vector<int> index;
  for (int a = 0; a < kAnchors; ++a) {
    const float* r = raw + a * 19;
    const float score = Sigmoid(r[0]);
    if (score < kMinPalmScore) continue;
    const float cx = r[1] / kPalmInput + anchors_[a].x, cy = r[2] / kPalmInput + anchors_[a].y;
    const float bw = r[3] / kPalmInput, bh = r[4] / kPalmInput;
    if (!(bw > 0 && bh > 0 && bw < 2 && bh < 2)) continue;
    boxes.emplace_back(cx - bw / 2, cy - bh / 2, bw, bh);
    scores.push_back(score);
    index.push_back(a);
  }
  std::vector<int> keep;
  cv::dnn::NMSBoxes(boxes, scores, kMinPalmScore, 0.3f, keep, 1.0f, kMaxHands * 2);
  auto to_picture = [&](float nx, float ny) { return box.ToPicture(nx * kPalmInput, ny * kPalmInput); };
  std::vector<Palm> palms;
  for (int k : keep) {
    const float* r = raw + index[k] * 19;
    Palm p;
    p.score = scores[k];
    const cv::Point2f tl = to_picture(static_cast<float>(boxes[k].x), static_cast<float>(boxes[k].y));
    const cv::Point2f br = to_picture(static_cast<float>(boxes[k].x + boxes[k].width),
                                      static_cast<float>(boxes[k].y + boxes[k].height));
    p.box = cv::Rect2f(tl, br);
    const cv::Point2f anchor = anchors_[index[k]];
    for (int i = 0; i < 7; ++i) {
      p.kp[i] = to_picture(r[5 + 2 * i] / kPalmInput + anchor.x, r[6 + 2 * i] / kPalmInput + anchor.y);
    }
    palms.push_back(p);
  }
  return palms;
}

Result<bool> HandTracker::ReadHand(const cv::Mat& rgb, const Palm& palm, HandLandmarks* out) {
  const HandCrop crop = CropFromPalm(palm.box, palm.kp[0], palm.kp[2]);
  if (!(crop.side > 1)) return false;
  // Output pixel (u, v) samples the picture at crop.ToPicture(u, v): the
  // inverse map, an affine transform.
  const cv::Point2f o = crop.ToPicture(0, 0), ex = crop.ToPicture(1, 0), ey = crop.ToPicture(0, 1);
  cv::Mat inverse = (cv::Mat_<double>(2, 3) << ex.x - o.x, ey.x - o.x, o.x, ex.y - o.y, ey.y - o.y, o.y);
  cv::Mat patch;
  cv::warpAffine(rgb, patch, inverse, cv::Size(kLandmarkInput, kLandmarkInput),
                 cv::INTER_LINEAR | cv::WARP_INVERSE_MAP, cv::BORDER_CONSTANT, cv::Scalar(0, 0, 0));
  // The landmark network takes RGB in [0, 1].
  cv::Mat blob = cv::dnn::blobFromImage(patch, 1.0 / 255.0, cv::Size(), cv::Scalar(), false, false);
  SOPILOT_ASSIGN_OR_RETURN(std::vector<cv::Mat> outs, landmarks_->Run(blob));
  const float* lm = outs[0].ptr<float>();
  const float presence = outs[1].ptr<float>()[0];
  if (!(presence >= kMinPresence)) return false;
  out->palm_score = palm.score;
  out->presence = presence;
  const float z_scale = crop.side / kLandmarkInput;
  for (int i = 0; i < 21; ++i) {
    const cv::Point2f p = crop.ToPicture(lm[3 * i], lm[3 * i + 1]);
    out->points[i] = cv::Point3f(p.x, p.y, lm[3 * i + 2] * z_scale);
  }
  return true;
}

Result<std::vector<HandLandmarks>> HandTracker::Find(const cv::Mat& rgb) {
  if (rgb.empty() || rgb.type() != CV_8UC3) return Status::InvalidArgument("hand tracking needs an RGB picture");
  SOPILOT_ASSIGN_OR_RETURN(std::vector<Palm> palms, FindPalms(rgb));
  std::vector<HandLandmarks> hands;
  for (const Palm& palm : palms) {
    HandLandmarks hand;
    SOPILOT_ASSIGN_OR_RETURN(bool found, ReadHand(rgb, palm, &hand));
    if (!found) continue;
    // Two palms of one hand give the same landmarks: keep the first (best).
    const float size = static_cast<float>(cv::norm(hand.points[9] - hand.points[0]));
    bool duplicate = false;
    for (const HandLandmarks& other : hands) {
      const cv::Point3f d = other.points[9] - hand.points[9];
      if (std::hypot(d.x, d.y) < 0.5f * std::max(size, 1.0f)) duplicate = true;
    }
    if (!duplicate) hands.push_back(hand);
    if (static_cast<int>(hands.size()) == kMaxHands) break;
  }
  std::sort(hands.begin(), hands.end(),
            [](const HandLandmarks& a, const HandLandmarks& b) { return a.points[0].x < b.points[0].x; });
  return hands;
}

}  // namespace sopilot
