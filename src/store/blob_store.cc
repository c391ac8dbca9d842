#include "store/blob_store.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <filesystem>
#include <system_error>

#include "store/metadata_store.h"  // NewUuid4

namespace sopilot {

namespace fs = std::filesystem;

namespace {

constexpr const char* kManagedDirs[] = {"raw", "embeddings", "reports"};
constexpr const char* kIncomingDir = "incoming";

// A path relative to the data directory that cannot leave it: not absolute,
// no empty, "." or ".." components. Paths come from the database and from
// requests; neither is trusted to stay inside.
bool IsSafeRelative(const std::string& rel) {
  if (rel.empty() || rel.front() == '/' || rel.find('\0') != std::string::npos) return false;
  size_t start = 0;
  while (start <= rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string::npos) end = rel.size();
    std::string_view part(rel.data() + start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

// A filesystem error as a Status: a full disk (or quota) is NoSpace, the
// rest IOError.
Status FsError(const std::string& what, const std::error_code& ec) {
  if (ec.category() == std::generic_category() || ec.category() == std::system_category()) {
    if (ec.value() == ENOSPC || ec.value() == EDQUOT) {
      return Status::NoSpace(what + ": " + ec.message() + " (the disk is full)");
    }
  }
  return Status::IOError(what + ": " + ec.message());
}

Status BadPath(const std::string& rel) { return Status::InvalidArgument("bad data path '" + rel + "'"); }

bool IsHex64(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c); });
}

// The extension of an uploaded name as stored: lower-cased, [a-z0-9] only,
// "bin" when nothing is left. A name that is only ".x" (a dot file) has none.
std::string StoredExtension(const std::string& original_name) {
  std::string base = original_name.substr(original_name.find_last_of("/\\") == std::string::npos
                                              ? 0
                                              : original_name.find_last_of("/\\") + 1);
  size_t dot = base.find_last_of('.');
  std::string ext;
  if (dot != std::string::npos && dot > 0) {
    for (char c : base.substr(dot + 1)) {
      unsigned char u = static_cast<unsigned char>(std::tolower(static_cast<unsigned char>(c)));
      if ((u >= 'a' && u <= 'z') || (u >= '0' && u <= '9')) ext.push_back(static_cast<char>(u));
    }
  }
  if (ext.size() > 16) ext.resize(16);  // a file name, not a payload
  return ext.empty() ? "bin" : ext;
}

// Regular files under `data_dir`/`sub`, as paths relative to `data_dir`, sorted.
Status ListUnder(const std::string& data_dir, const std::string& sub, std::vector<std::string>* out) {
  fs::path root = fs::path(data_dir) / sub;
  std::error_code ec;
  if (!fs::exists(root, ec)) return Status::Ok();  // nothing stored there yet
  fs::recursive_directory_iterator it(root, ec), end;
  if (ec) return Status::IOError(root.string() + ": cannot list: " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return Status::IOError(root.string() + ": cannot list: " + ec.message());
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec)) continue;
    out->push_back(sub + "/" + it->path().lexically_relative(root).generic_string());
  }
  if (ec) return Status::IOError(root.string() + ": cannot list: " + ec.message());
  return Status::Ok();
}

}  // namespace

Result<BlobStore> BlobStore::Open(const std::string& data_dir, Env* env) {
  if (data_dir.empty()) return Status::InvalidArgument("data directory is empty");
  // Absolute, as the original resolved it: paths handed out (incoming files)
  // must stay inside the data directory whatever the working directory.
  std::error_code abs_ec;
  fs::path abs = fs::absolute(data_dir, abs_ec);
  if (abs_ec) return Status::IOError(data_dir + ": cannot resolve: " + abs_ec.message());
  std::string dir = abs.lexically_normal().string();
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  for (const char* sub : {"raw", "embeddings", "reports", kIncomingDir}) {
    std::error_code ec;
    fs::create_directories(fs::path(dir) / sub, ec);
    if (ec) return FsError(dir + "/" + sub + ": cannot create directory", ec);
  }
  return BlobStore(std::move(dir), env);
}

