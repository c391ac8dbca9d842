// The watch folder's rules, as pure functions: which files are videos to
// take, which task and role a file belongs to, how taken files are named,
// and the options of `sopilot watch` (SOPILOT_WATCH_* over defaults).
//
// Task and role of a file at path p (relative to the watched directory,
// split in parts p[0]/.../p[n-1]), the Python original's rules plus name
// patterns:
//   task  n >= 2 and p[0] is not a role name: p[0] (case kept);
//         otherwise the default task (--task, SOPILOT_WATCH_TASK_ID); none
//         is an error that names the ways to give one.
//   role  the first of p[1], p[2], p[n-2] that is a role name (gold,
//         trainee, audit; any case), or p[0] when it is one (DIR/gold/x.mp4
//         with a default task; the original took "gold" for the task);
//         else the file name matching the gold pattern (default "*_gold.*")
//         or the trainee pattern ("*_trainee.*"), fnmatch, any case;
//         else the default role (--role, SOPILOT_WATCH_ROLE, "trainee").
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "service/service_config.h"  // GetEnv

namespace sopilot::watch {

struct WatchRules {
  std::string default_task;              // SOPILOT_WATCH_TASK_ID; "" = none
  std::string default_role = "trainee";  // SOPILOT_WATCH_ROLE
  std::string gold_pattern = "*_gold.*";        // SOPILOT_WATCH_GOLD_PATTERN
  std::string trainee_pattern = "*_trainee.*";  // SOPILOT_WATCH_TRAINEE_PATTERN
};

struct WatchOptions {
  std::string dir;  // SOPILOT_WATCH_DIR; "" = <data dir>/watch_inbox
  WatchRules rules;
  // A file is complete once its size and mtime have not changed for this
  // long (and its writer closed it; see folder_watcher.h).
  double settle_sec = 2;  // SOPILOT_WATCH_SETTLE_SEC
  // The whole tree is listed again this often, for what inotify missed
  // (the original's polling period, now only a safety net).
  double rescan_sec = 5;  // SOPILOT_WATCH_POLL_SEC
  // How often a submitted file's ingest job is looked at.
  double job_poll_sec = 0.5;
};

// Reads SOPILOT_WATCH_DIR, _TASK_ID, _ROLE, _GOLD_PATTERN, _TRAINEE_PATTERN,
// _SETTLE_SEC and _POLL_SEC over the defaults; InvalidArgument lists every
// problem, one per line.
Result<WatchOptions> WatchOptionsFromEnvironment(const GetEnv& getenv);
// Every problem with `options`, one per line (roles, ranges, empty patterns).
Status ValidateWatchOptions(const WatchOptions& options);

// Extensions taken (any case): .mp4 .mov .m4v .avi (the original's) and
// .mkv .webm (which SOPilot decodes too).
const std::vector<std::string>& VideoExtensions();
bool HasVideoExtension(const std::string& file_name);
// A path (relative to the watched directory) with a part starting with '.':
// hidden files, editors' and rsync's temporary files, and the watcher's own
// .processing/.processed/.failed directories.
bool IsHiddenPath(const std::string& relative_path);

struct Placement {
  std::string task_id;
  std::string role;
  std::string why;  // how the role was found: "directory", "name pattern", "default"
};
// InvalidArgument (a message for the .error.json) when no task can be found.
Result<Placement> PlaceFile(const std::string& relative_path, const WatchRules& rules);

// "<YYYYmmddTHHMMSSZ>_<hex8>_<safe file name>", the original's tag: the name
// a taken file has in .processing/, .processed/ and .failed/.
std::string MakeTag(double unix_seconds, const std::string& hex8, const std::string& file_name);

}  // namespace sopilot::watch
