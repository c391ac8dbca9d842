// Tests only: ONNX model files written by hand, protobuf field by field, for
// checking how a reader treats a given signature without torch or OpenCV.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sopilot::testing {

inline std::string PbVarint(uint64_t v) {
  std::string s;
  while (v >= 0x80) {
    s += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  s += static_cast<char>(v);
  return s;
}
// A length-delimited field.
inline std::string PbLen(int field, const std::string& payload) {
  return PbVarint(static_cast<uint64_t>(field) << 3 | 2) + PbVarint(payload.size()) + payload;
}
inline std::string PbInt(int field, uint64_t v) { return PbVarint(static_cast<uint64_t>(field) << 3) + PbVarint(v); }

// A ValueInfoProto: float tensor `name` of `shape` (-1 = a symbolic "batch").
inline std::string OnnxValueInfo(const std::string& name, const std::vector<int64_t>& shape) {
  std::string dims;
  for (int64_t d : shape) dims += PbLen(1, d < 0 ? PbLen(2, "batch") : PbInt(1, static_cast<uint64_t>(d)));
  return PbLen(1, name) + PbLen(2, PbLen(1, PbInt(1, 1) + PbLen(2, dims)));
}

// A ModelProto with one input and one output, and `weight_bytes` of weights
// stored before them as a real export stores its initializers.
inline std::string OnnxModelBytes(const std::vector<int64_t>& input, const std::vector<int64_t>& output,
                                  size_t weight_bytes = 1000) {
  std::string graph = PbLen(1, PbLen(4, "Identity")) + PbLen(2, "g") +
                      PbLen(5, PbLen(8, "w") + PbLen(9, std::string(weight_bytes, '\x7f'))) +
                      PbLen(11, OnnxValueInfo("video", input)) + PbLen(12, OnnxValueInfo("embedding", output));
  return PbInt(1, 7) + PbLen(2, "test") + PbLen(7, graph) + PbLen(8, PbInt(2, 12));
}

}  // namespace sopilot::testing
