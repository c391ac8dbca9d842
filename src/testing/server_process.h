// A `sopilot serve` child process for tests that need the real binary
// (kill -9 and restart). Its stderr goes to a file the test can read.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace sopilot::testing {

class ServerProcess {
 public:
  // `env` entries are "NAME=value", added to the current environment.
  ServerProcess(std::string binary, std::vector<std::string> args, std::vector<std::string> env,
                std::string log_path);
  ~ServerProcess();  // SIGKILLs a process still running

  // Starts the process and waits (up to `timeout_sec`) for its "listening on
  // http://HOST:PORT" line; returns the port or -1.
  int Start(double timeout_sec = 120);
  // Starts the process and waits (up to `timeout_sec`) until its log matches
  // `ready` (a regex); false when it ends or the time runs out first. For
  // processes that listen on nothing (`sopilot watch`).
  bool StartUntil(const std::string& ready, double timeout_sec = 120);
  // Waits (up to `timeout_sec`) until the log matches `pattern`; false when
  // the time runs out first.
  bool WaitForLog(const std::string& pattern, double timeout_sec) const;
  void Kill(int signal);
  // Waits for the process to end; its exit status (128+N for signal N).
  int Wait();
  std::string Log() const;
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

 private:
  void Spawn();
  std::string binary_;
  std::vector<std::string> args_, env_;
  std::string log_path_;
  pid_t pid_ = -1;
};

}  // namespace sopilot::testing
