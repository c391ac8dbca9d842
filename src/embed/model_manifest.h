// ModelManifest: the learned models scripts/install-models.sh installed, as
// <models dir>/manifest.json describes them (tools/models/build_models.py
// writes it; doc/models.md explains each model).
//
// Load reads the manifest and checks every model file it names: present,
// and with the sha256 the manifest records. A learned embedder asks Find for
// its model by name and gets the file's path, the input the original model
// expects (shape, colour order, value scale) and its outputs' names and
// shapes, ready for DnnModel::Load.
//
// Errors are values, each naming the path and saying what to run:
//   NotFound     no models directory, no manifest.json, a model file missing,
//                or (Find) a model the manifest does not list;
//   Corruption   manifest.json is not valid JSON or lacks a field, or a
//                model file's sha256 differs from the manifest's.
//
// Thread safety: a loaded ModelManifest is immutable; share it freely.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "embed/dnn_model.h"

namespace sopilot {

// What the network's input blob must hold. Blobs are NCHW float32; the
// value of each channel is pixel * scale + offset, pixel the 0..255 value
// in `channels` order ("RGB").
struct ModelInput {
  std::string name;
  std::vector<int> shape;  // e.g. {1, 3, 224, 224}
  std::string channels;    // "RGB"
  float scale = 1.0f;
  float offset = 0.0f;
  std::string range;       // for people: "[-1, 1]"
};

struct ModelOutput {
  std::string name;
  std::vector<int> shape;
  std::string layout;  // "NCHW" (a 4-D map) or "TF" (the original's order)
  std::string description;
};

// A file of reference data: the TF.js original's input or output on a test
// picture, float32 little-endian (role "input" or an output's name).
struct ModelReferenceFile {
  std::string role;
  std::string path;
  std::string sha256;
};

struct ModelInfo {
  std::string name;
  std::string path;    // the ONNX file: <models dir>/<file>
  std::string sha256;  // of that file, hex
  std::string package;  // the npm package it was converted from
  std::string version;
  std::string license;
  int opset = 0;
  std::string converter_version;
  ModelInput input;
  std::vector<ModelOutput> outputs;
  std::vector<ModelReferenceFile> reference;

  // The signature DnnModel::Load checks: input shape, outputs by name with
  // their shapes.
  ModelSignature signature() const;
};

class ModelManifest {
 public:
  // Reads <dir>/manifest.json and checks each model file's presence and
  // sha256 (about 0.1 s for the ~50 MB of models).
  static Result<ModelManifest> Load(const std::string& dir);

  // The model called `name`; NotFound (listing the known names) otherwise.
  Result<const ModelInfo*> Find(std::string_view name) const;

  const std::vector<ModelInfo>& models() const { return models_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::vector<ModelInfo> models_;
};

// $SOPILOT_MODELS_DIR when set. Otherwise "models" in the working directory
// when it holds a manifest (the repository root for setup.sh and the service
// it starts); otherwise the nearest models/ with a manifest in the running
// executable's directory or up to three above it, so that build/sopilot
// finds the repository's models/ from any working directory; otherwise
// "models", whose absence the loaders then report with the install hint.
std::string DefaultModelsDir();
inline constexpr const char* kDefaultModelsDir = "models";

}  // namespace sopilot
