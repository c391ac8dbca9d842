#include "store/blob_store.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "base/digest.h"
#include "testing/temp_dir.h"

namespace sopilot {
namespace {

namespace fs = std::filesystem;

// Every file under `dir`, relative, sorted: what a crash would leave behind.
std::vector<std::string> AllFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(fs::relative(e.path(), dir).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary);
  f << data;
}

// A file that writes half of what it is given and then fails, as a full
// disk would.
class HalfWritingFile : public WritableFile {
 public:
  explicit HalfWritingFile(std::unique_ptr<WritableFile> real) : real_(std::move(real)) {}
  Status Append(std::string_view data) override {
    (void)real_->Append(data.substr(0, data.size() / 2));  // half is written, then the fault
    return Status::IOError("no space left on device");
  }
  Status Sync() override { return real_->Sync(); }
  Status Close() override { return real_->Close(); }

 private:
  std::unique_ptr<WritableFile> real_;
};

class FaultEnv : public EnvWrapper {
 public:
  FaultEnv() : EnvWrapper(Env::Default()) {}
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    auto f = target()->NewWritableFile(path);
    if (!f.ok() || !fail_writes) return f;
    return std::unique_ptr<WritableFile>(new HalfWritingFile(std::move(f).value()));
  }
  Status RenameFile(const std::string& from, const std::string& to) override {
    if (fail_renames) return Status::IOError(from + ": rename refused");
    return target()->RenameFile(from, to);
  }
  bool fail_writes = false;
  bool fail_renames = false;
};

class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = BlobStore::Open(dir_.path() + "/data/", &env_);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    blobs_.emplace(std::move(b).value());
  }
  // An upload as the HTTP layer would leave it: a complete file under incoming/.
  std::string Upload(const std::string& content) {
    std::string path = blobs_->NewIncomingPath();
    WriteFile(path, content);
    return path;
  }

  testing::TempDir dir_;
  FaultEnv env_;
  std::optional<BlobStore> blobs_;
};

TEST_F(BlobStoreTest, OpenCreatesTheLayout) {
  EXPECT_EQ(blobs_->data_dir(), dir_.path() + "/data");  // trailing slash dropped
  for (const char* sub : {"raw", "embeddings", "reports", "incoming"}) {
    EXPECT_TRUE(fs::is_directory(dir_.path() + "/data/" + sub)) << sub;
  }
  EXPECT_EQ(blobs_->Absolute("raw/x.mp4"), dir_.path() + "/data/raw/x.mp4");
  // Opening again is harmless.
  EXPECT_TRUE(BlobStore::Open(dir_.path() + "/data", &env_).ok());
}

TEST_F(BlobStoreTest, ARelativeDataDirectoryIsMadeAbsolute) {
  // `sopilot serve --data-dir data`: incoming paths handed out must be
  // adoptable, whatever the working directory.
  const fs::path cwd = fs::current_path();
  fs::current_path(dir_.path());
  auto b = BlobStore::Open("rel/./data/", &env_);
  fs::current_path(cwd);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->data_dir(), dir_.path() + "/rel/data");
  std::string path = b->NewIncomingPath();
  WriteFile(path, "abc");
  auto rel = b->AdoptRaw(path, "a.mp4", Sha256Hex("abc"));
  ASSERT_TRUE(rel.ok()) << rel.status().ToString();
  EXPECT_TRUE(b->Exists(*rel));
}

TEST_F(BlobStoreTest, OpenFailsWhenTheDirectoryCannotBeMade) {
  WriteFile(dir_.file("plain"), "x");
  auto b = BlobStore::Open(dir_.file("plain"), &env_);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), Status::Code::kIOError);
}

TEST_F(BlobStoreTest, IncomingPathsAreFreshAndUnderIncoming) {
  std::string a = blobs_->NewIncomingPath(), b = blobs_->NewIncomingPath();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.rfind(blobs_->data_dir() + "/incoming/", 0), 0u) << a;
  EXPECT_FALSE(fs::exists(a));  // only a name
}

