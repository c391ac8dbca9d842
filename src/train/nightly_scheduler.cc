#include "train/nightly_scheduler.h"

#include <cmath>
#include <ctime>

namespace sopilot {

double NextNightlyRun(double now_unix, int hour_local) {
  std::time_t now = static_cast<std::time_t>(std::floor(now_unix));
  std::tm tm{};
  localtime_r(&now, &tm);
  for (int day = 0; day < 3; ++day) {
    std::tm at = tm;
    at.tm_mday += day;
    at.tm_hour = hour_local;
    at.tm_min = 0;
    at.tm_sec = 0;
    at.tm_isdst = -1;  // let mktime decide for that day
    std::time_t t = std::mktime(&at);
    if (static_cast<double>(t) > now_unix) return static_cast<double>(t);
  }
  return now_unix + 86400;  // unreachable with a sane time zone
}

std::string LocalIsoTime(double unix_seconds) {
  std::time_t t = static_cast<std::time_t>(std::floor(unix_seconds));
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

NightlyScheduler::NightlyScheduler(NightlyOptions options, std::string holder, NightlyBackend* backend,
                                   std::function<double()> clock)
    : options_(options), holder_(std::move(holder)), backend_(backend), clock_(std::move(clock)) {
  next_run_ = NextNightlyRun(clock_(), options_.hour_local);
}

Result<NightlyScheduler::Outcome> NightlyScheduler::RunOnce() {
  const double now = clock_();
  auto lease = backend_->AcquireLease(holder_, now, options_.lease_sec);
  if (!lease.ok()) {
    leader_ = false;
    return lease.status();
  }
  leader_ = *lease;
  if (!leader_) return Outcome::kStandby;
  if (now < next_run_) return Outcome::kWaiting;
  const std::string slot = LocalIsoTime(next_run_);
  SOPILOT_ASSIGN_OR_RETURN(bool claimed, backend_->ClaimSlot(slot, holder_));
  next_run_ = NextNightlyRun(now, options_.hour_local);
  if (!claimed) return Outcome::kAlreadyFired;
  SOPILOT_RETURN_IF_ERROR(backend_->Fire(slot));
  return Outcome::kFired;
}

Status NightlyScheduler::Resign() {
  if (!leader_) return Status::Ok();
  leader_ = false;
  return backend_->ReleaseLease(holder_);
}

}  // namespace sopilot
