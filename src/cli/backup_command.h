// `sopilot backup [--data-dir DIR] OUT.sqlite` and
// `sopilot restore [--data-dir DIR] BACKUP.sqlite`: the metadata store
// (DIR/sopilot.db) through SQLite's online backup API (store/sqlite_backup.h).
// A backup may run while the service runs and writes; a restore needs every
// process on the data directory stopped. The files (uploads, embeddings,
// adapters) are not in the store: doc/operations.md says how to copy them.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace sopilot::cli {

std::function<int()> AddBackupCommand(CLI::App* app);
std::function<int()> AddRestoreCommand(CLI::App* app);

}  // namespace sopilot::cli
