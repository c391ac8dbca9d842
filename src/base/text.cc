#include "base/text.h"

#include <cstdint>
#include <cstdio>

namespace sopilot {

namespace {

// The length of the well-formed UTF-8 sequence at s[i], or 0 when there is
// none (RFC 3629, Table 3-7 of the Unicode standard); *cp is its code point.
size_t SequenceAt(std::string_view s, size_t i, uint32_t* cp) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t c = b(i);
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t n;
  uint8_t lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;       // overlong
    if (c == 0xED) hi = 0x9F;       // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;       // overlong
    if (c == 0xF4) hi = 0x8F;       // above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  }
  uint32_t v = c & (0xFF >> (n + 1));
  for (size_t k = 1; k < n; ++k) v = (v << 6) | (b(i + k) & 0x3F);
  *cp = v;
  return n;
}

bool IsControl(uint32_t cp) { return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F); }

void AppendEscaped(std::string* out, std::string_view bytes) {
  for (char ch : bytes) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(static_cast<uint8_t>(ch)));
    out->append(buf);
  }
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  uint32_t cp;
  for (size_t i = 0; i < s.size();) {
    size_t n = SequenceAt(s, i, &cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string Printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  uint32_t cp;
  for (size_t i = 0; i < s.size();) {
    size_t n = SequenceAt(s, i, &cp);
    if (n == 0) {
      AppendEscaped(&out, s.substr(i, 1));
      i += 1;
    } else if (IsControl(cp)) {
      AppendEscaped(&out, s.substr(i, n));
      i += n;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

Status CheckTextField(std::string_view field, std::string_view value, size_t max_bytes) {
  const std::string name(field);
  if (value.size() > max_bytes) {
    return Status::InvalidArgument(name + " is longer than " + std::to_string(max_bytes) + " bytes");
  }
  if (!IsValidUtf8(value)) {
    return Status::InvalidArgument(name + " is not valid UTF-8 ('" + Printable(value) + "')");
  }
  uint32_t cp;
  for (size_t i = 0; i < value.size();) {
    size_t n = SequenceAt(value, i, &cp);
    if (IsControl(cp)) {
      return Status::InvalidArgument(name + " contains a control character ('" + Printable(value) + "')");
    }
    i += n;
  }
  return Status::Ok();
}

}  // namespace sopilot
