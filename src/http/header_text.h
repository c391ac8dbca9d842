// Text helpers for HTTP header fields (RFC 9110), shared by the server and
// the multipart parser: optional whitespace is spaces and tabs, and field
// names and tokens compare without regard to ASCII case.
#pragma once

#include <algorithm>
#include <cctype>
#include <string_view>

namespace sopilot {

// `s` without leading and trailing spaces and tabs (OWS).
inline std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// ASCII case-insensitive equality.
inline bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace sopilot
