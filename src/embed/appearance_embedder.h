// AppearanceEmbedder: "appearance-v1", what the picture shows.
//
// Each sampled frame goes through an image network's pooled features
// (MobileNetV2 1.4, ImageNet, 1792 values after ReLU6; converted at setup
// from nsfwjs, tools/models/): the whole picture, stretched to the network's
// square input so nothing at the edges is cut. A clip is the mean of its
// frames' features, L2-normalised. Frames shared by overlapping clips are
// run once.
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
  // output). `name` is what the embedding file records.
  static Result<std::unique_ptr<AppearanceEmbedder>> Open(const ModelInfo& model, std::string name = kName);

  std::string name() const override { return name_; }
  int dim() const override { return dim_; }
  Status Embed(const Clip& clip, float* out) override;

  int64_t frames_run() const { return frames_run_; }

 private:
  AppearanceEmbedder(std::unique_ptr<DnnModel> net, std::string name, int dim, int side, float scale, float offset);
  Result<const std::vector<float>*> FeaturesOf(const Frame& frame);

  std::unique_ptr<DnnModel> net_;
  std::string name_;
  int dim_;
  int side_;
  float scale_;
  float offset_;
  std::unordered_map<int64_t, std::vector<float>> cache_;  // by frame id
  int64_t frames_run_ = 0;
};

}  // namespace sopilot
