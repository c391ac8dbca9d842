#include "base/log.h"

#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <mutex>

#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "base/text.h"

namespace sopilot {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The time, then the payload; the time in UTC, ISO-8601 with milliseconds.
constexpr const char* kTextPattern = "%Y-%m-%dT%H:%M:%S.%eZ %v";
constexpr const char* kJsonPattern = "{\"time\":\"%Y-%m-%dT%H:%M:%S.%eZ\",%v";

std::unique_ptr<spdlog::formatter> MakeFormatter(LogFormat format) {
  return std::make_unique<spdlog::pattern_formatter>(format == LogFormat::kJson ? kJsonPattern : kTextPattern,
                                                     spdlog::pattern_time_type::utc);
}

// The process's logger: replaced whole (under mu) when configured, read by
// every Log call (a shared_ptr copy under mu; the write itself runs outside
// it, under the sink's own mutex).
struct State {
  std::mutex mu;
  std::shared_ptr<spdlog::logger> logger;
  LogOptions options;
  std::atomic<int> level{static_cast<int>(LogLevel::kInfo)};
  std::atomic<int> format{static_cast<int>(LogFormat::kText)};
};

std::shared_ptr<spdlog::logger> MakeLogger(spdlog::sink_ptr sink, LogFormat format) {
  auto logger = std::make_shared<spdlog::logger>("sopilot", std::move(sink));
  logger->set_formatter(MakeFormatter(format));
  // Filtering is ours (State::level); spdlog writes what it is given.
  logger->set_level(spdlog::level::trace);
  logger->flush_on(spdlog::level::trace);
  return logger;
}

State& GlobalState() {
  // Never destroyed: threads may log while the process exits.
  static State* state = [] {
    auto* s = new State;
    s->logger = MakeLogger(std::make_shared<spdlog::sinks::stderr_sink_mt>(), LogFormat::kText);
    return s;
  }();
  return *state;
}

void Install(std::shared_ptr<spdlog::logger> logger, const LogOptions& options) {
  State& s = GlobalState();
  std::lock_guard<std::mutex> lock(s.mu);
  s.logger = std::move(logger);
  s.options = options;
  s.format = static_cast<int>(options.format);
  s.level = static_cast<int>(options.level);
}

const char* TextLevel(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace: return "TRACE";
    case LogLevel::kDebug: return "DEBUG";
    case LogLevel::kInfo: return "INFO ";
    case LogLevel::kWarn: return "WARN ";
    case LogLevel::kError: return "ERROR";
    case LogLevel::kOff: return "OFF  ";
  }
  return "?";
}

void AppendJsonString(std::string* out, std::string_view raw) {
  // Printable leaves well-formed UTF-8 without control characters; what is
  // left to escape for JSON is the quote and the backslash.
  const std::string s = Printable(raw);
  out->push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('"');
}

std::string NumberText(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

void AppendJsonValue(std::string* out, const LogField::Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) {
    AppendJsonString(out, *s);
  } else if (const auto* i = std::get_if<int64_t>(&v)) {
    *out += std::to_string(*i);
  } else if (const auto* d = std::get_if<double>(&v)) {
    *out += std::isfinite(*d) ? NumberText(*d) : "null";
  } else if (const auto* b = std::get_if<bool>(&v)) {
    *out += *b ? "true" : "false";
  }
}

// key=value, the value quoted when it holds a space, a quote, '=' or nothing.
void AppendTextValue(std::string* out, const LogField::Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) {
    const std::string p = Printable(*s);
    bool quote = p.empty();
    for (char c : p) quote = quote || c == ' ' || c == '"' || c == '=';
    if (!quote) {
      *out += p;
      return;
    }
    out->push_back('"');
    for (char c : p) {
      if (c == '"' || c == '\\') out->push_back('\\');
      out->push_back(c);
    }
    out->push_back('"');
  } else if (const auto* i = std::get_if<int64_t>(&v)) {
    *out += std::to_string(*i);
  } else if (const auto* d = std::get_if<double>(&v)) {
    *out += NumberText(*d);
  } else if (const auto* b = std::get_if<bool>(&v)) {
    *out += *b ? "true" : "false";
  }
}

// Keys are ours (string literals), but a key is still made safe: [A-Za-z0-9_.-].
std::string SafeKey(std::string_view key) {
  std::string k;
  for (char c : key) k.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' ? c : '_');
  if (k.empty()) k.push_back('_');
  if (k != "time" && k != "level" && k != "msg") return k;
  std::string renamed("field_");
  renamed += k;
  return renamed;
}

}  // namespace

