// Parity with the Python original: at its settings, our heuristic-v1
// embeddings of its six demo videos must point the same way as its own
// (testdata/original_heuristic_v1, converted from
// ../shared/reference/original-demo-embeddings.npz by
// tools/convert_reference_embeddings.py).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "embed/heuristic_embedder.h"
#include "ingest/ingest.h"
#include "testing/test_videos.h"

namespace sopilot {
namespace {

FloatMatrix ReadReference(const std::string& name) {
  std::ifstream in(std::string(SOPILOT_SOURCE_DIR) + "/testdata/original_heuristic_v1/" + name + ".f32",
                   std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string bytes = ss.str();
  FloatMatrix m(static_cast<int>(bytes.size() / (904 * 4)), 904);
  std::memcpy(m.data.data(), bytes.data(), m.data.size() * 4);
  return m;
}

class ParityTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ParityTest, MatchesTheOriginalAtItsSettings) {
  std::string dir = testing::SharedFixtureDir();
  if (dir.empty()) GTEST_SKIP() << "../shared/fixtures is absent (a user's clone); parity needs the original's demo videos";
  IngestOptions o;
  o.decode.target_fps = 4;
  o.decode.max_side = 320;
  o.clips = {.clip_seconds = 4.0, .stride_seconds = 4.0, .min_clip_coverage = 0.6};
  HeuristicEmbedder embedder;
  auto set = IngestVideo(dir + "/" + GetParam() + ".mp4", o, &embedder);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  FloatMatrix ref = ReadReference(GetParam());
  ASSERT_EQ(ref.rows, 6);
  ASSERT_EQ(set->vectors.rows, 6);
  for (int i = 0; i < 6; ++i) {
    EXPECT_DOUBLE_EQ(set->clips[i].start_sec, 4.0 * i);
    EXPECT_DOUBLE_EQ(set->clips[i].end_sec, 4.0 * i + 4.0);
    double dot = 0, na = 0, nb = 0;
    for (int j = 0; j < 904; ++j) {
      dot += double(set->vectors.at(i, j)) * ref.at(i, j);
      na += double(set->vectors.at(i, j)) * set->vectors.at(i, j);
      nb += double(ref.at(i, j)) * ref.at(i, j);
    }
    double cosine = dot / std::sqrt(na * nb);
    EXPECT_GE(cosine, 0.99) << GetParam() << " clip " << i;
    RecordProperty(GetParam() + "_clip" + std::to_string(i) + "_cosine", std::to_string(cosine));
    std::printf("%s clip %d cosine %.6f\n", GetParam().c_str(), i, cosine);
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ParityTest,
                         ::testing::Values("gold", "missing", "swap", "deviation", "time_over", "mixed"));

}  // namespace
}  // namespace sopilot
