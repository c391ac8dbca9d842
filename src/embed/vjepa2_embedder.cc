#include "embed/vjepa2_embedder.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <utility>

#include <opencv2/imgproc.hpp>

#include "base/digest.h"
#include "base/exception_border.h"
#include "embed/dnn_model.h"
#include "embed/onnx_signature.h"

namespace sopilot {
namespace {

constexpr float kMean[3] = {0.485f, 0.456f, 0.406f};
constexpr float kStd[3] = {0.229f, 0.224f, 0.225f};
// Beyond these a header is not an export of this kind (and a blob would not
// fit in memory): 512 frames, 1024 px, 65536 dimensions.
constexpr int64_t kMaxFrames = 512, kMaxSize = 1024, kMaxDim = 65536;

// The SHA-256 of a file, once per (path, size, modification time) per process.
Result<std::string> CachedSha256(const std::string& path) {
  static std::mutex mu;
  static std::map<std::string, std::string> cache;
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  const auto mtime = std::filesystem::last_write_time(path, ec);
  const std::string key = path + "\n" + std::to_string(size) + "\n" +
                          std::to_string(mtime.time_since_epoch().count());
  {
    std::lock_guard<std::mutex> lock(mu);
    if (!ec) {
      auto it = cache.find(key);
      if (it != cache.end()) return it->second;
    }
  }
  SOPILOT_ASSIGN_OR_RETURN(std::string hex, Sha256FileHex(path));
  std::lock_guard<std::mutex> lock(mu);
  if (!ec) cache[key] = hex;
  return hex;
}

}  // namespace

VJepa2Embedder::VJepa2Embedder(std::string path, std::string name, VJepa2Signature signature)
    : path_(std::move(path)), name_(std::move(name)), signature_(signature) {}

VJepa2Embedder::~VJepa2Embedder() = default;

Result<std::unique_ptr<VJepa2Embedder>> VJepa2Embedder::Open(const std::string& model_path) {
  if (model_path.empty()) {
    return Status::InvalidArgument(
        "vjepa2 needs SOPILOT_VJEPA2_MODEL=FILE: an ONNX file written by tools/vjepa2/export_vjepa2.py "
        "(doc/embedders.md, \"vjepa2\")");
  }
  SOPILOT_ASSIGN_OR_RETURN(OnnxSignature onnx, ReadOnnxSignature(model_path));
  const std::vector<int64_t>& in = onnx.inputs.front().shape;
  const std::vector<int64_t>& out = onnx.outputs.front().shape;
  const std::string expected = " (an export of tools/vjepa2/export_vjepa2.py has input 1x3xTxSxS, output 1xD)";
  if (in.size() != 5 || (in[0] != 1 && in[0] != -1) || in[1] != 3 || in[2] < 1 || in[2] > kMaxFrames ||
      in[3] < 1 || in[3] > kMaxSize || in[3] != in[4]) {
    return Status::InvalidArgument(model_path + ": input \"" + onnx.inputs.front().name + "\" is " +
                                   OnnxShapeString(in) + ", not 1x3xTxSxS" + expected);
  }
  VJepa2Signature sig;
  sig.frames = static_cast<int>(in[2]);
  sig.size = static_cast<int>(in[3]);
  const bool pooled = out.size() == 2;
  const bool tokens = out.size() == 3 && out[1] >= 1;
  if ((!pooled && !tokens) || (out[0] != 1 && out[0] != -1) || out.back() < 1 || out.back() > kMaxDim) {
    return Status::InvalidArgument(model_path + ": output \"" + onnx.outputs.front().name + "\" is " +
                                   OnnxShapeString(out) + ", not 1xD or 1xNxD" + expected);
  }
  sig.dim = static_cast<int>(out.back());
  sig.tokens = tokens;
  SOPILOT_ASSIGN_OR_RETURN(std::string sha, CachedSha256(model_path));
  return std::unique_ptr<VJepa2Embedder>(
      new VJepa2Embedder(model_path, std::string(kName) + ":" + sha.substr(0, 12), sig));
}

Status VJepa2Embedder::Load() {
  if (net_) return Status::Ok();
  ModelSignature sig;
  sig.input = {1, 3, signature_.frames, signature_.size, signature_.size};
  sig.outputs = {signature_.tokens ? std::vector<int>{1, -1, signature_.dim} : std::vector<int>{1, signature_.dim}};
  // DnnModel reads the file, checks its input, and runs it once on zeros: a
  // network OpenCV cannot run fails here, not in the middle of a video.
  SOPILOT_ASSIGN_OR_RETURN(net_, DnnModel::Load(path_, sig));
  return Status::Ok();
}

Status VJepa2Embedder::Run(const cv::Mat& blob, float* out) {
  SOPILOT_RETURN_IF_ERROR(Load());
  SOPILOT_ASSIGN_OR_RETURN(std::vector<cv::Mat> outputs, net_->Run(blob));
  const int D = signature_.dim;
  const cv::Mat& y = outputs.front();
  // DnnModel checked the shape at Load; a network whose output changes shape
  // with its input is refused here.
  const int n = y.dims == 3 ? y.size[1] : 1;
  if (y.total() != static_cast<size_t>(n) * D || !y.isContinuous()) {
    return Status::Internal(path_ + ": the model's output changed shape");
  }
  const float* p = y.ptr<float>();
  for (int d = 0; d < D; ++d) {
    double sum = 0;
    for (int t = 0; t < n; ++t) sum += p[static_cast<size_t>(t) * D + d];
    out[d] = static_cast<float>(sum / n);
  }
  return Status::Ok();
}

std::vector<int> VJepa2Embedder::ResampleIndices(int count, int T) {
  // numpy.linspace(0, count - 1, T).astype(int64): k * step, the last
  // exactly count - 1, truncated.
  std::vector<int> idx(T);
  if (count == T || T == 1) {
    for (int k = 0; k < T; ++k) idx[k] = count == T ? k : 0;
    return idx;
  }
  const double step = static_cast<double>(count - 1) / static_cast<double>(T - 1);
  for (int k = 0; k < T; ++k) idx[k] = k == T - 1 ? count - 1 : static_cast<int>(static_cast<double>(k) * step);
  return idx;
}

cv::Mat VJepa2Embedder::PrepareFrame(const cv::Mat& rgb, int S) {
  cv::Mat unit, sized;
  rgb.convertTo(unit, CV_32F, 1.0 / 255.0);
  // INTER_LINEAR samples at half-pixel centres and does not antialias, as
  // torch's interpolate(bilinear, align_corners=False) does.
  cv::resize(unit, sized, cv::Size(S, S), 0, 0, cv::INTER_LINEAR);
  cv::Mat planes(3 * S, S, CV_32F);
  for (int y = 0; y < S; ++y) {
    const float* src = sized.ptr<float>(y);
    for (int c = 0; c < 3; ++c) {
      float* dst = planes.ptr<float>(c * S + y);
      for (int x = 0; x < S; ++x) dst[x] = (src[3 * x + c] - kMean[c]) / kStd[c];
    }
  }
  return planes;
}

cv::Mat VJepa2Embedder::Assemble(const std::vector<const cv::Mat*>& prepared, int T, int S) {
  const int shape[5] = {1, 3, T, S, S};
  cv::Mat blob(5, shape, CV_32F);
  const std::vector<int> idx = ResampleIndices(static_cast<int>(prepared.size()), T);
  const size_t plane = static_cast<size_t>(S) * S;
  for (int t = 0; t < T; ++t) {
    const cv::Mat& src = *prepared[idx[t]];
    for (int c = 0; c < 3; ++c) {
      std::memcpy(blob.ptr<float>() + (static_cast<size_t>(c) * T + t) * plane, src.ptr<float>(c * S),
                  plane * sizeof(float));
    }
  }
  return blob;
}

cv::Mat VJepa2Embedder::Prepare(const std::vector<cv::Mat>& frames, int T, int S) {
  std::vector<cv::Mat> prepared;
  std::vector<const cv::Mat*> ptrs;
  prepared.reserve(frames.size());
  for (const cv::Mat& f : frames) {
    prepared.push_back(PrepareFrame(f, S));
    ptrs.push_back(&prepared.back());
  }
  return Assemble(ptrs, T, S);
}

const cv::Mat& VJepa2Embedder::FrameOf(const Frame& f) {
  auto it = frame_cache_.find(f.id);
  if (it != frame_cache_.end()) return it->second;
  return frame_cache_[f.id] = PrepareFrame(f.rgb, signature_.size);
}

Status VJepa2Embedder::Embed(const Clip& clip, float* out) {
  const int count = static_cast<int>(clip.frames.size());
  if (count == 0) return Status::InvalidArgument("cannot embed a clip without frames");
  return CallGuarded("vjepa2 embedding", [&]() -> Status {
    for (const FramePtr& f : clip.frames) {
      if (!f || f->rgb.empty() || f->rgb.type() != CV_8UC3) {
        return Status::InvalidArgument("vjepa2: a clip frame is not an RGB picture");
      }
    }
    // Frames before this clip will not come back (clips arrive in order).
    const int64_t first_id = clip.frames.front()->id;
    std::erase_if(frame_cache_, [&](const auto& kv) { return kv.first < first_id; });
    std::vector<const cv::Mat*> prepared;
    for (const FramePtr& f : clip.frames) prepared.push_back(&FrameOf(*f));
    const cv::Mat blob = Assemble(prepared, signature_.frames, signature_.size);
    SOPILOT_RETURN_IF_ERROR(Run(blob, out));
    double norm = 0;
    for (int d = 0; d < signature_.dim; ++d) norm += static_cast<double>(out[d]) * out[d];
    norm = std::sqrt(norm);
    if (!std::isfinite(norm)) return Status::Internal(path_ + ": the model gave a non-finite embedding");
    if (norm < 1e-12) {
      std::fill(out, out + signature_.dim, 0.0f);
    } else {
      for (int d = 0; d < signature_.dim; ++d) out[d] = static_cast<float>(out[d] / norm);
    }
    return Status::Ok();
  });
}

}  // namespace sopilot
