#include "embed/appearance_embedder.h"

#include <algorithm>
#include <cmath>

#include <opencv2/core/utility.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include "base/exception_border.h"
#include "embed/model_manifest.h"
#include "embed/unit_vector.h"

namespace sopilot {

AppearanceEmbedder::AppearanceEmbedder(std::vector<std::unique_ptr<DnnModel>> nets, std::string name, int dim,
                                       int side, float scale, float offset)
    : nets_(std::move(nets)), name_(std::move(name)), dim_(dim), side_(side), scale_(scale), offset_(offset) {}

Result<std::unique_ptr<AppearanceEmbedder>> AppearanceEmbedder::Open(const ModelInfo& model, std::string name,
                                                                     int parallel_frames) {
  const std::vector<int>& in = model.input.shape;
  if (in.size() != 4 || in[1] != 3 || in[2] != in[3] || in[2] <= 0) {
    return Status::InvalidArgument(model.path + ": an appearance model needs a square RGB input, not " +
                                   ShapeString(in));
  }
  if (model.outputs.size() != 1 || model.outputs[0].shape.size() != 2) {
    return Status::InvalidArgument(model.path + ": an appearance model needs one pooled output (batch x features)");
  }
  if (parallel_frames < 0) return Status::InvalidArgument("parallel_frames must be 0 (automatic) or more");
  if (parallel_frames == 0) parallel_frames = cv::getNumThreads();
  parallel_frames = std::clamp(parallel_frames, 1, kMaxParallelFrames);
  const int dim = model.outputs[0].shape[1];
  std::vector<std::unique_ptr<DnnModel>> nets;
  for (int i = 0; i < parallel_frames; ++i) {
    SOPILOT_ASSIGN_OR_RETURN(std::unique_ptr<DnnModel> net, DnnModel::Load(model.path, model.signature()));
    nets.push_back(std::move(net));
  }
  return std::unique_ptr<AppearanceEmbedder>(
      new AppearanceEmbedder(std::move(nets), std::move(name), dim, in[2], model.input.scale, model.input.offset));
}

Result<std::vector<float>> AppearanceEmbedder::Run(DnnModel& net, const Frame& frame) const {
  cv::Mat square;
  cv::resize(frame.rgb, square, cv::Size(side_, side_), 0, 0, cv::INTER_AREA);
  // blobFromImage computes (pixel - mean) * scale; the manifest gives
  // pixel * scale + offset, so mean = -offset / scale.
  const double mean = scale_ != 0 ? -offset_ / scale_ : 0.0;
  cv::Mat blob = cv::dnn::blobFromImage(square, scale_, cv::Size(), cv::Scalar(mean, mean, mean), false, false);
  SOPILOT_ASSIGN_OR_RETURN(std::vector<cv::Mat> outs, net.Run(blob));
  if (static_cast<int>(outs[0].total()) != dim_) {
    return Status::Internal(net.path() + ": the model gave " + std::to_string(outs[0].total()) +
                            " features; expected " + std::to_string(dim_));
  }
  const float* f = outs[0].ptr<float>();
  return std::vector<float>(f, f + dim_);
}

Status AppearanceEmbedder::RunUncached(const std::vector<FramePtr>& frames) {
  std::vector<const Frame*> todo;
  for (const FramePtr& f : frames) {
    if (!cache_.contains(f->id)) todo.push_back(f.get());
  }
  if (todo.empty()) return Status::Ok();
  const int lanes = std::min(static_cast<int>(nets_.size()), static_cast<int>(todo.size()));
  std::vector<Result<std::vector<float>>> got(todo.size(), Status::Internal("not run"));
  // Lane k runs frames k, k + lanes, ... on nets_[k]; OpenCV's pool runs the
  // lanes side by side (a lane's own layers then share the same threads).
  auto lane = [&](const cv::Range& r) {
    for (int k = r.start; k < r.end; ++k) {
      for (size_t i = k; i < todo.size(); i += lanes) {
        // DnnModel::Run returns OpenCV's errors as values; nothing else in
        // here throws but allocation, which must not cross OpenCV's pool.
        try {
          got[i] = Run(*nets_[k], *todo[i]);
        } catch (const std::exception& e) {
          got[i] = Status::Internal(name_ + ": " + e.what());
        }
      }
    }
  };
  if (lanes == 1) {
    lane(cv::Range(0, 1));
  } else {
    cv::parallel_for_(cv::Range(0, lanes), lane, lanes);
  }
  for (size_t i = 0; i < todo.size(); ++i) {
    if (!got[i].ok()) return got[i].status();
    cache_[todo[i]->id] = std::move(got[i]).value();
    ++frames_run_;
  }
  return Status::Ok();
}

Status AppearanceEmbedder::Embed(const Clip& clip, float* out) {
  const int T = static_cast<int>(clip.frames.size());
  if (T == 0) return Status::InvalidArgument("cannot embed a clip without frames");
  return CallGuarded(name_ + " embedding", [&]() -> Status {
    const int64_t first_id = clip.frames.front()->id;
    std::erase_if(cache_, [&](const auto& kv) { return kv.first < first_id; });
    SOPILOT_RETURN_IF_ERROR(RunUncached(clip.frames));
    std::vector<double> v(dim_, 0.0);
    for (const FramePtr& f : clip.frames) {
      const std::vector<float>& feat = cache_.at(f->id);
      for (int i = 0; i < dim_; ++i) v[i] += feat[i];
    }
    WriteUnitVector(v, out);
    return Status::Ok();
  });
}

}  // namespace sopilot
