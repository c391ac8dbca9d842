#include "http/response_cache.h"

#include <gtest/gtest.h>

#include <thread>

namespace sopilot {

TEST(ResponseCacheTest, KeepsEvictsExpiresAndInvalidates) {
  ResponseCache c(2);
  c.Put("/score/a", "A", 0);
  c.Put("/videos?x", "V", 0.05);
  EXPECT_EQ(*c.Get("/score/a"), "A");
  EXPECT_EQ(*c.Get("/videos?x"), "V");
  std::this_thread::sleep_for(std::chrono::milliseconds(80));
  EXPECT_FALSE(c.Get("/videos?x").has_value()) << "expired entry served";
  c.Put("/score/b", "B", 0);
  c.Put("/score/c", "C", 0);  // over capacity: the least recent (a) goes
  EXPECT_FALSE(c.Get("/score/a").has_value());
  EXPECT_EQ(*c.Get("/score/c"), "C");
  c.Invalidate("/score/");
  EXPECT_FALSE(c.Get("/score/b").has_value());
  EXPECT_FALSE(c.Get("/score/c").has_value());
}

}  // namespace sopilot
