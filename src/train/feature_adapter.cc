#include "train/feature_adapter.h"

#include <climits>
#include <cmath>
#include <cstring>
#include <optional>

#include <nlohmann/json.hpp>

#include "base/json_text.h"
#include "base/crc32.h"
#include "base/json_integer.h"
#include "base/little_endian.h"
#include "base/digest.h"

namespace sopilot {

namespace {

constexpr char kMagic[8] = {'S', 'O', 'P', 'A', 'D', 'A', 'P', 'T'};
constexpr uint32_t kMaxHeader = 1 << 20;
constexpr int kMaxDim = 1 << 16;
constexpr uint64_t kMaxFileBytes = uint64_t{64} << 20;

Status Corrupt(const std::string& what) { return Status::Corruption("not a valid adapter file: " + what); }

bool ValidFloor(double f) { return std::isfinite(f) && f > 0; }


}  // namespace

std::string FeatureAdapter::Fingerprint() const {
  std::string bytes = model;
  bytes.push_back('\0');
  bytes.append(reinterpret_cast<const char*>(mean.data()), mean.size() * sizeof(float));
  bytes.append(reinterpret_cast<const char*>(std.data()), std.size() * sizeof(float));
  return Sha256Hex(bytes).substr(0, 16);
}

AdapterFitter::AdapterFitter(double std_floor) : floor_(std_floor) {}

Status AdapterFitter::Add(const EmbeddingSet& set) {
  const FloatMatrix& m = set.vectors;
  if (m.cols <= 0) return Status::InvalidArgument("embedding set has no dimensions");
  if (n_ == 0 && videos_ == 0) {
    model_ = set.model;
    shift_.assign(m.cols, 0.0);
    sum_.assign(m.cols, 0.0);
    sum_sq_.assign(m.cols, 0.0);
    if (m.rows > 0) {
      for (int j = 0; j < m.cols; ++j) shift_[j] = m.at(0, j);
    }
  } else if (set.model != model_ || static_cast<size_t>(m.cols) != sum_.size()) {
    return Status::InvalidArgument("embeddings of " + set.model + " (" + std::to_string(m.cols) +
                                   " dims) cannot join statistics of " + model_ + " (" +
                                   std::to_string(sum_.size()) + " dims)");
  }
  for (int i = 0; i < m.rows; ++i) {
    const float* r = m.row(i);
    for (int j = 0; j < m.cols; ++j) {
      double d = static_cast<double>(r[j]) - shift_[j];
      sum_[j] += d;
      sum_sq_[j] += d * d;
    }
  }
  n_ += m.rows;
  ++videos_;
  return Status::Ok();
}

Result<FeatureAdapter> AdapterFitter::Finish() const {
  if (!ValidFloor(floor_)) return Status::InvalidArgument("the std floor must be a positive number");
  if (n_ < 2) {
    return Status::InvalidArgument("insufficient embeddings for adaptation: " + std::to_string(n_) +
                                   " clips (at least 2)");
  }
  FeatureAdapter a;
  a.model = model_;
  a.std_floor = floor_;
  a.clips = n_;
  a.videos = videos_;
  const size_t dim = sum_.size();
  a.mean.resize(dim);
  a.std.resize(dim);
  const double n = static_cast<double>(n_);
  for (size_t j = 0; j < dim; ++j) {
    double m = sum_[j] / n;  // mean of the shifted values
    double var = std::max(sum_sq_[j] / n - m * m, 0.0);
    a.mean[j] = static_cast<float>(shift_[j] + m);
    a.std[j] = static_cast<float>(std::max(std::sqrt(var), floor_));
  }
  return a;
}

Result<FloatMatrix> ApplyFeatureAdapter(const FeatureAdapter& a, const FloatMatrix& raw) {
  if (raw.cols != a.dim() || a.std.size() != a.mean.size()) {
    return Status::InvalidArgument("embedding dimension " + std::to_string(raw.cols) +
                                   " does not match the adapter's " + std::to_string(a.dim()));
  }
  FloatMatrix out(raw.rows, raw.cols);
  std::vector<float> inv(a.std.size());
  for (size_t j = 0; j < inv.size(); ++j) inv[j] = 1.0f / a.std[j];
  for (int i = 0; i < raw.rows; ++i) {
    const float* r = raw.row(i);
    float* o = out.row(i);
    for (int j = 0; j < raw.cols; ++j) o[j] = (r[j] - a.mean[j]) * inv[j];
  }
  NormalizeRows(&out);
  return out;
}

Result<EmbeddingSet> AdaptEmbeddingSet(const FeatureAdapter& a, const EmbeddingSet& raw) {
  if (raw.model != a.model) {
    return Status::InvalidArgument("the adapter was fitted on " + a.model + " embeddings, not " + raw.model);
  }
  SOPILOT_ASSIGN_OR_RETURN(FloatMatrix v, ApplyFeatureAdapter(a, raw.vectors));
  EmbeddingSet out;
  out.model = a.AdaptedModel();
  out.sampling = raw.sampling;
  out.source = raw.source;
  out.clips = raw.clips;
  out.vectors = std::move(v);
  return out;
}

Result<std::string> EncodeFeatureAdapter(const FeatureAdapter& a) {
  if (a.dim() <= 0 || a.dim() > kMaxDim || a.std.size() != a.mean.size()) {
    return Status::InvalidArgument("adapter: mean and std must have the same size in [1, 65536]");
  }
  if (!ValidFloor(a.std_floor)) return Status::InvalidArgument("adapter: std_floor must be a positive number");
  for (size_t j = 0; j < a.mean.size(); ++j) {
    if (!std::isfinite(a.mean[j]) || !std::isfinite(a.std[j]) || a.std[j] <= 0) {
      return Status::InvalidArgument("adapter: dimension " + std::to_string(j) + " is not finite or has std <= 0");
    }
  }
  nlohmann::json h = {{"kind", "zscore"},
                      {"model", a.model},
                      {"dim", a.dim()},
                      {"std_floor", a.std_floor},
                      {"clips", a.clips},
                      {"videos", a.videos},
                      {"task_id", a.task_id},
                      {"version", a.version},
                      {"source_video_ids", a.source_video_ids},
                      {"fitted_at", a.fitted_at}};
  std::string header = JsonText(h);
  std::string out(kMagic, sizeof kMagic);
  PutLittleEndian<uint32_t>(&out, kAdapterFormatVersion);
  PutLittleEndian<uint32_t>(&out, static_cast<uint32_t>(header.size()));
  out += header;
  out.append(reinterpret_cast<const char*>(a.mean.data()), a.mean.size() * sizeof(float));
  out.append(reinterpret_cast<const char*>(a.std.data()), a.std.size() * sizeof(float));
  PutLittleEndian<uint32_t>(&out, Crc32(out));
  return out;
}

Result<FeatureAdapter> DecodeFeatureAdapter(std::string_view bytes) {
  const size_t fixed = sizeof kMagic + 2 * sizeof(uint32_t);
  if (bytes.size() < fixed + sizeof(uint32_t)) return Corrupt("too short (" + std::to_string(bytes.size()) + " bytes)");
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) return Corrupt("bad magic");
  const uint32_t stored_crc = GetLittleEndian<uint32_t>(bytes, bytes.size() - sizeof(uint32_t));
  if (Crc32(bytes.substr(0, bytes.size() - sizeof(uint32_t))) != stored_crc) return Corrupt("checksum mismatch");
  const uint32_t version = GetLittleEndian<uint32_t>(bytes, sizeof kMagic);
  if (version != kAdapterFormatVersion) {
    return Status::Unsupported("adapter file format version " + std::to_string(version) + " (this build reads " +
                               std::to_string(kAdapterFormatVersion) + ")");
  }
  const uint32_t hlen = GetLittleEndian<uint32_t>(bytes, sizeof kMagic + sizeof(uint32_t));
  if (hlen > kMaxHeader || fixed + hlen > bytes.size()) return Corrupt("header length " + std::to_string(hlen));
  FeatureAdapter a;
  int dim = 0;
  try {
    nlohmann::json h = nlohmann::json::parse(bytes.substr(fixed, hlen));
    if (h.at("kind").get<std::string>() != "zscore") return Corrupt("kind is not zscore");
    // Integers are read as integers in range (IntegerValue), never cast.
    auto integer = [](const nlohmann::json& j, const char* key, int64_t lo, int64_t hi, auto* out) -> Status {
      std::optional<int64_t> v = JsonInteger(j.at(key), lo, hi);
      if (!v) return Corrupt(std::string("header field ") + key + " is not an integer in [" + std::to_string(lo) + ", " +
                             std::to_string(hi) + "]");
      *out = static_cast<std::remove_pointer_t<decltype(out)>>(*v);
      return Status::Ok();
    };
    a.model = h.at("model").get<std::string>();
    SOPILOT_RETURN_IF_ERROR(integer(h, "dim", 1, kMaxDim, &dim));
    a.std_floor = h.at("std_floor").get<double>();
    SOPILOT_RETURN_IF_ERROR(integer(h, "clips", INT64_MIN, INT64_MAX, &a.clips));
    SOPILOT_RETURN_IF_ERROR(integer(h, "videos", INT_MIN, INT_MAX, &a.videos));
    a.task_id = h.at("task_id").get<std::string>();
    SOPILOT_RETURN_IF_ERROR(integer(h, "version", INT64_MIN, INT64_MAX, &a.version));
    const nlohmann::json& ids = h.at("source_video_ids");
    if (!ids.is_array()) return Corrupt("source_video_ids is not an array");
    for (size_t i = 0; i < ids.size(); ++i) {
      std::optional<int64_t> id = JsonInteger(ids[i], INT64_MIN, INT64_MAX);
      if (!id) return Corrupt("source_video_ids holds something other than integers");
      a.source_video_ids.push_back(*id);
    }
    a.fitted_at = h.at("fitted_at").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    return Corrupt(std::string("header: ") + e.what());
  }
  if (dim <= 0 || dim > kMaxDim) return Corrupt("dim " + std::to_string(dim));
  if (!ValidFloor(a.std_floor)) return Corrupt("std_floor");
  const size_t body = 2 * static_cast<size_t>(dim) * sizeof(float);
  if (fixed + hlen + body + sizeof(uint32_t) != bytes.size()) return Corrupt("size does not match dim");
  a.mean.resize(dim);
  a.std.resize(dim);
  std::memcpy(a.mean.data(), bytes.data() + fixed + hlen, dim * sizeof(float));
  std::memcpy(a.std.data(), bytes.data() + fixed + hlen + dim * sizeof(float), dim * sizeof(float));
  for (int j = 0; j < dim; ++j) {
    if (!std::isfinite(a.mean[j]) || !std::isfinite(a.std[j]) || a.std[j] <= 0) {
      return Corrupt("dimension " + std::to_string(j) + " is not finite or has std <= 0");
    }
  }
  return a;
}

Status WriteFeatureAdapterFile(Env* env, const std::string& path, const FeatureAdapter& adapter) {
  SOPILOT_ASSIGN_OR_RETURN(std::string bytes, EncodeFeatureAdapter(adapter));
  return WriteFileAtomically(env, path, bytes);
}

Result<FeatureAdapter> ReadFeatureAdapterFile(Env* env, const std::string& path) {
  SOPILOT_ASSIGN_OR_RETURN(std::string bytes, env->ReadFile(path, kMaxFileBytes));
  auto a = DecodeFeatureAdapter(bytes);
  if (!a.ok()) return a.status().WithContext(path);
  return a;
}

}  // namespace sopilot
