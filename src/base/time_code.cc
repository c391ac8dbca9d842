#include "base/time_code.h"

#include <cmath>
#include <cstdio>
#include <cstring>

namespace sopilot {

std::string TimeCode(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
  long long minutes = static_cast<long long>(seconds / 60);
  char sec[32];
  std::snprintf(sec, sizeof sec, "%04.1f", seconds - 60.0 * minutes);
  // Rounded to tenths, the seconds may reach the next minute.
  if (std::strcmp(sec, "60.0") == 0) {
    ++minutes;
    std::snprintf(sec, sizeof sec, "00.0");
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%lld:%s", minutes, sec);
  return buf;
}

std::string TimeSpanCode(double start_seconds, double end_seconds) {
  return TimeCode(start_seconds) + "-" + TimeCode(end_seconds);
}

}  // namespace sopilot
