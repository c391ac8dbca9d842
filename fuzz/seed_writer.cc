// Writes the seed files that our own encoders make (embedding files,
// adapter files, a signed audit export) into fuzz/corpus/<fuzzer>/:
//   build-fuzz/fuzz/seed_writer fuzz/corpus
// The rest of the corpus (videos, multipart bodies, RESP, steps) is made by
// fuzz/make_corpus.sh. The first byte of each binary seed is the harness's
// flag byte (odd: the harness rewrites the CRC after mutation).
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "audit/audit_export.h"
#include "embed/embedding_file.h"
#include "train/feature_adapter.h"

namespace {

bool Write(const std::filesystem::path& path, const std::string& bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  return static_cast<bool>(out);
}

sopilot::EmbeddingSet MakeSet(int clips, int dim) {
  sopilot::EmbeddingSet s;
  s.model = "heuristic-v1";
  s.sampling = {4.0, 2.0, 0.5, 320, 0.6};
  s.source.path = "gold.mp4";
  s.source.duration_sec = 0.5 * clips + 1.5;
  s.source.fps = 12;
  s.source.width = 32;
  s.source.height = 32;
  s.source.codec = "h264";
  s.source.rotation_degrees = 90;
  s.vectors = sopilot::FloatMatrix(clips, dim);
  for (int i = 0; i < clips; ++i) {
    s.clips.push_back({i, 0.5 * i, 0.5 * i + 2.0});
    for (int j = 0; j < dim; ++j) s.vectors.at(i, j) = static_cast<float>(std::sin(i * 7 + j)) / std::sqrt(dim);
  }
  return s;
}

sopilot::FeatureAdapter MakeAdapter(int dim) {
  sopilot::FeatureAdapter a;
  a.model = "heuristic-v1";
  a.clips = 12;
  a.videos = 2;
  a.task_id = "task-a";
  a.version = 3;
  a.source_video_ids = {1, 7};
  a.fitted_at = "2024-05-01T02:00:00Z";
  for (int j = 0; j < dim; ++j) {
    a.mean.push_back(0.01f * j);
    a.std.push_back(j % 3 == 0 ? 0.001f : 0.05f + 0.01f * j);
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: seed_writer CORPUS_DIR\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  bool ok = true;
  int n = 0;
  for (auto [clips, dim] : {std::pair{0, 1}, {1, 4}, {3, 8}, {5, 16}}) {
    auto bytes = sopilot::EncodeEmbeddingSet(MakeSet(clips, dim));
    if (!bytes.ok()) return 1;
    // One with the flag byte that keeps the CRC as mutated, one that fixes it.
    ok &= Write(dir / "embedding_file_fuzzer" / ("set" + std::to_string(n) + "_crc"), "\x01" + *bytes);
    ok &= Write(dir / "embedding_file_fuzzer" / ("set" + std::to_string(n) + "_raw"), std::string(1, '\0') + *bytes);
    ++n;
  }
  n = 0;
  for (int dim : {1, 3, 8}) {
    auto bytes = sopilot::EncodeFeatureAdapter(MakeAdapter(dim));
    if (!bytes.ok()) return 1;
    ok &= Write(dir / "feature_adapter_fuzzer" / ("adapter" + std::to_string(n) + "_crc"), "\x01" + *bytes);
    ok &= Write(dir / "feature_adapter_fuzzer" / ("adapter" + std::to_string(n) + "_raw"), std::string(1, '\0') + *bytes);
    ++n;
  }
  // An export as SopilotService::ExportAudit writes it (dump(2)), signed with
  // the key the harness verifies with, with values of every JSON type.
  nlohmann::json items = nlohmann::json::array();
  items.push_back({{"seq", 1}, {"at", "2024-05-01T02:00:00Z"}, {"actor", "admin"}, {"action", "video.uploaded"},
                   {"subject", "42"}, {"detail", {{"task_id", "task-a"}, {"bytes", 123456}, {"ok", true}}}});
  items.push_back({{"seq", 2}, {"at", "2024-05-01T02:00:01Z"}, {"actor", "op\u00e9rateur \U0001F600"},
                   {"action", "score.completed"}, {"subject", "7"},
                   {"detail", {{"score", 93.4}, {"tiny", 1e-05}, {"big", 1e16}, {"neg", -0.1}, {"none", nullptr},
                               {"list", {1, 2.5, "x\n\"y\"", false}}}}});
  nlohmann::json payload = {{"generated_at", "2024-05-01T02:00:02Z"}, {"limit", 100}, {"item_count", 2},
                            {"items", items}};
  ok &= Write(dir / "audit_export_fuzzer" / "signed_export.json",
              sopilot::SignAuditExport(payload, "fuzz-test-key", "k1").dump(2));
  ok &= Write(dir / "audit_export_fuzzer" / "signed_compact.json",
              sopilot::SignAuditExport({{"items", nlohmann::json::array()}, {"limit", 1}}, "fuzz-test-key", "k1").dump());
  return ok ? 0 : 1;
}
