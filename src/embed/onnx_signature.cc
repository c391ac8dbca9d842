#include "embed/onnx_signature.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <memory>
#include <set>

namespace sopilot {
namespace {

// Field numbers (onnx.proto3).
constexpr int kModelGraph = 7;
constexpr int kModelOpsetImport = 8;
constexpr int kOpsetDomain = 1;
constexpr int kOpsetVersion = 2;
constexpr int kGraphInitializer = 5;
constexpr int kTensorName = 8;
constexpr int kGraphInput = 11;
constexpr int kGraphOutput = 12;
constexpr int kValueInfoName = 1;
constexpr int kValueInfoType = 2;
constexpr int kTypeTensor = 1;
constexpr int kTensorTypeShape = 2;
constexpr int kShapeDim = 1;
constexpr int kDimValue = 1;
constexpr int kDimParam = 2;

constexpr int kWireVarint = 0, kWireFixed64 = 1, kWireLen = 2, kWireFixed32 = 5;
// Names and shapes are small; a longer one means the file is not what it says.
constexpr uint64_t kMaxSmallField = 1 << 20;

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};

// Reads protobuf fields from [pos, end) of a file.
class Reader {
 public:
  Reader(FILE* f, uint64_t pos, uint64_t end) : f_(f), pos_(pos), end_(end) {}
  bool done() const { return pos_ >= end_; }
  uint64_t pos() const { return pos_; }

  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= end_) return false;
      int c = std::fgetc(f_);
      if (c == EOF) return false;
      ++pos_;
      *v |= static_cast<uint64_t>(c & 0x7f) << shift;
      if (!(c & 0x80)) return true;
    }
    return false;
  }
  // The next field's number and wire type; for kWireLen also its length,
  // checked against the end.
  bool Tag(int* field, int* wire, uint64_t* len) {
    uint64_t tag;
    if (!Varint(&tag)) return false;
    *field = static_cast<int>(tag >> 3);
    *wire = static_cast<int>(tag & 7);
    *len = 0;
    if (*wire == kWireLen) return Varint(len) && *len <= end_ - pos_;
    return *wire == kWireVarint || *wire == kWireFixed64 || *wire == kWireFixed32;
  }
  // Skips the payload of a field whose tag was just read (a sub-reader may
  // have read it: a length-delimited field is skipped by a seek, which also
  // puts the file back where this reader is).
  bool Skip(int wire, uint64_t len) {
    uint64_t v;
    switch (wire) {
      case kWireVarint: return Varint(&v);
      case kWireFixed64: return Seek(pos_ + 8);
      case kWireFixed32: return Seek(pos_ + 4);
      case kWireLen: return Seek(pos_ + len);
      default: return false;
    }
  }
  bool Bytes(uint64_t len, std::string* out) {
    if (len > kMaxSmallField || len > end_ - pos_) return false;
    out->resize(len);
    if (len > 0 && std::fread(out->data(), 1, len, f_) != len) return false;
    pos_ += len;
    return true;
  }
  bool Seek(uint64_t to) {
    if (to > end_) return false;
    if (std::fseek(f_, static_cast<long>(to), SEEK_SET) != 0) return false;
    pos_ = to;
    return true;
  }
  Reader Sub(uint64_t len) const { return Reader(f_, pos_, pos_ + len); }

 private:
  FILE* f_;
  uint64_t pos_, end_;
};

bool ParseDim(Reader r, int64_t* value) {
  *value = -1;
  while (!r.done()) {
    int field, wire;
    uint64_t len;
    if (!r.Tag(&field, &wire, &len)) return false;
    if (field == kDimValue && wire == kWireVarint) {
      uint64_t v;
      if (!r.Varint(&v)) return false;
      *value = static_cast<int64_t>(v);
    } else if (field == kDimParam && wire == kWireLen) {
      *value = -1;  // a symbolic dimension
      if (!r.Skip(wire, len)) return false;
    } else if (!r.Skip(wire, len)) {
      return false;
    }
  }
  return true;
}

// TypeProto -> tensor_type -> shape -> dims.
bool ParseType(Reader r, std::vector<int64_t>* shape) {
  while (!r.done()) {
    int field, wire;
    uint64_t len;
    if (!r.Tag(&field, &wire, &len)) return false;
    if (field == kTypeTensor && wire == kWireLen) {
      Reader tensor = r.Sub(len);
      while (!tensor.done()) {
        int f2, w2;
        uint64_t l2;
        if (!tensor.Tag(&f2, &w2, &l2)) return false;
        if (f2 == kTensorTypeShape && w2 == kWireLen) {
          Reader dims = tensor.Sub(l2);
          while (!dims.done()) {
            int f3, w3;
            uint64_t l3;
            if (!dims.Tag(&f3, &w3, &l3)) return false;
            if (f3 == kShapeDim && w3 == kWireLen) {
              int64_t v;
              if (!ParseDim(dims.Sub(l3), &v)) return false;
              shape->push_back(v);
            }
            if (!dims.Skip(w3, l3)) return false;
          }
        }
        if (!tensor.Skip(w2, l2)) return false;
      }
    }
    if (!r.Skip(wire, len)) return false;
  }
  return true;
}

