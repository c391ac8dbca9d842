// InotifyLoop: feeds a FolderWatcher with what inotify reports about its
// directory tree, and ticks it.
//
// Every directory of the tree that is not hidden is watched (a directory
// created or moved in gets its watch, and is listed, as soon as its event is
// read); files' creations and writes (IN_CREATE, IN_MODIFY), closes after
// writing and arrivals (IN_CLOSE_WRITE, IN_MOVED_TO), and departures
// (IN_DELETE, IN_MOVED_FROM) are passed on. The whole tree is listed again
// every `rescan_sec` for anything inotify missed: an overflowed event queue
// (IN_Q_OVERFLOW also makes the watcher stop waiting for closes it may have
// lost), a directory past the inotify watch limit, files created in a new
// directory before its watch was in place.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "base/env.h"
#include "base/status.h"
#include "watch/folder_watcher.h"

namespace sopilot::watch {

class InotifyLoop {
 public:
  InotifyLoop(FolderWatcher* watcher, Env* env, double rescan_sec, FolderWatcher::LogFn log);
  ~InotifyLoop();

  // Watches the tree, lists it, calls `on_watching` (from then on a file's
  // writes and close are seen as they happen), then runs until `stop_fd` is
  // readable (the caller writes to it on SIGINT/SIGTERM). The watcher must
  // be Start()ed. Fails only when inotify itself cannot be used.
  Status Run(int stop_fd, const std::function<void()>& on_watching = nullptr);

 private:
  void AddWatch(const std::string& rel);
  void RemoveWatchesUnder(const std::string& rel);
  void ReadEvents();
  void FullScan();

  FolderWatcher* watcher_;
  Env* env_;
  double rescan_sec_;
  FolderWatcher::LogFn log_;
  int fd_ = -1;
  std::map<int, std::string> dir_of_wd_;
  std::map<std::string, int> wd_of_dir_;
  bool limit_logged_ = false;
};

}  // namespace sopilot::watch
