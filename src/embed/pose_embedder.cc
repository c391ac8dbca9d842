#include "embed/pose_embedder.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "base/exception_border.h"
#include "embed/unit_vector.h"

namespace sopilot {
namespace {

// Scales block [begin, end) of v to length `weight` (a zero block stays zero).
void NormaliseBlock(std::vector<double>* v, int begin, int end, double weight) {
  double norm = 0;
  for (int i = begin; i < end; ++i) norm += (*v)[i] * (*v)[i];
  norm = std::sqrt(norm);
  if (norm <= 1e-12) return;
  for (int i = begin; i < end; ++i) (*v)[i] *= weight / norm;
}

// A hand's 45 numbers (pose_embedder.h), the picture `size` in pixels.
std::array<float, PoseEmbedder::kHandFeatures> HandFeatures(const HandLandmarks& hand, cv::Size size) {
  std::array<float, PoseEmbedder::kHandFeatures> f{};
  const cv::Point3f wrist = hand.points[0];
  const cv::Point3f mid = hand.points[9];
  const float scale = std::max(1.0f, std::hypot(mid.x - wrist.x, mid.y - wrist.y));
  for (int i = 0; i < 21; ++i) {
    f[2 * i] = std::clamp((hand.points[i].x - wrist.x) / scale, -4.0f, 4.0f);
    f[2 * i + 1] = std::clamp((hand.points[i].y - wrist.y) / scale, -4.0f, 4.0f);
  }
  const float diag = std::hypot(static_cast<float>(size.width), static_cast<float>(size.height));
  f[42] = wrist.x / std::max(1, size.width);
  f[43] = wrist.y / std::max(1, size.height);
  f[44] = scale / std::max(1.0f, diag);
  return f;
}

// A body's per-frame features (pose_embedder.h): positions relative to the
// shoulders' midpoint in shoulder widths, 0 for an unseen keypoint; then
// the seen flags.
std::array<float, PoseEmbedder::kBodyFeatures> BodyFeatures(const BodyKeypoints& body, cv::Size size) {
  constexpr int n = BodyKeypoints::kCount;
  std::array<float, PoseEmbedder::kBodyFeatures> f{};
  std::array<bool, n> seen{};
  int visible = 0;
  cv::Point2f mean(0, 0);
  for (int k = 0; k < n; ++k) {
    seen[k] = body.scores[k] >= PoseEmbedder::kMinBodyScore;
    if (seen[k]) {
      ++visible;
      mean += body.points[k];
    }
  }
  if (visible == 0) return f;
  cv::Point2f ref = mean / visible;
  float scale = 0.25f * std::hypot(static_cast<float>(size.width), static_cast<float>(size.height));
  if (seen[5] && seen[6]) {  // left and right shoulder
    ref = (body.points[5] + body.points[6]) / 2;
    scale = std::max(scale * 0.1f, static_cast<float>(cv::norm(body.points[5] - body.points[6])));
  }
  for (int k = 0; k < n; ++k) {
    if (!seen[k]) continue;
    f[2 * k] = std::clamp((body.points[k].x - ref.x) / scale, -6.0f, 6.0f);
    f[2 * k + 1] = std::clamp((body.points[k].y - ref.y) / scale, -6.0f, 6.0f);
    f[2 * n + k] = 1.0f;
  }
  return f;
}

}  // namespace

PoseEmbedder::PoseEmbedder(std::unique_ptr<HandTracker> tracker, std::unique_ptr<BodyPose> body)
    : tracker_(std::move(tracker)), body_(std::move(body)) {}

Result<std::unique_ptr<PoseEmbedder>> PoseEmbedder::Open(const std::string& palm_model,
                                                         const std::string& landmark_model,
                                                         const std::string& body_model) {
  SOPILOT_ASSIGN_OR_RETURN(std::unique_ptr<HandTracker> tracker, HandTracker::Open(palm_model, landmark_model));
  SOPILOT_ASSIGN_OR_RETURN(std::unique_ptr<BodyPose> body, BodyPose::Open(body_model));
  return std::unique_ptr<PoseEmbedder>(new PoseEmbedder(std::move(tracker), std::move(body)));
}

Result<const PoseEmbedder::FrameHands*> PoseEmbedder::HandsOf(const Frame& frame) {
  auto it = cache_.find(frame.id);
  if (it != cache_.end()) return &it->second;
  SOPILOT_ASSIGN_OR_RETURN(std::vector<HandLandmarks> hands, tracker_->Find(frame.rgb));
  FrameHands fh;
  // The body on every other sampled frame; the frames between keep the last.
  if (frames_tracked_ % 2 == 0) {
    SOPILOT_ASSIGN_OR_RETURN(BodyKeypoints body, body_->Find(frame.rgb));
    last_body_ = BodyFeatures(body, frame.rgb.size());
  }
  fh.body = last_body_;
  ++frames_tracked_;
  const float w = static_cast<float>(std::max(1, frame.rgb.cols)), h = static_cast<float>(std::max(1, frame.rgb.rows));
  auto wrist_of = [&](const HandLandmarks& hand) { return cv::Point2f(hand.points[0].x / w, hand.points[0].y / h); };
  auto dist = [](cv::Point2f a, cv::Point2f b) { return std::hypot(a.x - b.x, a.y - b.y); };
  std::array<int, 2> slot_of{-1, -1};  // hand index -> slot
  if (hands.size() == 2) {
    // Keep the pairing that moves the wrists least from their last places.
    const float straight = dist(wrist_of(hands[0]), slot_wrist_[0]) + dist(wrist_of(hands[1]), slot_wrist_[1]);
    const float crossed = dist(wrist_of(hands[0]), slot_wrist_[1]) + dist(wrist_of(hands[1]), slot_wrist_[0]);
    slot_of = straight <= crossed ? std::array<int, 2>{0, 1} : std::array<int, 2>{1, 0};
  } else if (hands.size() == 1) {
    slot_of[0] = dist(wrist_of(hands[0]), slot_wrist_[0]) <= dist(wrist_of(hands[0]), slot_wrist_[1]) ? 0 : 1;
  }
  for (size_t i = 0; i < hands.size() && i < 2; ++i) {
    const int slot = slot_of[i];
    fh.seen[slot] = true;
    fh.hand[slot] = HandFeatures(hands[i], frame.rgb.size());
    slot_wrist_[slot] = wrist_of(hands[i]);
  }
  return &(cache_[frame.id] = fh);
}

Status PoseEmbedder::Embed(const Clip& clip, float* out) {
  const int T = static_cast<int>(clip.frames.size());
  if (T == 0) return Status::InvalidArgument("cannot embed a clip without frames");
  return CallGuarded("pose-v1 embedding", [&]() -> Status {
    const int64_t first_id = clip.frames.front()->id;
    std::erase_if(cache_, [&](const auto& kv) { return kv.first < first_id; });

    std::vector<const FrameHands*> frames;
    frames.reserve(T);
    for (const FramePtr& f : clip.frames) {
      SOPILOT_ASSIGN_OR_RETURN(const FrameHands* fh, HandsOf(*f));
      frames.push_back(fh);
    }
    std::vector<double> v(kDim, 0.0);
    for (int slot = 0; slot < 2; ++slot) {
      // Shape: the mean hand where seen, times the fraction seen.
      double* shape = &v[slot * (kHandFeatures + 1)];
      int seen = 0;
      for (const FrameHands* fh : frames) {
        if (!fh->seen[slot]) continue;
        ++seen;
        for (int i = 0; i < kHandFeatures; ++i) shape[i] += fh->hand[slot][i];
      }
      const double fraction = static_cast<double>(seen) / T;
      if (seen > 0) {
        for (int i = 0; i < kHandFeatures; ++i) shape[i] = shape[i] / seen * fraction;
      }
      shape[kHandFeatures] = fraction;
      // Motion: mean absolute change between consecutive sightings.
      double* motion = &v[kShapeBlock + slot * kHandFeatures];
      int pairs = 0;
      for (int t = 0; t + 1 < T; ++t) {
        if (!frames[t]->seen[slot] || !frames[t + 1]->seen[slot] || clip.frames[t]->id == clip.frames[t + 1]->id) {
          continue;
        }
        ++pairs;
        for (int i = 0; i < kHandFeatures; ++i) {
          motion[i] += std::abs(frames[t + 1]->hand[slot][i] - frames[t]->hand[slot][i]);
        }
      }
      if (pairs > 0) {
        for (int i = 0; i < kHandFeatures; ++i) motion[i] /= pairs;
      }
    }
    // Body: mean positions and seen fractions, then mean motion.
    constexpr int n = BodyKeypoints::kCount;
    const int body_begin = kShapeBlock + kMotionBlock;
    double* body = &v[body_begin];
    for (const FrameHands* fh : frames) {
      for (int i = 0; i < kBodyFeatures; ++i) body[i] += fh->body[i] / T;
    }
    int body_pairs = 0;
    for (int t = 0; t + 1 < T; ++t) {
      if (clip.frames[t]->id == clip.frames[t + 1]->id) continue;
      ++body_pairs;
      for (int k = 0; k < n; ++k) {
        if (frames[t]->body[2 * n + k] == 0 || frames[t + 1]->body[2 * n + k] == 0) continue;
        body[kBodyFeatures + 2 * k] += std::abs(frames[t + 1]->body[2 * k] - frames[t]->body[2 * k]);
        body[kBodyFeatures + 2 * k + 1] += std::abs(frames[t + 1]->body[2 * k + 1] - frames[t]->body[2 * k + 1]);
      }
    }
    if (body_pairs > 0) {
      for (int i = kBodyFeatures; i < kBodyBlock; ++i) body[i] /= body_pairs;
    }

    std::vector<float> flow(MotionEmbedder::kDim);
    SOPILOT_RETURN_IF_ERROR(flow_.Embed(clip, flow.data()));
    const int flow_begin = body_begin + kBodyBlock;
    for (int i = 0; i < MotionEmbedder::kDim; ++i) v[flow_begin + i] = flow[i];

    NormaliseBlock(&v, 0, kShapeBlock, kShapeWeight);
    NormaliseBlock(&v, kShapeBlock, body_begin, kMotionWeight);
    NormaliseBlock(&v, body_begin, flow_begin, kBodyWeight);
    NormaliseBlock(&v, flow_begin, kDim, kFlowWeight);
    WriteUnitVector(v, out);
    return Status::Ok();
  });
}

}  // namespace sopilot
