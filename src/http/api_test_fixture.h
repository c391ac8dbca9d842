// The API test fixture: a real server on a loopback port with the real
// store, queue and workers, a real HTTP client, and helpers that upload
// generated videos and wait on job states (never on time).
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/api_server.h"
#include "testing/temp_dir.h"
#include "testing/test_videos.h"
#include "testing/text.h"

namespace sopilot {
namespace {

using Json = nlohmann::json;
using testing::Slurp;

class ApiTest : public ::testing::Test {
 protected:
  // Tokens for the role matrix.
  static constexpr const char* kViewer = "view-token";
  static constexpr const char* kOperator = "op-token";
  static constexpr const char* kAdmin = "admin-token";

  void SetUp() override { Start(DefaultConfig()); }
  void TearDown() override { StopServer(); }

  ServiceConfig DefaultConfig() {
    ServiceConfig c;
    c.data_dir = dir_.file("data");
    c.auth.role_tokens = {{Role::kViewer, kViewer}, {Role::kOperator, kOperator}, {Role::kAdmin, kAdmin}};
    c.audit_signing_key = "test-signing-key";
    c.audit_key_id = "test";
    c.upload_max_bytes = 8 << 20;
    c.queue.backoff_base_sec = 0.05;
    // Webhook retries come quickly; the outbox is checked often (tests
    // still wait on state, never on these times).
    c.webhooks.backoff_sec = 0.05;
    c.webhooks.poll_sec = 0.05;
    return c;
  }
  void Start(const ServiceConfig& config) {
    auto s = SopilotService::Open(config, Env::Default());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    service_ = std::move(*s);
    ASSERT_TRUE(service_->StartupCheck().ok());
    workers_ = std::make_unique<WorkerPool>(service_.get(), 5.0);
    server_ = std::make_unique<ApiServer>(service_.get(), workers_.get());
    auto port = server_->Bind("127.0.0.1", 0);
    ASSERT_TRUE(port.ok());
    port_ = *port;
    workers_->Start();
    service_->StartWebhookDelivery();
    thread_ = std::thread([this] { server_->Run(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    client_->set_read_timeout(60, 0);
  }
  void StopServer() {
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();
    if (workers_) workers_->Stop();
    client_.reset();
    server_.reset();
    workers_.reset();
    service_.reset();
  }
  httplib::Headers Auth(const char* token) { return {{"Authorization", std::string("Bearer ") + token}}; }

  using Fields = std::vector<std::pair<std::string, std::string>>;
  httplib::Result Upload(const std::string& path, const std::string& task, const std::string& role,
                         const char* token = kOperator, const std::string& route = "/videos",
                         const Fields& fields = {}) {
    httplib::MultipartFormDataItems items = {{"file", Slurp(path), std::filesystem::path(path).filename().string(),
                                              "video/mp4"},
                                             {"task_id", task, "", ""}};
    if (!role.empty()) items.push_back({"role", role, "", ""});
    for (const auto& [name, value] : fields) items.push_back({name, value, "", ""});
    return client_->Post(route.c_str(), Auth(token), items);
  }
  // Polls until the job leaves queued/running; returns its final JSON.
  Json WaitJob(const std::string& path, double seconds = 300) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    Json j;
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = client_->Get(path.c_str(), Auth(kViewer));
      if (r && r->status == 200) {
        j = Json::parse(r->body);
        std::string st = j["status"];
        if (st != "queued" && st != "running") return j;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "job did not finish: " << j.dump();
    return j;
  }
  // Polls `done` (a state) until it holds or a generous deadline passes.
  bool WaitUntil(const std::function<bool()>& done, double seconds = 120) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  }
  int64_t IngestVideo(const std::string& path, const std::string& task, const std::string& role,
                      const Fields& fields = {}) {
    auto r = Upload(path, task, role, kOperator, "/videos", fields);
    EXPECT_TRUE(r && r->status == 202) << (r ? r->body : "no response");
    if (!r || r->status != 202) return -1;
    // A queued job's 202 names where to poll it.
    const std::string location = r->get_header_value("Location");
    EXPECT_EQ(location, "/videos/jobs/" + Json::parse(r->body)["ingest_job_id"].get<std::string>());
    Json job = WaitJob(location);
    EXPECT_EQ(job["status"], "completed") << job.dump();
    return job["video_id"].is_number() ? job["video_id"].get<int64_t>() : -1;
  }
  std::string Scrape() {
    auto r = client_->Get("/metrics");
    EXPECT_TRUE(r && r->status == 200);
    if (!r) return "";
    EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    return r->body;
  }
  std::string MakeProcedure(const std::string& name, std::vector<int> scenes, double seconds = 4) {
    std::vector<testing::Segment> segs;
    for (int s : scenes) segs.push_back({testing::DistinctScenes()[s], seconds});
    std::string path = dir_.file(name);
    testing::MakeProcedureVideo(path, segs);
    return path;
  }

  testing::TempDir dir_;
  std::unique_ptr<SopilotService> service_;
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<httplib::Client> client_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace
}  // namespace sopilot
