#include "embed/embedding_file.h"

#include <climits>
#include <cmath>
#include <cstring>
#include <optional>

#include <nlohmann/json.hpp>

#include "base/json_text.h"
#include "base/crc32.h"
#include "base/json_integer.h"
#include "base/little_endian.h"

namespace sopilot {

namespace {

constexpr char kMagic[8] = {'S', 'O', 'P', 'E', 'M', 'B', 'E', 'D'};
constexpr uint32_t kMaxHeader = 1 << 20;
constexpr int kMaxDim = 1 << 16;
constexpr uint64_t kMaxFileBytes = uint64_t{4} << 30;

nlohmann::json HeaderJson(const EmbeddingSet& s) {
  return {
      {"model", s.model},
      {"dim", s.vectors.cols},
      {"clip_count", s.clips.size()},
      {"sampling",
       {{"target_fps", s.sampling.target_fps},
        {"clip_seconds", s.sampling.clip_seconds},
        {"clip_stride_sec", s.sampling.clip_stride_sec},
        {"max_side", s.sampling.max_side},
        {"min_clip_coverage", s.sampling.min_clip_coverage}}},
      {"source",
       {{"path", s.source.path},
        {"duration_sec", s.source.duration_sec},
        {"fps", s.source.fps},
        {"width", s.source.width},
        {"height", s.source.height},
        {"codec", s.source.codec},
        {"rotation_degrees", s.source.rotation_degrees}}},
  };
}

Status Corrupt(const std::string& what) { return Status::Corruption("not a valid embedding file: " + what); }



// Reads the header fields; nlohmann throws on type errors, which we turn
// into a Corruption status here, at the border.
Status ParseHeader(std::string_view text, EmbeddingSet* s, int* dim, uint64_t* clip_count) {
  try {
    nlohmann::json h = nlohmann::json::parse(text);
    // Integers are read as integers in range (IntegerValue), never cast.
    auto integer = [](const nlohmann::json& j, const char* key, int64_t lo, int64_t hi, auto* out) -> Status {
      std::optional<int64_t> v = JsonInteger(j.at(key), lo, hi);
      if (!v) return Corrupt(std::string("header field ") + key + " is not an integer in [" + std::to_string(lo) + ", " +
                             std::to_string(hi) + "]");
      *out = static_cast<std::remove_pointer_t<decltype(out)>>(*v);
      return Status::Ok();
    };
    s->model = h.at("model").get<std::string>();
    SOPILOT_RETURN_IF_ERROR(integer(h, "dim", 1, kMaxDim, dim));
    SOPILOT_RETURN_IF_ERROR(integer(h, "clip_count", 0, int64_t{1} << 32, clip_count));
    const auto& sm = h.at("sampling");
    s->sampling.target_fps = sm.at("target_fps").get<double>();
    s->sampling.clip_seconds = sm.at("clip_seconds").get<double>();
    s->sampling.clip_stride_sec = sm.at("clip_stride_sec").get<double>();
    SOPILOT_RETURN_IF_ERROR(integer(sm, "max_side", INT_MIN, INT_MAX, &s->sampling.max_side));
    s->sampling.min_clip_coverage = sm.at("min_clip_coverage").get<double>();
    const auto& src = h.at("source");
    s->source.path = src.at("path").get<std::string>();
    s->source.duration_sec = src.at("duration_sec").get<double>();
    s->source.fps = src.at("fps").get<double>();
    SOPILOT_RETURN_IF_ERROR(integer(src, "width", INT_MIN, INT_MAX, &s->source.width));
    SOPILOT_RETURN_IF_ERROR(integer(src, "height", INT_MIN, INT_MAX, &s->source.height));
    s->source.codec = src.at("codec").get<std::string>();
    s->source.rotation_degrees = 0;
    if (src.contains("rotation_degrees")) {
      SOPILOT_RETURN_IF_ERROR(integer(src, "rotation_degrees", INT_MIN, INT_MAX, &s->source.rotation_degrees));
    }
  } catch (const std::exception& e) {
    return Corrupt(std::string("bad header: ") + e.what());
  }
  if (s->model.empty()) return Corrupt("empty model name");
  if (*dim < 1 || *dim > kMaxDim) return Corrupt("dimension " + std::to_string(*dim) + " out of range");
  return Status::Ok();
}

}  // namespace

Result<std::string> EncodeEmbeddingSet(const EmbeddingSet& s) {
  if (s.vectors.rows != static_cast<int>(s.clips.size())) {
    return Status::InvalidArgument("embedding rows (" + std::to_string(s.vectors.rows) +
                                   ") do not match clips (" + std::to_string(s.clips.size()) + ")");
  }
  if (s.vectors.cols < 1 || s.vectors.cols > kMaxDim) {
    return Status::InvalidArgument("embedding dimension out of range");
  }
  std::string header = JsonText(HeaderJson(s));
  std::string out;
  out.reserve(16 + header.size() + s.clips.size() * 16 + s.vectors.data.size() * 4 + 4);
  out.append(kMagic, sizeof kMagic);
  PutLittleEndian<uint32_t>(&out, kEmbeddingFormatVersion);
  PutLittleEndian<uint32_t>(&out, static_cast<uint32_t>(header.size()));
  out += header;
  for (const ClipSpan& c : s.clips) {
    PutLittleEndian<double>(&out, c.start_sec);
    PutLittleEndian<double>(&out, c.end_sec);
  }
  out.append(reinterpret_cast<const char*>(s.vectors.data.data()), s.vectors.data.size() * sizeof(float));
  PutLittleEndian<uint32_t>(&out, Crc32(out));
  return out;
}

Result<EmbeddingSet> DecodeEmbeddingSet(std::string_view b) {
  if (b.size() < 20 || std::memcmp(b.data(), kMagic, sizeof kMagic) != 0) {
    return Corrupt("missing SOPEMBED signature (not written by `sopilot embed --out`)");
  }
  uint32_t version = GetLittleEndian<uint32_t>(b, 8);
  if (version != kEmbeddingFormatVersion) {
    return Status::Unsupported("embedding file format version " + std::to_string(version) +
                               "; this build reads version " +
                               std::to_string(kEmbeddingFormatVersion));
  }
  uint32_t header_len = GetLittleEndian<uint32_t>(b, 12);
  if (header_len > kMaxHeader || 16 + uint64_t{header_len} + 4 > b.size()) {
    return Corrupt("header length " + std::to_string(header_len) + " exceeds the file (truncated?)");
  }
  EmbeddingSet s;
  int dim = 0;
  uint64_t clip_count = 0;
  SOPILOT_RETURN_IF_ERROR(ParseHeader(b.substr(16, header_len), &s, &dim, &clip_count));
  const uint64_t body = 16 + uint64_t{header_len};
  const uint64_t expected = body + clip_count * 16 + clip_count * dim * 4 + 4;
  if (clip_count > (uint64_t{1} << 32) || expected != b.size()) {
    return Corrupt("size is " + std::to_string(b.size()) + " bytes, the header implies " +
                   std::to_string(expected) + " (truncated or padded)");
  }
  uint32_t stored_crc = GetLittleEndian<uint32_t>(b, b.size() - 4);
  if (Crc32(b.substr(0, b.size() - 4)) != stored_crc) return Corrupt("checksum mismatch (damaged data)");

  s.clips.resize(clip_count);
  for (uint64_t i = 0; i < clip_count; ++i) {
    ClipSpan& c = s.clips[i];
    c.index = static_cast<int>(i);
    c.start_sec = GetLittleEndian<double>(b, body + i * 16);
    c.end_sec = GetLittleEndian<double>(b, body + i * 16 + 8);
    if (!std::isfinite(c.start_sec) || !std::isfinite(c.end_sec) || c.start_sec < 0 ||
        c.end_sec <= c.start_sec || (i > 0 && c.start_sec < s.clips[i - 1].start_sec)) {
      return Corrupt("clip " + std::to_string(i) + " has invalid times");
    }
  }
  s.vectors = FloatMatrix(static_cast<int>(clip_count), dim);
  if (clip_count > 0) {  // an empty vector's data() may be null, which memcpy must not get
    std::memcpy(s.vectors.data.data(), b.data() + body + clip_count * 16, clip_count * dim * 4);
  }
  for (float x : s.vectors.data) {
    if (!std::isfinite(x)) return Corrupt("non-finite value in the vectors");
  }
  return s;
}

Status WriteEmbeddingFile(Env* env, const std::string& path, const EmbeddingSet& set) {
  SOPILOT_ASSIGN_OR_RETURN(std::string bytes, EncodeEmbeddingSet(set));
  return WriteFileAtomically(env, path, bytes);
}

Result<EmbeddingSet> ReadEmbeddingFile(Env* env, const std::string& path) {
  auto bytes = env->ReadFile(path, kMaxFileBytes);
  if (!bytes.ok()) return bytes.status();
  auto set = DecodeEmbeddingSet(*bytes);
  if (!set.ok()) return set.status().WithContext(path);
  return set;
}

bool LooksLikeEmbeddingFile(Env* env, const std::string& path) {
  auto size = env->GetFileSize(path);
  if (!size.ok() || *size < 20 || env->IsDirectory(path)) return false;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  char magic[8];
  bool match = std::fread(magic, 1, 8, f) == 8 && std::memcmp(magic, kMagic, 8) == 0;
  std::fclose(f);
  return match;
}

}  // namespace sopilot
