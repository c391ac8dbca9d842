// A small tmpfs mounted for one test, to fill a disk for real (ENOSPC from
// the kernel, SQLITE_FULL from SQLite). Mounting needs root (or
// CAP_SYS_ADMIN); where it is refused, ok() is false and error() says why,
// and the test skips with that message.
#pragma once

#include <cstdint>
#include <string>

namespace sopilot::testing {

class TmpfsMount {
 public:
  // Mounts a tmpfs of `bytes` on a fresh directory under $TMPDIR (or /tmp).
  explicit TmpfsMount(uint64_t bytes);
  ~TmpfsMount();  // unmounts (lazily if busy) and removes the directory
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  bool ok() const { return mounted_; }
  const std::string& error() const { return error_; }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

  // Bytes still free on the mount.
  uint64_t FreeBytes() const;
  // Writes `path` until the disk is full, leaving `leave_bytes` free
  // (rounded to the page size); returns the bytes written.
  uint64_t Fill(const std::string& path, uint64_t leave_bytes = 0) const;

 private:
  std::string path_, error_;
  bool mounted_ = false;
};

}  // namespace sopilot::testing
