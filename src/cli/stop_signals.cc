#include "cli/stop_signals.h"

#include <unistd.h>

#include <cerrno>
#include <csignal>

namespace sopilot::cli {

namespace {

int g_signal_pipe[2] = {-1, -1};

void OnStopSignal(int sig) {
  // Only async-signal-safe calls here.
  ssize_t n = write(g_signal_pipe[1], &sig, sizeof sig);
  (void)n;
}

}  // namespace

Status InstallStopSignals() {
  if (g_signal_pipe[0] < 0 && pipe(g_signal_pipe) != 0) {
    return Status::IOError("cannot create a pipe for signal handling");
  }
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return Status::Ok();
}

int WaitForStopSignal() {
  int sig = 0;
  ssize_t n;
  // The handler may run on this very thread and interrupt the read (no
  // SA_RESTART): read again, the signal's number is in the pipe by then.
  do {
    n = read(g_signal_pipe[0], &sig, sizeof sig);
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(sizeof sig)) return 0;
  return sig;
}

void WakeStopWaiter() {
  int none = 0;
  ssize_t n = write(g_signal_pipe[1], &none, sizeof none);
  (void)n;
}

int StopSignalFd() { return g_signal_pipe[0]; }

const char* StopSignalName(int sig) {
  switch (sig) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: return "";
  }
}

}  // namespace sopilot::cli
