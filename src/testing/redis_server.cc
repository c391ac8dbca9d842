#include "testing/redis_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "testing/command.h"

namespace sopilot::testing {

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  int port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

RedisServer::RedisServer(std::string dir) : dir_(std::move(dir)) {}

RedisServer::~RedisServer() {
  if (pid_ > 0) Stop(SIGKILL);
}

std::string RedisServer::Cli(const std::string& args) const {
  CommandResult r = RunCommand("redis-cli -p " + std::to_string(port_) + " " + args);
  std::string out = r.out;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

bool RedisServer::Start(double timeout_sec) {
  if (RunCommand("command -v redis-server").exit_code != 0) {
    error_ = "redis-server is not installed (scripts/install-deps.sh installs it)";
    return false;
  }
  if (port_ == 0) port_ = FreeLoopbackPort();
  const std::string conf = std::string(SOPILOT_TESTING_SOURCE_DIR) + "/deploy/redis.conf";
  const std::string log = dir_ + "/redis.log";
  pid_ = fork();
  if (pid_ == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<std::string> args = {"redis-server", conf,  "--port", std::to_string(port_), "--dir", dir_,
                                     "--bind",       "127.0.0.1", "--save", ""};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp("redis-server", argv.data());
    _exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_sec);
  while (std::chrono::steady_clock::now() < deadline) {
    if (Cli("ping") == "PONG") return true;
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      error_ = "redis-server exited at start; see " + log;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  error_ = "redis-server did not answer PING; see " + log;
  return false;
}

void RedisServer::Stop(int signal) {
  if (pid_ <= 0) return;
  ::kill(pid_, signal);
  int status;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace sopilot::testing
