#include "embed/vjepa2_embedder.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <unistd.h>

#include "embed/embedder_registry.h"
#include "embed/onnx_test_protobuf.h"
#include "testing/command.h"
#include "testing/temp_dir.h"

namespace sopilot {
namespace {

using Code = Status::Code;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

template <typename T>
std::vector<T> ReadRaw(const std::string& path) {
  std::string bytes = ReadAll(path);
  std::vector<T> v(bytes.size() / sizeof(T));
  std::memcpy(v.data(), bytes.data(), v.size() * sizeof(T));
  return v;
}

double Norm(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += double(x) * x;
  return std::sqrt(s);
}

double MaxAbsDiff(const float* a, const float* b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; ++i) m = std::max(m, std::abs(double(a[i]) - b[i]));
  return m;
}

// The tiny model tools/vjepa2/make_tiny_vjepa2.py builds (16 frames, 64 px,
// 32 dimensions) and its reference: a clip of 8 frames of 48 x 36, the blob
// torch prepares from it and the network's output for that blob.
//
// ctest runs every test in a process of its own, so the model is made once
// into the build tree (in a directory of its own, renamed into place) and
// made again only when a script under tools/vjepa2 is newer.
class VJepa2EmbedderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    namespace fs = std::filesystem;
    dir_ = std::string(SOPILOT_BINARY_DIR) + "/testdata/vjepa2_tiny";
    const fs::path tools = fs::path(SOPILOT_SOURCE_DIR) / "tools/vjepa2";
    std::error_code ec;
    const fs::path done = fs::path(dir_) / "ref/reference.json";
    bool fresh = fs::exists(done, ec);
    for (const char* script : {"make_tiny_vjepa2.py", "vjepa2_onnx.py"}) {
      if (fresh && fs::last_write_time(tools / script, ec) > fs::last_write_time(done, ec)) fresh = false;
    }
    if (fresh) return;
    if (testing::RunCommand("/usr/bin/python3 -c 'import torch, numpy'").exit_code != 0) {
      skip_ = "Debian's python3-torch is not installed (scripts/install-deps.sh installs it)";
      return;
    }
    const std::string tmp = dir_ + ".tmp." + std::to_string(::getpid());
    fs::remove_all(tmp, ec);
    fs::create_directories(tmp, ec);
    const std::string cmd = "/usr/bin/python3 " + testing::ShellQuote((tools / "make_tiny_vjepa2.py").string()) +
                            " --out " + testing::ShellQuote(tmp + "/tiny.onnx") + " --reference " +
                            testing::ShellQuote(tmp + "/ref") +
                            " --frames 16 --size 64 --dim 32 --clip-frames 8 --clip-height 36 --clip-width 48";
    testing::CommandResult r = testing::RunCommand(cmd);
    if (r.exit_code != 0) {
      failure_ = "make_tiny_vjepa2.py failed: " + r.err;
      fs::remove_all(tmp, ec);
      return;
    }
    fs::remove_all(dir_, ec);
    fs::rename(tmp, dir_, ec);  // another process may have won; its files are as good
    fs::remove_all(tmp, ec);
  }

  static std::string model() { return dir_ + "/tiny.onnx"; }
  static std::string ref(const std::string& name) { return dir_ + "/ref/" + name; }

  // The reference clip as RGB frames (8 x 36 x 48 x 3, uint8).
  static std::vector<cv::Mat> RefFrames() {
    const std::vector<uint8_t> bytes = ReadRaw<uint8_t>(ref("frames.u8"));
    std::vector<cv::Mat> frames;
    const size_t one = 36 * 48 * 3;
    for (size_t i = 0; i + one <= bytes.size(); i += one) {
      frames.push_back(cv::Mat(36, 48, CV_8UC3, const_cast<uint8_t*>(bytes.data() + i)).clone());
    }
    return frames;
  }
  static Clip ClipOf(const std::vector<cv::Mat>& frames, int64_t first_id) {
    Clip c;
    for (size_t i = 0; i < frames.size(); ++i) {
      auto f = std::make_shared<Frame>();
      f->id = first_id + static_cast<int64_t>(i);
      f->rgb = frames[i];
      c.frames.push_back(f);
    }
    c.real_frames = static_cast<int>(frames.size());
    return c;
  }

  static std::string dir_, skip_, failure_;
};
std::string VJepa2EmbedderTest::dir_, VJepa2EmbedderTest::skip_, VJepa2EmbedderTest::failure_;

