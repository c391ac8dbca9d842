#include "cli/backup_command.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "cli/command.h"
#include "store/sqlite_backup.h"

namespace sopilot::cli {

namespace {

struct BackupArgs {
  std::string data_dir;
  std::string file;
};

// --data-dir, else SOPILOT_DATA_DIR, else ./data (as `sopilot serve`).
std::string StorePath(const BackupArgs& args) {
  std::string dir = args.data_dir;
  if (dir.empty()) {
    const char* env = std::getenv("SOPILOT_DATA_DIR");
    dir = env != nullptr && *env != '\0' ? env : ServiceConfig().data_dir;
  }
  return dir + "/sopilot.db";
}

void PrintReport(const char* what, const std::string& from, const std::string& to, const SqliteBackupReport& r) {
  std::printf("%s %s to %s: %lld pages, %lld bytes, schema version %d; quick_check ok\n", what, from.c_str(),
              to.c_str(), static_cast<long long>(r.pages), static_cast<long long>(r.bytes), r.schema_version);
}

// The metadata is in PostgreSQL: this SQLite copy would hold none of it.
bool MetadataInPostgres() {
  const char* url = std::getenv("SOPILOT_DATABASE_URL");
  if (url == nullptr || *url == '\0') return false;
  std::fprintf(stderr,
               "sopilot: error: SOPILOT_DATABASE_URL is set: the metadata is in PostgreSQL, which sopilot backup "
               "and restore do not copy; use pg_dump / pg_restore (doc/operations.md)\n");
  return true;
}

int RunBackup(const BackupArgs& args) {
  if (MetadataInPostgres()) return kExitUsage;
  const std::string db = StorePath(args);
  auto report = BackupSqlite(db, args.file);
  if (!report.ok()) return ReportError(report.status());
  PrintReport("backed up", db, args.file, *report);
  return kExitOk;
}

int RunRestore(const BackupArgs& args) {
  if (MetadataInPostgres()) return kExitUsage;
  const std::string db = StorePath(args);
  auto report = RestoreSqlite(args.file, db);
  if (!report.ok()) return ReportError(report.status());
  PrintReport("restored", args.file, db, *report);
  return kExitOk;
}

}  // namespace

std::function<int()> AddBackupCommand(CLI::App* app) {
  auto args = std::make_shared<BackupArgs>();
  CLI::App* cmd = app->add_subcommand(
      "backup",
      "Copy the metadata store (DATA_DIR/sopilot.db) to OUT with SQLite's online backup API: a consistent "
      "snapshot, taken while the service runs and writes, checked with quick_check. The uploaded and derived "
      "files are not in it (doc/operations.md).");
  cmd->add_option("--data-dir", args->data_dir, "Data directory (SOPILOT_DATA_DIR, default ./data)");
  cmd->add_option("out", args->file, "The backup file to write (replaced whole, never half-written)")->required();
  return [args] { return RunBackup(*args); };
}

std::function<int()> AddRestoreCommand(CLI::App* app) {
  auto args = std::make_shared<BackupArgs>();
  CLI::App* cmd = app->add_subcommand(
      "restore",
      "Replace the metadata store (DATA_DIR/sopilot.db) with a backup made by `sopilot backup`, after checking "
      "it. Stop every `sopilot serve`, `worker` and `watch` on the data directory first.");
  cmd->add_option("--data-dir", args->data_dir, "Data directory (SOPILOT_DATA_DIR, default ./data)");
  cmd->add_option("backup", args->file, "The backup file")->required()->check(CLI::ExistingFile);
  return [args] { return RunRestore(*args); };
}

}  // namespace sopilot::cli
