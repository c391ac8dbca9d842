#include "video/decode_ahead.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <thread>

namespace sopilot {
namespace {

FramePtr MakeFrame(int64_t id) {
  auto f = std::make_shared<Frame>();
  f->id = id;
  return f;
}

// Polls `done` until it holds or a generous deadline passes (state, not
// timing: a slow machine only waits longer).
template <typename Pred>
bool WaitFor(Pred done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

TEST(DecodeAheadTest, GivesTheSourcesFramesInOrderThenTheEndAgainAndAgain) {
  int next = 0;
  DecodeAhead ahead([&]() -> Result<FramePtr> { return next < 50 ? MakeFrame(next++) : FramePtr{}; }, 4);
  for (int i = 0; i < 50; ++i) {
    Result<FramePtr> f = ahead.Next();
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    ASSERT_NE(*f, nullptr) << "frame " << i;
    EXPECT_EQ((*f)->id, i);
  }
  for (int i = 0; i < 3; ++i) {
    Result<FramePtr> end = ahead.Next();
    ASSERT_TRUE(end.ok());
    EXPECT_EQ(*end, nullptr);
  }
}

TEST(DecodeAheadTest, NeverHoldsMoreThanItsDepthOfFramesTheReaderHasNotTaken) {
  constexpr int kDepth = 3;
  std::atomic<int> produced{0}, taken{0}, most_waiting{0};
  DecodeAhead ahead(
      [&]() -> Result<FramePtr> {
        // Frames made and not yet taken, this one included; `taken` may lag
        // the reader by the frame it is taking, hence depth + 1 below.
        const int waiting = produced - taken + 1;
        if (waiting > most_waiting) most_waiting = waiting;
        if (produced == 200) return FramePtr{};
        return MakeFrame(produced++);
      },
      kDepth);
  // The source fills the queue before the reader takes anything: an
  // unbounded queue would run through all 200 frames here.
  ASSERT_TRUE(WaitFor([&] { return produced >= kDepth; }));
  for (;;) {
    Result<FramePtr> f = ahead.Next();
    ASSERT_TRUE(f.ok());
    if (*f == nullptr) break;
    EXPECT_EQ((*f)->id, taken.load());
    ++taken;
  }
  EXPECT_EQ(taken, 200);
  EXPECT_LE(most_waiting, kDepth + 1);
  EXPECT_GE(most_waiting, kDepth);
}

TEST(DecodeAheadTest, AnErrorComesInPlaceOfTheFrameItFailedOnAndStays) {
  int calls = 0;
  DecodeAhead ahead(
      [&]() -> Result<FramePtr> {
        ++calls;
        if (calls <= 3) return MakeFrame(calls);
        return Status::Corruption("clip.mp4: truncated or damaged");
      },
      8);
  for (int i = 1; i <= 3; ++i) {
    Result<FramePtr> f = ahead.Next();
    ASSERT_TRUE(f.ok());
    EXPECT_EQ((*f)->id, i);
  }
  for (int i = 0; i < 2; ++i) {
    Result<FramePtr> f = ahead.Next();
    ASSERT_FALSE(f.ok());
    EXPECT_EQ(f.status().code(), Status::Code::kCorruption);
    EXPECT_EQ(f.status().message(), "clip.mp4: truncated or damaged");
  }
  EXPECT_EQ(calls, 4) << "the source is not called again after its error";
}

TEST(DecodeAheadTest, AnExceptionFromTheSourceIsItsErrorAndDoesNotCrossTheThread) {
  DecodeAhead ahead([]() -> Result<FramePtr> { throw std::runtime_error("out of frames"); }, 2);
  Result<FramePtr> f = ahead.Next();
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), Status::Code::kInternal);
  EXPECT_NE(f.status().message().find("out of frames"), std::string::npos) << f.status().ToString();
}

TEST(DecodeAheadTest, DestroyedEarlyItStopsCallingTheSource) {
  std::atomic<int> calls{0};
  {
    DecodeAhead ahead([&]() -> Result<FramePtr> { return MakeFrame(calls++); }, 2);
    Result<FramePtr> first = ahead.Next();
    ASSERT_TRUE(first.ok());
    ASSERT_TRUE(WaitFor([&] { return calls >= 3; }));  // the queue is full again: the thread waits
  }  // a reader that gives up (a cancelled ingest) destroys it with frames left
  // Two frames queued, one taken, at most one more under way at the end.
  EXPECT_LE(calls, 4);
}

}  // namespace
}  // namespace sopilot
