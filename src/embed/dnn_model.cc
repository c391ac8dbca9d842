#include "embed/dnn_model.h"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>

#include <opencv2/dnn.hpp>

namespace sopilot {
namespace {

// --- A protobuf scan of an ONNX file's header --------------------------------
// Enough of ModelProto to read the opset and the graph's input shapes without
// OpenCV, whose importer answers a too-new opset or a wrong file with a long
// exception text (or, for some malformed files, not at all). Large fields
// (weights) are skipped with a seek, so a 1 GB model costs no memory here.

struct OnnxTensorInfo {
  std::string name;
  std::vector<int> dims;  // -1 for a symbolic or unknown dimension
};

struct OnnxHeader {
  int opset = -1;
  std::vector<OnnxTensorInfo> inputs;  // graph inputs that are not weights
};

class ProtoReader {
 public:
  ProtoReader(std::istream* in, int64_t end) : in_(in), end_(end) {}

  bool AtEnd() const { return Position() >= end_; }
  int64_t Position() const { return static_cast<int64_t>(in_->tellg()); }

  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      int c = in_->get();
      if (c == EOF) return false;
      *v |= static_cast<uint64_t>(c & 0x7f) << shift;
      if (!(c & 0x80)) return true;
    }
    return false;
  }
  // Reads a tag; *field and *wire_type out.
  bool Tag(uint64_t* field, int* wire_type) {
    uint64_t t;
    if (!Varint(&t)) return false;
    *field = t >> 3;
    *wire_type = static_cast<int>(t & 7);
    return *field != 0;
  }
  // Length of a length-delimited field, checked against the enclosing end.
  bool Length(int64_t* len) {
    uint64_t v;
    if (!Varint(&v) || v > static_cast<uint64_t>(end_ - Position())) return false;
    *len = static_cast<int64_t>(v);
    return true;
  }
  bool Skip(int wire_type) {
    uint64_t v;
    switch (wire_type) {
      case 0: return Varint(&v);
      case 1: return SeekBy(8);
      case 5: return SeekBy(4);
      case 2: {
        int64_t len;
        return Length(&len) && SeekBy(len);
      }
      default: return false;  // groups (3, 4) do not occur in ONNX
    }
  }
  bool SeekBy(int64_t n) {
    if (n > end_ - Position()) return false;
    in_->seekg(n, std::ios::cur);
    return static_cast<bool>(*in_);
  }
  bool String(std::string* s) {
    int64_t len;
    if (!Length(&len) || len > (1 << 20)) return false;
    s->resize(static_cast<size_t>(len));
    in_->read(s->data(), len);
    return static_cast<bool>(*in_);
  }
  std::istream* stream() { return in_; }

 private:
  std::istream* in_;
  int64_t end_;
};

// OperatorSetIdProto { string domain = 1; int64 version = 2; }
bool ReadOpsetId(ProtoReader* r, std::string* domain, int64_t* version) {
  uint64_t field;
  int wt;
  while (!r->AtEnd()) {
    if (!r->Tag(&field, &wt)) return false;
    if (field == 1 && wt == 2) {
      if (!r->String(domain)) return false;
    } else if (field == 2 && wt == 0) {
      uint64_t v;
      if (!r->Varint(&v)) return false;
      *version = static_cast<int64_t>(v);
    } else if (!r->Skip(wt)) {
      return false;
    }
  }
  return true;
}

// Runs `body` over a length-delimited sub-message.
template <typename F>
bool SubMessage(ProtoReader* r, F body) {
  int64_t len;
  if (!r->Length(&len)) return false;
  const int64_t end = r->Position() + len;
  ProtoReader sub(r->stream(), end);
  if (!body(&sub)) return false;
  r->stream()->seekg(end);
  return static_cast<bool>(*r->stream());
}

// TensorShapeProto.Dimension { int64 dim_value = 1; string dim_param = 2; }
bool ReadDim(ProtoReader* r, int* dim) {
  *dim = -1;
  uint64_t field;
  int wt;
  while (!r->AtEnd()) {
    if (!r->Tag(&field, &wt)) return false;
    if (field == 1 && wt == 0) {
      uint64_t v;
      if (!r->Varint(&v)) return false;
      *dim = v > 0 && v < (1u << 30) ? static_cast<int>(v) : -1;
    } else if (!r->Skip(wt)) {
      return false;
    }
  }
  return true;
}

