#include "base/status.h"

#include <gtest/gtest.h>

namespace sopilot {

Result<int> Half(int x) {
  if (x % 2 != 0) return Status::InvalidArgument(std::to_string(x) + " is odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  SOPILOT_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(StatusTest, OkAndErrors) {
  EXPECT_TRUE(Status::Ok().ok());
  Status st = Status::Corruption("bad magic");
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.ToString(), "Corruption: bad magic");
  EXPECT_EQ(st.WithContext("a.emb").message(), "a.emb: bad magic");
}

TEST(StatusTest, ResultPropagates) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "3 is odd");
}

}  // namespace sopilot
