// Backup and restore of the metadata store through SQLite's online backup
// API (sqlite3_backup_*), never a file copy: a copy of sopilot.db alone
// misses the commits still in sopilot.db-wal, and one taken while a writer
// commits can be torn.
//
// BackupSqlite reads the source in one read transaction: in WAL mode (the
// store's) that is one snapshot, and writers in any process go on meanwhile;
// the copy holds every commit made before the snapshot and none after. The
// copy is written beside `dest` under a temporary name, checked with PRAGMA
// quick_check, synced and renamed over `dest`, so `dest` is either the old
// file or a whole, checked backup.
//
// RestoreSqlite writes a backup into a store through the same API (the
// destination's WAL and its readers stay coherent). The processes that use
// the store must be stopped first: a running service keeps cached state
// (jobs it is running, leases) that the restored file contradicts.
//
// Threads: any thread; each call opens connections of its own. Errors:
// IOError/Corruption/NotFound naming the file; nothing is thrown.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace sopilot {

struct SqliteBackupReport {
  int64_t pages = 0;        // pages copied
  int64_t bytes = 0;        // the copy's size
  int schema_version = 0;   // MAX(version) of schema_migrations in the copy (0: none)
};

// Copies the database at `source` (which must exist) to `dest`.
Result<SqliteBackupReport> BackupSqlite(const std::string& source, const std::string& dest);

// Replaces the contents of the database at `dest` (created if missing) with
// the backup at `backup`, after checking the backup with quick_check.
Result<SqliteBackupReport> RestoreSqlite(const std::string& backup, const std::string& dest);

}  // namespace sopilot
