#include "train/nightly_scheduler.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <map>
#include <set>
#include <vector>

namespace sopilot {
namespace {

// Sets TZ for one test and restores it.
class ScopedTimeZone {
 public:
  explicit ScopedTimeZone(const char* tz) {
    const char* old = std::getenv("TZ");
    had_ = old != nullptr;
    if (had_) old_ = old;
    setenv("TZ", tz, 1);
    tzset();
  }
  ~ScopedTimeZone() {
    if (had_) setenv("TZ", old_.c_str(), 1);
    else unsetenv("TZ");
    tzset();
  }

 private:
  bool had_ = false;
  std::string old_;
};

// 2026-02-09T00:00:00Z.
constexpr double kDay0 = 1770595200;

// What a shared store does, in memory: one lease row and the claimed slots.
struct SharedState {
  std::string holder;
  double expires_at = 0;
  std::set<std::string> slots;
  std::vector<std::pair<std::string, std::string>> fired;  // (holder, slot)
};

class FakeBackend : public NightlyBackend {
 public:
  FakeBackend(SharedState* state, std::string name) : state_(state), name_(std::move(name)) {}
  Result<bool> AcquireLease(const std::string& holder, double now, double ttl) override {
    if (state_->holder.empty() || state_->holder == holder || state_->expires_at <= now) {
      state_->holder = holder;
      state_->expires_at = now + ttl;
    }
    return state_->holder == holder;
  }
  Status ReleaseLease(const std::string& holder) override {
    if (state_->holder == holder) state_->holder.clear();
    return Status::Ok();
  }
  Result<bool> ClaimSlot(const std::string& slot, const std::string&) override {
    return state_->slots.insert(slot).second;
  }
  Status Fire(const std::string& slot) override {
    state_->fired.emplace_back(name_, slot);
    return Status::Ok();
  }

