#include "http/response_cache.h"

#include <gtest/gtest.h>

#include <atomic>

namespace sopilot {
namespace {

// Real everything, but a monotonic clock the test moves by hand.
class FakeClockEnv : public EnvWrapper {
 public:
  FakeClockEnv() : EnvWrapper(Env::Default()) {}
  uint64_t NowMicros() override { return now_us_.load(); }
  void Advance(double sec) { now_us_ += static_cast<uint64_t>(sec * 1e6); }

 private:
  std::atomic<uint64_t> now_us_{1'000'000'000};
};

TEST(ResponseCacheTest, KeepsEvictsExpiresAndInvalidates) {
  FakeClockEnv clock;
  ResponseCache c(2, &clock);
  c.Put("/score/a", "A", 0);
  c.Put("/videos?x", "V", 0.05);
  ASSERT_TRUE(c.Get("/score/a").has_value());
  EXPECT_EQ(*c.Get("/score/a"), "A");
  clock.Advance(0.049);
  ASSERT_TRUE(c.Get("/videos?x").has_value()) << "expired before its time";
  EXPECT_EQ(*c.Get("/videos?x"), "V");
  clock.Advance(0.002);
  EXPECT_FALSE(c.Get("/videos?x").has_value()) << "expired entry served";
  clock.Advance(1e6);
  ASSERT_TRUE(c.Get("/score/a").has_value()) << "an entry without a ttl expired";
  c.Put("/score/b", "B", 0);
  c.Put("/score/c", "C", 0);  // over capacity: the least recent (a) goes
  EXPECT_FALSE(c.Get("/score/a").has_value());
  ASSERT_TRUE(c.Get("/score/c").has_value());
  EXPECT_EQ(*c.Get("/score/c"), "C");
  c.Invalidate("/score/");
  EXPECT_FALSE(c.Get("/score/b").has_value());
  EXPECT_FALSE(c.Get("/score/c").has_value());
}

TEST(ResponseCacheTest, PutAgainRenewsTheTtl) {
  FakeClockEnv clock;
  ResponseCache c(4, &clock);
  c.Put("/videos", "1", 1.0);
  clock.Advance(0.9);
  c.Put("/videos", "2", 1.0);
  clock.Advance(0.9);
  ASSERT_TRUE(c.Get("/videos").has_value());
  EXPECT_EQ(*c.Get("/videos"), "2");
  clock.Advance(0.2);
  EXPECT_FALSE(c.Get("/videos").has_value());
}

}  // namespace
}  // namespace sopilot
