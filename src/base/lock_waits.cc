#include "base/lock_waits.h"

#include <chrono>
#include <thread>
#include <utility>

namespace sopilot {

namespace {

using Clock = std::chrono::steady_clock;

// The scopes open on this thread, and when the outermost one first waited.
thread_local int scope_depth = 0;
thread_local LockWaits* outermost_waits = nullptr;
thread_local bool waiting = false;
thread_local Clock::time_point wait_start;
// The start of the lock conflict the busy handler is in (its count 0).
thread_local Clock::time_point conflict_start;

constexpr std::chrono::milliseconds kBusySleep{2};
constexpr std::chrono::milliseconds kBusyTimeout{5000};

}  // namespace

void LockWaits::Record(double seconds) {
  operations_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(observer_mu_);
  if (observer_) observer_(seconds);
}

void LockWaits::SetObserver(std::function<void(double)> observer) {
  std::lock_guard<std::mutex> lock(observer_mu_);
  observer_ = std::move(observer);
}

LockWaitScope::LockWaitScope(LockWaits* waits) : waits_(waits), outermost_(scope_depth == 0) {
  if (outermost_) {
    waiting = false;
    outermost_waits = waits;
  }
  ++scope_depth;
}

LockWaitScope::~LockWaitScope() {
  --scope_depth;
  if (!outermost_) return;
  outermost_waits = nullptr;
  if (!waiting) return;
  waiting = false;
  if (waits_) {
    waits_->waiting_.fetch_sub(1, std::memory_order_relaxed);
    waits_->Record(std::chrono::duration<double>(Clock::now() - wait_start).count());
  }
}

void LockWaitScope::NoteWait() {
  if (scope_depth == 0 || waiting) return;
  waiting = true;
  wait_start = Clock::now();
  if (outermost_waits) outermost_waits->waiting_.fetch_add(1, std::memory_order_relaxed);
}

int LockWaitBusyHandler(void*, int count) {
  if (count == 0) conflict_start = Clock::now();
  if (Clock::now() - conflict_start >= kBusyTimeout) return 0;
  LockWaitScope::NoteWait();
  std::this_thread::sleep_for(kBusySleep);
  return 1;
}

}  // namespace sopilot