 private:
  SharedState* state_;
  std::string name_;
};

TEST(NextNightlyRunTest, IsTheNextLocalHourStrictlyAfterNow) {
  ScopedTimeZone utc("UTC");
  EXPECT_EQ(NextNightlyRun(kDay0, 2), kDay0 + 2 * 3600);
  EXPECT_EQ(NextNightlyRun(kDay0 + 2 * 3600 - 1, 2), kDay0 + 2 * 3600);
  EXPECT_EQ(NextNightlyRun(kDay0 + 2 * 3600, 2), kDay0 + 86400 + 2 * 3600);  // at the hour: tomorrow's
  EXPECT_EQ(NextNightlyRun(kDay0 + 23 * 3600, 2), kDay0 + 86400 + 2 * 3600);
  EXPECT_EQ(NextNightlyRun(kDay0 + 5, 0), kDay0 + 86400);
  EXPECT_EQ(LocalIsoTime(kDay0 + 2 * 3600), "2026-02-09T02:00:00");
}

TEST(NextNightlyRunTest, FollowsTheLocalTimeZone) {
  // Tokyo is UTC+9: 02:00 there is 17:00 UTC the day before.
  ScopedTimeZone tokyo("JST-9");
  EXPECT_EQ(NextNightlyRun(kDay0, 2), kDay0 + 17 * 3600);
  EXPECT_EQ(LocalIsoTime(kDay0 + 17 * 3600), "2026-02-10T02:00:00");
}

TEST(NextNightlyRunTest, KeepsTheLocalHourAcrossDaylightSaving) {
  // Central Europe; summer time starts 2026-03-29 at 02:00 (-> 03:00).
  ScopedTimeZone cet("CET-1CEST,M3.5.0,M10.5.0/3");
  const double mar27_noon_utc = 1774612800;  // 2026-03-27T12:00:00Z
  double first = NextNightlyRun(mar27_noon_utc, 4);
  EXPECT_EQ(LocalIsoTime(first), "2026-03-28T04:00:00");
  double second = NextNightlyRun(first, 4);
  EXPECT_EQ(LocalIsoTime(second), "2026-03-29T04:00:00");
  EXPECT_EQ(second - first, 23 * 3600);  // the short night
}

TEST(NightlySchedulerTest, FiresOnceAtTheHourAndAgainTheNextDay) {
  ScopedTimeZone utc("UTC");
  double now = kDay0 + 3600 + 59 * 60;  // 01:59
  SharedState state;
  FakeBackend backend(&state, "a");
  NightlyScheduler s({2, 10, 30}, "a", &backend, [&] { return now; });
  EXPECT_EQ(s.next_run(), kDay0 + 2 * 3600);
  std::map<NightlyScheduler::Outcome, int> outcomes;
  for (; now < kDay0 + 86400 + 3 * 3600; now += 10) {  // every 10 s for 25 hours
    auto r = s.RunOnce();
    ASSERT_TRUE(r.ok());
    ++outcomes[*r];
    EXPECT_TRUE(s.leader());
  }
  ASSERT_EQ(state.fired.size(), 2u);
  EXPECT_EQ(state.fired[0].second, "2026-02-09T02:00:00");
  EXPECT_EQ(state.fired[1].second, "2026-02-10T02:00:00");
  EXPECT_EQ(outcomes[NightlyScheduler::Outcome::kFired], 2);
  EXPECT_EQ(outcomes[NightlyScheduler::Outcome::kAlreadyFired], 0);
  EXPECT_EQ(s.next_run(), kDay0 + 2 * 86400 + 2 * 3600);
}

TEST(NightlySchedulerTest, StartedAfterTheHourWaitsForTomorrow) {
  ScopedTimeZone utc("UTC");
  double now = kDay0 + 2 * 3600 + 1;
  SharedState state;
  FakeBackend backend(&state, "a");
  NightlyScheduler s({2, 10, 30}, "a", &backend, [&] { return now; });
  for (; now < kDay0 + 86400; now += 60) ASSERT_EQ(*s.RunOnce(), NightlyScheduler::Outcome::kWaiting);
  EXPECT_TRUE(state.fired.empty());
}

TEST(NightlySchedulerTest, TwoSchedulersOnOneStoreFireOnce) {
  ScopedTimeZone utc("UTC");
  double now = kDay0 + 3600;
  SharedState state;
  FakeBackend ba(&state, "a"), bb(&state, "b");
  NightlyScheduler a({2, 5, 15}, "a", &ba, [&] { return now; });
  NightlyScheduler b({2, 5, 15}, "b", &bb, [&] { return now; });
  for (; now < kDay0 + 3 * 86400; now += 5) {
    ASSERT_TRUE(a.RunOnce().ok());
    ASSERT_TRUE(b.RunOnce().ok());
    EXPECT_NE(a.leader(), b.leader());
  }
  ASSERT_EQ(state.fired.size(), 3u);  // one per day
  for (const auto& [who, slot] : state.fired) EXPECT_EQ(who, "a");
}

TEST(NightlySchedulerTest, StandbyTakesOverWhenTheLeaderGoesSilentWithoutFiringTwice) {
  ScopedTimeZone utc("UTC");
  double now = kDay0 + 3600;
  SharedState state;
  FakeBackend ba(&state, "a"), bb(&state, "b");
  NightlyScheduler a({2, 5, 15}, "a", &ba, [&] { return now; });
  NightlyScheduler b({2, 5, 15}, "b", &bb, [&] { return now; });
  // Both run past 02:00; a fires, then dies at 02:00:05.
  for (; now <= kDay0 + 2 * 3600 + 5; now += 5) {
    ASSERT_TRUE(a.RunOnce().ok());
    ASSERT_TRUE(b.RunOnce().ok());
  }
  ASSERT_EQ(state.fired.size(), 1u);
  // b still has 02:00 pending (it stood by); when it takes over the slot is
  // already claimed, so it does not fire again.
  std::map<NightlyScheduler::Outcome, int> outcomes;
  for (; now < kDay0 + 86400 + 3 * 3600; now += 5) ++outcomes[*b.RunOnce()];
  EXPECT_TRUE(b.leader());
  EXPECT_EQ(outcomes[NightlyScheduler::Outcome::kAlreadyFired], 1);
  ASSERT_EQ(state.fired.size(), 2u);
  EXPECT_EQ(state.fired[1], std::make_pair(std::string("b"), std::string("2026-02-10T02:00:00")));
}

TEST(NightlySchedulerTest, ANightTheLeaderMissedIsFiredByTheStandbyThatTakesOver) {
  ScopedTimeZone utc("UTC");
  double now = kDay0 + 3600;
  SharedState state;
  FakeBackend ba(&state, "a"), bb(&state, "b");
  NightlyScheduler a({2, 5, 15}, "a", &ba, [&] { return now; });
  NightlyScheduler b({2, 5, 15}, "b", &bb, [&] { return now; });
  ASSERT_TRUE(a.RunOnce().ok());
  ASSERT_TRUE(b.RunOnce().ok());
  ASSERT_TRUE(a.leader());
  // a dies after its first check; b, checking from 01:59:50, finds the lease
  // run out, takes over and fires the 02:00 that a never reached.
  for (now = kDay0 + 2 * 3600 - 10; now < kDay0 + 2 * 3600 + 60; now += 5) ASSERT_TRUE(b.RunOnce().ok());
  ASSERT_EQ(state.fired.size(), 1u);
  EXPECT_EQ(state.fired[0], std::make_pair(std::string("b"), std::string("2026-02-09T02:00:00")));
}

TEST(NightlySchedulerTest, ResignLetsTheOtherTakeOverAtOnce) {
  ScopedTimeZone utc("UTC");
  double now = kDay0;
  SharedState state;
  FakeBackend ba(&state, "a"), bb(&state, "b");
  NightlyScheduler a({2, 5, 1000}, "a", &ba, [&] { return now; });
  NightlyScheduler b({2, 5, 1000}, "b", &bb, [&] { return now; });
  EXPECT_EQ(*a.RunOnce(), NightlyScheduler::Outcome::kWaiting);
  EXPECT_EQ(*b.RunOnce(), NightlyScheduler::Outcome::kStandby);
  ASSERT_TRUE(a.Resign().ok());
  EXPECT_FALSE(a.leader());
  EXPECT_EQ(*b.RunOnce(), NightlyScheduler::Outcome::kWaiting);
  EXPECT_TRUE(b.leader());
}

}  // namespace
}  // namespace sopilot
