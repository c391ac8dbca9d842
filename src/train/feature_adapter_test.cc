#include "train/feature_adapter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "base/crc32.h"

#include "testing/temp_dir.h"

namespace sopilot {
namespace {

EmbeddingSet SetOf(const std::vector<std::vector<float>>& rows, const std::string& model = "m") {
  EmbeddingSet s;
  s.model = model;
  s.vectors = FloatMatrix(static_cast<int>(rows.size()), rows.empty() ? 0 : static_cast<int>(rows[0].size()));
  for (size_t i = 0; i < rows.size(); ++i) {
    for (size_t j = 0; j < rows[i].size(); ++j) s.vectors.at(static_cast<int>(i), static_cast<int>(j)) = rows[i][j];
    s.clips.push_back(ClipSpan{static_cast<int>(i), 0.5 * i, 0.5 * i + 2});
  }
  return s;
}

TEST(FeatureAdapterTest, FitsMeanAndPopulationStdPerDimensionAcrossSets) {
  // Dimension 0: values 1, 3, 5, 7 (mean 4, population std sqrt(5)).
  // Dimension 1: 10, 10, 10, 10 (std 0: the floor).
  // Dimension 2: -2, 2, -2, 2 (mean 0, std 2).
  AdapterFitter fit(0.5);
  ASSERT_TRUE(fit.Add(SetOf({{1, 10, -2}, {3, 10, 2}})).ok());
  ASSERT_TRUE(fit.Add(SetOf({{5, 10, -2}, {7, 10, 2}})).ok());
  auto a = fit.Finish();
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->clips, 4);
  EXPECT_EQ(a->videos, 2);
  EXPECT_EQ(a->model, "m");
  ASSERT_EQ(a->dim(), 3);
  EXPECT_FLOAT_EQ(a->mean[0], 4.0f);
  EXPECT_FLOAT_EQ(a->mean[1], 10.0f);
  EXPECT_FLOAT_EQ(a->mean[2], 0.0f);
  EXPECT_FLOAT_EQ(a->std[0], std::sqrt(5.0f));
  EXPECT_FLOAT_EQ(a->std[1], 0.5f);  // floored
  EXPECT_FLOAT_EQ(a->std[2], 2.0f);
}

TEST(FeatureAdapterTest, StatisticsStayExactForLargeOffsets) {
  // Values around 1e4 with a spread of 1e-3: Σx²/N − mean² in one pass of
  // float-sized numbers would lose the variance; the shifted sums keep it.
  AdapterFitter fit(1e-9);
  std::vector<std::vector<float>> rows;
  for (int i = 0; i < 1000; ++i) rows.push_back({10000.0f + (i % 2 ? 0.001f : -0.001f)});
  ASSERT_TRUE(fit.Add(SetOf(rows)).ok());
  auto a = fit.Finish();
  ASSERT_TRUE(a.ok());
  EXPECT_NEAR(a->mean[0], 10000.0, 1e-3);
  // The float32 inputs are 10000 ± 0.0009765625 (the nearest floats).
  EXPECT_NEAR(a->std[0], 0.0009765625, 1e-6);
}

TEST(FeatureAdapterTest, AppliesZScoreAndRenormalisesRows) {
  FeatureAdapter a;
  a.model = "m";
  a.mean = {4, 10, 0};
  a.std = {2, 0.5f, 2};
  FloatMatrix raw(3, 3);
  raw.data = {8, 10, 0,     // (2, 0, 0) -> (1, 0, 0)
              4, 11.5f, 6,  // (0, 3, 3) -> (0, 1/√2, 1/√2)
              4, 10, 0};    // all zero: stays zero
  auto out = ApplyFeatureAdapter(a, raw);
  ASSERT_TRUE(out.ok());
  EXPECT_FLOAT_EQ(out->at(0, 0), 1.0f);
  EXPECT_FLOAT_EQ(out->at(0, 1), 0.0f);
  EXPECT_FLOAT_EQ(out->at(0, 2), 0.0f);
  EXPECT_FLOAT_EQ(out->at(1, 0), 0.0f);
  EXPECT_FLOAT_EQ(out->at(1, 1), static_cast<float>(1 / std::sqrt(2.0)));
  EXPECT_FLOAT_EQ(out->at(1, 2), static_cast<float>(1 / std::sqrt(2.0)));
  for (int j = 0; j < 3; ++j) EXPECT_EQ(out->at(2, j), 0.0f);

  FloatMatrix wrong(1, 2);
  EXPECT_EQ(ApplyFeatureAdapter(a, wrong).status().code(), Status::Code::kInvalidArgument);
}

TEST(FeatureAdapterTest, FittedOnDataTheAdaptedDataHasZeroMeanPerDimension) {
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  std::vector<std::vector<float>> rows;
  for (int i = 0; i < 200; ++i) {
    std::vector<float> r(16);
    for (int j = 0; j < 16; ++j) r[j] = 3.0f * j + (j + 1) * noise(rng);
    rows.push_back(r);
  }
  EmbeddingSet set = SetOf(rows);
  AdapterFitter fit(1e-6);
  ASSERT_TRUE(fit.Add(set).ok());
  auto a = fit.Finish();
  ASSERT_TRUE(a.ok());
  // Before normalisation the z-scores have mean 0 and std 1 per dimension.
  for (int j = 0; j < 16; ++j) {
    double s = 0, ss = 0;
    for (const auto& r : rows) {
      double z = (r[j] - a->mean[j]) / a->std[j];
      s += z;
      ss += z * z;
    }
    EXPECT_NEAR(s / rows.size(), 0.0, 1e-4);
    EXPECT_NEAR(ss / rows.size(), 1.0, 1e-4);
  }
  auto adapted = AdaptEmbeddingSet(*a, set);
  ASSERT_TRUE(adapted.ok());
  EXPECT_EQ(adapted->model, "m+adapter:" + a->Fingerprint());
  EXPECT_EQ(adapted->clips.size(), set.clips.size());
  for (int i = 0; i < adapted->vectors.rows; ++i) {
    double n = 0;
    for (int j = 0; j < 16; ++j) n += adapted->vectors.at(i, j) * adapted->vectors.at(i, j);
    EXPECT_NEAR(n, 1.0, 1e-5);
  }
}

TEST(FeatureAdapterTest, RefusesTooFewClipsAndMixedModels) {
  AdapterFitter one(0.01);
  ASSERT_TRUE(one.Add(SetOf({{1, 2}})).ok());
  auto r = one.Finish();
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("insufficient embeddings"), std::string::npos);

