// OnnxSignature: the declared inputs and outputs of an ONNX model, read from
// the file's protobuf without building the network.
//
// Only the small fields are read; every large one (the weights) is skipped
// with a seek, so a 1.2 GB file costs a few thousand reads. A callee uses it
// to learn a model's shapes before (and without) running it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace sopilot {

struct OnnxTensorInfo {
  std::string name;
  // One entry per dimension: its value, or -1 when the file names it
  // symbolically (a free batch) or leaves it out.
  std::vector<int64_t> shape;
};

struct OnnxSignature {
  // The default-domain ("" or "ai.onnx") opset the model imports; -1 when
  // the file names none.
  int opset = -1;
  // graph.input in file order, without the weights that older exporters
  // also list as inputs (names of graph.initializer).
  std::vector<OnnxTensorInfo> inputs;
  std::vector<OnnxTensorInfo> outputs;  // graph.output, in file order
};

// NotFound when `path` does not exist; IOError when it cannot be read;
// Corruption (naming the path) when it is not a well-formed ONNX model with a
// graph. Never throws.
Result<OnnxSignature> ReadOnnxSignature(const std::string& path);

// "1x3x64x256x256" ("?" for -1), for messages.
std::string OnnxShapeString(const std::vector<int64_t>& shape);

}  // namespace sopilot