// ValueInfoProto { name = 1; TypeProto type = 2 { tensor_type = 1 { shape = 2 { dim = 1 } } } }
bool ReadValueInfo(ProtoReader* r, OnnxTensorInfo* info) {
  uint64_t field;
  int wt;
  while (!r->AtEnd()) {
    if (!r->Tag(&field, &wt)) return false;
    if (field == 1 && wt == 2) {
      if (!r->String(&info->name)) return false;
    } else if (field == 2 && wt == 2) {
      bool ok = SubMessage(r, [&](ProtoReader* type) {
        while (!type->AtEnd()) {
          uint64_t f;
          int w;
          if (!type->Tag(&f, &w)) return false;
          if (f == 1 && w == 2) {
            if (!SubMessage(type, [&](ProtoReader* tensor) {
                  while (!tensor->AtEnd()) {
                    uint64_t tf;
                    int tw;
                    if (!tensor->Tag(&tf, &tw)) return false;
                    if (tf == 2 && tw == 2) {
                      if (!SubMessage(tensor, [&](ProtoReader* shape) {
                            while (!shape->AtEnd()) {
                              uint64_t sf;
                              int sw;
                              if (!shape->Tag(&sf, &sw)) return false;
                              if (sf == 1 && sw == 2) {
                                int dim;
                                if (!SubMessage(shape, [&](ProtoReader* d) { return ReadDim(d, &dim); })) return false;
                                info->dims.push_back(dim);
                              } else if (!shape->Skip(sw)) {
                                return false;
                              }
                            }
                            return true;
                          }))
                        return false;
                    } else if (!tensor->Skip(tw)) {
                      return false;
                    }
                  }
                  return true;
                }))
              return false;
          } else if (!type->Skip(w)) {
            return false;
          }
        }
        return true;
      });
      if (!ok) return false;
    } else if (!r->Skip(wt)) {
      return false;
    }
  }
  return true;
}

// TensorProto's name is field 8; everything else (the weights) is skipped.
bool ReadInitializerName(ProtoReader* r, std::string* name) {
  uint64_t field;
  int wt;
  while (!r->AtEnd()) {
    if (!r->Tag(&field, &wt)) return false;
    if (field == 8 && wt == 2) {
      if (!r->String(name)) return false;
    } else if (!r->Skip(wt)) {
      return false;
    }
  }
  return true;
}

// GraphProto { initializer = 5; input = 11; }
bool ReadGraph(ProtoReader* r, OnnxHeader* header) {
  std::vector<OnnxTensorInfo> inputs;
  std::set<std::string> weights;
  uint64_t field;
  int wt;
  while (!r->AtEnd()) {
    if (!r->Tag(&field, &wt)) return false;
    if (field == 11 && wt == 2) {
      OnnxTensorInfo info;
      if (!SubMessage(r, [&](ProtoReader* v) { return ReadValueInfo(v, &info); })) return false;
      inputs.push_back(std::move(info));
    } else if (field == 5 && wt == 2) {
      std::string name;
      if (!SubMessage(r, [&](ProtoReader* t) { return ReadInitializerName(t, &name); })) return false;
      weights.insert(name);
    } else if (!r->Skip(wt)) {
      return false;
    }
  }
  for (OnnxTensorInfo& info : inputs) {
    if (!weights.count(info.name)) header->inputs.push_back(std::move(info));
  }
  return true;
}

// ModelProto { graph = 7; opset_import = 8; }
Result<OnnxHeader> ReadOnnxHeader(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return Status::NotFound(path + ": no such model file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError(path + ": cannot open the model file");
  in.seekg(0, std::ios::end);
  const int64_t size = static_cast<int64_t>(in.tellg());
  in.seekg(0);
  const Status not_onnx = Status::Corruption(path + ": not an ONNX model (its header cannot be read)");
  if (size <= 0) return not_onnx;
  ProtoReader r(&in, size);
  OnnxHeader header;
  bool saw_graph = false;
  uint64_t field;
  int wt;
  while (!r.AtEnd()) {
    if (!r.Tag(&field, &wt)) return not_onnx;
    if (field == 8 && wt == 2) {
      std::string domain;
      int64_t version = -1;
      if (!SubMessage(&r, [&](ProtoReader* s) { return ReadOpsetId(s, &domain, &version); })) return not_onnx;
      if ((domain.empty() || domain == "ai.onnx") && version >= 0) {
        header.opset = static_cast<int>(std::min<int64_t>(version, 1 << 20));
      }
    } else if (field == 7 && wt == 2) {
      if (!SubMessage(&r, [&](ProtoReader* g) { return ReadGraph(g, &header); })) return not_onnx;
      saw_graph = true;
    } else if (!r.Skip(wt)) {
      return not_onnx;
    }
  }
  if (!saw_graph || header.opset < 0) return not_onnx;
  return header;
}

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
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += "x";
    s += shape[i] < 0 ? std::string("?") : std::to_string(shape[i]);
  }
  return s.empty() ? "scalar" : s;
}

Result<int> OnnxOpset(const std::string& path) {
  SOPILOT_ASSIGN_OR_RETURN(OnnxHeader header, ReadOnnxHeader(path));
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
  SOPILOT_ASSIGN_OR_RETURN(OnnxHeader header, ReadOnnxHeader(path));
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
  const std::vector<int>& file_input = header.inputs[0].dims;
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
