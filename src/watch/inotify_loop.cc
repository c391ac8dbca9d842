#include "watch/inotify_loop.h"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "base/exception_border.h"

namespace sopilot::watch {

namespace {

constexpr uint32_t kDirMask = IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE |
                              IN_ONLYDIR;
constexpr int kBusyTickMs = 200;
constexpr int kEventPauseMs = 50;

}  // namespace

InotifyLoop::InotifyLoop(FolderWatcher* watcher, Env* env, double rescan_sec, FolderWatcher::LogFn log)
    : watcher_(watcher), env_(env), rescan_sec_(rescan_sec), log_(std::move(log)) {}

InotifyLoop::~InotifyLoop() {
  if (fd_ >= 0) ::close(fd_);
}

void InotifyLoop::AddWatch(const std::string& rel) {
  if (wd_of_dir_.count(rel)) return;
  const std::string path = rel.empty() ? watcher_->dir() : watcher_->dir() + "/" + rel;
  int wd = inotify_add_watch(fd_, path.c_str(), kDirMask);
  if (wd < 0) {
    if (errno == ENOSPC && !limit_logged_) {
      limit_logged_ = true;
      log_(path + ": inotify watch limit reached (fs.inotify.max_user_watches); directories past it are only "
                  "listed every " + std::to_string(static_cast<int>(rescan_sec_)) + " s");
    } else if (errno != ENOENT && errno != ENOTDIR && errno != ENOSPC) {
      log_(path + ": cannot watch: " + std::strerror(errno));
    }
    return;
  }
  // The same directory under a new name (moved within the tree) keeps its wd.
  auto old = dir_of_wd_.find(wd);
  if (old != dir_of_wd_.end()) wd_of_dir_.erase(old->second);
  dir_of_wd_[wd] = rel;
  wd_of_dir_[rel] = wd;
}

void InotifyLoop::RemoveWatchesUnder(const std::string& rel) {
  const std::string prefix = rel + "/";
  for (auto it = wd_of_dir_.begin(); it != wd_of_dir_.end();) {
    if (it->first == rel || it->first.compare(0, prefix.size(), prefix) == 0) {
      inotify_rm_watch(fd_, it->second);
      dir_of_wd_.erase(it->second);
      it = wd_of_dir_.erase(it);
    } else {
      ++it;
    }
  }
}

void InotifyLoop::FullScan() {
  watcher_->Scan("", [this](const std::string& dir) { AddWatch(dir); });
}

void InotifyLoop::ReadEvents() {
  alignas(struct inotify_event) char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // EAGAIN: drained
    }
    if (n == 0) return;
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<struct inotify_event*>(p);
      p += sizeof(struct inotify_event) + ev->len;
      if (ev->mask & IN_Q_OVERFLOW) {
        log_(watcher_->dir() + ": inotify queue overflowed; listing the tree");
        watcher_->EventsLost();
        FullScan();
        continue;
      }
      auto dir = dir_of_wd_.find(ev->wd);
      if (ev->mask & IN_IGNORED) {
        if (dir != dir_of_wd_.end()) {
          wd_of_dir_.erase(dir->second);
          dir_of_wd_.erase(dir);
        }
        continue;
      }
      if (dir == dir_of_wd_.end() || ev->len == 0) continue;
      const std::string name = ev->name;
      if (name.empty() || name[0] == '.') continue;  // hidden, and our own .processing etc.
      const std::string rel = dir->second.empty() ? name : dir->second + "/" + name;
      if (ev->mask & IN_ISDIR) {
        if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
          watcher_->Scan(rel, [this](const std::string& d) { AddWatch(d); });
        } else if (ev->mask & (IN_MOVED_FROM | IN_DELETE)) {
          RemoveWatchesUnder(rel);
          watcher_->FileRemoved(rel);
        }
        continue;
      }
      if (ev->mask & (IN_CREATE | IN_MODIFY)) watcher_->FileWritten(rel);
      if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) watcher_->FileClosed(rel);
      if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) watcher_->FileRemoved(rel);
    }
  }
}

Status InotifyLoop::Run(int stop_fd, const std::function<void()>& on_watching) {
  fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0) return Status::IOError(std::string("inotify_init1 failed: ") + std::strerror(errno));
  // Watches first, then the listing: a file created in between is seen by
  // both, never by neither.
  FullScan();
  if (!wd_of_dir_.count("")) return Status::IOError(watcher_->dir() + ": cannot watch the directory");
  if (on_watching) on_watching();
  const uint64_t rescan_us = static_cast<uint64_t>(rescan_sec_ * 1e6);
  uint64_t next_rescan = env_->NowMicros() + rescan_us;
  // The exception border of the watch loop: what escapes a pass (a library
  // that threw) is logged and the loop carries on; a file that causes it
  // stays where it is rather than stopping the watcher at every restart.
  auto guarded = [](const char* what, auto&& fn) {
    Status st = CallGuarded(what, fn);
    if (!st.ok()) std::fprintf(stderr, "sopilot: watch: %s\n", st.message().c_str());
  };
  guarded("tick", [&] { watcher_->Tick(); });
  for (;;) {
    uint64_t now = env_->NowMicros();
    int timeout_ms = next_rescan > now ? static_cast<int>(std::min<uint64_t>((next_rescan - now) / 1000 + 1, 60000)) : 0;
    if (watcher_->busy()) timeout_ms = std::min(timeout_ms, kBusyTickMs);
    struct pollfd fds[2] = {{stop_fd, POLLIN, 0}, {fd_, POLLIN, 0}};
    int r = ::poll(fds, 2, timeout_ms);
    if (r < 0 && errno != EINTR) return Status::IOError(std::string("poll failed: ") + std::strerror(errno));
    if (r > 0 && (fds[0].revents & (POLLIN | POLLHUP))) return Status::Ok();
    if (r > 0 && (fds[1].revents & POLLIN)) {
      guarded("reading events", [&] { ReadEvents(); });
      // A file being written raises events without pause; reading them a
      // little later lets the kernel merge them instead of waking us for each.
      struct pollfd stop = {stop_fd, POLLIN, 0};
      if (::poll(&stop, 1, kEventPauseMs) > 0) return Status::Ok();
    }
    if (env_->NowMicros() >= next_rescan) {
      guarded("scan", [&] { FullScan(); });
      next_rescan = env_->NowMicros() + rescan_us;
    }
    guarded("tick", [&] { watcher_->Tick(); });
  }
}

}  // namespace sopilot::watch
