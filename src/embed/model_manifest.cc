#include "embed/model_manifest.h"

#include <cstdlib>
#include <exception>
#include <filesystem>
#include <system_error>

#include <nlohmann/json.hpp>

#include "base/digest.h"
#include "base/env.h"

namespace sopilot {

namespace {

constexpr uint64_t kMaxManifestBytes = 4 << 20;
constexpr const char* kFormat = "sopilot-models/1";
constexpr const char* kInstallHint = "; run scripts/install-models.sh";

std::vector<int> Shape(const nlohmann::json& j) {
  std::vector<int> shape;
  for (const auto& d : j) shape.push_back(d.get<int>());
  return shape;
}

// Fills `m` from one entry of "models"; nlohmann throws on a missing field or
// a wrong type, which Load turns into Corruption.
ModelInfo ParseModel(const nlohmann::json& j, const std::string& dir) {
  ModelInfo m;
  m.name = j.at("name").get<std::string>();
  m.path = dir + "/" + j.at("file").get<std::string>();
  m.sha256 = j.at("sha256").get<std::string>();
  m.package = j.at("package").get<std::string>();
  m.version = j.at("version").get<std::string>();
  m.license = j.at("license").get<std::string>();
  m.opset = j.at("opset").get<int>();
  m.converter_version = j.at("converter_version").get<std::string>();
  const auto& in = j.at("input");
  m.input.name = in.at("name").get<std::string>();
  m.input.shape = Shape(in.at("shape"));
  m.input.channels = in.at("channels").get<std::string>();
  m.input.scale = in.at("scale").get<float>();
  m.input.offset = in.at("offset").get<float>();
  m.input.range = in.at("range").get<std::string>();
  for (const auto& o : j.at("outputs")) {
    m.outputs.push_back({o.at("name").get<std::string>(), Shape(o.at("shape")), o.at("layout").get<std::string>(),
                         o.value("description", std::string())});
  }
  for (const auto& r : j.at("reference").at("files")) {
    m.reference.push_back(
        {r.at("role").get<std::string>(), dir + "/" + r.at("file").get<std::string>(), r.at("sha256").get<std::string>()});
  }
  return m;
}

}  // namespace

ModelSignature ModelInfo::signature() const {
  ModelSignature s;
  s.input = input.shape;
  for (const auto& o : outputs) {
    s.output_names.push_back(o.name);
    s.outputs.push_back(o.shape);
  }
  return s;
}

Result<ModelManifest> ModelManifest::Load(const std::string& dir) {
  Env* env = Env::Default();
  if (!env->IsDirectory(dir)) return Status::NotFound(dir + ": no models directory" + kInstallHint);
  const std::string manifest_path = dir + "/manifest.json";
  if (!env->FileExists(manifest_path)) return Status::NotFound(manifest_path + ": no manifest" + kInstallHint);
  SOPILOT_ASSIGN_OR_RETURN(std::string text, env->ReadFile(manifest_path, kMaxManifestBytes));

  ModelManifest manifest;
  manifest.dir_ = dir;
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    const std::string format = j.at("format").get<std::string>();
    if (format != kFormat) {
      return Status::Corruption(manifest_path + ": format \"" + format + "\", expected \"" + kFormat + "\"" +
                                kInstallHint);
    }
    for (const auto& m : j.at("models")) manifest.models_.push_back(ParseModel(m, dir));
  } catch (const std::exception& e) {
    return Status::Corruption(manifest_path + ": not a valid models manifest: " + e.what() + kInstallHint);
  }

  for (const auto& m : manifest.models_) {
    if (!env->FileExists(m.path)) return Status::NotFound(m.path + ": model " + m.name + " is missing" + kInstallHint);
    SOPILOT_ASSIGN_OR_RETURN(std::string digest, Sha256FileHex(m.path));
    if (digest != m.sha256) {
      return Status::Corruption(m.path + ": sha256 " + digest + " differs from the manifest's " + m.sha256 +
                                kInstallHint);
    }
  }
  return manifest;
}

Result<const ModelInfo*> ModelManifest::Find(std::string_view name) const {
  std::string known;
  for (const auto& m : models_) {
    if (m.name == name) return &m;
    known += (known.empty() ? "" : ", ") + m.name;
  }
  return Status::NotFound("unknown model \"" + std::string(name) + "\"; " + dir_ + "/manifest.json has: " + known);
}

std::string DefaultModelsDir() {
  const char* env = std::getenv("SOPILOT_MODELS_DIR");
  if (env != nullptr && *env != '\0') return env;
  auto has_manifest = [](const std::filesystem::path& dir) {
    std::error_code missing;  // not found is an error code too
    return std::filesystem::is_regular_file(dir / "manifest.json", missing);
  };
  if (has_manifest(kDefaultModelsDir)) return kDefaultModelsDir;
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
  for (int up = 0; !ec && !dir.empty() && up <= 3; ++up, dir = dir.parent_path()) {
    if (has_manifest(dir / kDefaultModelsDir)) return (dir / kDefaultModelsDir).string();
    if (dir == dir.root_path()) break;
  }
  return kDefaultModelsDir;
}

}  // namespace sopilot
