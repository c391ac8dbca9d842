// The model runner on tiny ONNX networks (testdata/onnx, made by
// tools/models/make_test_models.py): each computes y = 2 * mean(x) + 1 per
// channel, so results are checked by hand. Bad files give errors, not crashes.
#include "embed/dnn_model.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace sopilot {
namespace {

std::string TestModel(const std::string& name) {
  return std::string(SOPILOT_SOURCE_DIR) + "/testdata/onnx/" + name;
}

ModelSignature PoolSignature(int batch) {
  ModelSignature sig;
  sig.input = {batch, 3, 8, 8};
  sig.outputs = {{batch, 3}};
  return sig;
}

// A batch of n pictures; picture b, channel c holds the value b + c / 10.
cv::Mat Batch(int n) {
  int shape[] = {n, 3, 8, 8};
  cv::Mat blob(4, shape, CV_32F);
  float* p = blob.ptr<float>();
  for (int b = 0; b < n; ++b)
    for (int c = 0; c < 3; ++c)
      for (int i = 0; i < 64; ++i) *p++ = static_cast<float>(b) + c / 10.0f;
  return blob;
}

TEST(DnnModelTest, RunsAFixedBatchNetwork) {
  auto model = DnnModel::Load(TestModel("pool_affine_b1.onnx"), PoolSignature(1));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->max_batch(), 1);
  auto out = (*model)->Run(Batch(1));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), 1u);
  const cv::Mat& y = (*out)[0];
  ASSERT_EQ(y.total(), 3u);
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(y.ptr<float>()[c], 2 * (c / 10.0f) + 1, 1e-5);
}

TEST(DnnModelTest, RunsADynamicBatchInOneCall) {
  auto model = DnnModel::Load(TestModel("pool_affine_dynamic.onnx"), PoolSignature(-1));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->max_batch(), DnnModel::kMaxBatch);
  auto out = (*model)->Run(Batch(5));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const cv::Mat& y = (*out)[0];
  ASSERT_EQ(y.size[0], 5);
  ASSERT_EQ(y.size[1], 3);
  for (int b = 0; b < 5; ++b)
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(y.at<float>(b, c), 2 * (b + c / 10.0f) + 1, 1e-4);
}

TEST(DnnModelTest, ReadsTheOpset) {
  auto opset = OnnxOpset(TestModel("pool_affine_b1.onnx"));
  ASSERT_TRUE(opset.ok()) << opset.status().ToString();
  EXPECT_EQ(*opset, 11);
}

TEST(DnnModelTest, MissingFileIsNotFound) {
  auto model = DnnModel::Load("/nonexistent/model.onnx", PoolSignature(1));
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), Status::Code::kNotFound);
  EXPECT_NE(model.status().message().find("/nonexistent/model.onnx"), std::string::npos);
}

TEST(DnnModelTest, GarbageAndTruncatedFilesAreCorruption) {
  testing::TempDir dir;
  const std::string garbage = dir.path() + "/garbage.onnx";
  {
    std::ofstream out(garbage, std::ios::binary);
    for (int i = 0; i < 4096; ++i) out.put(static_cast<char>((i * 7919) & 0xff));
  }
  auto g = DnnModel::Load(garbage, PoolSignature(1));
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), Status::Code::kCorruption) << g.status().ToString();

  const std::string empty = dir.path() + "/empty.onnx";
  std::ofstream(empty).close();
  EXPECT_EQ(DnnModel::Load(empty, PoolSignature(1)).status().code(), Status::Code::kCorruption);

  // Every truncation of a valid file is refused, at the header scan or by
  // OpenCV, and none crashes.
  std::ifstream in(TestModel("pool_affine_b1.onnx"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 100u);
  for (size_t n = 1; n < bytes.size(); n += 7) {
    const std::string cut = dir.path() + "/cut.onnx";
    std::ofstream(cut, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(n));
    auto m = DnnModel::Load(cut, PoolSignature(1));
    EXPECT_FALSE(m.ok()) << "a file cut to " << n << " of " << bytes.size() << " bytes was accepted";
  }
}

TEST(DnnModelTest, TooNewOpsetIsUnsupportedWithTheReason) {
  auto model = DnnModel::Load(TestModel("pool_affine_opset99.onnx"), PoolSignature(1));
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), Status::Code::kUnsupported);
  EXPECT_NE(model.status().message().find("opset 99"), std::string::npos) << model.status().ToString();
}

TEST(DnnModelTest, WrongInputShapeNamesBothShapes) {
  ModelSignature sig = PoolSignature(1);
  sig.input = {1, 3, 224, 224};
  auto model = DnnModel::Load(TestModel("pool_affine_b1.onnx"), sig);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(model.status().message().find("1x3x8x8"), std::string::npos) << model.status().ToString();
  EXPECT_NE(model.status().message().find("1x3x224x224"), std::string::npos) << model.status().ToString();
}

TEST(DnnModelTest, WrongOutputShapeIsRefusedAtLoad) {
  ModelSignature sig = PoolSignature(1);
  sig.outputs = {{1, 1024}};
  auto model = DnnModel::Load(TestModel("pool_affine_b1.onnx"), sig);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(model.status().message().find("1x3"), std::string::npos) << model.status().ToString();
  EXPECT_NE(model.status().message().find("1x1024"), std::string::npos) << model.status().ToString();
}

TEST(DnnModelTest, UnknownOutputNameIsAnError) {
  ModelSignature sig = PoolSignature(1);
  sig.output_names = {"no_such_layer"};
  EXPECT_FALSE(DnnModel::Load(TestModel("pool_affine_b1.onnx"), sig).ok());
}

TEST(DnnModelTest, RunRefusesABlobOfTheWrongShapeOrBatch) {
  auto fixed = DnnModel::Load(TestModel("pool_affine_b1.onnx"), PoolSignature(1));
  ASSERT_TRUE(fixed.ok()) << fixed.status().ToString();
  EXPECT_EQ((*fixed)->Run(Batch(2)).status().code(), Status::Code::kInvalidArgument);
  int shape[] = {1, 3, 4, 4};
  EXPECT_EQ((*fixed)->Run(cv::Mat(4, shape, CV_32F, cv::Scalar(0))).status().code(), Status::Code::kInvalidArgument);
  int good[] = {1, 3, 8, 8};
  EXPECT_EQ((*fixed)->Run(cv::Mat(4, good, CV_8U, cv::Scalar(0))).status().code(), Status::Code::kInvalidArgument);

  auto dynamic = DnnModel::Load(TestModel("pool_affine_dynamic.onnx"), PoolSignature(-1));
  ASSERT_TRUE(dynamic.ok()) << dynamic.status().ToString();
  EXPECT_EQ((*dynamic)->Run(Batch(DnnModel::kMaxBatch + 1)).status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace sopilot
