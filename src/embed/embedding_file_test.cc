#include "embed/embedding_file.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "base/crc32.h"
#include "testing/temp_dir.h"

namespace sopilot {
namespace {

EmbeddingSet Sample(int clips = 3, int dim = 5) {
  EmbeddingSet s;
  s.model = "heuristic-v1";
  s.sampling = {4.0, 2.0, 0.5, 320, 0.6};
  s.source.path = "gold.mp4";
  s.source.duration_sec = 24.0;
  s.source.fps = 12;
  s.source.width = 320;
  s.source.height = 180;
  s.source.codec = "mpeg4";
  s.vectors = FloatMatrix(clips, dim);
  for (int i = 0; i < clips; ++i) {
    s.clips.push_back({i, 0.5 * i, 0.5 * i + 2.0});
    for (int j = 0; j < dim; ++j) s.vectors.at(i, j) = 0.1f * (i + 1) + 0.01f * j;
  }
  return s;
}

// Recomputes the trailing checksum so that a test reaches the checks behind it.
void Reseal(std::string* bytes) {
  uint32_t crc = Crc32(std::string_view(*bytes).substr(0, bytes->size() - 4));
  std::memcpy(bytes->data() + bytes->size() - 4, &crc, 4);
}

TEST(EmbeddingFileTest, RoundTripsEverything) {
  testing::TempDir dir;
  EmbeddingSet s = Sample();
  ASSERT_TRUE(WriteEmbeddingFile(Env::Default(), dir.file("a.emb"), s).ok());
  EXPECT_TRUE(LooksLikeEmbeddingFile(Env::Default(), dir.file("a.emb")));
  auto r = ReadEmbeddingFile(Env::Default(), dir.file("a.emb"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->model, "heuristic-v1");
  EXPECT_EQ(r->sampling.max_side, 320);
  EXPECT_DOUBLE_EQ(r->sampling.clip_stride_sec, 0.5);
  EXPECT_EQ(r->source.codec, "mpeg4");
  EXPECT_DOUBLE_EQ(r->source.duration_sec, 24.0);
  ASSERT_EQ(r->clips.size(), 3u);
  EXPECT_DOUBLE_EQ(r->clips[2].start_sec, 1.0);
  EXPECT_DOUBLE_EQ(r->clips[2].end_sec, 3.0);
  EXPECT_EQ(r->vectors.data, s.vectors.data);
}

TEST(EmbeddingFileTest, EveryTruncationIsDetected) {
  std::string bytes = *EncodeEmbeddingSet(Sample());
  for (size_t len = 0; len < bytes.size(); ++len) {
    auto r = DecodeEmbeddingSet(std::string_view(bytes).substr(0, len));
    ASSERT_FALSE(r.ok()) << "accepted a file cut to " << len << " bytes";
    EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
  }
}

TEST(EmbeddingFileTest, EveryFlippedByteIsDetected) {
  std::string bytes = *EncodeEmbeddingSet(Sample());
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] ^= 0x5A;
    EXPECT_FALSE(DecodeEmbeddingSet(bad).ok()) << "flip at byte " << i << " went unnoticed";
  }
}

TEST(EmbeddingFileTest, ForeignFilesAndVersionsAreNamed) {
  auto r = DecodeEmbeddingSet(std::string("\x00\x00\x00\x20" "ftypisom and then some mp4 data", 35));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("SOPEMBED"), std::string::npos);

  std::string bytes = *EncodeEmbeddingSet(Sample());
  uint32_t v = 99;
  std::memcpy(bytes.data() + 8, &v, 4);
  r = DecodeEmbeddingSet(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kUnsupported);
  EXPECT_NE(r.status().message().find("version 99"), std::string::npos);
}

TEST(EmbeddingFileTest, ChecksOfFieldsBehindTheChecksum) {
  // Non-finite vectors.
  EmbeddingSet s = Sample();
  s.vectors.at(1, 2) = std::numeric_limits<float>::quiet_NaN();
  auto r = DecodeEmbeddingSet(*EncodeEmbeddingSet(s));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("non-finite"), std::string::npos);
  // Clip times that go backwards.
  s = Sample();
  s.clips[2].start_sec = 0.1;
  r = DecodeEmbeddingSet(*EncodeEmbeddingSet(s));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("clip 2"), std::string::npos);
  // A header that is not JSON, resealed so only the parser can object.
  std::string bytes = *EncodeEmbeddingSet(Sample());
  bytes[16] = '[';
  Reseal(&bytes);
  r = DecodeEmbeddingSet(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("bad header"), std::string::npos);
}

