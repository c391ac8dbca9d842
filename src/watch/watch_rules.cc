#include "watch/watch_rules.h"

#include <fnmatch.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <ctime>

#include "base/text.h"
#include "service/sopilot_service.h"  // SafeFileName

namespace sopilot::watch {

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string Trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r\n");
  size_t b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

bool IsRole(const std::string& part) {
  std::string r = Lower(part);
  return r == "gold" || r == "trainee" || r == "audit";
}

std::vector<std::string> Split(const std::string& rel) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string::npos) end = rel.size();
    if (end > start) parts.push_back(rel.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

bool Matches(const std::string& pattern, const std::string& name) {
  return !pattern.empty() && fnmatch(pattern.c_str(), name.c_str(), FNM_CASEFOLD) == 0;
}

}  // namespace

Result<WatchOptions> WatchOptionsFromEnvironment(const GetEnv& getenv) {
  WatchOptions o;
  std::string errors;
  auto raw = [&](const char* name) -> const char* {
    const char* v = getenv(name);
    return v != nullptr && *v != '\0' ? v : nullptr;
  };
  auto number = [&](const char* name, double* out) {
    const char* v = raw(name);
    if (v == nullptr) return;
    char* end = nullptr;
    double x = std::strtod(v, &end);
    if (end == v || *end != '\0' || !std::isfinite(x)) {
      if (!errors.empty()) errors += '\n';
      errors.append(name).append("='").append(v).append("' is not a number");
      return;
    }
    *out = x;
  };
  if (const char* v = raw("SOPILOT_WATCH_DIR")) o.dir = v;
  if (const char* v = raw("SOPILOT_WATCH_TASK_ID")) o.rules.default_task = Trim(v);
  if (const char* v = raw("SOPILOT_WATCH_ROLE")) o.rules.default_role = Lower(Trim(v));
  if (const char* v = raw("SOPILOT_WATCH_GOLD_PATTERN")) o.rules.gold_pattern = v;
  if (const char* v = raw("SOPILOT_WATCH_TRAINEE_PATTERN")) o.rules.trainee_pattern = v;
  number("SOPILOT_WATCH_SETTLE_SEC", &o.settle_sec);
  number("SOPILOT_WATCH_POLL_SEC", &o.rescan_sec);
  if (!errors.empty()) return Status::InvalidArgument(errors);
  return o;
}

Status ValidateWatchOptions(const WatchOptions& o) {
  std::string errors;
  auto error = [&](const std::string& e) { errors += (errors.empty() ? "" : "\n") + e; };
  if (!IsRole(o.rules.default_role)) {
    error("role '" + o.rules.default_role + "' is not gold, trainee or audit (--role, SOPILOT_WATCH_ROLE)");
  }
  if (o.rules.default_task.size() > 200) error("task id is longer than 200 characters (--task, SOPILOT_WATCH_TASK_ID)");
  if (o.rules.gold_pattern.empty()) error("the gold pattern is empty (--gold-pattern, SOPILOT_WATCH_GOLD_PATTERN)");
  if (o.rules.trainee_pattern.empty()) {
    error("the trainee pattern is empty (--trainee-pattern, SOPILOT_WATCH_TRAINEE_PATTERN)");
  }
  if (!(o.settle_sec >= 0 && o.settle_sec <= 3600)) {
    error("settle time must be in [0, 3600] seconds (--settle-sec, SOPILOT_WATCH_SETTLE_SEC)");
  }
  if (!(o.rescan_sec >= 0.1 && o.rescan_sec <= 3600)) {
    error("rescan period must be in [0.1, 3600] seconds (SOPILOT_WATCH_POLL_SEC)");
  }
  if (!(o.job_poll_sec > 0 && o.job_poll_sec <= 60)) error("job poll period must be in (0, 60] seconds");
  if (!errors.empty()) return Status::InvalidArgument(errors);
  return Status::Ok();
}

const std::vector<std::string>& VideoExtensions() {
  static const std::vector<std::string> kExtensions = {".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm"};
  return kExtensions;
}

bool HasVideoExtension(const std::string& file_name) {
  size_t dot = file_name.find_last_of('.');
  if (dot == std::string::npos || dot == 0) return false;
  std::string ext = Lower(file_name.substr(dot));
  const auto& all = VideoExtensions();
  return std::find(all.begin(), all.end(), ext) != all.end();
}

bool IsHiddenPath(const std::string& relative_path) {
  for (const std::string& part : Split(relative_path)) {
    if (part[0] == '.') return true;
  }
  return false;
}

Result<Placement> PlaceFile(const std::string& relative_path, const WatchRules& rules) {
  // The path becomes a task id, a role, a file name in JSON, SQL rows and
  // logs: UTF-8 without control characters, or the file is refused.
  if (Status st = CheckTextField("the path", relative_path, 4096); !st.ok()) {
    return Status::InvalidArgument(st.message() + ": rename the file (UTF-8, no control characters)");
  }
  std::vector<std::string> p = Split(relative_path);
  if (p.empty()) return Status::InvalidArgument("empty path");
  const size_t n = p.size();
  const std::string& name = p[n - 1];
  Placement out;
  std::string dir_role;
  if (n >= 2 && !IsRole(p[0])) {
    out.task_id = p[0];
    // Directories only (the last part is the file): p[1], p[2], p[n-2].
    for (size_t i : {size_t{1}, size_t{2}, n - 2}) {
      if (i >= 1 && i + 1 < n && IsRole(p[i])) {
        dir_role = p[i];
        break;
      }
    }
  } else {
    out.task_id = rules.default_task;
    if (n >= 2) dir_role = p[0];  // DIR/<role>/.../file
  }
  if (Trim(out.task_id).empty()) {
    return Status::InvalidArgument("cannot tell the task of '" + relative_path +
                                   "': put it in <watch dir>/<task_id>/[gold|trainee|audit/] or start the watcher "
                                   "with --task (SOPILOT_WATCH_TASK_ID)");
  }
  if (out.task_id.size() > 200) {
    return Status::InvalidArgument("the task id of '" + relative_path + "' is longer than 200 characters");
  }
  if (!dir_role.empty()) {
    out.role = Lower(dir_role);
    out.why = "directory";
  } else if (Matches(rules.gold_pattern, name)) {
    out.role = "gold";
    out.why = "name pattern";
  } else if (Matches(rules.trainee_pattern, name)) {
    out.role = "trainee";
    out.why = "name pattern";
  } else {
    out.role = Lower(rules.default_role);
    out.why = "default";
  }
  return out;
}

std::string MakeTag(double unix_seconds, const std::string& hex8, const std::string& file_name) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return std::string(buf) + "_" + hex8 + "_" + SafeFileName(file_name);
}

}  // namespace sopilot::watch