std::string BlobStore::Absolute(const std::string& relative) const { return data_dir_ + "/" + relative; }

std::string BlobStore::NewIncomingPath() const {
  return Absolute(std::string(kIncomingDir) + "/" + NewUuid4() + ".part");
}

Result<std::string> BlobStore::RawPathFor(const std::string& original_name, const std::string& sha256_hex) const {
  // The hash names the file, so it must be a hash and nothing else.
  if (!IsHex64(sha256_hex)) return Status::InvalidArgument("not a SHA-256 hex digest: '" + sha256_hex + "'");
  std::string sha = sha256_hex;
  std::transform(sha.begin(), sha.end(), sha.begin(), [](unsigned char c) { return std::tolower(c); });
  return "raw/" + sha + "." + StoredExtension(original_name);
}

Result<std::string> BlobStore::AdoptRaw(const std::string& incoming_path, const std::string& original_name,
                                        const std::string& sha256_hex) {
  // Only files under incoming/ are adopted: the path may come from a request.
  std::string rel = incoming_path;
  const std::string abs_prefix = data_dir_ + "/";
  if (!rel.empty() && rel.front() == '/') {
    if (rel.compare(0, abs_prefix.size(), abs_prefix) != 0) return BadPath(incoming_path);
    rel = rel.substr(abs_prefix.size());
  }
  if (!IsSafeRelative(rel) || rel.compare(0, std::string(kIncomingDir).size() + 1, std::string(kIncomingDir) + "/") != 0) {
    return BadPath(incoming_path);
  }
  SOPILOT_ASSIGN_OR_RETURN(const std::string target, RawPathFor(original_name, sha256_hex));
  const std::string from = Absolute(rel);
  if (!env_->FileExists(from)) return Status::NotFound(from + ": no such file");
  if (env_->FileExists(Absolute(target))) {
    // Same content stored already: keep the existing file untouched (a
    // reader may have it open) and drop the duplicate upload.
    SOPILOT_RETURN_IF_ERROR(env_->RemoveFile(from));
    return target;
  }
  // rename() is atomic: readers see no file or the whole one. Two uploads of
  // the same content racing here both succeed with identical bytes.
  SOPILOT_RETURN_IF_ERROR(env_->RenameFile(from, Absolute(target)));
  return target;
}

Status BlobStore::Put(const std::string& relative, std::string_view data) {
  if (!IsSafeRelative(relative)) return BadPath(relative);
  const std::string path = Absolute(relative);
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec) return FsError(fs::path(path).parent_path().string() + ": cannot create directory", ec);
  return WriteFileAtomically(env_, path, data);
}

Result<std::string> BlobStore::Get(const std::string& relative, uint64_t max_bytes) {
  if (!IsSafeRelative(relative)) return BadPath(relative);
  return env_->ReadFile(Absolute(relative), max_bytes);
}

Status BlobStore::Remove(const std::string& relative) {
  if (!IsSafeRelative(relative)) return BadPath(relative);
  const std::string path = Absolute(relative);
  if (!env_->FileExists(path)) return Status::Ok();
  Status st = env_->RemoveFile(path);
  // Another remover may have won the race; the file is gone either way.
  if (!st.ok() && !env_->FileExists(path)) return Status::Ok();
  return st;
}

bool BlobStore::Exists(const std::string& relative) const {
  return IsSafeRelative(relative) && env_->FileExists(Absolute(relative));
}

Result<std::vector<std::string>> BlobStore::ListManagedFiles() const {
  std::vector<std::string> out;
  for (const char* sub : kManagedDirs) {
    SOPILOT_RETURN_IF_ERROR(ListUnder(data_dir_, sub, &out));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<std::string>> BlobStore::ListIncoming() const {
  std::vector<std::string> out;
  SOPILOT_RETURN_IF_ERROR(ListUnder(data_dir_, kIncomingDir, &out));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace sopilot
