// FakeClockEnv: the real files and OS of Env::Default(), with a wall clock
// (NowUnixSeconds) the test sets or moves: tests wait on state, and time is
// what the test says it is.
#pragma once

#include <atomic>

#include "base/env.h"

namespace sopilot::testing {

class FakeClockEnv : public EnvWrapper {
 public:
  // Default: 2026-02-08T09:45:59+00:00.
  explicit FakeClockEnv(double now_unix = 1770543959.0) : EnvWrapper(Env::Default()), now(now_unix) {}
  double NowUnixSeconds() override { return now.load(); }
  void Advance(double sec) { now.store(now.load() + sec); }

  std::atomic<double> now;
};

}  // namespace sopilot::testing
