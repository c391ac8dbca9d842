// NightlyScheduler: when to queue the nightly training, and making sure that
// one process does it however many run a scheduler.
//
// Pure logic over an injected clock and a backend (the service implements it
// with the metadata store): no threads, no SQL, no queue.
//
// - The run time is SOPILOT_NIGHTLY_HOUR_LOCAL:00:00 in the process's local
//   time zone (TZ), once per day: the first such time after start, then the
//   first after each run (the original's rule, original-ops.md §10).
// - Leadership: every check, a scheduler takes or renews a lease (one row
//   shared by every process on the data directory, with a holder and an
//   expiry). Only the holder acts; the others stand by and take over when
//   the holder stops renewing (it died), one lease period later.
// - At most once per run time: before firing, the leader claims the slot
//   (the run time's local ISO name) in the backend, and a claimed slot is
//   never fired again. So a leader that dies just after firing, and a
//   standby that takes over with the same run time pending, do not fire it
//   twice. A standby keeps its pending run time while standing by: when it
//   becomes leader with that time passed and nobody claimed it (the old
//   leader died before the hour), it fires late rather than never.
//
// Whether enough videos are new is decided by the training job itself, so
// that an under-threshold night leaves a `skipped` job with its reason.
#pragma once

#include <functional>
#include <string>

#include "base/status.h"

namespace sopilot {

// The first time after `now_unix` at which the local clock reads
// `hour_local`:00:00 (a day later if today's has passed). On a day when that
// local time does not exist (a DST jump) it is the time mktime normalises it
// to.
double NextNightlyRun(double now_unix, int hour_local);
// Local time without offset, "2026-02-09T02:00:00" (the original's
// next_run_local).
std::string LocalIsoTime(double unix_seconds);

struct NightlyOptions {
  int hour_local = 2;      // 0..23
  double check_sec = 30;   // between checks (the caller's loop)
  double lease_sec = 90;   // a silent leader keeps the role this long
};

class NightlyBackend {
 public:
  virtual ~NightlyBackend() = default;
  // Takes the lease for `holder` until now + ttl if it is free, expired or
  // already `holder`'s (a renewal), atomically; true when `holder` holds it.
  virtual Result<bool> AcquireLease(const std::string& holder, double now, double ttl) = 0;
  // Gives the lease up if `holder` holds it (a clean shutdown).
  virtual Status ReleaseLease(const std::string& holder) = 0;
  // Records that `slot` fired; false when it was already claimed.
  virtual Result<bool> ClaimSlot(const std::string& slot, const std::string& holder) = 0;
  // Queues the nightly training for `slot`.
  virtual Status Fire(const std::string& slot) = 0;
};

class NightlyScheduler {
 public:
  enum class Outcome {
    kStandby,       // another process holds the lease
    kWaiting,       // leader, run time not reached
    kFired,         // leader, claimed the slot and fired
    kAlreadyFired,  // leader, run time reached but the slot was claimed before
  };

  // `clock` returns Unix seconds; `holder` names this scheduler uniquely
  // (for example host:pid:random).
  NightlyScheduler(NightlyOptions options, std::string holder, NightlyBackend* backend,
                   std::function<double()> clock);

  // One check: lease, then fire if the run time has come. Errors of the
  // backend are returned; the next check tries again (a failed Fire is not
  // retried: its slot is claimed).
  Result<Outcome> RunOnce();
  // Releases the lease if held.
  Status Resign();

  bool leader() const { return leader_; }
  double next_run() const { return next_run_; }
  const std::string& holder() const { return holder_; }
  const NightlyOptions& options() const { return options_; }

 private:
  NightlyOptions options_;
  std::string holder_;
  NightlyBackend* backend_;
  std::function<double()> clock_;
  double next_run_;
  bool leader_ = false;
};

}  // namespace sopilot
