// The exception border: where an exception from a library (nlohmann::json,
// std::filesystem, std::sto*, OpenCV, bad_alloc) or a bug stops travelling.
//
// SOPilot returns Status values across module borders; code that calls a
// throwing library catches at the call site when it can say something
// useful. What escapes anyway is caught at the top of every thread's loop
// (workers, maintenance, the nightly runner, the reconciler, the watch
// folder) and of every HTTP handler, so that it fails one job or one
// request with its message and never reaches std::terminate.
#pragma once

#include <exception>
#include <string>
#include <string_view>
#include <type_traits>

#include "base/status.h"
#include "base/text.h"

namespace sopilot {

// Internal("<where>: <what>") for the exception being handled; call only
// inside a catch block.
inline Status StatusFromCurrentException(std::string_view where) {
  std::string what;
  try {
    throw;
  } catch (const std::exception& e) {
    what = Printable(e.what());
  } catch (...) {
    what = "an unknown exception";
  }
  return Status::Internal(std::string(where) + ": " + what);
}

// Calls fn() and returns its Status (a Result's status; OK for void); an
// exception escaping fn becomes StatusFromCurrentException(where).
template <typename Fn>
Status CallGuarded(std::string_view where, Fn&& fn) noexcept {
  try {
    if constexpr (std::is_void_v<std::invoke_result_t<Fn>>) {
      fn();
      return Status::Ok();
    } else {
      auto r = fn();
      if constexpr (std::is_same_v<decltype(r), Status>) {
        return r;
      } else {
        return r.status();  // a Result<T>
      }
    }
  } catch (...) {
    return StatusFromCurrentException(where);
  }
}

}  // namespace sopilot
