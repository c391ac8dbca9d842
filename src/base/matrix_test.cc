#include "base/matrix.h"

#include <gtest/gtest.h>

#include <cmath>

namespace sopilot {

TEST(MatrixTest, NormalizeRowsMakesUnitRowsAndKeepsZeroRows) {
  FloatMatrix m(2, 3);
  m.at(0, 0) = 3;
  m.at(0, 2) = 4;
  NormalizeRows(&m);
  EXPECT_FLOAT_EQ(m.at(0, 0), 0.6f);
  EXPECT_FLOAT_EQ(m.at(0, 2), 0.8f);
  EXPECT_EQ(m.at(1, 0), 0.0f);  // zero row stays zero, no NaN
  EXPECT_FALSE(std::isnan(m.at(1, 1)));
}

}  // namespace sopilot