bool ParseValueInfo(Reader r, OnnxTensorInfo* info) {
  while (!r.done()) {
    int field, wire;
    uint64_t len;
    if (!r.Tag(&field, &wire, &len)) return false;
    if (field == kValueInfoName && wire == kWireLen) {
      if (!r.Bytes(len, &info->name)) return false;
    } else if (field == kValueInfoType && wire == kWireLen) {
      if (!ParseType(r.Sub(len), &info->shape) || !r.Skip(wire, len)) return false;
    } else if (!r.Skip(wire, len)) {
      return false;
    }
  }
  return true;
}

// OperatorSetIdProto: the version when the domain is the default one, else -1.
bool ParseOpset(Reader r, int* version) {
  std::string domain;
  int64_t v = -1;
  while (!r.done()) {
    int field, wire;
    uint64_t len;
    if (!r.Tag(&field, &wire, &len)) return false;
    if (field == kOpsetDomain && wire == kWireLen) {
      if (!r.Bytes(len, &domain)) return false;
    } else if (field == kOpsetVersion && wire == kWireVarint) {
      uint64_t u;
      if (!r.Varint(&u)) return false;
      v = static_cast<int64_t>(std::min<uint64_t>(u, 1 << 20));
    } else if (!r.Skip(wire, len)) {
      return false;
    }
  }
  *version = (domain.empty() || domain == "ai.onnx") ? static_cast<int>(v) : -1;
  return true;
}

// A TensorProto's name; its data is skipped.
bool ParseTensorName(Reader r, std::string* name) {
  while (!r.done()) {
    int field, wire;
    uint64_t len;
    if (!r.Tag(&field, &wire, &len)) return false;
    if (field == kTensorName && wire == kWireLen) {
      if (!r.Bytes(len, name)) return false;
    } else if (!r.Skip(wire, len)) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string OnnxShapeString(const std::vector<int64_t>& shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += "x";
    s += shape[i] < 0 ? "?" : std::to_string(shape[i]);
  }
  return s.empty() ? "(scalar)" : s;
}

Result<OnnxSignature> ReadOnnxSignature(const std::string& path) {
  std::unique_ptr<FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) {
    if (errno == ENOENT) return Status::NotFound(path + ": no such file");
    return Status::IOError(path + ": " + std::strerror(errno));
  }
  if (std::fseek(f.get(), 0, SEEK_END) != 0) return Status::IOError(path + ": cannot seek");
  const long size = std::ftell(f.get());
  if (size < 0) return Status::IOError(path + ": cannot seek");
  if (size == 0) return Status::Corruption(path + ": empty file, not an ONNX model");
  std::fseek(f.get(), 0, SEEK_SET);
  auto corrupt = [&](const std::string& what) {
    return Status::Corruption(path + ": not a well-formed ONNX model (" + what + ")");
  };

  Reader model(f.get(), 0, static_cast<uint64_t>(size));
  bool have_graph = false;
  OnnxSignature sig;
  std::set<std::string> weights;
  while (!model.done()) {
    int field, wire;
    uint64_t len;
    if (!model.Tag(&field, &wire, &len)) return corrupt("bad field at byte " + std::to_string(model.pos()));
    if (field == kModelOpsetImport && wire == kWireLen) {
      int version = -1;
      if (!ParseOpset(model.Sub(len), &version)) return corrupt("bad opset_import");
      if (version >= 0) sig.opset = version;
    } else if (field == kModelGraph && wire == kWireLen) {
      have_graph = true;
      Reader graph = model.Sub(len);
      while (!graph.done()) {
        int gf, gw;
        uint64_t gl;
        if (!graph.Tag(&gf, &gw, &gl)) return corrupt("bad graph field at byte " + std::to_string(graph.pos()));
        if ((gf == kGraphInput || gf == kGraphOutput) && gw == kWireLen) {
          OnnxTensorInfo info;
          if (!ParseValueInfo(graph.Sub(gl), &info)) return corrupt("bad input or output description");
          (gf == kGraphInput ? sig.inputs : sig.outputs).push_back(std::move(info));
        } else if (gf == kGraphInitializer && gw == kWireLen) {
          std::string name;
          if (!ParseTensorName(graph.Sub(gl), &name)) return corrupt("bad initializer");
          weights.insert(std::move(name));
        }
        if (!graph.Skip(gw, gl)) return corrupt("truncated graph");
      }
    }
    if (!model.Skip(wire, len)) return corrupt("truncated");
  }
  if (!have_graph) return corrupt("no graph");
  std::erase_if(sig.inputs, [&](const OnnxTensorInfo& in) { return weights.count(in.name) > 0; });
  if (sig.inputs.empty() || sig.outputs.empty()) return corrupt("a graph without inputs or outputs");
  return sig;
}

}  // namespace sopilot
