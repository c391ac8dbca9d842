// NightlyRunner: the nightly scheduler of one `sopilot serve` process.
//
// A thread runs NightlyScheduler::RunOnce every SOPILOT_NIGHTLY_CHECK_SEC
// with the store as its backend: the lease is the `leases` row named
// "nightly_scheduler" (so that however many processes share the data
// directory, one schedules), slots are rows of `scheduler_slots` (so a run
// time fires once even across a change of leader), and firing queues a
// training job with trigger "nightly", requested by "system:nightly" —
// unless a training job is already queued or running (the original's rule:
// that job will see the new videos). The lease lasts three checks (at least
// 5 s); a clean stop gives it up so another process takes over at once.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "service/sopilot_service.h"
#include "train/nightly_scheduler.h"

namespace sopilot {

inline constexpr const char* kNightlyLeaseName = "nightly_scheduler";

class NightlyRunner : public NightlyBackend {
 public:
  // `clock` returns Unix seconds (tests inject one); the default is the
  // service's Env.
  NightlyRunner(SopilotService* service, std::function<double()> clock = nullptr);
  ~NightlyRunner() override;

  void Start();
  void Stop();  // joins the thread, then releases the lease if held

  // One check, as the thread does (tests call it directly).
  Result<NightlyScheduler::Outcome> RunOnce();
  const NightlyScheduler& scheduler() const { return *scheduler_; }
  bool leader() const { return leader_.load(); }
  // Checks done so far (RunOnce calls, whatever their outcome): lets a test
  // wait until a process has looked at the schedule again.
  uint64_t checks() const { return checks_.load(); }

  // NightlyBackend, over the metadata store and the service.
  Result<bool> AcquireLease(const std::string& holder, double now, double ttl) override;
  Status ReleaseLease(const std::string& holder) override;
  Result<bool> ClaimSlot(const std::string& slot, const std::string& holder) override;
  Status Fire(const std::string& slot) override;

 private:
  void Loop();

  SopilotService* service_;
  std::unique_ptr<NightlyScheduler> scheduler_;
  std::mutex mu_;  // serialises RunOnce and Stop's resignation
  std::condition_variable cv_;
  bool stopping_ = false;
  std::atomic<bool> leader_{false};
  std::atomic<uint64_t> checks_{0};
  std::thread thread_;
};

}  // namespace sopilot
