#include "base/crc32.h"

#include <gtest/gtest.h>

namespace sopilot {

TEST(Crc32Test, KnownCheckValue) { EXPECT_EQ(Crc32("123456789"), 0xCBF43926u); }

TEST(Crc32Test, IncrementalEqualsWhole) {
  EXPECT_EQ(Crc32("6789", Crc32("12345")), Crc32("123456789"));
}

TEST(Crc32Test, DetectsOneBitFlip) {
  std::string s(1000, 'a');
  uint32_t before = Crc32(s);
  s[500] ^= 0x01;
  EXPECT_NE(Crc32(s), before);
}

}  // namespace sopilot
