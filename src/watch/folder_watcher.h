// FolderWatcher: the watch folder's logic — which files are complete, taking
// them, submitting their ingest, and filing them away with a receipt — with
// no inotify in it: the event loop (inotify_loop.h) reports what it sees and
// calls Tick(); tests call the same methods and move the Env's clock.
//
// Layout of the watched directory DIR (the Python original's):
//   DIR/<task>/<gold|trainee|audit>/<file>, DIR/<task>/<file>, DIR/<file>
//                                  files to take (watch_rules.h: which files,
//                                  and their task and role)
//   DIR/.processing/<tag>          a file taken, its ingest not finished
//   DIR/.processing/<tag>.json     its intent: {"tag", "source", "task_id",
//                                  "role", "ingest_job_id", "claimed_at"
//                                  [, "error"]}
//   DIR/.processed/<tag>           ingested; <tag>.json is the receipt:
//                                  {"status": "completed", "source", "task_id",
//                                  "role", "ingest_job_id", "queued_at",
//                                  "video_id", "sha256", "finished_at"} (the
//                                  original's fields in its order, then ours;
//                                  written once the ingest has completed, where
//                                  the original wrote "queued" at enqueue time)
//   DIR/.failed/<tag>              not ingested; <tag>.error.json is
//                                  {"status": "failed", "source", "error",
//                                  "failed_at"[, "task_id", "role",
//                                  "ingest_job_id"]}
// <tag> is "<YYYYmmddTHHMMSSZ>_<hex8>_<file name>"; "source" is the file's
// path relative to DIR.
//
// A file is complete, and taken, when all of these hold:
//   - its writer is done: a close-after-write or a move into DIR was seen
//     (FileClosed), or it was found by a scan rather than reported by an
//     event (present at start-up, in a directory not watched yet, after
//     lost events); a later write (FileWritten) undoes that until the next
//     close. A file created without any close (a hard link made into DIR)
//     counts as closed once unchanged for max(60 s, 10 x settle_sec);
//   - its size and mtime have not changed for settle_sec, and it is not
//     empty;
//   - no process on this host has it open for writing (OpenWriterProbe).
//
// Taking a file, in this order, each step durable before the next:
//   1. choose the tag and the ingest job id; write the intent (temp+rename);
//   2. rename the file into .processing/<tag> (the same filesystem);
//   3. submit it with that job id (IngestGateway; the service refuses to
//      make a second job with one id);
//   4. follow the job until it is completed, failed or dead;
//   5. write the receipt (or error file), rename the file to .processed/
//      (or .failed/), remove the intent.
// A file whose task cannot be told goes from 2 straight to .failed/.
// Errors the file is not to blame for (the queue or the store unavailable,
// a disk full) keep it in .processing/ and are retried with backoff (up to
// 30 s); they never send it to .failed/.
//
// Exactly once across restarts: Start() resumes every intent —
//   file in .processing/               check the job: exists -> follow it
//                                      (re-enqueued if its row says queued);
//                                      missing -> submit again, same id;
//   file already in .processed/.failed done before the crash: drop the intent;
//   file still at its source           the rename never happened: drop the
//                                      intent, the file is taken afresh;
//   file nowhere                       follow the job if there is one, else
//                                      drop the intent (logged).
// So a file is submitted under one job id only, and the service makes at
// most one job, hence one video, of it.
//
// One watcher per directory: Start() takes an flock on DIR/.watch.lock and
// fails with Unavailable while another process holds it.
//
// The Env supplies the clock (tests drive it) and the writes and renames of
// the sequence (tests break them); listing and stat go to the OS directly.
// Not thread-safe: one thread calls every method.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "base/env.h"
#include "base/text.h"
#include "watch/ingest_gateway.h"
#include "watch/open_writers.h"
#include "watch/watch_rules.h"

namespace sopilot::watch {

class FolderWatcher {
 public:
  // One line per decision about a file, without a trailing newline.
  using LogFn = std::function<void(const std::string&)>;

