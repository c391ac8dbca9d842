// The stores on a disk that fills up for real (a tmpfs; skipped where
// mounting is refused) and on a damaged SQLite file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "store/blob_store.h"
#include "store/metadata_store.h"
#include "testing/temp_dir.h"
#include "testing/tmpfs.h"

namespace sopilot {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> FilesUnder(const std::string& dir) {
  std::vector<std::string> out;
  for (auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(fs::relative(e.path(), dir).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

JobRow IngestJob(const std::string& id) {
  JobRow j;
  j.id = id;
  j.kind = JobKind::kIngest;
  j.task_id = "t";
  j.role = "trainee";
  j.file_name = "a.mp4";
  j.file_path = "raw/" + id + ".mp4";
  return j;
}

TEST(StoreFaultsTest, BlobPutOnAFullDiskIsNoSpaceAndLeavesNothing) {
  testing::TmpfsMount disk(1u << 20);
  if (!disk.ok()) GTEST_SKIP() << disk.error();
  auto blobs = BlobStore::Open(disk.file("data"), Env::Default());
  ASSERT_TRUE(blobs.ok()) << blobs.status().ToString();
  ASSERT_TRUE(blobs->Put("reports/old.json", "{\"old\": true}").ok());
  disk.Fill(disk.file("filler"));
  Status st = blobs->Put("reports/new.json", std::string(256 << 10, 'x'));
  EXPECT_EQ(st.code(), Status::Code::kNoSpace) << st.ToString();
  EXPECT_NE(st.message().find("disk is full"), std::string::npos) << st.message();
  // Overwriting is all or nothing too.
  Status over = blobs->Put("reports/old.json", std::string(256 << 10, 'y'));
  EXPECT_EQ(over.code(), Status::Code::kNoSpace) << over.ToString();
  EXPECT_EQ(FilesUnder(disk.file("data")), std::vector<std::string>{"reports/old.json"})
      << "a partial or temporary file was left";
  EXPECT_EQ(*blobs->Get("reports/old.json", 100), "{\"old\": true}");
  fs::remove(disk.file("filler"));
  EXPECT_TRUE(blobs->Put("reports/new.json", std::string(256 << 10, 'x')).ok());
}

// SQLITE_FULL is NoSpace with a clear message; SQLite rolled the write back,
// reads go on, and writes succeed once space returns, on an intact file.
TEST(StoreFaultsTest, MetadataStoreOnAFullDiskIsNoSpaceAndRecovers) {
  testing::TmpfsMount disk(4u << 20);
  if (!disk.ok()) GTEST_SKIP() << disk.error();
  auto store = MetadataStore::Open(disk.file("sopilot.db"), Env::Default());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->InsertJob(IngestJob("before")).ok());
  disk.Fill(disk.file("filler"));
  const std::string detail = "{\"pad\": \"" + std::string(32 << 10, 'p') + "\"}";
  Status st;
  int written = 0;
  for (; written < 1000 && st.ok(); ++written) st = (*store)->AppendAudit("tester", "padding", "x", detail);
  ASSERT_FALSE(st.ok()) << "the disk never filled";
  EXPECT_EQ(st.code(), Status::Code::kNoSpace) << st.ToString();
  EXPECT_NE(st.message().find("the disk holding the metadata store is full"), std::string::npos) << st.message();
  Status insert = (*store)->InsertJob(IngestJob("during"));
  EXPECT_EQ(insert.code(), Status::Code::kNoSpace) << insert.ToString();
  EXPECT_TRUE((*store)->Ping().ok());
  EXPECT_TRUE((*store)->GetJob("before").ok());
  EXPECT_EQ((*store)->GetJob("during").status().code(), Status::Code::kNotFound);

  fs::remove(disk.file("filler"));
  EXPECT_TRUE((*store)->InsertJob(IngestJob("after")).ok());
  EXPECT_TRUE((*store)->QuickCheck().ok());
  store->reset();
  // And reopened: intact.
  auto reopened = MetadataStore::Open(disk.file("sopilot.db"), Env::Default());
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_TRUE((*reopened)->QuickCheck().ok());
  EXPECT_TRUE((*reopened)->GetJob("after").ok());
}

void Garbage(const std::string& path, uint64_t offset, uint64_t n) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(offset));
  for (uint64_t i = 0; i < n; ++i) f.put(static_cast<char>((i * 151 + 7) & 0xff));
}

TEST(StoreFaultsTest, GarbageHeaderIsCorruptionNamingTheFile) {
  testing::TempDir dir;
  const std::string db = dir.file("sopilot.db");
  ASSERT_TRUE(MetadataStore::Open(db, Env::Default()).ok());
  Garbage(db, 0, 100);
  auto store = MetadataStore::Open(db, Env::Default());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Status::Code::kCorruption);
  EXPECT_EQ(store.status().message(),
            db + ": the metadata store is corrupt (file is not a database); restore it from a backup");
}

// Garbage pages in the middle: Open succeeds (the schema is intact),
// quick_check names the problem; a query that meets a damaged page fails
// with Corruption and from then on Ping fails too.
TEST(StoreFaultsTest, DamagedPagesAreFoundByQuickCheckAndMakePingFail) {
  testing::TempDir dir;
  const std::string db = dir.file("sopilot.db");
  {
    auto store = MetadataStore::Open(db, Env::Default());
    ASSERT_TRUE(store.ok());
    const std::string detail = "{\"pad\": \"" + std::string(2000, 'p') + "\"}";
    for (int i = 0; i < 400; ++i) ASSERT_TRUE((*store)->AppendAudit("tester", "padding", "x", detail).ok());
  }
  const uint64_t pages = fs::file_size(db) / 4096;
  Garbage(db, pages / 2 * 4096, 8 * 4096);

  auto store = MetadataStore::Open(db, Env::Default());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_TRUE((*store)->Ping().ok()) << "nothing has met the damage yet";
  Status check = (*store)->QuickCheck();
  EXPECT_EQ(check.code(), Status::Code::kCorruption) << check.ToString();
  EXPECT_EQ(check.message().rfind(db + ": the metadata store is corrupt (", 0), 0u) << check.message();
  EXPECT_EQ(check.message().find('\n'), std::string::npos) << check.message();

  auto again = MetadataStore::Open(db, Env::Default());
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)->Ping().ok());
  auto trail = (*again)->AuditTrail(1000);
  EXPECT_EQ(trail.status().code(), Status::Code::kCorruption) << trail.status().ToString();
  EXPECT_NE(trail.status().message().find("restore it from a backup"), std::string::npos);
  Status ping = (*again)->Ping();
  EXPECT_EQ(ping.code(), Status::Code::kCorruption) << ping.ToString();
  EXPECT_NE(ping.message().find(db), std::string::npos) << ping.message();
}

}  // namespace
}  // namespace sopilot
