#include "embed/dnn_model.h"

#include <cstdint>

#include <opencv2/dnn.hpp>

#include "embed/onnx_signature.h"

namespace sopilot {
namespace {

bool ShapeFits(const std::vector<int>& want, const std::vector<int>& have) {
  if (want.size() != have.size()) return false;
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i] != -1 && have[i] != -1 && want[i] != have[i]) return false;
  }
  return true;
}

std::vector<int> MatShape(const cv::Mat& m) {
  std::vector<int> s;
  for (int i = 0; i < m.dims; ++i) s.push_back(m.size[i]);
  return s;
}

// OpenCV's messages carry a file/line prefix and a trailing newline; keep the reason.
std::string Reason(const cv::Exception& e) {
  std::string msg = e.err.empty() ? e.what() : e.err;
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return msg;
}

}  // namespace

std::string ShapeString(const std::vector<int>& shape) {
  return OnnxShapeString(std::vector<int64_t>(shape.begin(), shape.end()));
}

Result<int> OnnxOpset(const std::string& path) {
  SOPILOT_ASSIGN_OR_RETURN(OnnxSignature header, ReadOnnxSignature(path));
  if (header.opset < 0) return Status::Corruption(path + ": the model imports no default-domain opset");
  return header.opset;
}

struct DnnModel::Impl {
  std::string path;
  ModelSignature signature;
  cv::dnn::Net net;
  std::vector<cv::String> output_names;
  int max_batch = 1;
};

DnnModel::DnnModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DnnModel::~DnnModel() = default;

const std::string& DnnModel::path() const { return impl_->path; }
const ModelSignature& DnnModel::signature() const { return impl_->signature; }
int DnnModel::max_batch() const { return impl_->max_batch; }

Result<std::unique_ptr<DnnModel>> DnnModel::Load(const std::string& path, const ModelSignature& signature) {
  if (signature.input.empty()) return Status::InvalidArgument(path + ": the caller gave no input shape");
  // The header first (without OpenCV): a too-new opset or a wrong input
  // shape gets a message that says so instead of OpenCV's exception text.
  SOPILOT_ASSIGN_OR_RETURN(OnnxSignature header, ReadOnnxSignature(path));
  if (header.opset < 0) return Status::Corruption(path + ": the model imports no default-domain opset");
  if (header.opset > signature.max_opset) {
    return Status::Unsupported(path + ": the model imports ONNX opset " + std::to_string(header.opset) +
                               "; this build runs opset " + std::to_string(signature.max_opset) +
                               " or older (export it again with opset_version=" +
                               std::to_string(signature.max_opset) + ")");
  }
  if (header.inputs.size() != 1) {
    return Status::InvalidArgument(path + ": the model has " + std::to_string(header.inputs.size()) +
                                   " inputs; one is expected");
  }
  std::vector<int> file_input;
  for (int64_t d : header.inputs[0].shape) file_input.push_back(d > 0 && d < (1 << 30) ? static_cast<int>(d) : -1);
  if (!ShapeFits(signature.input, file_input)) {
    return Status::InvalidArgument(path + ": the model's input \"" + header.inputs[0].name + "\" is " +
                                   ShapeString(file_input) + "; expected " + ShapeString(signature.input));
  }

  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->signature = signature;
  // The batch the file allows: fixed, or free (symbolic) up to kMaxBatch.
  impl->max_batch = file_input[0] == -1 && signature.input[0] == -1 ? kMaxBatch : 1;
  if (file_input[0] > 1) impl->max_batch = file_input[0];
  try {
    impl->net = cv::dnn::readNetFromONNX(path);
    if (impl->net.empty()) return Status::Corruption(path + ": OpenCV read no network from the file");
    impl->net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    impl->net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    if (signature.output_names.empty()) {
      impl->output_names = impl->net.getUnconnectedOutLayersNames();
    } else {
      impl->output_names.assign(signature.output_names.begin(), signature.output_names.end());
    }
  } catch (const cv::Exception& e) {
    return Status::Corruption(path + ": OpenCV cannot read the model: " + Reason(e));
  }

  // One probe run on zeros, so a network whose outputs differ from what the
  // caller decodes is refused here, not at the first clip.
  std::vector<int> probe_shape = signature.input;
  for (size_t i = 0; i < probe_shape.size(); ++i) {
    if (probe_shape[i] == -1) probe_shape[i] = i == 0 ? 1 : file_input[i];
    if (probe_shape[i] <= 0) {
      return Status::InvalidArgument(path + ": the input's dimension " + std::to_string(i) +
                                     " is free in both the model and the signature");
    }
  }
  cv::Mat probe(static_cast<int>(probe_shape.size()), probe_shape.data(), CV_32F, cv::Scalar(0));
  DnnModel model(std::move(impl));
  Result<std::vector<cv::Mat>> outputs = model.Run(probe);
  if (!outputs.ok()) {
    return Status::InvalidArgument(path + ": the model does not run on a " + ShapeString(probe_shape) +
                                   " input: " + outputs.status().message());
  }
  const ModelSignature& sig = model.impl_->signature;
  if (!sig.outputs.empty()) {
    if (sig.outputs.size() != outputs->size()) {
      return Status::InvalidArgument(path + ": the model gives " + std::to_string(outputs->size()) +
                                     " outputs; expected " + std::to_string(sig.outputs.size()));
    }
    for (size_t i = 0; i < sig.outputs.size(); ++i) {
      std::vector<int> have = MatShape((*outputs)[i]);
      std::vector<int> want = sig.outputs[i];
      if (!want.empty() && want[0] == -1) want[0] = 1;  // the probe's batch
      if (!ShapeFits(want, have)) {
        return Status::InvalidArgument(path + ": output " + std::to_string(i) + " (" +
                                       model.impl_->output_names[i] + ") is " + ShapeString(have) +
                                       "; expected " + ShapeString(sig.outputs[i]));
      }
    }
  }
  return std::unique_ptr<DnnModel>(new DnnModel(std::move(model.impl_)));
}

Result<std::vector<cv::Mat>> DnnModel::Run(const cv::Mat& input) {
  const std::vector<int>& want = impl_->signature.input;
  std::vector<int> have = MatShape(input);
  if (input.type() != CV_32F || !ShapeFits(want, have) || have[0] < 1 || have[0] > impl_->max_batch) {
    std::vector<int> allowed = want;
    allowed[0] = impl_->max_batch == 1 ? 1 : -1;
    return Status::InvalidArgument(impl_->path + ": a " + ShapeString(have) +
                                   (input.type() == CV_32F ? "" : " non-float") + " input for a " +
                                   ShapeString(allowed) + " model" +
                                   (impl_->max_batch > 1 ? " (batch 1.." + std::to_string(impl_->max_batch) + ")" : ""));
  }
  try {
    impl_->net.setInput(input);
    std::vector<cv::Mat> outs;
    impl_->net.forward(outs, impl_->output_names);
    std::vector<cv::Mat> copies;
    copies.reserve(outs.size());
    for (const cv::Mat& m : outs) {
      cv::Mat f;
      if (m.type() == CV_32F) {
        f = m.clone();
      } else {
        m.convertTo(f, CV_32F);
      }
      copies.push_back(std::move(f));
    }
    return copies;
  } catch (const cv::Exception& e) {
    return Status::Internal(impl_->path + ": OpenCV failed to run the model: " + Reason(e));
  } catch (const std::exception& e) {
    return Status::Internal(impl_->path + ": running the model failed: " + e.what());
  }
}

}  // namespace sopilot
