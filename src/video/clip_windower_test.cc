#include "video/clip_windower.h"

#include <gtest/gtest.h>

namespace sopilot {
namespace {

std::vector<Clip> Window(int frames, double fps, ClipOptions o) {
  ClipWindower w(fps, o);
  std::vector<Clip> clips;
  for (int i = 0; i < frames; ++i) {
    auto f = std::make_shared<Frame>();
    f->id = i;
    w.Add(f, &clips);
  }
  w.Finish(&clips);
  return clips;
}

TEST(ClipWindowerTest, OriginalSettingsGiveSixClipsOfFourSeconds) {
  // 24 s at 4 fps, 4 s clips, no overlap: [0,4) ... [20,24).
  std::vector<Clip> clips = Window(96, 4.0, {4.0, 4.0, 0.6});
  ASSERT_EQ(clips.size(), 6u);
  for (int k = 0; k < 6; ++k) {
    EXPECT_EQ(clips[k].span.index, k);
    EXPECT_DOUBLE_EQ(clips[k].span.start_sec, 4.0 * k);
    EXPECT_DOUBLE_EQ(clips[k].span.end_sec, 4.0 * k + 4.0);
    ASSERT_EQ(clips[k].frames.size(), 16u);
    EXPECT_EQ(clips[k].frames.front()->id, 16 * k);
    EXPECT_EQ(clips[k].frames.back()->id, 16 * k + 15);
  }
}

TEST(ClipWindowerTest, OverlappingClipsShareFrames) {
  // Defaults: 2 s clips every 0.5 s at 4 fps = 8 frames every 2 frames.
  std::vector<Clip> clips = Window(40, 4.0, ClipOptions{});
  ASSERT_EQ(clips.size(), 17u);  // starts 0,2,...,32
  EXPECT_DOUBLE_EQ(clips[3].span.start_sec, 1.5);
  EXPECT_DOUBLE_EQ(clips[3].span.end_sec, 3.5);
  EXPECT_EQ(clips[3].frames[0]->id, 6);
  EXPECT_EQ(clips[2].frames[2].get(), clips[3].frames[0].get());
}

TEST(ClipWindowerTest, TrailingPartialClipIsPaddedWithItsLastFrame) {
  // 4 s clips, 4 fps, 22 frames: one full clip then 6 frames (coverage 0.375).
  std::vector<Clip> clips = Window(22, 4.0, {4.0, 4.0, 0.3});
  ASSERT_EQ(clips.size(), 2u);
  EXPECT_DOUBLE_EQ(clips[1].span.start_sec, 4.0);
  EXPECT_DOUBLE_EQ(clips[1].span.end_sec, 5.5);  // real frames only
  EXPECT_EQ(clips[1].real_frames, 6);
  ASSERT_EQ(clips[1].frames.size(), 16u);
  for (int i = 6; i < 16; ++i) EXPECT_EQ(clips[1].frames[i]->id, 21);
  // The same tail below the coverage threshold is dropped.
  EXPECT_EQ(Window(22, 4.0, {4.0, 4.0, 0.6}).size(), 1u);
}

TEST(ClipWindowerTest, TooShortForOneClipGivesNothingOrAPaddedClip) {
  EXPECT_TRUE(Window(3, 4.0, {2.0, 0.5, 0.6}).empty());  // 3/8 < 0.6
  std::vector<Clip> clips = Window(5, 4.0, {2.0, 0.5, 0.6});
  ASSERT_EQ(clips.size(), 1u);
  EXPECT_EQ(clips[0].real_frames, 5);
  EXPECT_DOUBLE_EQ(clips[0].span.end_sec, 1.25);
}

TEST(ClipWindowerTest, MemoryIsBoundedByOneClip) {
  ClipWindower w(4.0, ClipOptions{});
  std::vector<Clip> clips;
  std::weak_ptr<const Frame> first;
  for (int i = 0; i < 1000; ++i) {
    auto f = std::make_shared<Frame>();
    if (i == 0) first = f;
    w.Add(f, &clips);
    clips.clear();  // the caller embeds and drops clips as they come
  }
  EXPECT_TRUE(first.expired()) << "windower still holds frame 0 after 1000 frames";
}

TEST(ClipWindowerTest, ValidationNamesTheOption) {
  EXPECT_TRUE(ValidateClipOptions(ClipOptions{}, 4.0).ok());
  EXPECT_NE(ValidateClipOptions({2.0, 3.0, 0.6}, 4.0).message().find("--clip-stride"),
            std::string::npos);
  EXPECT_NE(ValidateClipOptions({0.0, 0.5, 0.6}, 4.0).message().find("--clip-seconds"),
            std::string::npos);
  EXPECT_NE(ValidateClipOptions({2.0, 0.5, 1.5}, 4.0).message().find("--min-clip-coverage"),
            std::string::npos);
  EXPECT_FALSE(ValidateClipOptions({0.1, 0.1, 0.6}, 4.0).ok());  // less than a frame
}

}  // namespace
}  // namespace sopilot
