// JsonText: nlohmann::json's dump() without its exception.
//
// dump() throws type_error 316 on a string that is not valid UTF-8; a field
// that slipped past validation (or a row written before it existed) must
// not take a request, a worker or the process down with it. JsonText
// writes U+FFFD for each invalid byte instead. Every dump in SOPilot goes
// through here.
#pragma once

#include <string>

namespace sopilot {

// `indent` -1: one line; `ascii`: non-ASCII as \uXXXX.
template <typename Json>
std::string JsonText(const Json& j, int indent = -1, bool ascii = false) {
  return j.dump(indent, ' ', ascii, Json::error_handler_t::replace);
}

}  // namespace sopilot
