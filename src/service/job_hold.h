// JobHold: a test hook that keeps jobs of chosen kinds waiting in the
// `running` state, so that a test can act (kill -9 the process, stop Redis,
// let a timeout pass) while it knows a job is running, instead of guessing
// from timing.
//
// It exists only with fault injection enabled (SOPILOT_ENABLE_FAULT_INJECTION=1):
// SopilotService::RunJob calls Wait() after it has marked a job running and
// before the job does any work. An admin switches it per job kind with
// POST /ops/fault-injection {"job_type": "ingest", "hold": true}, or a
// process starts with it on (SOPILOT_TEST_HOLD_JOBS=ingest,score: how a
// `sopilot worker` process, which has no API, is held).
// GET /ops/fault-injection shows the switches and how many jobs are held.
//
// A held job waits until its kind is released or until it must stop
// (shutdown or its timeout: `should_stop`, polled every 50 ms because
// JobContext cannot notify), so a hold never makes shutdown hang.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>

#include "store/job_kind.h"

namespace sopilot {

class JobHold {
 public:
  // Turns the hold on or off; off wakes every job held for `kind`.
  void Set(JobKind kind, bool on);
  bool on(JobKind kind) const;
  // Jobs of `kind` waiting in Wait() right now.
  int held(JobKind kind) const;

  // Returns at once (true) unless the hold is on for `kind`; then waits until
  // it is switched off (true) or `should_stop` returns true (false).
  bool Wait(JobKind kind, const std::function<bool()>& should_stop);

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool on_[3] = {false, false, false};
  int held_[3] = {0, 0, 0};
};

}  // namespace sopilot