TEST_F(VJepa2EmbedderTest, ReadsTheSignatureFromTheModelFile) {
  auto e = VJepa2Embedder::Open(model());
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ((*e)->signature().frames, 16);
  EXPECT_EQ((*e)->signature().size, 64);
  EXPECT_EQ((*e)->dim(), 32);
  // "vjepa2:" and 12 hex digits of the file's SHA-256.
  const std::string name = (*e)->name();
  ASSERT_EQ(name.size(), 7u + 12u) << name;
  EXPECT_EQ(name.substr(0, 7), "vjepa2:");
  EXPECT_EQ(name.find_first_not_of("0123456789abcdef", 7), std::string::npos) << name;
}

TEST_F(VJepa2EmbedderTest, PreparesAClipAsTheOriginalDoes) {
  const cv::Mat blob = VJepa2Embedder::Prepare(RefFrames(), 16, 64);
  const std::vector<float> want = ReadRaw<float>(ref("input.f32"));
  ASSERT_EQ(blob.total(), want.size());
  EXPECT_LT(MaxAbsDiff(blob.ptr<float>(), want.data(), want.size()), 1e-5);
}

TEST_F(VJepa2EmbedderTest, RunsTheNetworkAsTorchDoes) {
  auto e = VJepa2Embedder::Open(model());
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  const std::vector<float> input = ReadRaw<float>(ref("input.f32"));
  const int shape[5] = {1, 3, 16, 64, 64};
  const cv::Mat blob(5, shape, CV_32F, const_cast<float*>(input.data()));
  std::vector<float> got(32);
  ASSERT_TRUE((*e)->Run(blob, got.data()).ok());
  const std::vector<float> want = ReadRaw<float>(ref("output.f32"));
  ASSERT_EQ(want.size(), 32u);
  EXPECT_LT(MaxAbsDiff(got.data(), want.data(), 32), 1e-4);
}

TEST_F(VJepa2EmbedderTest, EmbedsAClipDeterministicallyAndNormalised) {
  auto e = VJepa2Embedder::Open(model());
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  const std::vector<cv::Mat> frames = RefFrames();
  std::vector<float> v(32);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE((*e)->Embed(ClipOf(frames, 0), v.data()).ok());
  std::printf("tiny model (16 x 64 px, 32 dims), first clip with loading: %.3f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  EXPECT_NEAR(Norm(v), 1.0, 1e-5);
  // Torch's output for the same clip, normalised.
  std::vector<float> want = ReadRaw<float>(ref("output.f32"));
  const double n = Norm(want);
  for (float& x : want) x = static_cast<float>(x / n);
  EXPECT_LT(MaxAbsDiff(v.data(), want.data(), 32), 1e-4);

  // Again, by a fresh embedder: the same floats.
  auto e2 = VJepa2Embedder::Open(model());
  ASSERT_TRUE(e2.ok());
  std::vector<float> again(32);
  ASSERT_TRUE((*e2)->Embed(ClipOf(frames, 0), again.data()).ok());
  EXPECT_EQ(v, again);

  // Another clip (the frames in reverse order, later ids): another vector.
  std::vector<cv::Mat> reversed(frames.rbegin(), frames.rend());
  std::vector<float> other(32);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE((*e)->Embed(ClipOf(reversed, 100), other.data()).ok());
  std::printf("tiny model, one more clip: %.4f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  double cos = 0;
  for (int i = 0; i < 32; ++i) cos += double(v[i]) * other[i];
  EXPECT_LT(cos, 0.9999);
  EXPECT_NEAR(Norm(other), 1.0, 1e-5);
}

TEST(VJepa2ResampleTest, FollowsNumpyLinspace) {
  // numpy.linspace(0, 7, 64).astype(int64): each of the first 7 frames 9
  // times, the last once.
  std::vector<int> want;
  for (int f = 0; f < 7; ++f) want.insert(want.end(), 9, f);
  want.push_back(7);
  EXPECT_EQ(VJepa2Embedder::ResampleIndices(8, 64), want);
  EXPECT_EQ(VJepa2Embedder::ResampleIndices(10, 16),
            (std::vector<int>{0, 0, 1, 1, 2, 3, 3, 4, 4, 5, 6, 6, 7, 7, 8, 9}));
  EXPECT_EQ(VJepa2Embedder::ResampleIndices(16, 16)[15], 15);
  EXPECT_EQ(VJepa2Embedder::ResampleIndices(80, 64).back(), 79);  // fewer places than frames
}

TEST(VJepa2EmbedderErrorTest, NoModelMissingCorruptAndMismatchedFilesAreClearErrors) {
  auto none = VJepa2Embedder::Open("");
  ASSERT_EQ(none.status().code(), Code::kInvalidArgument);
  EXPECT_NE(none.status().message().find("SOPILOT_VJEPA2_MODEL=FILE"), std::string::npos);

  testing::TempDir dir;
  EXPECT_EQ(VJepa2Embedder::Open(dir.file("nope.onnx")).status().code(), Code::kNotFound);
  auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream(dir.file(name), std::ios::binary) << bytes;
    return dir.file(name);
  };
  EXPECT_EQ(VJepa2Embedder::Open(write("junk.onnx", "not a model at all")).status().code(), Code::kCorruption);

  // Signatures that are not 1x3xTxSxS -> 1xD: an image model, four channels,
  // a non-square picture, an output of rank 4.
  const std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> wrong = {
      {{1, 3, 224, 224}, {1, 1000}},
      {{1, 4, 16, 64, 64}, {1, 32}},
      {{1, 3, 16, 64, 48}, {1, 32}},
      {{1, 3, 16, 64, 64}, {1, 2, 3, 32}},
      {{2, 3, 16, 64, 64}, {2, 32}},
  };
  for (const auto& [in, out] : wrong) {
    auto r = VJepa2Embedder::Open(write("wrong.onnx", testing::OnnxModelBytes(in, out)));
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << r.status().ToString();
    EXPECT_NE(r.status().message().find("wrong.onnx"), std::string::npos) << r.status().message();
  }
  // A right signature on a network OpenCV cannot build: Open succeeds (it
  // reads the header only), the first Embed fails with a Status.
  auto fake = VJepa2Embedder::Open(write("fake.onnx", testing::OnnxModelBytes({1, 3, 4, 32, 32}, {1, 8})));
  ASSERT_TRUE(fake.ok()) << fake.status().ToString();
  Clip clip;
  auto f = std::make_shared<Frame>();
  f->rgb = cv::Mat(24, 32, CV_8UC3, cv::Scalar(10, 20, 30));
  clip.frames = {f, f};
  std::vector<float> v(8);
  Status s = (*fake)->Embed(clip, v.data());
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("fake.onnx"), std::string::npos) << s.ToString();
}

