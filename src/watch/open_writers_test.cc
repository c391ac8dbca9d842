#include "watch/open_writers.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "testing/temp_dir.h"

namespace sopilot::watch {
namespace {

FileId IdOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(stat(path.c_str(), &st), 0);
  return {st.st_dev, st.st_ino};
}

TEST(OpenWritersTest, SeesWritersNotReaders) {
  testing::TempDir dir;
  const std::string a = dir.file("a.mp4"), b = dir.file("b.mp4");
  std::ofstream(a) << "x";
  std::ofstream(b) << "y";
  ProcOpenWriterProbe probe;
  const std::set<FileId> both = {IdOf(a), IdOf(b)};
  EXPECT_TRUE(probe.OpenForWriting(both).empty());

  int reader = open(a.c_str(), O_RDONLY);
  int writer = open(b.c_str(), O_WRONLY | O_APPEND);
  ASSERT_GE(reader, 0);
  ASSERT_GE(writer, 0);
  EXPECT_EQ(probe.OpenForWriting(both), std::set<FileId>{IdOf(b)});
  close(writer);
  int rw = open(a.c_str(), O_RDWR);
  EXPECT_EQ(probe.OpenForWriting(both), std::set<FileId>{IdOf(a)});
  close(rw);
  close(reader);
  EXPECT_TRUE(probe.OpenForWriting(both).empty());
  EXPECT_TRUE(probe.OpenForWriting({}).empty());
}

TEST(OpenWritersTest, SeesAnotherProcess) {
  testing::TempDir dir;
  const std::string a = dir.file("a.mp4");
  std::ofstream(a) << "x";
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t child = fork();
  if (child == 0) {
    int fd = open(a.c_str(), O_WRONLY);
    char c = fd >= 0 ? 'y' : 'n';
    if (write(ready[1], &c, 1) != 1) _exit(1);
    pause();
    _exit(0);
  }
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  ProcOpenWriterProbe probe;
  EXPECT_EQ(probe.OpenForWriting({IdOf(a)}).size(), 1u);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  EXPECT_TRUE(probe.OpenForWriting({IdOf(a)}).empty());
  close(ready[0]);
  close(ready[1]);
}

TEST(OpenWritersTest, NoProcIsNoWriters) {
  testing::TempDir dir;
  std::ofstream(dir.file("a")) << "x";
  ProcOpenWriterProbe probe(dir.file("no-such-proc"));
  EXPECT_TRUE(probe.OpenForWriting({IdOf(dir.file("a"))}).empty());
}

}  // namespace
}  // namespace sopilot::watch
