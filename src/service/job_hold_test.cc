#include "service/job_hold.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace sopilot {
namespace {

// Polls `done` (a state, never a duration) for up to a generous minute.
bool Eventually(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

TEST(JobHoldTest, OffByDefaultAndPerKind) {
  JobHold hold;
  for (JobKind k : kAllJobKinds) EXPECT_FALSE(hold.on(k));
  EXPECT_TRUE(hold.Wait(JobKind::kIngest, [] { return false; }));  // returns at once
  hold.Set(JobKind::kScore, true);
  EXPECT_TRUE(hold.on(JobKind::kScore));
  EXPECT_TRUE(hold.Wait(JobKind::kIngest, [] { return false; }));  // another kind
  EXPECT_EQ(hold.held(JobKind::kScore), 0);
}

TEST(JobHoldTest, HoldsUntilReleased) {
  JobHold hold;
  hold.Set(JobKind::kIngest, true);
  std::atomic<int> returned{-1};
  std::thread job([&] { returned = hold.Wait(JobKind::kIngest, [] { return false; }) ? 1 : 0; });
  ASSERT_TRUE(Eventually([&] { return hold.held(JobKind::kIngest) == 1; }));
  EXPECT_EQ(returned.load(), -1) << "returned while the hold is on";
  hold.Set(JobKind::kIngest, false);
  job.join();
  EXPECT_EQ(returned.load(), 1);
  EXPECT_EQ(hold.held(JobKind::kIngest), 0);
}

TEST(JobHoldTest, AJobThatMustStopIsLetGo) {
  JobHold hold;
  hold.Set(JobKind::kTraining, true);
  std::atomic<bool> stop{false};
  std::atomic<int> returned{-1};
  std::thread job([&] { returned = hold.Wait(JobKind::kTraining, [&] { return stop.load(); }) ? 1 : 0; });
  ASSERT_TRUE(Eventually([&] { return hold.held(JobKind::kTraining) == 1; }));
  stop = true;
  job.join();
  EXPECT_EQ(returned.load(), 0) << "stopped, not released";
  EXPECT_TRUE(hold.on(JobKind::kTraining));
  EXPECT_EQ(hold.held(JobKind::kTraining), 0);
}

}  // namespace
}  // namespace sopilot