TEST(EmbeddingFileTest, MismatchedRowsAreRefusedOnWrite) {
  EmbeddingSet s = Sample();
  s.clips.pop_back();
  testing::TempDir dir;
  EXPECT_FALSE(WriteEmbeddingFile(Env::Default(), dir.file("a.emb"), s).ok());
  EXPECT_FALSE(Env::Default()->FileExists(dir.file("a.emb")));
}

TEST(EmbeddingFileTest, ReadErrorsNameThePath) {
  testing::TempDir dir;
  auto r = ReadEmbeddingFile(Env::Default(), dir.file("nope.emb"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nope.emb"), std::string::npos);
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), dir.file("junk.emb"), "hello world, not embeddings").ok());
  r = ReadEmbeddingFile(Env::Default(), dir.file("junk.emb"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("junk.emb"), std::string::npos);
  EXPECT_FALSE(LooksLikeEmbeddingFile(Env::Default(), dir.file("junk.emb")));
}

// Found by fuzz/embedding_file_fuzzer: a set of zero clips (a video
// shorter than one clip) decoded with memcpy(nullptr, ..., 0), undefined
// behaviour that UBSan reports.
TEST(EmbeddingFileTest, ZeroClipsRoundTrip) {
  auto bytes = EncodeEmbeddingSet(Sample(0, 4));
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto back = DecodeEmbeddingSet(*bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back->clips.empty());
  EXPECT_EQ(back->vectors.rows, 0);
  EXPECT_EQ(back->vectors.cols, 4);
}

// The file with `from` replaced by `to` in its JSON header (header length
// and checksum fixed), so that only the header's own checks can object.
std::string WithHeaderEdit(const std::string& bytes, const std::string& from, const std::string& to) {
  uint32_t hlen;
  std::memcpy(&hlen, bytes.data() + 12, 4);
  std::string header = bytes.substr(16, hlen);
  size_t at = header.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at == std::string::npos) return bytes;
  header.replace(at, from.size(), to);
  std::string out = bytes.substr(0, 12);
  uint32_t n = static_cast<uint32_t>(header.size());
  out.append(reinterpret_cast<const char*>(&n), 4);
  out += header;
  out += bytes.substr(16 + hlen);
  Reseal(&out);
  return out;
}

// Found with fuzz/embedding_file_fuzzer (a hand-made header run through the
// harness under UBSan): nlohmann's get<int>() converts a
// float such as 1e10 to int with a cast that is undefined out of range
// (UBSan: "1e+10 is outside the range of representable values of type
// 'int'"). Integer fields must now be JSON integers in range.
TEST(EmbeddingFileTest, IntegerFieldsMustBeIntegersInRange) {
  const std::string bytes = *EncodeEmbeddingSet(Sample());
  for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"\"dim\":5", "\"dim\":1e10"},
           {"\"dim\":5", "\"dim\":5.0"},
           {"\"clip_count\":3", "\"clip_count\":-1"},
           {"\"clip_count\":3", "\"clip_count\":1e300"},
           {"\"max_side\":320", "\"max_side\":-1e300"},
           {"\"width\":320", "\"width\":4294967296"},
           {"\"rotation_degrees\":0", "\"rotation_degrees\":1e99"}}) {
    auto r = DecodeEmbeddingSet(WithHeaderEdit(bytes, from, to));
    ASSERT_FALSE(r.ok()) << to;
    EXPECT_EQ(r.status().code(), Status::Code::kCorruption) << to;
    EXPECT_NE(r.status().message().find("not an integer"), std::string::npos) << r.status().ToString();
  }
  // Unchanged, the same file still reads.
  EXPECT_TRUE(DecodeEmbeddingSet(WithHeaderEdit(bytes, "\"dim\":5", "\"dim\":5")).ok());
}

}  // namespace
}  // namespace sopilot