TEST_F(VJepa2EmbedderTest, TruncatedOrDamagedExportsAreErrorsNotCrashes) {
  const std::string whole = ReadAll(model());
  testing::TempDir dir;
  auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream(dir.file(name), std::ios::binary) << bytes;
    return dir.file(name);
  };
  auto cut = VJepa2Embedder::Open(write("cut.onnx", whole.substr(0, whole.size() / 2)));
  EXPECT_EQ(cut.status().code(), Code::kCorruption) << cut.status().ToString();
  // Bytes of the graph's nodes overwritten: an error at Open or at the first
  // Embed, never a crash.
  std::string damaged = whole;
  for (size_t i = 40; i < 400 && i < damaged.size(); ++i) damaged[i] = '\xff';
  auto d = VJepa2Embedder::Open(write("damaged.onnx", damaged));
  if (d.ok()) {
    std::vector<float> v(32);
    EXPECT_FALSE((*d)->Embed(ClipOf(RefFrames(), 0), v.data()).ok());
  }
}

TEST_F(VJepa2EmbedderTest, TheRegistryTakesTheModelFromItsConfiguration) {
  EmbedderConfig none;
  auto unset = MakeEmbedder("vjepa2", none);
  ASSERT_EQ(unset.status().code(), Code::kInvalidArgument);
  EXPECT_NE(unset.status().message().find("SOPILOT_VJEPA2_MODEL"), std::string::npos);

  EmbedderConfig config;
  config.vjepa2_model = model();
  auto e = MakeEmbedder("vjepa2", config);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  const std::string name = (*e)->name();
  // The name an embedding file records is a known one and brings back the
  // same model...
  EXPECT_TRUE(IsKnownEmbedder(name));
  auto same = MakeEmbedder(name, config);
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_EQ((*same)->name(), name);
  // ...and another export's name is refused, naming the configured file.
  EXPECT_TRUE(IsKnownEmbedder("vjepa2:000000000000"));
  auto other = MakeEmbedder("vjepa2:000000000000", config);
  ASSERT_EQ(other.status().code(), Code::kInvalidArgument);
  EXPECT_NE(other.status().message().find(model()), std::string::npos) << other.status().message();
  EXPECT_FALSE(IsKnownEmbedder("vjepa2:"));
  EXPECT_FALSE(IsKnownEmbedder("vjepa2:nothex000000"));

  // SOPILOT_VJEPA2_MODEL is where the default configuration looks.
  ::setenv(VJepa2Embedder::kModelEnv, model().c_str(), 1);
  auto from_env = MakeEmbedder("vjepa2");
  ::unsetenv(VJepa2Embedder::kModelEnv);
  ASSERT_TRUE(from_env.ok()) << from_env.status().ToString();
  EXPECT_EQ((*from_env)->name(), name);
}

}  // namespace
}  // namespace sopilot
