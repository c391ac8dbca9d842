// Status and Result<T>: errors as values at module borders.
//
// A Status is either OK or carries a code and a one-line message meant for a
// person ("gold.mp4: no video stream"). Result<T> holds a T or a non-OK
// Status. Nothing in SOPilot throws across a module border; code that calls a
// throwing library (nlohmann-json, OpenCV) catches at the call site.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace sopilot {

// [[nodiscard]]: a Status dropped on the floor is an error ignored; a caller
// that really means to ignore one writes `(void)` and says why.
class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk = 0,
    kInvalidArgument,  // the caller's input is wrong (bad option, bad file)
    kNotFound,         // a named thing does not exist
    kCorruption,       // stored data failed validation
    kIOError,          // the OS refused (read, write, rename)
    kUnsupported,      // valid input we cannot handle (codec, no video)
    kUnavailable,      // a dependency is down for now (store, queue); try again
    kInternal,         // a bug or a library failure we did not expect
    kNoSpace,          // the disk (or quota) is full: nothing was stored; retry once space returns
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) { return Status(Code::kInvalidArgument, std::move(msg)); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status IOError(std::string msg) { return Status(Code::kIOError, std::move(msg)); }
  static Status Unsupported(std::string msg) { return Status(Code::kUnsupported, std::move(msg)); }
  static Status Unavailable(std::string msg) { return Status(Code::kUnavailable, std::move(msg)); }
  static Status Internal(std::string msg) { return Status(Code::kInternal, std::move(msg)); }
  static Status NoSpace(std::string msg) { return Status(Code::kNoSpace, std::move(msg)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "Corruption: <message>", or "OK".
  std::string ToString() const;
  // The same status with "<prefix>: " put in front of the message.
  Status WithContext(std::string_view prefix) const;
  // The same code with another message.
  Status WithMessage(std::string message) const { return Status(code_, std::move(message)); }

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// A value or the reason there is none. Construct from a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {   // NOLINT: implicit by design
    assert(!status_.ok());
  }
  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { assert(ok()); return *value_; }
  const T& value() const& { assert(ok()); return *value_; }
  T&& value() && { assert(ok()); return std::move(*value_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace sopilot

// Return early from a function returning Status or Result<T>.
#define SOPILOT_RETURN_IF_ERROR(expr)          \
  do {                                         \
    ::sopilot::Status _st = (expr);            \
    if (!_st.ok()) return _st;                 \
  } while (0)

#define SOPILOT_CONCAT_INNER(a, b) a##b
#define SOPILOT_CONCAT(a, b) SOPILOT_CONCAT_INNER(a, b)
// SOPILOT_ASSIGN_OR_RETURN(auto x, MakeX()); declares x or returns the error.
#define SOPILOT_ASSIGN_OR_RETURN(lhs, expr) \
  SOPILOT_ASSIGN_OR_RETURN_IMPL(SOPILOT_CONCAT(_res_, __LINE__), lhs, expr)
#define SOPILOT_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()
