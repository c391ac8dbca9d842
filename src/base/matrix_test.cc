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

TEST(MatrixTest, RowDotIsTheDotProductOfTwoRows) {
  FloatMatrix m(3, 2);
  m.at(0, 0) = 0.6f, m.at(0, 1) = 0.8f;
  m.at(1, 0) = 0.8f, m.at(1, 1) = -0.6f;
  m.at(2, 0) = 2.0f, m.at(2, 1) = 1.0f;
  EXPECT_NEAR(RowDot(m, 0, 0), 1.0, 1e-6);
  EXPECT_NEAR(RowDot(m, 0, 1), 0.0, 1e-6);
  EXPECT_NEAR(RowDot(m, 0, 2), 2.0, 1e-6);
  EXPECT_DOUBLE_EQ(RowDot(m, 1, 2), RowDot(m, 2, 1));
}

}  // namespace sopilot