TEST_F(BlobStoreTest, AdoptRawNamesByContentAndDedupes) {
  const std::string content = "fake video bytes";
  const std::string sha = Sha256Hex(content);
  std::string first = Upload(content);
  auto rel = blobs_->AdoptRaw(first, "Gold Run.MP4", sha);
  ASSERT_TRUE(rel.ok()) << rel.status().ToString();
  EXPECT_EQ(*rel, "raw/" + sha + ".mp4");
  EXPECT_FALSE(fs::exists(first));
  EXPECT_EQ(*blobs_->Get(*rel, 1 << 20), content);

  // The same bytes again: one stored file, the duplicate upload removed.
  std::string second = Upload(content);
  auto rel2 = blobs_->AdoptRaw(second, "copy.mp4", sha);
  ASSERT_TRUE(rel2.ok()) << rel2.status().ToString();
  EXPECT_EQ(*rel2, *rel);
  EXPECT_FALSE(fs::exists(second));
  EXPECT_EQ(AllFiles(blobs_->data_dir()), std::vector<std::string>{*rel});
}

TEST_F(BlobStoreTest, AdoptRawExtensions) {
  struct Case {
    const char* name;
    const char* ext;
  } cases[] = {{"a.mov", "mov"}, {"A.M-P_4", "mp4"}, {"noext", "bin"}, {".hidden", "bin"},
               {"x.", "bin"},    {"dir.d/file", "bin"}, {"x.tar.GZ", "gz"}, {"x.$$$", "bin"}};
  int i = 0;
  for (const auto& c : cases) {
    std::string content = "content " + std::to_string(i++);
    auto rel = blobs_->AdoptRaw(Upload(content), c.name, Sha256Hex(content));
    ASSERT_TRUE(rel.ok()) << c.name << ": " << rel.status().ToString();
    EXPECT_EQ(*rel, "raw/" + Sha256Hex(content) + "." + c.ext) << c.name;
  }
}

