#include "base/env.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "testing/temp_dir.h"

namespace sopilot {
namespace {

// Fails every Append after the first `allowed` bytes: a disk that fills up.
class FullDiskEnv : public EnvWrapper {
 public:
  explicit FullDiskEnv(size_t allowed) : EnvWrapper(Env::Default()), allowed_(allowed) {}
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    auto inner = target()->NewWritableFile(path);
    if (!inner.ok()) return inner.status();
    return std::unique_ptr<WritableFile>(new LimitedFile(std::move(*inner), allowed_));
  }

 private:
  class LimitedFile : public WritableFile {
   public:
    LimitedFile(std::unique_ptr<WritableFile> f, size_t left) : f_(std::move(f)), left_(left) {}
    Status Append(std::string_view d) override {
      if (d.size() > left_) {
        (void)f_->Append(d.substr(0, left_));  // the part that fits; the disk-full error follows
        left_ = 0;
        return Status::IOError("No space left on device");
      }
      left_ -= d.size();
      return f_->Append(d);
    }
    Status Sync() override { return f_->Sync(); }
    Status Close() override { return f_->Close(); }

   private:
    std::unique_ptr<WritableFile> f_;
    size_t left_;
  };
  size_t allowed_;
};

TEST(EnvTest, WriteAtomicallyThenRead) {
  testing::TempDir dir;
  std::string path = dir.path() + "/a.bin";
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), path, "hello").ok());
  auto data = Env::Default()->ReadFile(path, 100);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(*data, "hello");
  EXPECT_EQ(*Env::Default()->GetFileSize(path), 5u);
}

TEST(EnvTest, FailedWriteLeavesOldFileAndNoTemporary) {
  testing::TempDir dir;
  std::string path = dir.path() + "/a.bin";
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), path, "old").ok());
  FullDiskEnv env(3);
  Status st = WriteFileAtomically(&env, path, "new contents");
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(*Env::Default()->ReadFile(path, 100), "old");
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path())) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1) << "temporary file left behind";
}

// The kernel's ENOSPC (here from /dev/full, which answers every write with
// it) is NoSpace, not an IOError: the HTTP layer answers 507 and jobs retry.
TEST(EnvTest, FullDiskIsNoSpace) {
  if (!Env::Default()->FileExists("/dev/full")) GTEST_SKIP() << "no /dev/full on this system";
  auto file = Env::Default()->NewWritableFile("/dev/full");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  Status st = (*file)->Append("some bytes");
  EXPECT_EQ(st.code(), Status::Code::kNoSpace) << st.ToString();
  EXPECT_NE(st.message().find("/dev/full"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("disk is full"), std::string::npos) << st.message();
  EXPECT_EQ(st.ToString().rfind("No space: ", 0), 0u) << st.ToString();
  EXPECT_TRUE((*file)->Close().ok());
}

TEST(EnvTest, ReadErrorsAreClear) {
  testing::TempDir dir;
  auto missing = Env::Default()->ReadFile(dir.path() + "/nope", 100);
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
  auto isdir = Env::Default()->ReadFile(dir.path(), 100);
  EXPECT_FALSE(isdir.ok());
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), dir.path() + "/big", std::string(200, 'x')).ok());
  auto big = Env::Default()->ReadFile(dir.path() + "/big", 100);
  EXPECT_EQ(big.status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace sopilot
