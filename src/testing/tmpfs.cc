#include "testing/tmpfs.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

namespace sopilot::testing {

TmpfsMount::TmpfsMount(uint64_t bytes) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/sopilot-tmpfs-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    error_ = "cannot create a mount point: " + std::string(std::strerror(errno));
    return;
  }
  path_ = buf.data();
  const std::string options = "size=" + std::to_string(bytes) + ",mode=0755";
  if (::mount("tmpfs", path_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
    error_ = "cannot mount a tmpfs on " + path_ + " (" + std::strerror(errno) +
             "): this test needs root or CAP_SYS_ADMIN to fill a disk for real";
    return;
  }
  mounted_ = true;
}

TmpfsMount::~TmpfsMount() {
  if (mounted_ && ::umount(path_.c_str()) != 0) ::umount2(path_.c_str(), MNT_DETACH);
  if (!path_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
}

uint64_t TmpfsMount::FreeBytes() const {
  struct statvfs st;
  if (::statvfs(path_.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

uint64_t TmpfsMount::Fill(const std::string& path, uint64_t leave_bytes) const {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return 0;
  std::vector<char> block(4096, 'x');
  uint64_t written = 0;
  while (FreeBytes() > leave_bytes) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(block.size(), FreeBytes() - leave_bytes));
    ssize_t w = ::write(fd, block.data(), n);
    if (w <= 0) break;  // ENOSPC: full
    written += static_cast<uint64_t>(w);
  }
  ::close(fd);
  return written;
}

}  // namespace sopilot::testing
