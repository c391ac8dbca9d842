// Helpers the tests of both queue backends share.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "queue/job_queue.h"

namespace sopilot {

// Leases without waiting; a failure fails the test.
inline std::optional<LeasedJob> LeaseNow(JobQueue* q, const std::vector<JobKind>& kinds, const std::string& worker,
                                         double lease_sec = 30) {
  auto r = q->Lease(kinds, worker, lease_sec, 0);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::nullopt;
}

// The queue's stats; a failure fails the test.
inline QueueStats StatsOf(JobQueue* q, JobKind kind) {
  auto s = q->Stats(kind);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : QueueStats();
}

}  // namespace sopilot
