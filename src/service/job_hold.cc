#include "service/job_hold.h"

#include <chrono>

namespace sopilot {

void JobHold::Set(JobKind kind, bool on) {
  {
    std::lock_guard<std::mutex> l(mu_);
    on_[static_cast<int>(kind)] = on;
  }
  cv_.notify_all();
}

bool JobHold::on(JobKind kind) const {
  std::lock_guard<std::mutex> l(mu_);
  return on_[static_cast<int>(kind)];
}

int JobHold::held(JobKind kind) const {
  std::lock_guard<std::mutex> l(mu_);
  return held_[static_cast<int>(kind)];
}

bool JobHold::Wait(JobKind kind, const std::function<bool()>& should_stop) {
  const int k = static_cast<int>(kind);
  std::unique_lock<std::mutex> l(mu_);
  if (!on_[k]) return true;
  ++held_[k];
  bool released = false;
  while (!(released = !on_[k]) && !should_stop()) {
    cv_.wait_for(l, std::chrono::milliseconds(50));
  }
  --held_[k];
  return released;
}

}  // namespace sopilot