  AdapterFitter mixed(0.01);
  ASSERT_TRUE(mixed.Add(SetOf({{1, 2}, {3, 4}}, "a")).ok());
  EXPECT_FALSE(mixed.Add(SetOf({{1, 2}, {3, 4}}, "b")).ok());
  EXPECT_FALSE(mixed.Add(SetOf({{1, 2, 3}}, "a")).ok());
  EXPECT_EQ(mixed.clips(), 2);

  FeatureAdapter a = *mixed.Finish();
  EXPECT_EQ(AdaptEmbeddingSet(a, SetOf({{1, 2}}, "b")).status().code(), Status::Code::kInvalidArgument);
  EXPECT_FALSE(AdapterFitter(0).Finish().ok());
}

TEST(FeatureAdapterTest, FingerprintChangesWithTheStatistics) {
  AdapterFitter f1(0.01), f2(0.01);
  ASSERT_TRUE(f1.Add(SetOf({{1, 2}, {3, 4}})).ok());
  ASSERT_TRUE(f2.Add(SetOf({{1, 2}, {3, 5}})).ok());
  FeatureAdapter a = *f1.Finish(), b = *f2.Finish();
  EXPECT_EQ(a.Fingerprint().size(), 16u);
  EXPECT_EQ(a.Fingerprint(), f1.Finish()->Fingerprint());
  EXPECT_NE(a.Fingerprint(), b.Fingerprint());
}