Result<LogLevel> ParseLogLevel(std::string_view text) {
  const std::string t = Lower(text);
  if (t == "trace") return LogLevel::kTrace;
  if (t == "debug") return LogLevel::kDebug;
  if (t == "info") return LogLevel::kInfo;
  if (t == "warn" || t == "warning") return LogLevel::kWarn;
  if (t == "error") return LogLevel::kError;
  if (t == "off") return LogLevel::kOff;
  return Status::InvalidArgument("SOPILOT_LOG_LEVEL='" + Printable(text) +
                                 "' must be one of trace, debug, info, warn, error, off");
}

Result<LogFormat> ParseLogFormat(std::string_view text) {
  const std::string t = Lower(text);
  if (t == "text") return LogFormat::kText;
  if (t == "json") return LogFormat::kJson;
  return Status::InvalidArgument("SOPILOT_LOG_FORMAT='" + Printable(text) + "' must be 'text' or 'json'");
}

const char* LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace: return "trace";
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
    case LogLevel::kOff: return "off";
  }
  return "?";
}

const char* LogFormatName(LogFormat format) { return format == LogFormat::kJson ? "json" : "text"; }

void ConfigureLogging(const LogOptions& options) {
  try {
    Install(MakeLogger(std::make_shared<spdlog::sinks::stderr_sink_mt>(), options.format), options);
  } catch (...) {
    // Out of memory at start-up: the previous logger stays.
  }
}

LogOptions CurrentLogOptions() {
  State& s = GlobalState();
  std::lock_guard<std::mutex> lock(s.mu);
  return s.options;
}

bool LogEnabled(LogLevel level) {
  return level != LogLevel::kOff && static_cast<int>(level) >= GlobalState().level.load(std::memory_order_relaxed);
}

std::string FormatLogPayload(LogFormat format, LogLevel level, std::string_view msg,
                             std::initializer_list<LogField> fields) noexcept {
  try {
    std::string out;
    out.reserve(128);
    if (format == LogFormat::kJson) {
      out += "\"level\":\"";
      out += LogLevelName(level);
      out += "\",\"msg\":";
      AppendJsonString(&out, msg);
      for (const LogField& f : fields) {
        out += ",\"";
        out += SafeKey(f.key());
        out += "\":";
        AppendJsonValue(&out, f.value());
      }
      out += "}";
    } else {
      out += TextLevel(level);
      out += ' ';
      out += Printable(msg);
      for (const LogField& f : fields) {
        out += ' ';
        out += SafeKey(f.key());
        out += '=';
        AppendTextValue(&out, f.value());
      }
    }
    return out;
  } catch (...) {
    return std::string();
  }
}

void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) noexcept {
  if (!LogEnabled(level)) return;
  try {
    State& s = GlobalState();
    std::shared_ptr<spdlog::logger> logger;
    {
      std::lock_guard<std::mutex> lock(s.mu);
      logger = s.logger;
    }
    const auto format = static_cast<LogFormat>(s.format.load(std::memory_order_relaxed));
    const std::string payload = FormatLogPayload(format, level, msg, fields);
    if (payload.empty()) return;
    logger->log(spdlog::level::info, spdlog::string_view_t(payload.data(), payload.size()));
  } catch (...) {
    // Out of memory, or a sink that threw: the line is lost, the caller goes on.
  }
}

// ---- LogCapture

struct LogCapture::Sink : public spdlog::sinks::base_sink<std::mutex> {
  std::vector<std::string> lines;
  mutable std::mutex lines_mu;

  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    std::string line(formatted.data(), formatted.size());
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    std::lock_guard<std::mutex> lock(lines_mu);
    lines.push_back(std::move(line));
  }
  void flush_() override {}
};

LogCapture::LogCapture(LogOptions options) : previous_(CurrentLogOptions()), sink_(std::make_shared<Sink>()) {
  Install(MakeLogger(sink_, options.format), options);
}

LogCapture::~LogCapture() { ConfigureLogging(previous_); }

std::vector<std::string> LogCapture::Lines() const {
  std::lock_guard<std::mutex> lock(sink_->lines_mu);
  return sink_->lines;
}

}  // namespace sopilot
