// PollUntil: the way tests wait on state, never on timing. Checks `done`
// every millisecond until it is true or `seconds` have passed (a deadline
// generous enough for a loaded machine); returns its last answer.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace sopilot::testing {

inline bool PollUntil(const std::function<bool()>& done, double seconds = 120) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace sopilot::testing
