// Integer flags of the benchmarks that run their own rounds (queue_bench,
// store_bench): "--name=N" and "--name=N,N,...".
#pragma once

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace sopilot::bench {

// True when `arg` is `name` followed by a value (name ends with '='); sets
// *out to it (0 where it is not a number).
inline bool IntFlag(const std::string& arg, const char* name, int* out) {
  if (arg.rfind(name, 0) != 0) return false;
  *out = std::atoi(arg.c_str() + std::strlen(name));
  return true;
}

// The same for a comma-separated list; *out is replaced.
inline bool IntListFlag(const std::string& arg, const char* name, std::vector<int>* out) {
  if (arg.rfind(name, 0) != 0) return false;
  out->clear();
  for (const char* p = arg.c_str() + std::strlen(name); *p;) {
    out->push_back(std::atoi(p));
    while (*p && *p != ',') ++p;
    if (*p == ',') ++p;
  }
  return true;
}

}  // namespace sopilot::bench
