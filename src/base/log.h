// Log: the service's operational log (requests, jobs, start-up, trouble),
// one line per event on stderr, over spdlog.
//
// Two formats (SOPILOT_LOG_FORMAT):
//   text  2026-12-03T05:20:04.123Z INFO  request method=GET route=/videos status=200 duration_ms=3.1
//   json  {"time":"2026-12-03T05:20:04.123Z","level":"info","msg":"request","method":"GET",...}
// `time` is ISO-8601 UTC with milliseconds; `level` is trace, debug, info,
// warn or error; `msg` says what happened; the structured fields follow in
// the order given. In JSON a string field is a JSON string, a number a
// number, a bool a bool; a field that repeats time/level/msg is renamed
// "field_<key>". Text (messages and string fields) goes through Printable
// (base/text.h): no line ever holds a newline or a control character, so
// one event is one line whatever the input, and a JSON line always parses.
// Lines below the level (SOPILOT_LOG_LEVEL; default info) cost one atomic
// load.
//
// This is the log for operators, not the command line's user interface:
// `sopilot score` and friends print their results and errors themselves.
// Callers never log secrets (tokens, passwords, webhook secrets, the Redis
// password): there is no filter here that would catch them.
//
// Threads: every function may be called from any thread at any time; a line
// is written whole (spdlog's sink mutex), never interleaved with another.
// Errors: logging never throws and never fails its caller; a line that cannot
// be written is lost (spdlog reports its own failures on stderr).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/status.h"

namespace sopilot {

enum class LogLevel { kTrace = 0, kDebug, kInfo, kWarn, kError, kOff };
enum class LogFormat { kText, kJson };

struct LogOptions {
  LogLevel level = LogLevel::kInfo;      // SOPILOT_LOG_LEVEL
  LogFormat format = LogFormat::kText;   // SOPILOT_LOG_FORMAT
};

// "trace" ... "off"; InvalidArgument naming the accepted values otherwise.
// Case-insensitive; "warning" is taken for "warn".
Result<LogLevel> ParseLogLevel(std::string_view text);
// "text" or "json" (case-insensitive).
Result<LogFormat> ParseLogFormat(std::string_view text);
const char* LogLevelName(LogLevel level);
const char* LogFormatName(LogFormat format);

// One structured field: a key and a string, integer, floating or bool value.
class LogField {
 public:
  using Value = std::variant<std::string, int64_t, double, bool>;
  LogField(std::string_view key, std::string_view value) : key_(key), value_(std::string(value)) {}
  LogField(std::string_view key, const char* value) : key_(key), value_(std::string(value ? value : "")) {}
  LogField(std::string_view key, const std::string& value) : key_(key), value_(value) {}
  LogField(std::string_view key, bool value) : key_(key), value_(value) {}
  LogField(std::string_view key, double value) : key_(key), value_(value) {}
  LogField(std::string_view key, int value) : key_(key), value_(int64_t{value}) {}
  LogField(std::string_view key, long value) : key_(key), value_(int64_t{value}) {}
  LogField(std::string_view key, long long value) : key_(key), value_(static_cast<int64_t>(value)) {}
  LogField(std::string_view key, unsigned value) : key_(key), value_(int64_t{value}) {}
  LogField(std::string_view key, unsigned long value) : key_(key), value_(static_cast<int64_t>(value)) {}

  const std::string& key() const { return key_; }
  const Value& value() const { return value_; }

 private:
  std::string key_;
  Value value_;
};

// Sets the process's log level and format (stderr). Call once the
// configuration is known; until then lines are text at info.
void ConfigureLogging(const LogOptions& options);
LogOptions CurrentLogOptions();

// Whether a line at `level` would be written (to skip building fields).
bool LogEnabled(LogLevel level);

void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {}) noexcept;
inline void LogTrace(std::string_view msg, std::initializer_list<LogField> fields = {}) noexcept {
  Log(LogLevel::kTrace, msg, fields);
}
inline void LogDebug(std::string_view msg, std::initializer_list<LogField> fields = {}) noexcept {
  Log(LogLevel::kDebug, msg, fields);
}
inline void LogInfo(std::string_view msg, std::initializer_list<LogField> fields = {}) noexcept {
  Log(LogLevel::kInfo, msg, fields);
}
inline void LogWarn(std::string_view msg, std::initializer_list<LogField> fields = {}) noexcept {
  Log(LogLevel::kWarn, msg, fields);
}
inline void LogError(std::string_view msg, std::initializer_list<LogField> fields = {}) noexcept {
  Log(LogLevel::kError, msg, fields);
}

// The line one event would make, without its time and newline (what follows
// the time in text; the object without "time" in JSON). For tests and for
// FormatLogLine's users; never throws.
std::string FormatLogPayload(LogFormat format, LogLevel level, std::string_view msg,
                             std::initializer_list<LogField> fields) noexcept;

// Tests: while one exists, lines go to it (with `options`) instead of to
// stderr; destroying it restores the previous configuration. One at a time.
class LogCapture {
 public:
  explicit LogCapture(LogOptions options);
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // Every line written so far, without its newline.
  std::vector<std::string> Lines() const;

 private:
  LogOptions previous_;
  struct Sink;
  std::shared_ptr<Sink> sink_;
};

}  // namespace sopilot
