#include "base/digest.h"

#include <gtest/gtest.h>

#include "base/env.h"
#include "testing/temp_dir.h"

namespace sopilot {

TEST(DigestTest, KnownVectors) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 4231 test case 2.
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(DigestTest, StreamAndFileMatchWhole) {
  Sha256Stream s;
  s.Update("a");
  s.Update("bc");
  EXPECT_EQ(s.FinishHex(), Sha256Hex("abc"));
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), dir.file("f"), "abc").ok());
  EXPECT_EQ(*Sha256FileHex(dir.file("f")), Sha256Hex("abc"));
  EXPECT_EQ(Sha256FileHex(dir.file("none")).status().code(), Status::Code::kNotFound);
}

}  // namespace sopilot
