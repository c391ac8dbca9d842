// JsonInteger: an integer field of untrusted JSON, checked.
//
// nlohmann's get<int>() takes 1e300 or -1 as well and converts it with a
// cast whose result is undefined; file readers use this instead.
#pragma once

#include <cstdint>
#include <optional>

namespace sopilot {

// `v` when it is a JSON integer (not a float) in [lo, hi]; nullopt otherwise.
template <typename Json>
std::optional<int64_t> JsonInteger(const Json& v, int64_t lo, int64_t hi) {
  int64_t x;
  if (v.is_number_unsigned()) {
    uint64_t u = v.template get<uint64_t>();
    if (hi < 0 || u > static_cast<uint64_t>(hi)) return std::nullopt;
    x = static_cast<int64_t>(u);
  } else if (v.is_number_integer()) {
    x = v.template get<int64_t>();
  } else {
    return std::nullopt;
  }
  if (x < lo || x > hi) return std::nullopt;
  return x;
}

}  // namespace sopilot
