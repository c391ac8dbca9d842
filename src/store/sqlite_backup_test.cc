// Backups of a live store: a writer commits audit rows on its own connection
// while backups run; every backup must be a whole, checked database holding
// a prefix of the writer's commits (all rows up to some point, none torn),
// and a store restored from one opens and reads as the original did.
#include "store/sqlite_backup.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include <sqlite3.h>

#include "store/metadata_store.h"
#include "testing/temp_dir.h"

namespace sopilot {
namespace {

namespace fs = std::filesystem;

std::unique_ptr<MetadataStore> OpenStore(const std::string& path) {
  auto store = MetadataStore::Open(path, Env::Default());
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(*store) : nullptr;
}

// The audit rows' subjects in commit order, read with a connection of its own.
std::vector<std::string> Subjects(const std::string& path) {
  std::vector<std::string> out;
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT subject FROM audit_log ORDER BY seq", -1, &s, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  while (s != nullptr && sqlite3_step(s) == SQLITE_ROW) {
    out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
  }
  sqlite3_finalize(s);
  sqlite3_close_v2(db);
  return out;
}

TEST(SqliteBackupTest, BacksUpALiveStoreAndRestoresIt) {
  testing::TempDir dir;
  const std::string db = dir.file("sopilot.db");
  auto store = OpenStore(db);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->AppendAudit("test", "row", "0", "{}").ok());

  // The writer: its own connection, as another process's would be.
  std::atomic<bool> stop{false};
  std::atomic<int> committed{1};
  std::thread writer([&] {
    auto w = MetadataStore::Open(db, Env::Default());
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    for (int i = 1; !stop.load(); ++i) {
      Status st = (*w)->AppendAudit("test", "row", std::to_string(i), "{\"pad\":\"" + std::string(500, 'x') + "\"}");
      ASSERT_TRUE(st.ok()) << st.ToString();
      committed = i + 1;
    }
  });
  // Wait for the writer to be well under way (a state, not a time).
  while (committed.load() < 200) std::this_thread::yield();

  std::vector<std::string> backups;
  int last_rows = 0;
  for (int round = 0; round < 3; ++round) {
    const int before = committed.load();
    const std::string out = dir.file("backup" + std::to_string(round) + ".sqlite");
    auto report = BackupSqlite(db, out);
    const int after = committed.load();
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_GT(report->pages, 0);
    EXPECT_EQ(report->bytes, static_cast<int64_t>(fs::file_size(out)));
    EXPECT_EQ(report->schema_version, store->schema_version());
    EXPECT_FALSE(fs::exists(out + "-wal")) << "a backup is one file";

    // Restored into a fresh data directory, the store opens and holds rows
    // 0..n-1 for some n the writer had reached: a snapshot, not a torn copy.
    const std::string restored = dir.file("restored" + std::to_string(round) + "/sopilot.db");
    fs::create_directories(fs::path(restored).parent_path());
    auto restore = RestoreSqlite(out, restored);
    ASSERT_TRUE(restore.ok()) << restore.status().ToString();
    auto copy = OpenStore(restored);
    ASSERT_NE(copy, nullptr);
    ASSERT_TRUE(copy->QuickCheck().ok());
    const std::vector<std::string> rows = Subjects(restored);
    ASSERT_GE(static_cast<int>(rows.size()), before) << "every commit before the backup began is in it";
    ASSERT_LE(static_cast<int>(rows.size()), after);
    for (size_t i = 0; i < rows.size(); ++i) ASSERT_EQ(rows[i], std::to_string(i));
    EXPECT_GE(static_cast<int>(rows.size()), last_rows);
    last_rows = static_cast<int>(rows.size());
    // The restored store takes writes (and its audit log still refuses edits).
    EXPECT_TRUE(copy->AppendAudit("test", "after-restore", "x", "{}").ok());
  }
  stop = true;
  writer.join();
  EXPECT_GT(committed.load(), last_rows) << "the writer went on during the backups";
}

// Restoring over an existing store replaces its rows with the backup's.
TEST(SqliteBackupTest, RestoreReplacesTheStoresContents) {
  testing::TempDir dir;
  const std::string db = dir.file("sopilot.db");
  {
    auto store = OpenStore(db);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->AppendAudit("test", "row", "0", "{}").ok());
  }
  ASSERT_TRUE(BackupSqlite(db, dir.file("b.sqlite")).ok());
  {
    auto store = OpenStore(db);
    ASSERT_TRUE(store->AppendAudit("test", "row", "1", "{}").ok());
    EXPECT_EQ(Subjects(db).size(), 2u);
  }
  auto restored = RestoreSqlite(dir.file("b.sqlite"), db);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(Subjects(db), std::vector<std::string>{"0"});
  auto store = OpenStore(db);
  EXPECT_NE(store, nullptr) << "the restored store opens";
}

TEST(SqliteBackupTest, RefusesMissingAndDamagedFiles) {
  testing::TempDir dir;
  auto missing = BackupSqlite(dir.file("none.db"), dir.file("out.sqlite"));
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound) << missing.status().ToString();
  std::ofstream(dir.file("junk.sqlite")) << std::string(8192, 'j');
  auto junk = RestoreSqlite(dir.file("junk.sqlite"), dir.file("sopilot.db"));
  EXPECT_EQ(junk.status().code(), Status::Code::kCorruption) << junk.status().ToString();
  auto backup_junk = BackupSqlite(dir.file("junk.sqlite"), dir.file("out.sqlite"));
  EXPECT_FALSE(backup_junk.ok());
  EXPECT_FALSE(fs::exists(dir.file("out.sqlite"))) << "no partial backup is left";
}

}  // namespace
}  // namespace sopilot
