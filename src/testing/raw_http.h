// A client at the socket level, for tests that must send what a well-behaved
// HTTP client never would (bodies announced and not sent, header lines that
// never end, connections held half-open), and the process's memory figures.
// Every wait is bounded by a generous deadline; nothing here sleeps to let
// something happen.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace sopilot::testing {

struct RawResponse {
  bool ok = false;  // a whole response was read
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

class RawConnection {
 public:
  // Connects to 127.0.0.1:port, from `source` (another loopback address,
  // e.g. 127.0.0.2) when not empty. connected() says whether it worked.
  explicit RawConnection(int port, const std::string& source = "");
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  // Sends all of `data`; false when the server closed or reset the
  // connection, or nothing could be sent for `timeout_sec`.
  bool Send(std::string_view data, double timeout_sec = 60);
  // Reads one response (head and a Content-Length body; a 100 Continue is a
  // response of its own); ok=false when the
  // connection ended, or `timeout_sec` passed, before it was whole. Bytes
  // after it stay for the next call (pipelining).
  RawResponse Read(double timeout_sec = 60);
  // Reads and drops until the server closes (true) or `timeout_sec` passes.
  bool WaitClosed(double timeout_sec = 60);
  void Close();

 private:
  // Reads more into buf_; false at end of stream, on error or timeout.
  bool Fill(double deadline_sec);
  int fd_ = -1;
  std::string buf_;
};

// VmRSS and VmHWM of this process, in bytes (-1 when unreadable).
int64_t ResidentBytes();
int64_t PeakResidentBytes();
// Resets VmHWM to the current RSS (Linux >= 4.0); false when refused.
bool ResetPeakResident();

}  // namespace sopilot::testing
