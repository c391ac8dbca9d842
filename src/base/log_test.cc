#include "base/log.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

namespace sopilot {
namespace {

using Json = nlohmann::json;

Json Parse(const std::string& line) {
  Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON: " << line;
  return j;
}

const std::regex kIsoUtc("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$");

TEST(LogTest, JsonLinesCarryTimeLevelMessageAndTypedFields) {
  LogCapture capture({LogLevel::kInfo, LogFormat::kJson});
  LogInfo("request", {{"method", "GET"}, {"route", "/videos/{video_id}"}, {"status", 200}, {"duration_ms", 3.25},
                      {"cached", false}});
  LogError("job failed", {{"job_id", "j1"}, {"error", "bad.mp4: no video stream"}});
  const auto lines = capture.Lines();
  ASSERT_EQ(lines.size(), 2u);
  Json a = Parse(lines[0]);
  EXPECT_TRUE(std::regex_match(a["time"].get<std::string>(), kIsoUtc)) << a["time"];
  EXPECT_EQ(a["level"], "info");
  EXPECT_EQ(a["msg"], "request");
  EXPECT_EQ(a["method"], "GET");
  EXPECT_EQ(a["route"], "/videos/{video_id}");
  EXPECT_EQ(a["status"], 200);
  EXPECT_DOUBLE_EQ(a["duration_ms"].get<double>(), 3.25);
  EXPECT_EQ(a["cached"], false);
  Json b = Parse(lines[1]);
  EXPECT_EQ(b["level"], "error");
  EXPECT_EQ(b["error"], "bad.mp4: no video stream");
}

TEST(LogTest, HostileTextStaysOneParsableLine) {
  LogCapture capture({LogLevel::kInfo, LogFormat::kJson});
  const std::string nasty = std::string("a\"b\\c\nd\r\te\x01 \xff\xfe") + "\xe2\x82\xac";
  LogWarn(nasty, {{"field", nasty}, {"time", "not the time"}, {"", 1}, {"bad key\n", 2}, {"nan", std::nan("")}});
  const auto lines = capture.Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].find('\n'), std::string::npos);
  Json j = Parse(lines[0]);
  EXPECT_TRUE(std::regex_match(j["time"].get<std::string>(), kIsoUtc)) << "a field cannot replace the time";
  EXPECT_EQ(j["field_time"], "not the time");
  EXPECT_EQ(j["msg"], j["field"]);
  EXPECT_NE(j["msg"].get<std::string>().find("a\"b\\c"), std::string::npos);
  EXPECT_NE(j["msg"].get<std::string>().find("\xe2\x82\xac"), std::string::npos) << "valid UTF-8 is kept";
  EXPECT_TRUE(j["nan"].is_null());
  EXPECT_EQ(j["bad_key_"], 2);
}

TEST(LogTest, TextLinesAreKeyValue) {
  LogCapture capture({LogLevel::kInfo, LogFormat::kText});
  LogInfo("job completed", {{"job_id", "j1"}, {"type", "ingest"}, {"attempt", 1}, {"error", "two words"}});
  const auto lines = capture.Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(std::regex_match(
      lines[0], std::regex("[0-9-]{10}T[0-9:.]{12}Z INFO  job completed job_id=j1 type=ingest attempt=1 "
                           "error=\"two words\"")))
      << lines[0];
}

TEST(LogTest, LevelFiltersLines) {
  LogCapture capture({LogLevel::kWarn, LogFormat::kJson});
  EXPECT_FALSE(LogEnabled(LogLevel::kInfo));
  EXPECT_TRUE(LogEnabled(LogLevel::kWarn));
  LogTrace("t");
  LogDebug("d");
  LogInfo("i");
  LogWarn("w");
  LogError("e");
  std::vector<std::string> levels;
  for (const auto& line : capture.Lines()) levels.push_back(Parse(line)["level"]);
  EXPECT_EQ(levels, (std::vector<std::string>{"warn", "error"}));
}

TEST(LogTest, OffWritesNothingAndTraceEverything) {
  {
    LogCapture capture({LogLevel::kOff, LogFormat::kJson});
    LogError("e");
    EXPECT_TRUE(capture.Lines().empty());
  }
  LogCapture capture({LogLevel::kTrace, LogFormat::kJson});
  LogTrace("t");
  LogDebug("d");
  EXPECT_EQ(capture.Lines().size(), 2u);
}

TEST(LogTest, ParsesLevelsAndFormatsAndRefusesOthers) {
  EXPECT_EQ(*ParseLogLevel("trace"), LogLevel::kTrace);
  EXPECT_EQ(*ParseLogLevel("DEBUG"), LogLevel::kDebug);
  EXPECT_EQ(*ParseLogLevel("info"), LogLevel::kInfo);
  EXPECT_EQ(*ParseLogLevel("warn"), LogLevel::kWarn);
  EXPECT_EQ(*ParseLogLevel("warning"), LogLevel::kWarn);
  EXPECT_EQ(*ParseLogLevel("error"), LogLevel::kError);
  EXPECT_EQ(*ParseLogLevel("off"), LogLevel::kOff);
  auto bad = ParseLogLevel("verbose");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "SOPILOT_LOG_LEVEL='verbose' must be one of trace, debug, info, warn, error, off");
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_EQ(*ParseLogFormat("Text"), LogFormat::kText);
  auto bad_format = ParseLogFormat("logfmt");
  ASSERT_FALSE(bad_format.ok());
  EXPECT_EQ(bad_format.status().message(), "SOPILOT_LOG_FORMAT='logfmt' must be 'text' or 'json'");
}

// Many threads at once: every line whole, none lost, each one JSON.
TEST(LogTest, ThreadsNeverInterleaveLines) {
  LogCapture capture({LogLevel::kInfo, LogFormat::kJson});
  constexpr int kThreads = 8, kLines = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      const std::string padding(200, static_cast<char>('a' + t));
      for (int i = 0; i < kLines; ++i) LogInfo("line", {{"thread", t}, {"i", i}, {"padding", padding}});
    });
  }
  for (auto& th : threads) th.join();
  const auto lines = capture.Lines();
  ASSERT_EQ(lines.size(), static_cast<size_t>(kThreads * kLines));
  std::set<std::pair<int, int>> seen;
  for (const auto& line : lines) {
    Json j = Parse(line);
    const int t = j["thread"];
    EXPECT_EQ(j["padding"], std::string(200, static_cast<char>('a' + t)));
    seen.insert({t, j["i"].get<int>()});
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kThreads * kLines));
}

// A capture ends and the previous configuration comes back.
TEST(LogTest, CaptureRestoresThePreviousOptions) {
  const LogOptions before = CurrentLogOptions();
  {
    LogCapture capture({LogLevel::kError, LogFormat::kJson});
    EXPECT_EQ(CurrentLogOptions().level, LogLevel::kError);
  }
  EXPECT_EQ(CurrentLogOptions().level, before.level);
  EXPECT_EQ(CurrentLogOptions().format, before.format);
}

}  // namespace
}  // namespace sopilot
