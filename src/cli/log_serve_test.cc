// The operational log of a real `sopilot serve` (base/log.h): with
// SOPILOT_LOG_FORMAT=json every line is a JSON object, a request is one line
// with its id, route, status and duration, and a failed ingest is one line
// with its reason. Bad SOPILOT_LOG_* values stop the start-up.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "testing/command.h"
#include "testing/server_process.h"
#include "testing/temp_dir.h"

namespace sopilot {
namespace {

using Json = nlohmann::json;

constexpr const char* kToken = "log-test-secret-token-4711";

// Every line of `log` as JSON; a line that does not parse fails the test.
std::vector<Json> JsonLines(const std::string& log) {
  std::vector<Json> out;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << "not a JSON line: " << line;
    if (j.is_discarded()) continue;
    EXPECT_TRUE(j.contains("time") && j.contains("level") && j.contains("msg")) << line;
    out.push_back(std::move(j));
  }
  return out;
}

TEST(ServeLogTest, JsonLogHasTheRequestAndTheFailedIngestWithItsReason) {
  testing::TempDir dir;
  const std::string not_video = dir.file("notes.mp4");
  std::ofstream(not_video) << "these are meeting notes, not a video\n";
  testing::ServerProcess server(SOPILOT_BIN, {"serve", "--port", "0", "--data-dir", dir.file("data")},
                                {"SOPILOT_LOG_FORMAT=json", std::string("SOPILOT_API_TOKEN=") + kToken},
                                dir.file("log"));
  const int port = server.Start();
  ASSERT_GT(port, 0) << server.Log();
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(60, 0);
  const httplib::Headers auth = {{"Authorization", std::string("Bearer ") + kToken}};

  // A request with the client's id: echoed, and logged under it.
  httplib::Headers with_id = auth;
  with_id.emplace("X-Request-Id", "client-req-42");
  auto tasks = c.Get("/tasks", with_id);
  ASSERT_TRUE(tasks);
  EXPECT_EQ(tasks->status, 200) << tasks->body;
  EXPECT_EQ(tasks->get_header_value("X-Request-Id"), "client-req-42");

  // An upload that is not a video: accepted, then its ingest fails for good.
  httplib::MultipartFormDataItems items = {{"file", "", "", ""}, {"task_id", "logs", "", ""}};
  std::ifstream in(not_video);
  items[0] = {"file", std::string(std::istreambuf_iterator<char>(in), {}), "notes.mp4", "video/mp4"};
  auto up = c.Post("/videos", auth, items);
  ASSERT_TRUE(up);
  ASSERT_EQ(up->status, 202) << up->body;
  const std::string upload_request_id = up->get_header_value("X-Request-Id");
  EXPECT_TRUE(std::regex_match(upload_request_id, std::regex("[0-9a-f]{32}"))) << upload_request_id;
  const std::string job_id = Json::parse(up->body)["ingest_job_id"];
  Json job;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    job = Json::parse(c.Get(("/videos/jobs/" + job_id).c_str(), auth)->body);
    if (job["status"] != "queued" && job["status"] != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(job["status"], "failed") << job.dump();
  // The line is written before the row is marked failed; this only guards
  // against reading the file before the write reached it.
  ASSERT_TRUE(server.WaitForLog("\"outcome\":\"failed\"", 30)) << server.Log();

  server.Kill(SIGTERM);
  EXPECT_EQ(server.Wait(), 0);
  const std::string log = server.Log();
  EXPECT_EQ(log.find(kToken), std::string::npos) << "the token is never logged";

  const std::regex iso_utc("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z");
  const Json* get_line = nullptr;
  const Json* upload_line = nullptr;
  const Json* failed_line = nullptr;
  bool listening = false, stopped = false;
  const std::vector<Json> lines = JsonLines(log);
  for (const Json& j : lines) {
    EXPECT_TRUE(std::regex_match(j["time"].get<std::string>(), iso_utc)) << j.dump();
    const std::string msg = j["msg"];
    if (msg == "request" && j.value("request_id", "") == "client-req-42") get_line = &j;
    if (msg == "request" && j.value("request_id", "") == upload_request_id) upload_line = &j;
    if (msg == "job failed" && j.value("job_id", "") == job_id) failed_line = &j;
    listening = listening || msg.find("listening on http://127.0.0.1:") != std::string::npos;
    stopped = stopped || msg == "stopped";
  }
  EXPECT_TRUE(listening) << log;
  EXPECT_TRUE(stopped) << log;

  ASSERT_NE(get_line, nullptr) << log;
  EXPECT_EQ((*get_line)["level"], "info");
  EXPECT_EQ((*get_line)["method"], "GET");
  EXPECT_EQ((*get_line)["route"], "/tasks");
  EXPECT_EQ((*get_line)["status"], 200);
  EXPECT_TRUE((*get_line)["duration_ms"].is_number()) << get_line->dump();
  EXPECT_GE((*get_line)["duration_ms"].get<double>(), 0);

  ASSERT_NE(upload_line, nullptr) << log;
  EXPECT_EQ((*upload_line)["method"], "POST");
  EXPECT_EQ((*upload_line)["route"], "/videos");
  EXPECT_EQ((*upload_line)["status"], 202);

  ASSERT_NE(failed_line, nullptr) << log;
  EXPECT_EQ((*failed_line)["type"], "ingest");
  EXPECT_EQ((*failed_line)["attempt"], 1);
  EXPECT_EQ((*failed_line)["outcome"], "failed");
  const std::string error = (*failed_line)["error"];
  const std::string recorded = job["error_message"];
  ASSERT_FALSE(recorded.empty()) << job.dump();
  // The row's message is the log's with the data directory taken out.
  EXPECT_NE(error.find(recorded.substr(recorded.find(':') + 1)), std::string::npos)
      << "log: " << error << "\nrow: " << recorded;
}

TEST(ServeLogTest, PollingRoutesLogAtDebugOnly) {
  testing::TempDir dir;
  testing::ServerProcess server(SOPILOT_BIN, {"serve", "--port", "0", "--data-dir", dir.file("data")},
                                {"SOPILOT_LOG_FORMAT=json", "SOPILOT_LOG_LEVEL=info"}, dir.file("log"));
  const int port = server.Start();
  ASSERT_GT(port, 0) << server.Log();
  httplib::Client c("127.0.0.1", port);
  ASSERT_EQ(c.Get("/health")->status, 200);
  auto missing = c.Get("/no/such/route");
  ASSERT_EQ(missing->status, 404);
  const std::string missing_id = missing->get_header_value("X-Request-Id");
  ASSERT_FALSE(missing_id.empty());
  ASSERT_TRUE(server.WaitForLog(missing_id, 30)) << server.Log();
  server.Kill(SIGTERM);
  EXPECT_EQ(server.Wait(), 0);
  bool health = false, not_found = false;
  for (const Json& j : JsonLines(server.Log())) {
    if (j["msg"] != "request") continue;
    health = health || j.value("route", "") == "/health";
    if (j.value("request_id", "") == missing_id) {
      not_found = true;
      EXPECT_EQ(j["status"], 404);
      EXPECT_EQ(j["route"], "");
      EXPECT_EQ(j["path"], "/no/such/route");
    }
  }
  EXPECT_FALSE(health) << "a probe at info level would fill the log";
  EXPECT_TRUE(not_found);
}

TEST(ServeLogTest, BadLogSettingsStopTheStartUp) {
  testing::TempDir dir;
  auto r = testing::RunCommand("SOPILOT_LOG_LEVEL=loud SOPILOT_LOG_FORMAT=yaml " + std::string(SOPILOT_BIN) +
                               " serve --port 0 --data-dir " + testing::ShellQuote(dir.file("data")));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("SOPILOT_LOG_LEVEL='loud' must be one of trace, debug, info, warn, error, off"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("SOPILOT_LOG_FORMAT='yaml' must be 'text' or 'json'"), std::string::npos) << r.err;
  auto w = testing::RunCommand("SOPILOT_LOG_LEVEL=loud " + std::string(SOPILOT_BIN) + " worker --metrics-port 0 --data-dir " +
                               testing::ShellQuote(dir.file("data")));
  EXPECT_EQ(w.exit_code, 2) << w.err;
  EXPECT_NE(w.err.find("SOPILOT_LOG_LEVEL='loud'"), std::string::npos) << w.err;
}

}  // namespace
}  // namespace sopilot
