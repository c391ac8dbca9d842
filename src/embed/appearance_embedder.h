// AppearanceEmbedder: "appearance-v1", what the picture shows.
//
// Each sampled frame goes through an image network's pooled features
// (MobileNetV2 1.4, ImageNet, 1792 values after ReLU6; converted at setup
// from nsfwjs, tools/models/): the whole picture, stretched to the network's
// square input so nothing at the edges is cut. A clip is the mean of its
// frames' features, L2-normalised. Frames shared by overlapping clips are
// run once.
//
// A clip's new frames run side by side, each on its own copy of the network
// (`parallel_frames` copies). One network run on 2 cores keeps the second
// core mostly waiting (MobileNetV2's layers are small at batch 1), so frames
// in parallel give nearly twice the frames per wall second for the same
// work; the vectors are the same whatever the number of copies
// (doc/embedders.md, "Speed").
//
// Why: a learned description of objects and textures tells a tool or part
// in the hands apart where colour statistics cannot (doc/embedders.md has
// the measurements and the comparison with the CenterNet backbone).
//
// Thread safety: none; one instance per ingest.
#pragma once

#include <memory>
#include <unordered_map>
#include <vector>

#include "embed/dnn_model.h"
#include "embed/embedder.h"

namespace sopilot {

struct ModelInfo;

class AppearanceEmbedder : public Embedder {
 public:
  static constexpr const char* kName = "appearance-v1";

  // `model` is the manifest's entry (input size, scale, offset; one pooled
  // output). `name` is what the embedding file records. `parallel_frames`:
  // how many frames run at once, each on a network of its own (about 30 MB
  // each); 0 = cv::getNumThreads(), at most kMaxParallelFrames.
  static Result<std::unique_ptr<AppearanceEmbedder>> Open(const ModelInfo& model, std::string name = kName,
                                                          int parallel_frames = 0);
  static constexpr int kMaxParallelFrames = 4;

  std::string name() const override { return name_; }
  int dim() const override { return dim_; }
  Status Embed(const Clip& clip, float* out) override;

  int64_t frames_run() const { return frames_run_; }
  int parallel_frames() const { return static_cast<int>(nets_.size()); }

 private:
  AppearanceEmbedder(std::vector<std::unique_ptr<DnnModel>> nets, std::string name, int dim, int side, float scale,
                     float offset);
  // The network's features of `frame`, for frames not in cache_.
  Result<std::vector<float>> Run(DnnModel& net, const Frame& frame) const;
  // Runs every frame of `frames` not in cache_ and caches its features.
  Status RunUncached(const std::vector<FramePtr>& frames);

  std::vector<std::unique_ptr<DnnModel>> nets_;  // one per frame in flight
  std::string name_;
  int dim_;
  int side_;
  float scale_;
  float offset_;
  std::unordered_map<int64_t, std::vector<float>> cache_;  // by frame id
  int64_t frames_run_ = 0;
};

}  // namespace sopilot
