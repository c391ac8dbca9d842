#include "watch/open_writers.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace sopilot::watch {

namespace {

bool AllDigits(const char* s) {
  if (*s == '\0') return false;
  for (; *s != '\0'; ++s) {
    if (*s < '0' || *s > '9') return false;
  }
  return true;
}

// The "flags:" line of /proc/<pid>/fdinfo/<fd> (octal), or -1.
long FdFlags(const std::string& fdinfo_path) {
  std::FILE* f = std::fopen(fdinfo_path.c_str(), "re");
  if (f == nullptr) return -1;
  char line[256];
  long flags = -1;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, "flags:", 6) == 0) {
      flags = std::strtol(line + 6, nullptr, 8);
      break;
    }
  }
  std::fclose(f);
  return flags;
}

}  // namespace

std::set<FileId> ProcOpenWriterProbe::OpenForWriting(const std::set<FileId>& files) {
  std::set<FileId> found;
  if (files.empty()) return found;
  DIR* proc = opendir(proc_root_.c_str());
  if (proc == nullptr) return found;
  while (struct dirent* p = readdir(proc)) {
    if (!AllDigits(p->d_name)) continue;
    const std::string pid_dir = proc_root_ + "/" + p->d_name;
    DIR* fds = opendir((pid_dir + "/fd").c_str());
    if (fds == nullptr) continue;  // gone, or not ours to read
    while (struct dirent* fd = readdir(fds)) {
      if (!AllDigits(fd->d_name)) continue;
      struct stat st;
      // stat follows the magic link to the open file itself.
      if (stat((pid_dir + "/fd/" + fd->d_name).c_str(), &st) != 0) continue;
      FileId id{st.st_dev, st.st_ino};
      if (!files.count(id) || found.count(id)) continue;
      long flags = FdFlags(pid_dir + "/fdinfo/" + fd->d_name);
      if (flags < 0) continue;
      int mode = static_cast<int>(flags) & O_ACCMODE;
      if (mode == O_WRONLY || mode == O_RDWR) found.insert(id);
    }
    closedir(fds);
    if (found.size() == files.size()) break;
  }
  closedir(proc);
  return found;
}

}  // namespace sopilot::watch
