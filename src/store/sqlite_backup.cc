#include "store/sqlite_backup.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

namespace sopilot {

namespace {

namespace fs = std::filesystem;

// A connection closed on every path.
class Db {
 public:
  ~Db() { sqlite3_close_v2(db_); }
  Status Open(const std::string& path, int flags) {
    path_ = path;
    int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
      if (rc == SQLITE_CANTOPEN) return Status::NotFound(path + ": cannot open the database");
      return Status::IOError(path + ": cannot open: " + (db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc)));
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, 5000);
    return Status::Ok();
  }
  sqlite3* get() const { return db_; }
  const std::string& path() const { return path_; }
  Status Exec(const char* sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    if (rc == SQLITE_OK) return Status::Ok();
    if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB) {
      return Status::Corruption(path_ + ": the database is damaged (" + msg + ")");
    }
    return Status::IOError(path_ + ": " + sql + ": " + msg);
  }
  // PRAGMA quick_check: OK, or Corruption listing what it found.
  Status QuickCheck() {
    sqlite3_stmt* s = nullptr;
    int rc = sqlite3_prepare_v2(db_, "PRAGMA quick_check(20)", -1, &s, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(s);
      return Status::Corruption(path_ + ": not a readable database (" + sqlite3_errmsg(db_) + ")");
    }
    std::string problems;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      const char* text = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
      std::string line = text ? text : "";
      if (line != "ok") problems += (problems.empty() ? "" : "; ") + line;
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) return Status::Corruption(path_ + ": quick_check failed: " + sqlite3_errmsg(db_));
    if (!problems.empty()) return Status::Corruption(path_ + ": quick_check: " + problems);
    return Status::Ok();
  }
  int SchemaVersion() {
    sqlite3_stmt* s = nullptr;
    int version = 0;
    if (sqlite3_prepare_v2(db_, "SELECT MAX(version) FROM schema_migrations", -1, &s, nullptr) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
      version = sqlite3_column_int(s, 0);
    }
    sqlite3_finalize(s);
    return version;
  }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

// Copies every page of `from` into `to` in one step (one read snapshot of
// `from`); retries while a lock is held, for up to about 30 s.
Result<int64_t> CopyPages(Db& from, Db& to) {
  sqlite3_backup* b = sqlite3_backup_init(to.get(), "main", from.get(), "main");
  if (b == nullptr) return Status::IOError(to.path() + ": cannot start the backup: " + sqlite3_errmsg(to.get()));
  int rc = SQLITE_OK;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    rc = sqlite3_backup_step(b, -1);
    if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
    if (std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const int64_t pages = sqlite3_backup_pagecount(b);
  sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) {
    const int code = rc & 0xff;
    const std::string what = sqlite3_errstr(rc);
    if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) {
      return Status::Corruption(from.path() + ": the database is damaged (" + what + ")");
    }
    return Status::IOError("backup of " + from.path() + " to " + to.path() + " failed: " + what);
  }
  return pages;
}

Status SyncPath(const std::string& path, bool directory) {
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
  if (fd < 0) return Status::IOError(path + ": cannot open to sync");
  int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::Ok() : Status::IOError(path + ": fsync failed");
}

}  // namespace

Result<SqliteBackupReport> BackupSqlite(const std::string& source, const std::string& dest) {
  std::error_code ec;
  if (!fs::is_regular_file(source, ec)) return Status::NotFound(source + ": no such database");
  Db from;
  // Read-write without create: a read-only connection cannot always open a
  // WAL database whose -shm file is missing. Nothing is written to it.
  SOPILOT_RETURN_IF_ERROR(from.Open(source, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX));
  const std::string tmp = dest + ".tmp-" + std::to_string(::getpid());
  fs::remove(tmp, ec);
  SqliteBackupReport report;
  {
    Db to;
    SOPILOT_RETURN_IF_ERROR(to.Open(tmp, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX));
    auto pages = CopyPages(from, to);
    Status st = pages.ok() ? Status::Ok() : pages.status();
    // One self-contained file: no -wal beside it to forget.
    if (st.ok()) st = to.Exec("PRAGMA journal_mode=DELETE");
    if (st.ok()) st = to.QuickCheck();
    if (!st.ok()) {
      fs::remove(tmp, ec);
      return st;
    }
    report.pages = *pages;
    report.schema_version = to.SchemaVersion();
  }
  Status st = SyncPath(tmp, false);
  if (st.ok()) {
    fs::rename(tmp, dest, ec);
    if (ec) st = Status::IOError(dest + ": cannot rename the backup into place: " + ec.message());
  }
  if (!st.ok()) {
    fs::remove(tmp, ec);
    return st;
  }
  fs::path dir = fs::path(dest).parent_path();
  (void)SyncPath(dir.empty() ? "." : dir.string(), true);  // best effort: the file itself is synced
  report.bytes = static_cast<int64_t>(fs::file_size(dest, ec));
  return report;
}

Result<SqliteBackupReport> RestoreSqlite(const std::string& backup, const std::string& dest) {
  std::error_code ec;
  if (!fs::is_regular_file(backup, ec)) return Status::NotFound(backup + ": no such backup");
  Db from;
  SOPILOT_RETURN_IF_ERROR(from.Open(backup, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX));
  SOPILOT_RETURN_IF_ERROR(from.QuickCheck());
  Db to;
  SOPILOT_RETURN_IF_ERROR(to.Open(dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX));
  SOPILOT_ASSIGN_OR_RETURN(int64_t pages, CopyPages(from, to));
  SOPILOT_RETURN_IF_ERROR(to.QuickCheck());
  SqliteBackupReport report;
  report.pages = pages;
  report.schema_version = to.SchemaVersion();
  report.bytes = static_cast<int64_t>(fs::file_size(dest, ec));
  return report;
}

}  // namespace sopilot
