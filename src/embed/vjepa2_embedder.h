// VJepa2Embedder: "vjepa2", a V-JEPA2 video encoder exported by the user
// (tools/vjepa2/export_vjepa2.py; doc/embedders.md, "vjepa2") and run with
// OpenCV DNN.
//
// The model file fixes the signature: input 1 x 3 x T x S x S, output 1 x D
// (mean-pooled) or 1 x N x D (tokens, pooled here by their mean). T and S are
// read from the file, and each clip is prepared as the Python original
// prepared it (original-core.md §4.2):
//   1. its F frames resampled to T: frame floor(k (F-1) / (T-1)) for k < T,
//      with numpy's linspace arithmetic (so a 2 s clip of 8 frames becomes
//      each frame 8 times for T = 64);
//   2. scaled to [0,1] and resized to S x S, bilinear, half-pixel centres
//      (align_corners=False), no antialias, aspect ratio not kept;
//   3. (x - mean) / std per channel with ImageNet's mean and std, laid out
//      C x T x H x W.
// The output is L2-normalised (all zero when its norm is below 1e-12).
//
// Name: "vjepa2:" + the first 12 hex digits of the model file's SHA-256, so
// that embeddings of two different exports (other weights, frames or size)
// never compare. Hashing a 1.2 GB export takes a few seconds; it is done
// once per file per process.
//
// Open() reads only the file's header and hash; the network is built (by
// DnnModel, which runs it once on zeros) by the first Embed or Load, and a
// file OpenCV cannot run fails there, as a Status. One Embed runs one clip: an export has a fixed batch of 1
// (tools/vjepa2/vjepa2_onnx.py says why), and OpenCV uses every core inside
// each layer.
//
// Thread safety: none; one instance per ingest.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <opencv2/core.hpp>

#include "embed/dnn_model.h"
#include "embed/embedder.h"

namespace sopilot {

struct VJepa2Signature {
  int frames = 0;  // T
  int size = 0;    // S
  int dim = 0;     // D
  bool tokens = false;  // the output is 1 x N x D, pooled here
};

class VJepa2Embedder : public Embedder {
 public:
  static constexpr const char* kName = "vjepa2";
  static constexpr const char* kModelEnv = "SOPILOT_VJEPA2_MODEL";

  // InvalidArgument when `model_path` is empty (the message says how to set
  // SOPILOT_VJEPA2_MODEL); NotFound for a missing file; Corruption for a
  // file that is not an ONNX model; InvalidArgument for one whose input is
  // not 1 x 3 x T x S x S or whose output is not 1 x D or 1 x N x D. Every
  // message names the file.
  static Result<std::unique_ptr<VJepa2Embedder>> Open(const std::string& model_path);

  ~VJepa2Embedder() override;

  std::string name() const override { return name_; }
  int dim() const override { return signature_.dim; }
  Status Embed(const Clip& clip, float* out) override;

  // Builds the network if it is not built yet: DnnModel::Load's errors
  // (Corruption when OpenCV cannot read the file; InvalidArgument when it
  // does not run, or gives another output shape than the header declares).
  Status Load();
  // Runs the network on a prepared 1 x 3 x T x S x S blob; writes dim()
  // floats, pooled but not normalised.
  Status Run(const cv::Mat& blob, float* out);

  const VJepa2Signature& signature() const { return signature_; }
  const std::string& path() const { return path_; }

  // Steps 1-3 above for `frames` (CV_8UC3, RGB): a CV_32F blob of
  // 1 x 3 x T x S x S.
  static cv::Mat Prepare(const std::vector<cv::Mat>& frames, int T, int S);
  // Which of `count` frames fills each of T places (step 1).
  static std::vector<int> ResampleIndices(int count, int T);

 private:
  VJepa2Embedder(std::string path, std::string name, VJepa2Signature signature);
  // One frame resized and normalised: 3 planes of S x S, CV_32F.
  static cv::Mat PrepareFrame(const cv::Mat& rgb, int S);
  // The blob for a clip whose frames, prepared, are `prepared`.
  static cv::Mat Assemble(const std::vector<const cv::Mat*>& prepared, int T, int S);
  const cv::Mat& FrameOf(const Frame& f);

  std::string path_;
  std::string name_;
  VJepa2Signature signature_;
  std::unique_ptr<DnnModel> net_;
  std::unordered_map<int64_t, cv::Mat> frame_cache_;  // by frame id
};

}  // namespace sopilot
