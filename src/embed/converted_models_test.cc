// The ONNX models scripts/install-models.sh converts (tools/models) against
// the TF.js originals: each model runs through OpenCV DNN on the reference
// input and must reproduce the outputs @tensorflow/tfjs computed for it.
//
// Tolerance: |onnx - tfjs| <= 1e-4 * max(1, max |tfjs|), per output. Both
// sides run the same float32 weights (float16 and uint8 weights are
// dequantised to identical float32 values on both sides), so what differs is
// only float32 arithmetic order (OpenCV's fused and vectorised kernels
// against TF.js's plain loops). The largest differences seen are ~1e-5 of
// the output's range (MoveNet's regressions; 2e-4 on BlazePalm values up to
// 518), ten times inside the bound; a wrong layout or a mis-mapped op gives
// differences of the order of the values themselves.
//
// Skips (and says why) only when the models directory is absent; CI runs
// scripts/install-models.sh first, so there it runs.
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/dnn.hpp>

#include "base/digest.h"
#include "embed/dnn_model.h"
#include "embed/model_manifest.h"

namespace sopilot {
namespace {

std::string ModelsDir() {
  const char* env = std::getenv("SOPILOT_MODELS_DIR");
  return env != nullptr && *env != '\0' ? env : std::string(SOPILOT_SOURCE_DIR) + "/models";
}

bool IsDir(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::vector<float> ReadFloats(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<float> v(bytes.size() / sizeof(float));
  std::copy(bytes.data(), bytes.data() + v.size() * sizeof(float), reinterpret_cast<char*>(v.data()));
  return v;
}

std::string ReferencePath(const ModelInfo& m, const std::string& role) {
  for (const auto& r : m.reference) {
    if (r.role == role) return r.path;
  }
  return "";
}

class ConvertedModelsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ModelsDir();
    if (!IsDir(dir_)) {
      GTEST_SKIP() << dir_ << " is absent: run scripts/install-models.sh (CI does) to test the converted models";
    }
    auto manifest = ModelManifest::Load(dir_);
    ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
    manifest_ = std::move(manifest.value());
  }
  std::string dir_;
  ModelManifest manifest_;
};

TEST_F(ConvertedModelsTest, ManifestListsTheModelsWithTheirChecksums) {
  std::vector<std::string> names;
  for (const auto& m : manifest_.models()) {
    names.push_back(m.name);
    // Opset 10 unless the graph needs opset 11's Resize (tools/models/tfjs_to_onnx.py): only at 10 does
    // OpenCV fuse a ReLU6 (Clip) into the convolution before it.
    EXPECT_EQ(m.opset, m.name == "movenet-lightning" ? 11 : 10) << m.name;
    for (const auto& r : m.reference) {
      auto digest = Sha256FileHex(r.path);
      ASSERT_TRUE(digest.ok()) << digest.status().ToString();
      EXPECT_EQ(*digest, r.sha256) << r.path;
    }
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"centernet", "handdetect", "handlandmark-full", "mobilenet_v2_mid",
                                             "movenet-lightning"}));
}

TEST_F(ConvertedModelsTest, OpenCvReproducesTheTfjsOutputs) {
  for (const ModelInfo& m : manifest_.models()) {
    SCOPED_TRACE(m.name);
    // Through the runner the embedders use: it checks the signature too.
    auto net = DnnModel::Load(m.path, m.signature());
    ASSERT_TRUE(net.ok()) << net.status().ToString();
    std::vector<float> input = ReadFloats(ReferencePath(m, "input"));
    cv::Mat blob(static_cast<int>(m.input.shape.size()), m.input.shape.data(), CV_32F);
    ASSERT_EQ(input.size(), blob.total());
    std::copy(input.begin(), input.end(), blob.ptr<float>());

    auto run = (*net)->Run(blob);
    ASSERT_TRUE(run.ok()) << run.status().ToString();
    const std::vector<cv::Mat>& outs = *run;
    // Time a few more runs (single image, OpenCV's default threads); printed
    // for people, never asserted.
    std::vector<double> ms;
    for (int i = 0; i < 5; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      ASSERT_TRUE((*net)->Run(blob).ok());
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());

    ASSERT_EQ(outs.size(), m.outputs.size());
    for (size_t i = 0; i < outs.size(); ++i) {
      const ModelOutput& o = m.outputs[i];
      std::vector<int> shape(outs[i].size.p, outs[i].size.p + outs[i].dims);
      EXPECT_EQ(shape, o.shape) << o.name;
      std::vector<float> want = ReadFloats(ReferencePath(m, o.name));
      ASSERT_EQ(want.size(), outs[i].total()) << o.name;
      const float* got = outs[i].ptr<float>();
      float max_ref = 0, max_diff = 0;
      for (size_t k = 0; k < want.size(); ++k) {
        max_ref = std::max(max_ref, std::abs(want[k]));
        max_diff = std::max(max_diff, std::abs(got[k] - want[k]));
      }
      const float tolerance = 1e-4f * std::max(1.0f, max_ref);
      EXPECT_LE(max_diff, tolerance) << o.name << ": max |ref| " << max_ref;
      std::printf("%-18s %-16s max|ref| %9.4g  max|diff| %9.3g  (tolerance %.3g)  median %.1f ms\n", m.name.c_str(),
                  o.name.c_str(), max_ref, max_diff, tolerance, ms[ms.size() / 2]);
    }
  }
}

}  // namespace
}  // namespace sopilot
