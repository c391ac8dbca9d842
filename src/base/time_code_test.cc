#include "base/time_code.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace sopilot {
namespace {

TEST(TimeCodeTest, MinutesSecondsAndTenths) {
  EXPECT_EQ(TimeCode(0), "0:00.0");
  EXPECT_EQ(TimeCode(7.5), "0:07.5");
  EXPECT_EQ(TimeCode(75.0), "1:15.0");
  EXPECT_EQ(TimeCode(723.4), "12:03.4");
  EXPECT_EQ(TimeCode(3600), "60:00.0");
}

TEST(TimeCodeTest, TenthsRoundIntoTheNextMinute) {
  // %04.1f of 59.97 is "60.0": the time was printed 0:60.0.
  EXPECT_EQ(TimeCode(59.97), "1:00.0");
  EXPECT_EQ(TimeCode(119.96), "2:00.0");
  EXPECT_EQ(TimeCode(59.94), "0:59.9");
  EXPECT_EQ(TimeCode(60.04), "1:00.0");
}

TEST(TimeCodeTest, NoNegativeOrUndefinedTime) {
  EXPECT_EQ(TimeCode(-0.02), "0:00.0");
  EXPECT_EQ(TimeCode(-5), "0:00.0");
  EXPECT_EQ(TimeCode(std::numeric_limits<double>::quiet_NaN()), "0:00.0");
  EXPECT_EQ(TimeCode(std::numeric_limits<double>::infinity()), "0:00.0");
}

TEST(TimeCodeTest, ASpanIsItsTwoEndsJoined) {
  EXPECT_EQ(TimeSpanCode(5, 8.14), "0:05.0-0:08.1");
  EXPECT_EQ(TimeSpanCode(59.97, 119.96), "1:00.0-2:00.0");
}

}  // namespace
}  // namespace sopilot
