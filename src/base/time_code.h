// A time in a video as people read it: minutes, seconds and tenths.
#pragma once

#include <string>

namespace sopilot {

// "m:ss.s" (0:07.5, 1:15.0, 12:03.4), as the reasons, the CLI, the reports
// and the web page print times. Tenths are rounded, carrying into the
// minute (59.97 s is 1:00.0, never 0:60.0). A negative time (a rounding
// error below the video's start), NaN or infinity is 0:00.0. Thread-safe.
std::string TimeCode(double seconds);

// A stretch of a video, "start-end" in time codes: "0:05.0-0:08.1".
std::string TimeSpanCode(double start_seconds, double end_seconds);

}  // namespace sopilot