TEST(FeatureAdapterTest, FileRoundTripsAndRejectsDamage) {
  testing::TempDir dir;
  AdapterFitter fit(0.25);
  ASSERT_TRUE(fit.Add(SetOf({{1, 2, 3}, {2, 2, 5}, {4, 2, 1}})).ok());
  FeatureAdapter a = *fit.Finish();
  a.task_id = "task-a";
  a.version = 3;
  a.source_video_ids = {4, 9};
  a.fitted_at = "2026-02-09T02:00:00+00:00";
  const std::string path = dir.file("a.adapter");
  ASSERT_TRUE(WriteFeatureAdapterFile(Env::Default(), path, a).ok());
  auto back = ReadFeatureAdapterFile(Env::Default(), path);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->mean, a.mean);
  EXPECT_EQ(back->std, a.std);
  EXPECT_EQ(back->model, "m");
  EXPECT_EQ(back->std_floor, 0.25);
  EXPECT_EQ(back->clips, 3);
  EXPECT_EQ(back->task_id, "task-a");
  EXPECT_EQ(back->version, 3);
  EXPECT_EQ(back->source_video_ids, (std::vector<int64_t>{4, 9}));
  EXPECT_EQ(back->Fingerprint(), a.Fingerprint());

  std::string bytes = *EncodeFeatureAdapter(a);
  for (size_t at : {size_t{0}, size_t{9}, size_t{20}, bytes.size() - 10, bytes.size() - 1}) {
    std::string bad = bytes;
    bad[at] ^= 0x40;
    auto r = DecodeFeatureAdapter(bad);
    EXPECT_FALSE(r.ok()) << "flipped byte " << at;
  }
  EXPECT_EQ(DecodeFeatureAdapter(bytes.substr(0, bytes.size() - 4)).status().code(), Status::Code::kCorruption);
  EXPECT_EQ(DecodeFeatureAdapter("").status().code(), Status::Code::kCorruption);
  EXPECT_EQ(ReadFeatureAdapterFile(Env::Default(), dir.file("absent")).status().code(), Status::Code::kNotFound);
}

// The flaw found in embedding files with fuzz/embedding_file_fuzzer, here
// too: integer header fields were read with nlohmann's get<int>() /
// get<int64_t>(), which converts a float such as 1e300 with a cast that is
// undefined out of range. They must now be JSON integers in range.
TEST(FeatureAdapterTest, IntegerHeaderFieldsMustBeIntegersInRange) {
  FeatureAdapter a;
  a.model = "m";
  a.mean = {0.5f, 1.0f};
  a.std = {0.1f, 0.2f};
  a.source_video_ids = {4, 9};
  const std::string bytes = *EncodeFeatureAdapter(a);
  auto edit = [&](const std::string& from, const std::string& to) {
    uint32_t hlen;
    std::memcpy(&hlen, bytes.data() + 12, 4);
    std::string header = bytes.substr(16, hlen);
    size_t at = header.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) header.replace(at, from.size(), to);
    std::string out = bytes.substr(0, 12);
    uint32_t n = static_cast<uint32_t>(header.size());
    out.append(reinterpret_cast<const char*>(&n), 4);
    out += header;
    out += bytes.substr(16 + hlen, bytes.size() - 4 - 16 - hlen);
    uint32_t crc = Crc32(out);
    out.append(reinterpret_cast<const char*>(&crc), 4);
    return out;
  };
  EXPECT_TRUE(DecodeFeatureAdapter(edit("\"dim\":2", "\"dim\":2")).ok());
  for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"\"dim\":2", "\"dim\":2e9"},
           {"\"dim\":2", "\"dim\":2.0"},
           {"\"clips\":0", "\"clips\":1e300"},
           {"\"videos\":0", "\"videos\":-1e300"},
           {"\"version\":0", "\"version\":18446744073709551615"},
           {"[4,9]", "[4,9e300]"}}) {
    auto r = DecodeFeatureAdapter(edit(from, to));
    ASSERT_FALSE(r.ok()) << to;
    EXPECT_EQ(r.status().code(), Status::Code::kCorruption) << to;
  }
}

}  // namespace
}  // namespace sopilot