TEST_F(BlobStoreTest, AdoptRawAcceptsRelativeIncomingPaths) {
  std::string abs = Upload("abc");
  std::string rel = abs.substr(blobs_->data_dir().size() + 1);
  auto r = blobs_->AdoptRaw(rel, "a.mp4", Sha256Hex("abc"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(blobs_->Exists(*r));
}

TEST_F(BlobStoreTest, AdoptRawRefusesBadInput) {
  std::string sha = Sha256Hex("abc");
  std::string up = Upload("abc");
  // Not a hash: the name would be attacker-chosen.
  EXPECT_EQ(blobs_->AdoptRaw(up, "a.mp4", "../../etc/passwd").status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(blobs_->AdoptRaw(up, "a.mp4", sha.substr(1)).status().code(), Status::Code::kInvalidArgument);
  // Only files under incoming/ are adopted.
  WriteFile(dir_.file("elsewhere"), "abc");
  EXPECT_EQ(blobs_->AdoptRaw(dir_.file("elsewhere"), "a.mp4", sha).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(blobs_->AdoptRaw("incoming/../../elsewhere", "a.mp4", sha).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(blobs_->AdoptRaw("reports/x", "a.mp4", sha).status().code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(fs::exists(dir_.file("elsewhere")));
  // A missing upload.
  EXPECT_EQ(blobs_->AdoptRaw(blobs_->NewIncomingPath(), "a.mp4", sha).status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(fs::exists(up));  // nothing was consumed by the refusals
}

TEST_F(BlobStoreTest, PutWritesAndCreatesDirectories) {
  ASSERT_TRUE(blobs_->Put("reports/2026/02/score.json", R"({"score":1})").ok());
  EXPECT_EQ(*blobs_->Get("reports/2026/02/score.json", 1024), R"({"score":1})");
  ASSERT_TRUE(blobs_->Put("reports/2026/02/score.json", "v2").ok());  // replaced whole
  EXPECT_EQ(*blobs_->Get("reports/2026/02/score.json", 1024), "v2");
  EXPECT_EQ(blobs_->Get("reports/2026/02/score.json", 1).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(blobs_->Get("reports/none.json", 1024).status().code(), Status::Code::kNotFound);
}

TEST_F(BlobStoreTest, FailedPutLeavesNothing) {
  env_.fail_writes = true;
  Status st = blobs_->Put("embeddings/x.emb", std::string(10000, 'e'));
  EXPECT_EQ(st.code(), Status::Code::kIOError) << st.ToString();
  EXPECT_FALSE(blobs_->Exists("embeddings/x.emb"));
  EXPECT_TRUE(AllFiles(blobs_->data_dir()).empty());  // no temporary file either

  // A failure replacing an existing file keeps the old one whole.
  env_.fail_writes = false;
  ASSERT_TRUE(blobs_->Put("embeddings/x.emb", "old").ok());
  env_.fail_renames = true;
  EXPECT_FALSE(blobs_->Put("embeddings/x.emb", "new").ok());
  env_.fail_renames = false;
  EXPECT_EQ(*blobs_->Get("embeddings/x.emb", 100), "old");
  EXPECT_EQ(AllFiles(blobs_->data_dir()), std::vector<std::string>{"embeddings/x.emb"});
}

TEST_F(BlobStoreTest, RemoveIsIdempotent) {
  ASSERT_TRUE(blobs_->Put("reports/a.json", "{}").ok());
  EXPECT_TRUE(blobs_->Exists("reports/a.json"));
  EXPECT_TRUE(blobs_->Remove("reports/a.json").ok());
  EXPECT_FALSE(blobs_->Exists("reports/a.json"));
  EXPECT_TRUE(blobs_->Remove("reports/a.json").ok());
  EXPECT_TRUE(blobs_->Remove("raw/never-there.mp4").ok());
}

TEST_F(BlobStoreTest, PathsCannotLeaveTheDataDirectory) {
  WriteFile(dir_.file("outside"), "keep me");
  for (const char* bad : {"../outside", "/etc/passwd", "raw/../../outside", "", "raw//x", "./raw/x", "raw/."}) {
    EXPECT_EQ(blobs_->Put(bad, "x").code(), Status::Code::kInvalidArgument) << bad;
    EXPECT_EQ(blobs_->Remove(bad).code(), Status::Code::kInvalidArgument) << bad;
    EXPECT_FALSE(blobs_->Get(bad, 100).ok()) << bad;
    EXPECT_FALSE(blobs_->Exists(bad)) << bad;
  }
  EXPECT_TRUE(fs::exists(dir_.file("outside")));
}

TEST_F(BlobStoreTest, Listing) {
  EXPECT_TRUE(blobs_->ListManagedFiles()->empty());
  EXPECT_TRUE(blobs_->ListIncoming()->empty());
  auto raw = blobs_->AdoptRaw(Upload("video"), "v.mp4", Sha256Hex("video"));
  ASSERT_TRUE(raw.ok());
  ASSERT_TRUE(blobs_->Put("embeddings/e.emb", "e").ok());
  ASSERT_TRUE(blobs_->Put("reports/sub/r.json", "{}").ok());
  std::string leftover = Upload("half an upload");
  WriteFile(blobs_->data_dir() + "/stray.txt", "not managed");

  auto managed = blobs_->ListManagedFiles();
  ASSERT_TRUE(managed.ok()) << managed.status().ToString();
  EXPECT_EQ(*managed, (std::vector<std::string>{"embeddings/e.emb", *raw, "reports/sub/r.json"}));
  auto incoming = blobs_->ListIncoming();
  ASSERT_TRUE(incoming.ok());
  ASSERT_EQ(incoming->size(), 1u);
  EXPECT_EQ(blobs_->Absolute((*incoming)[0]), leftover);
  // What the listing hands out can be removed with Remove.
  EXPECT_TRUE(blobs_->Remove((*incoming)[0]).ok());
  EXPECT_TRUE(blobs_->ListIncoming()->empty());
}

}  // namespace
}  // namespace sopilot
