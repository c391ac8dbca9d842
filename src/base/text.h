// Text that comes from outside (HTTP fields, file names, stored rows): checks
// and safe renderings.
//
// nlohmann::json throws on invalid UTF-8 when it dumps, and a file name or a
// form field may hold any bytes. Text fields are checked where they enter
// (CheckTextField, a 400 naming the field); text only shown to people
// (messages, logs) goes through Printable.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/status.h"

namespace sopilot {

// True when `s` is well-formed UTF-8 (no overlong forms, no surrogates,
// nothing above U+10FFFF).
bool IsValidUtf8(std::string_view s);

// `s` with every byte that is not part of well-formed UTF-8, and every
// control character (C0, DEL, C1), written as \xNN: safe for messages, logs
// and JSON.
std::string Printable(std::string_view s);

// OK, or InvalidArgument naming `field`: "<field> is not valid UTF-8 ('...')",
// "<field> contains a control character", "<field> is longer than N bytes".
Status CheckTextField(std::string_view field, std::string_view value, size_t max_bytes);

}  // namespace sopilot
