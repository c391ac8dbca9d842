// A real redis-server for tests: started on a free loopback port with the
// shipped configuration (deploy/redis.conf: AOF on, noeviction) and its own
// data directory, so a test can kill it and start it again on the same data.
#pragma once

#include <sys/types.h>

#include <string>

namespace sopilot::testing {

class RedisServer {
 public:
  // `dir` holds the AOF and the log; it must exist.
  explicit RedisServer(std::string dir);
  ~RedisServer();  // SIGKILLs a server still running

  // Starts redis-server (on the same port after the first start) and waits
  // until it answers PING; false with the reason in error() otherwise.
  bool Start(double timeout_sec = 120);
  // Sends `signal` and waits for the process to end.
  void Stop(int signal);
  bool running() const { return pid_ > 0; }

  int port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }
  // redis-cli against this server: its standard output, trimmed.
  std::string Cli(const std::string& args) const;
  const std::string& error() const { return error_; }

 private:
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::string error_;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreeLoopbackPort();

}  // namespace sopilot::testing
