// SIGINT/SIGTERM handling shared by the long-running commands (serve,
// worker, watch). Libraries start threads before main (OpenBLAS), so any thread may
// receive a signal: the handler only writes the signal number to a pipe, and
// a thread of ours waits on it.
#pragma once

#include "base/status.h"

namespace sopilot::cli {

// Installs the handlers (and ignores SIGPIPE). Call once, early.
Status InstallStopSignals();
// Blocks until SIGINT/SIGTERM arrives (returns its number) or WakeStopWaiter()
// is called (returns 0).
int WaitForStopSignal();
void WakeStopWaiter();
// The pipe's read end, for a loop that polls it beside other descriptors
// (watch): readable once a signal arrived; WaitForStopSignal() then reads it.
int StopSignalFd();
// "SIGINT", "SIGTERM" or "" for 0.
const char* StopSignalName(int sig);

}  // namespace sopilot::cli
