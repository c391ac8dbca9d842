// Which files some process has open for writing — best effort, this host
// only: a file copied in over the network, or written by a process whose
// /proc entries we may not read, is not seen (the settle time and the
// writer's close event still apply).
#pragma once

#include <sys/types.h>

#include <set>
#include <string>
#include <utility>

namespace sopilot::watch {

// A file's identity: (st_dev, st_ino).
using FileId = std::pair<dev_t, ino_t>;

class OpenWriterProbe {
 public:
  virtual ~OpenWriterProbe() = default;
  // Those of `files` that a process has open for writing (O_WRONLY or
  // O_RDWR) right now.
  virtual std::set<FileId> OpenForWriting(const std::set<FileId>& files) = 0;
};

// Reads /proc/<pid>/fd/* (the open file's device and inode) and
// /proc/<pid>/fdinfo/<fd> (its open flags) of every process; processes and
// descriptors it may not read are skipped without a word.
class ProcOpenWriterProbe : public OpenWriterProbe {
 public:
  explicit ProcOpenWriterProbe(std::string proc_root = "/proc") : proc_root_(std::move(proc_root)) {}
  std::set<FileId> OpenForWriting(const std::set<FileId>& files) override;

 private:
  std::string proc_root_;
};

}  // namespace sopilot::watch
