#include "embed/model_manifest.h"

#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/digest.h"
#include "testing/temp_dir.h"

namespace sopilot {
namespace {

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary);
  f << data;
}

// A manifest of one model "tiny" whose file holds `model_bytes`.
nlohmann::json TinyManifest(const std::string& model_bytes) {
  return {
      {"format", "sopilot-models/1"},
      {"models",
       {{{"name", "tiny"},
         {"file", "tiny.onnx"},
         {"sha256", Sha256Hex(model_bytes)},
         {"package", "pkg"},
         {"version", "1.0.0"},
         {"license", "MIT"},
         {"opset", 11},
         {"converter_version", "1"},
         {"input",
          {{"name", "input"}, {"shape", {1, 3, 8, 8}}, {"layout", "NCHW"}, {"channels", "RGB"}, {"scale", 0.5},
           {"offset", -1.0}, {"range", "[-1, 1]"}}},
         {"outputs",
          {{{"name", "heat"}, {"shape", {1, 2, 4, 4}}, {"layout", "NCHW"}, {"description", "maps"}},
           {{"name", "vec"}, {"shape", {1, 5}}, {"layout", "TF"}}}},
         {"reference", {{"files", {{{"role", "input"}, {"file", "reference/tiny.input.f32"}, {"sha256", "00"}}}}}}}}}};
}

class ModelManifestTest : public ::testing::Test {
 protected:
  void Install(const nlohmann::json& manifest, const std::string& model_bytes = "model") {
    WriteFile(dir_.file("tiny.onnx"), model_bytes);
    WriteFile(dir_.file("manifest.json"), manifest.dump());
  }
  testing::TempDir dir_;
};

TEST_F(ModelManifestTest, LoadsAndFindsAModel) {
  Install(TinyManifest("model"));
  auto manifest = ModelManifest::Load(dir_.path());
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  ASSERT_EQ(manifest->models().size(), 1u);
  auto m = manifest->Find("tiny");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const ModelInfo& info = **m;
  EXPECT_EQ(info.path, dir_.file("tiny.onnx"));
  EXPECT_EQ(info.package, "pkg");
  EXPECT_EQ(info.opset, 11);
  EXPECT_EQ(info.input.shape, (std::vector<int>{1, 3, 8, 8}));
  EXPECT_EQ(info.input.channels, "RGB");
  EXPECT_FLOAT_EQ(info.input.scale, 0.5f);
  EXPECT_FLOAT_EQ(info.input.offset, -1.0f);
  ASSERT_EQ(info.outputs.size(), 2u);
  EXPECT_EQ(info.outputs[1].description, "");
  EXPECT_EQ(info.reference.at(0).path, dir_.file("reference/tiny.input.f32"));
  ModelSignature s = info.signature();
  EXPECT_EQ(s.input, (std::vector<int>{1, 3, 8, 8}));
  EXPECT_EQ(s.output_names, (std::vector<std::string>{"heat", "vec"}));
  EXPECT_EQ(s.outputs, (std::vector<std::vector<int>>{{1, 2, 4, 4}, {1, 5}}));
}

TEST_F(ModelManifestTest, MissingDirectoryIsNotFound) {
  auto manifest = ModelManifest::Load(dir_.file("absent"));
  ASSERT_FALSE(manifest.ok());
  EXPECT_EQ(manifest.status().code(), Status::Code::kNotFound);
  EXPECT_NE(manifest.status().message().find("install-models.sh"), std::string::npos) << manifest.status().ToString();
}

TEST_F(ModelManifestTest, MissingManifestIsNotFound) {
  auto manifest = ModelManifest::Load(dir_.path());
  ASSERT_FALSE(manifest.ok());
  EXPECT_EQ(manifest.status().code(), Status::Code::kNotFound);
  EXPECT_NE(manifest.status().message().find("manifest.json"), std::string::npos);
}

TEST_F(ModelManifestTest, BadJsonAndMissingFieldsAreCorruption) {
  WriteFile(dir_.file("manifest.json"), "{not json");
  auto bad = ModelManifest::Load(dir_.path());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Status::Code::kCorruption);

  nlohmann::json m = TinyManifest("model");
  m["models"][0].erase("sha256");
  Install(m);
  auto missing_field = ModelManifest::Load(dir_.path());
  ASSERT_FALSE(missing_field.ok());
  EXPECT_EQ(missing_field.status().code(), Status::Code::kCorruption);

  m = TinyManifest("model");
  m["format"] = "other/2";
  Install(m);
  auto format = ModelManifest::Load(dir_.path());
  ASSERT_FALSE(format.ok());
  EXPECT_NE(format.status().message().find("other/2"), std::string::npos);
}

TEST_F(ModelManifestTest, MissingModelFileIsNotFound) {
  Install(TinyManifest("model"));
  ASSERT_EQ(std::remove(dir_.file("tiny.onnx").c_str()), 0);
  auto manifest = ModelManifest::Load(dir_.path());
  ASSERT_FALSE(manifest.ok());
  EXPECT_EQ(manifest.status().code(), Status::Code::kNotFound);
  EXPECT_NE(manifest.status().message().find("tiny.onnx"), std::string::npos);
}

TEST_F(ModelManifestTest, ChecksumMismatchIsCorruption) {
  Install(TinyManifest("model"), "a different model");
  auto manifest = ModelManifest::Load(dir_.path());
  ASSERT_FALSE(manifest.ok());
  EXPECT_EQ(manifest.status().code(), Status::Code::kCorruption);
  EXPECT_NE(manifest.status().message().find("sha256"), std::string::npos) << manifest.status().ToString();
}

TEST_F(ModelManifestTest, UnknownModelIsNotFoundAndListsTheKnownOnes) {
  Install(TinyManifest("model"));
  auto manifest = ModelManifest::Load(dir_.path());
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  auto m = manifest->Find("vjepa2");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Status::Code::kNotFound);
  EXPECT_NE(m.status().message().find("tiny"), std::string::npos) << m.status().ToString();
}

}  // namespace
}  // namespace sopilot
