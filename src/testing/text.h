// Small readers tests share: a whole file, and one series of a /metrics body.
#pragma once

#include <string>

namespace sopilot::testing {

// The file's bytes ("" when it cannot be read).
std::string Slurp(const std::string& path);

// The value of one series (`name{labels}` exactly as rendered) in a
// Prometheus text exposition; -1 when it is absent.
double SeriesValue(const std::string& body, const std::string& series);

}  // namespace sopilot::testing
