#include "base/lock_waits.h"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace sopilot {
namespace {

TEST(LockWaitsTest, AnOperationThatNeverWaitedIsNotCounted) {
  LockWaits waits;
  { LockWaitScope op(&waits); }
  EXPECT_EQ(waits.operations(), 0u);
}

// However many retries an operation sleeps through, and however its
// statements nest inside its transaction, it is one waiting operation.
TEST(LockWaitsTest, NestedScopesAndManyWaitsCountOnce) {
  LockWaits waits;
  std::vector<double> seen;
  waits.SetObserver([&](double s) { seen.push_back(s); });
  {
    LockWaitScope transaction(&waits);
    for (int i = 0; i < 3; ++i) {
      LockWaitScope statement(&waits);
      LockWaitScope::NoteWait();
      LockWaitScope::NoteWait();
    }
    EXPECT_EQ(waits.operations(), 0u) << "recorded before the operation ended";
    EXPECT_EQ(waits.waiting(), 1);
  }
  EXPECT_EQ(waits.waiting(), 0);
  EXPECT_EQ(waits.operations(), 1u);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_GE(seen[0], 0.0);
  { LockWaitScope next(&waits); }  // the next operation starts clean
  EXPECT_EQ(waits.operations(), 1u);
}

TEST(LockWaitsTest, TheBusyHandlerWaitsAndNotesTheWait) {
  LockWaits waits;
  double recorded = -1;
  waits.SetObserver([&](double s) { recorded = s; });
  {
    LockWaitScope op(&waits);
    EXPECT_EQ(LockWaitBusyHandler(nullptr, 0), 1) << "a fresh conflict is waited out";
    EXPECT_EQ(LockWaitBusyHandler(nullptr, 1), 1);
  }
  EXPECT_EQ(waits.operations(), 1u);
  EXPECT_GE(recorded, 0.002) << "two 2 ms sleeps, at least one of them inside the wait";
}

TEST(LockWaitsTest, WaitsOutsideAScopeOrOnOtherThreadsAreNotThisOnes) {
  LockWaits waits;
  LockWaitScope::NoteWait();  // no operation open: nothing to record
  {
    LockWaitScope op(&waits);
    std::thread other([] { LockWaitScope::NoteWait(); });
    other.join();
  }
  EXPECT_EQ(waits.operations(), 0u);
  waits.SetObserver(nullptr);  // removing the observer leaves the count
  {
    LockWaitScope op(&waits);
    LockWaitScope::NoteWait();
  }
  EXPECT_EQ(waits.operations(), 1u);
}

}  // namespace
}  // namespace sopilot
