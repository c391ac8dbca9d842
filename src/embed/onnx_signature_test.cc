#include "embed/onnx_signature.h"

#include <gtest/gtest.h>

#include <fstream>

#include "embed/onnx_test_protobuf.h"
#include "testing/temp_dir.h"

namespace sopilot {
namespace {

std::string Write(const testing::TempDir& dir, const std::string& name, const std::string& bytes) {
  std::ofstream(dir.file(name), std::ios::binary) << bytes;
  return dir.file(name);
}

TEST(OnnxSignatureTest, ReadsInputAndOutputShapesPastTheWeights) {
  testing::TempDir dir;
  const std::string path =
      Write(dir, "m.onnx", testing::OnnxModelBytes({1, 3, 64, 256, 256}, {-1, 1024}, 5 << 20));
  auto sig = ReadOnnxSignature(path);
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  ASSERT_EQ(sig->inputs.size(), 1u);
  ASSERT_EQ(sig->outputs.size(), 1u);
  EXPECT_EQ(sig->inputs[0].name, "video");
  EXPECT_EQ(sig->inputs[0].shape, (std::vector<int64_t>{1, 3, 64, 256, 256}));
  EXPECT_EQ(sig->outputs[0].name, "embedding");
  EXPECT_EQ(sig->outputs[0].shape, (std::vector<int64_t>{-1, 1024}));
  EXPECT_EQ(OnnxShapeString(sig->outputs[0].shape), "?x1024");
}

TEST(OnnxSignatureTest, MissingEmptyTruncatedAndForeignFilesAreErrors) {
  testing::TempDir dir;
  EXPECT_TRUE(ReadOnnxSignature(dir.file("none.onnx")).status().code() == Status::Code::kNotFound);
  EXPECT_TRUE(ReadOnnxSignature(Write(dir, "empty.onnx", "")).status().code() == Status::Code::kCorruption);
  const std::string whole = testing::OnnxModelBytes({1, 3, 16, 64, 64}, {1, 32});
  for (size_t cut : {size_t{1}, size_t{10}, whole.size() / 2, whole.size() - 3}) {
    auto r = ReadOnnxSignature(Write(dir, "cut.onnx", whole.substr(0, cut)));
    EXPECT_TRUE(r.status().code() == Status::Code::kCorruption) << cut << ": " << r.status().ToString();
  }
  auto text = ReadOnnxSignature(Write(dir, "text.onnx", "this is a text file, not a model\n"));
  EXPECT_TRUE(text.status().code() == Status::Code::kCorruption) << text.status().ToString();
  auto ff = ReadOnnxSignature(Write(dir, "ff.onnx", std::string(64, '\xff')));
  EXPECT_TRUE(ff.status().code() == Status::Code::kCorruption) << ff.status().ToString();
  EXPECT_NE(ff.status().message().find("ff.onnx"), std::string::npos);
}

}  // namespace
}  // namespace sopilot
