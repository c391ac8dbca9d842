#include "embed/appearance_embedder.h"

#include <cmath>

#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include "base/exception_border.h"
#include "embed/model_manifest.h"
#include "embed/unit_vector.h"

namespace sopilot {

AppearanceEmbedder::AppearanceEmbedder(std::unique_ptr<DnnModel> net, std::string name, int dim, int side,
                                       float scale, float offset)
    : net_(std::move(net)), name_(std::move(name)), dim_(dim), side_(side), scale_(scale), offset_(offset) {}

Result<std::unique_ptr<AppearanceEmbedder>> AppearanceEmbedder::Open(const ModelInfo& model, std::string name) {
  const std::vector<int>& in = model.input.shape;
  if (in.size() != 4 || in[1] != 3 || in[2] != in[3] || in[2] <= 0) {
    return Status::InvalidArgument(model.path + ": an appearance model needs a square RGB input, not " +
                                   ShapeString(in));
  }
  if (model.outputs.size() != 1 || model.outputs[0].shape.size() != 2) {
    return Status::InvalidArgument(model.path + ": an appearance model needs one pooled output (batch x features)");
  }
  const int dim = model.outputs[0].shape[1];
  SOPILOT_ASSIGN_OR_RETURN(std::unique_ptr<DnnModel> net, DnnModel::Load(model.path, model.signature()));
  return std::unique_ptr<AppearanceEmbedder>(
      new AppearanceEmbedder(std::move(net), std::move(name), dim, in[2], model.input.scale, model.input.offset));
}

Result<const std::vector<float>*> AppearanceEmbedder::FeaturesOf(const Frame& frame) {
  auto it = cache_.find(frame.id);
  if (it != cache_.end()) return &it->second;
  cv::Mat square;
  cv::resize(frame.rgb, square, cv::Size(side_, side_), 0, 0, cv::INTER_AREA);
  // blobFromImage computes (pixel - mean) * scale; the manifest gives
  // pixel * scale + offset, so mean = -offset / scale.
  const double mean = scale_ != 0 ? -offset_ / scale_ : 0.0;
  cv::Mat blob = cv::dnn::blobFromImage(square, scale_, cv::Size(), cv::Scalar(mean, mean, mean), false, false);
  SOPILOT_ASSIGN_OR_RETURN(std::vector<cv::Mat> outs, net_->Run(blob));
  ++frames_run_;
  const float* f = outs[0].ptr<float>();
  if (static_cast<int>(outs[0].total()) != dim_) {
    return Status::Internal(net_->path() + ": the model gave " + std::to_string(outs[0].total()) +
                            " features; expected " + std::to_string(dim_));
  }
  return &(cache_[frame.id] = std::vector<float>(f, f + dim_));
}

Status AppearanceEmbedder::Embed(const Clip& clip, float* out) {
  const int T = static_cast<int>(clip.frames.size());
  if (T == 0) return Status::InvalidArgument("cannot embed a clip without frames");
  return CallGuarded(name_ + " embedding", [&]() -> Status {
    const int64_t first_id = clip.frames.front()->id;
    std::erase_if(cache_, [&](const auto& kv) { return kv.first < first_id; });
    std::vector<double> v(dim_, 0.0);
    for (const FramePtr& f : clip.frames) {
      SOPILOT_ASSIGN_OR_RETURN(const std::vector<float>* feat, FeaturesOf(*f));
      for (int i = 0; i < dim_; ++i) v[i] += (*feat)[i];
    }
    WriteUnitVector(v, out);
    return Status::Ok();
  });
}

}  // namespace sopilot
