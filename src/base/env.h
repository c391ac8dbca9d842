// Env: the seam between SOPilot and the operating system (files, clock).
//
// Code that touches files or time takes an Env* so that tests can inject
// faults (a write that fails half-way, a rename refused, a clock that jumps).
// Env::Default() is the real POSIX implementation and lives forever.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace sopilot {

// A file being written. Close() must be called; a destroyed unclosed file is
// closed and its errors ignored.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  virtual Status Sync() = 0;  // data reaches stable storage
  virtual Status Close() = 0;
};

class Env {
 public:
  virtual ~Env() = default;
  static Env* Default();

  // Microseconds on a monotonic clock, for measuring durations.
  virtual uint64_t NowMicros() = 0;
  // Seconds since the Unix epoch, for timestamps shown to people.
  virtual double NowUnixSeconds() = 0;

  // Creates or truncates `path`.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;
  // Reads the whole file; fails with InvalidArgument past `max_bytes`.
  virtual Result<std::string> ReadFile(const std::string& path, uint64_t max_bytes) = 0;
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  virtual bool FileExists(const std::string& path) = 0;
  virtual bool IsDirectory(const std::string& path) = 0;
  virtual Result<uint64_t> GetFileSize(const std::string& path) = 0;
};

// Forwards every call to another Env; tests subclass it and override the
// calls they want to break.
class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env* target) : target_(target) {}
  uint64_t NowMicros() override { return target_->NowMicros(); }
  double NowUnixSeconds() override { return target_->NowUnixSeconds(); }
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    return target_->NewWritableFile(path);
  }
  Result<std::string> ReadFile(const std::string& path, uint64_t max_bytes) override {
    return target_->ReadFile(path, max_bytes);
  }
  Status RenameFile(const std::string& from, const std::string& to) override {
    return target_->RenameFile(from, to);
  }
  Status RemoveFile(const std::string& path) override { return target_->RemoveFile(path); }
  bool FileExists(const std::string& path) override { return target_->FileExists(path); }
  bool IsDirectory(const std::string& path) override { return target_->IsDirectory(path); }
  Result<uint64_t> GetFileSize(const std::string& path) override {
    return target_->GetFileSize(path);
  }

 protected:
  Env* target() const { return target_; }

 private:
  Env* target_;
};

// Writes `data` to `path` so that readers see either the old file or the
// whole new one, never a part: a temporary file beside `path`, fsync, rename.
// On failure the temporary file is removed and `path` is untouched.
Status WriteFileAtomically(Env* env, const std::string& path, std::string_view data);

}  // namespace sopilot
