// DnnModel: one ONNX network, run through OpenCV DNN, checked against the
// signature its caller expects.
//
// Every learned embedder (pose-v1, appearance-v1, vjepa2) runs its networks
// through this class, so that a missing, corrupt or mismatched model file is
// one clear error and never a crash: OpenCV's exceptions are caught here.
//
// Shapes are lists of dimensions; -1 in a signature means "any" (the batch
// dimension of a network exported with a dynamic batch).
//
// Thread safety: none. cv::dnn::Net::forward mutates the network; use one
// DnnModel per thread. One Run spreads each layer over cv::getNumThreads()
// threads, which for a small network at batch 1 keeps the other cores
// mostly waiting: appearance-v1 runs frames on several DnnModels at once.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "base/status.h"

namespace sopilot {

struct ModelSignature {
  // The input blob's shape, e.g. {1, 3, 224, 224} or {-1, 3, 224, 224}.
  std::vector<int> input;
  // The outputs Run returns, by layer name, in this order; empty means the
  // network's own unconnected outputs in OpenCV's order.
  std::vector<std::string> output_names;
  // Expected shape of each output (same order; -1 = any); empty = unchecked.
  std::vector<std::vector<int>> outputs;
  // The highest ONNX opset this code was checked with; a file that imports a
  // newer default-domain opset is refused with a message saying so.
  int max_opset = 13;
};

// The default-domain opset an ONNX file imports, read from its header
// without OpenCV (a protobuf scan). Corruption when the file is not an ONNX
// model; NotFound when it does not exist.
Result<int> OnnxOpset(const std::string& path);

class DnnModel {
 public:
  // Reads `path` and runs it once on zeros of the signature's input shape
  // (batch 1 where the batch is free) to check every output's shape.
  // Errors: NotFound (no file), Corruption (not a model OpenCV can read;
  // the message carries OpenCV's reason), Unsupported (opset too new),
  // InvalidArgument (an input or output shape differs from the signature,
  // with both shapes in the message). Every message starts with the path.
  static Result<std::unique_ptr<DnnModel>> Load(const std::string& path, const ModelSignature& signature);

  ~DnnModel();
  DnnModel(const DnnModel&) = delete;
  DnnModel& operator=(const DnnModel&) = delete;

  // Runs one batch. `input` is an N-dimensional CV_32F blob whose shape
  // matches the signature (a fixed batch of 1 accepts only 1; a free batch
  // any n >= 1). Returns one CV_32F Mat per output, owned by the caller
  // (copies, valid after the next Run). Errors: InvalidArgument for a blob
  // of the wrong shape or type; Internal when OpenCV throws.
  Result<std::vector<cv::Mat>> Run(const cv::Mat& input);

  // The largest batch one Run accepts: 1 for a network with a fixed batch
  // of 1, otherwise kMaxBatch.
  int max_batch() const;
  static constexpr int kMaxBatch = 16;

  const std::string& path() const;
  const ModelSignature& signature() const;

 private:
  struct Impl;
  explicit DnnModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// "1x3x224x224", for messages.
std::string ShapeString(const std::vector<int>& shape);

}  // namespace sopilot