  // `options.dir` must be set. The pointers must outlive the watcher.
  FolderWatcher(WatchOptions options, IngestGateway* gateway, OpenWriterProbe* probe, Env* env, LogFn log);
  ~FolderWatcher();
  FolderWatcher(const FolderWatcher&) = delete;
  FolderWatcher& operator=(const FolderWatcher&) = delete;

  // Creates DIR and its .processing/.processed/.failed directories, removes
  // temporary files a crash left in them and resumes every intent (above).
  // Does not list DIR: the caller calls Scan("") once its watches are in
  // place, so that nothing created in between is missed.
  Status Start();

  // What the event loop saw; paths relative to DIR. Hidden paths and files
  // that are not videos are ignored.
  void FileWritten(const std::string& rel);  // created or written to
  void FileClosed(const std::string& rel);   // closed after writing, or moved in
  void FileRemoved(const std::string& rel);  // deleted or moved away (a directory: all below it)
  void EventsLost();                          // the event queue overflowed

  // Lists DIR/`subdir` ("" = DIR) recursively, skipping hidden directories:
  // video files not known yet are tracked as closed, other files are logged
  // once as ignored; `on_dir` (may be empty) is called with each directory
  // (relative, "" for DIR) before its contents are listed.
  void Scan(const std::string& subdir, const std::function<void(const std::string&)>& on_dir);

  // Does what is due: looks at every tracked file and takes the complete
  // ones, submits, follows jobs, files away those whose job ended.
  void Tick();

  // True when Tick has something to wait for (files being watched, jobs
  // being followed): the loop then ticks often.
  bool busy() const { return !tracked_.empty() || !claims_.empty(); }
  size_t files_waiting() const { return tracked_.size(); }
  size_t files_in_progress() const { return claims_.size(); }
  const std::string& dir() const { return options_.dir; }

 private:
  struct Tracked {
    bool closed = false;
    bool have_stat = false;
    uint64_t size = 0;
    int64_t mtime_ns = 0;
    dev_t dev = 0;
    ino_t ino = 0;
    uint64_t stable_since = 0;  // env clock, micros
    uint64_t next_probe = 0;    // open-writer checks at most once a second
    bool unclaimable = false;   // could not be moved; until it changes
    std::string waiting;        // the waiting reason last logged
  };
  enum class Stage { kCheck, kSubmit, kFollow };
  struct Claim {
    std::string tag, source, task_id, role, job_id, claimed_at, error;
    Stage stage = Stage::kCheck;
    uint64_t seq = 0;  // order of taking: files are submitted in path order
    uint64_t due = 0;
    int failures = 0;
    std::string last_problem;  // the retry reason last logged
    std::string last_status;   // the job status last logged
  };

  std::string Abs(const std::string& rel) const { return options_.dir + "/" + rel; }
  std::string Processing(const std::string& name) const { return options_.dir + "/.processing/" + name; }
  void Track(const std::string& rel, bool closed, const char* how);
  void TakeFile(const std::string& rel, Tracked* t);
  void Advance(Claim* c);
  void OnJob(Claim* c, const JobRow& job);
  void Retry(Claim* c, const Status& st);
  // Each returns false when the step must be retried (the claim stays).
  bool FinishDone(Claim* c, const JobRow& job);
  bool FinishFailed(Claim* c, const std::string& reason);
  void ResumeIntent(const std::string& tag);
  // File names may hold any bytes: the line is made printable (base/text.h).
  void Log(const std::string& who, const std::string& what) { log_(Printable(who + ": " + what)); }

  WatchOptions options_;
  IngestGateway* gateway_;
  OpenWriterProbe* probe_;
  Env* env_;
  LogFn log_;
  std::map<std::string, Tracked> tracked_;  // by source path: sorted, taken in path order
  std::map<std::string, Claim> claims_;     // by tag
  uint64_t next_seq_ = 0;
  int lock_fd_ = -1;
  std::set<std::string> ignored_;           // non-videos already logged
};

}  // namespace sopilot::watch
