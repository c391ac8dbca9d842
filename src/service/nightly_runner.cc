#include "service/nightly_runner.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "base/exception_border.h"
#include "base/json_text.h"
#include "base/log.h"

namespace sopilot {

namespace {

std::string HolderId() {
  char host[64] = {0};
  gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + NewUuid4().substr(0, 8);
}

}  // namespace

NightlyRunner::NightlyRunner(SopilotService* service, std::function<double()> clock) : service_(service) {
  if (!clock) {
    Env* env = service->env();
    clock = [env] { return env->NowUnixSeconds(); };
  }
  const ServiceConfig& c = service->config();
  NightlyOptions options;
  options.hour_local = c.nightly_hour_local;
  options.check_sec = c.nightly_check_sec;
  options.lease_sec = std::max(3 * c.nightly_check_sec, 5.0);
  scheduler_ = std::make_unique<NightlyScheduler>(options, HolderId(), this, std::move(clock));
}

NightlyRunner::~NightlyRunner() { Stop(); }

void NightlyRunner::Start() {
  std::lock_guard<std::mutex> l(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void NightlyRunner::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> l(mu_);
  if (scheduler_->leader()) {
    Status st = scheduler_->Resign();
    if (!st.ok()) LogWarn("nightly: cannot release the lease", {{"error", st.ToString()}});
  }
  leader_ = false;
}

Result<NightlyScheduler::Outcome> NightlyRunner::RunOnce() {
  std::lock_guard<std::mutex> l(mu_);
  auto r = scheduler_->RunOnce();
  leader_ = scheduler_->leader();
  ++checks_;
  return r;
}

void NightlyRunner::Loop() {
  const auto period = std::chrono::duration<double>(scheduler_->options().check_sec);
  bool was_leader = false;
  std::unique_lock<std::mutex> l(mu_);
  while (!stopping_) {
    l.unlock();
    Result<NightlyScheduler::Outcome> r = Status::Internal("not run");
    if (Status st = CallGuarded("nightly", [&] { r = RunOnce(); }); !st.ok()) r = st;
    if (!r.ok()) {
      LogWarn("nightly: " + r.status().ToString(), {{"error", r.status().ToString()}});
    } else if (leader() != was_leader) {
      was_leader = leader();
      const std::string next = LocalIsoTime(scheduler_->next_run());
      LogInfo(std::string("nightly: ") + (was_leader ? "this process runs" : "another process runs") +
                  " the scheduler (" + scheduler_->holder() + "); next run " + next,
              {{"leader", was_leader}, {"holder", scheduler_->holder()}, {"next_run", next}});
    }
    l.lock();
    cv_.wait_for(l, period, [this] { return stopping_; });
  }
}

Result<bool> NightlyRunner::AcquireLease(const std::string& holder, double now, double ttl) {
  return service_->store()->AcquireLease(kNightlyLeaseName, holder, now, ttl);
}

Status NightlyRunner::ReleaseLease(const std::string& holder) {
  return service_->store()->ReleaseLease(kNightlyLeaseName, holder);
}

Result<bool> NightlyRunner::ClaimSlot(const std::string& slot, const std::string& holder) {
  return service_->store()->ClaimSchedulerSlot(slot, holder);
}

Status NightlyRunner::Fire(const std::string& slot) {
  MetadataStore* store = service_->store();
  for (const char* status : {kJobQueued, kJobRunning}) {
    SOPILOT_ASSIGN_OR_RETURN(std::vector<JobRow> active, store->JobsWithStatus(JobKind::kTraining, status, 1));
    if (!active.empty()) {
      service_->Audit("system:nightly", "nightly.not_queued", slot,
                         JsonText(nlohmann::json({{"reason", "a training job is already " + std::string(status)},
                                                  {"training_job_id", active[0].id}})));
      LogInfo("nightly " + slot + ": training job " + active[0].id + " is already " + status + "; none queued",
              {{"slot", slot}, {"job_id", active[0].id}});
      return Status::Ok();
    }
  }
  SOPILOT_ASSIGN_OR_RETURN(JobRow job, service_->SubmitTraining("nightly", "system:nightly"));
  LogInfo("nightly " + slot + ": training job " + job.id + " queued", {{"slot", slot}, {"job_id", job.id}});
  return Status::Ok();
}

}  // namespace sopilot
