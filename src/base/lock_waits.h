// LockWaits: how often database operations had to wait for a lock another
// connection held, and how long each waited. One per connection (the metadata
// store's, the SQLite job queue's); read by the metrics.
//
// An operation is what the caller wraps in a LockWaitScope: a statement, or a
// whole transaction (nested scopes fold into the outermost one), so a write
// that waits through a hundred 2 ms sleeps counts once, with its total wait.
// The waiting itself is noted by LockWaitBusyHandler, which SQLite calls on
// the thread running the statement while the lock is held elsewhere, or by
// the caller's own retry loop through LockWaitScope::NoteWait().
//
// Threads: every member is thread-safe. A scope lives on one thread and
// records into the LockWaits it was given when it ends.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>

namespace sopilot {

class LockWaits {
 public:
  // One operation that waited `seconds` in all.
  void Record(double seconds);
  // Operations that waited, since this object was made (counted when they
  // end).
  uint64_t operations() const { return operations_.load(std::memory_order_relaxed); }
  // Operations waiting on a lock right now (begun waiting, not yet ended).
  int64_t waiting() const { return waiting_.load(std::memory_order_relaxed); }
  // Called with each wait recorded from now on (a metrics histogram), on the
  // recording thread; must not block. Replaces the previous observer; an
  // empty function removes it.
  void SetObserver(std::function<void(double)> observer);

 private:
  friend class LockWaitScope;
  std::atomic<uint64_t> operations_{0};
  std::atomic<int64_t> waiting_{0};
  std::mutex observer_mu_;
  std::function<void(double)> observer_;
};

// One database operation on this thread. When it ends, if it waited on a
// lock, `waits` records it once, with the time from its first wait to its
// end. A scope opened inside another records nothing of its own.
class LockWaitScope {
 public:
  explicit LockWaitScope(LockWaits* waits);
  ~LockWaitScope();
  LockWaitScope(const LockWaitScope&) = delete;
  LockWaitScope& operator=(const LockWaitScope&) = delete;

  // The operation running on this thread is waiting for a lock (the first
  // call in an operation marks the start of its wait). Harmless outside a
  // scope.
  static void NoteWait();

 private:
  LockWaits* waits_;
  bool outermost_;
};

// A sqlite3_busy_handler: sleeps 2 ms per call and gives up (SQLITE_BUSY)
// once one lock conflict has lasted 5 s, noting the wait for the scope
// running on this thread. `arg` is unused (pass nullptr). Declared without
// SQLite's header: the signature is SQLite's int (*)(void*, int).
int LockWaitBusyHandler(void* arg, int count);

}  // namespace sopilot
