// The API against a real server on a loopback port, with a real HTTP client,
// real videos (generated) and the real store, queue and workers.
#include "http/api_server.h"

#include <sqlite3.h>

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <regex>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include "base/log.h"
#include "http/api_test_fixture.h"
#include "testing/command.h"
#include "testing/raw_http.h"
#include "testing/redis_server.h"
#include "testing/temp_dir.h"
#include "testing/text.h"
#include "testing/test_videos.h"

namespace sopilot {
namespace {

using testing::SeriesValue;
using testing::Slurp;

using Json = nlohmann::json;


TEST_F(ApiTest, FullFlowUploadIngestScoreResult) {
  int64_t gold = IngestVideo(MakeProcedure("gold.mp4", {0, 1, 3, 5}), "task-a", "gold");
  int64_t trainee = IngestVideo(MakeProcedure("trainee.mp4", {0, 3, 1, 5}), "task-a", "trainee");
  ASSERT_GT(gold, 0);
  ASSERT_GT(trainee, 0);

  auto v = client_->Get(("/videos/" + std::to_string(gold)).c_str(), Auth(kViewer));
  ASSERT_EQ(v->status, 200);
  Json video = Json::parse(v->body);
  EXPECT_EQ(video["task_id"], "task-a");
  EXPECT_EQ(video["role"], "gold");
  EXPECT_EQ(video["embedding_model"], "heuristic-v1");
  EXPECT_GT(video["num_clips"].get<int>(), 20);

  auto post = client_->Post("/score", Auth(kOperator),
                            Json{{"gold_video_id", gold}, {"trainee_video_id", trainee}}.dump(), "application/json");
  ASSERT_EQ(post->status, 202) << post->body;
  Json queued = Json::parse(post->body);
  EXPECT_TRUE(queued["status"] == "queued" || queued["status"] == "running" || queued["status"] == "completed");
  Json done = WaitJob("/score/" + queued["score_job_id"].get<std::string>());
  ASSERT_EQ(done["status"], "completed") << done.dump();
  EXPECT_EQ(done["score"], 80.0);
  const Json& result = done["result"];
  EXPECT_EQ(result["verdict"], "needs_review");
  ASSERT_EQ(result["deviations"].size(), 1u);
  EXPECT_EQ(result["deviations"][0]["type"], "order_swap");
  EXPECT_EQ(result["gold_video_id"], gold);
  EXPECT_EQ(result["task_id"], "task-a");

  // The listing, the file, search, the audit trail.
  auto list = client_->Get("/videos?task_id=task-a", Auth(kViewer));
  ASSERT_EQ(list->status, 200);
  EXPECT_EQ(Json::parse(list->body)["items"].size(), 2u);
  auto file = client_->Get(("/videos/" + std::to_string(gold) + "/file").c_str(), Auth(kViewer));
  ASSERT_EQ(file->status, 200);
  EXPECT_EQ(file->body, Slurp(dir_.file("gold.mp4")));
  auto search = client_->Get(("/search?task_id=task-a&video_id=" + std::to_string(gold) + "&clip_idx=0&k=3").c_str(),
                             Auth(kViewer));
  ASSERT_EQ(search->status, 200) << search->body;
  Json items = Json::parse(search->body)["items"];
  ASSERT_EQ(items.size(), 3u);
  EXPECT_GE(items[0]["similarity"].get<double>(), items[1]["similarity"].get<double>());
  auto trail = client_->Get("/audit/trail?limit=50", Auth(kViewer));
  ASSERT_EQ(trail->status, 200);
  std::set<std::string> actors;
  Json trail_json = Json::parse(trail->body);
  for (const Json& e : trail_json["items"]) actors.insert(e["actor"].get<std::string>());
  EXPECT_TRUE(actors.count("token:operator")) << trail->body;
}

TEST_F(ApiTest, FullFlowOnTheOriginalsDemoVideos) {
  const std::string dir = testing::SharedFixtureDir();
  if (dir.empty()) GTEST_SKIP() << "../shared/fixtures is absent; FullFlowUploadIngestScoreResult covers the flow";
  int64_t gold = IngestVideo(dir + "/gold.mp4", "maintenance_filter_swap", "gold");
  int64_t swap = IngestVideo(dir + "/swap.mp4", "maintenance_filter_swap", "trainee");
  auto post = client_->Post("/score", Auth(kOperator),
                            Json{{"gold_video_id", gold}, {"trainee_video_id", swap}}.dump(), "application/json");
  ASSERT_EQ(post->status, 202) << post->body;
  Json done = WaitJob("/score/" + Json::parse(post->body)["score_job_id"].get<std::string>());
  ASSERT_EQ(done["status"], "completed") << done.dump();
  const Json& deviations = done["result"]["deviations"];
  ASSERT_EQ(deviations.size(), 1u) << deviations.dump();
  EXPECT_EQ(deviations[0]["type"], "order_swap");
  EXPECT_NEAR(deviations[0]["gold_time"]["start_sec"].get<double>(), 6.0, 0.5);   // CLEAN
  EXPECT_NEAR(deviations[0]["swapped_with"]["gold_time"]["start_sec"].get<double>(), 12.0, 0.5);  // SWAP
  EXPECT_NE(done["result"]["verdict"], "pass");
}

TEST_F(ApiTest, EveryRouteChecksItsRole) {
  // For each route: without credentials 401 (public routes 200), below its
  // role 403, at its role anything but 401/403.
  for (const Route& r : server_->routes()) {
    std::string path = r.path;
    for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"{video_id}", "999"}, {"{ingest_job_id}", "x"}, {"{score_job_id}", "x"},
             {"{training_job_id}", "x"}, {"{export_id}", "x"}, {"{task_id}", "x"}}) {
      size_t at = path.find(from);
      if (at != std::string::npos) path.replace(at, from.size(), to);
    }
    auto call = [&](const httplib::Headers& h) {
      if (r.method == "GET") return client_->Get(path.c_str(), h);
      if (r.method == "DELETE") return client_->Delete(path.c_str(), h);
      if (r.method == "PUT") return client_->Put(path.c_str(), h, "{}", "application/json");
      return client_->Post(path.c_str(), h, "{}", "application/json");
    };
    auto anonymous = call({});
    ASSERT_TRUE(anonymous) << path;
    if (!r.min_role) {
      EXPECT_NE(anonymous->status, 401) << r.method << " " << r.path;
      continue;
    }
    EXPECT_EQ(anonymous->status, 401) << r.method << " " << r.path;
    EXPECT_EQ(anonymous->get_header_value("WWW-Authenticate").find("Bearer"), 0u);
    EXPECT_EQ(Json::parse(anonymous->body)["error"], "authentication required");
    EXPECT_EQ(call(Auth("wrong-token"))->status, 401) << r.path;
    const char* tokens[] = {kViewer, kOperator, kAdmin};
    int need = static_cast<int>(*r.min_role);
    for (int role = 1; role <= 3; ++role) {
      auto res = call(Auth(tokens[role - 1]));
      if (role < need) {
        EXPECT_EQ(res->status, 403) << r.method << " " << r.path << " as " << tokens[role - 1];
      } else {
        EXPECT_NE(res->status, 401) << r.method << " " << r.path;
        EXPECT_NE(res->status, 403) << r.method << " " << r.path;
      }
    }
  }
}

TEST_F(ApiTest, BadInputsGetClearErrors) {
  // Not a video: accepted, then the ingest fails with a clear message and
  // leaves no video behind.
  std::string text = dir_.file("notes.mp4");
  std::ofstream(text) << "these are notes, not a video";
  auto r = Upload(text, "task-a", "trainee");
  ASSERT_EQ(r->status, 202) << r->body;
  Json failed = WaitJob("/videos/jobs/" + Json::parse(r->body)["ingest_job_id"].get<std::string>());
  EXPECT_EQ(failed["status"], "failed");
  EXPECT_NE(failed["error_message"].get<std::string>().find("not a readable video"), std::string::npos)
      << failed.dump();
  EXPECT_NE(failed["error_message"].get<std::string>().find("notes.mp4"), std::string::npos) << failed.dump();
  EXPECT_EQ(failed["error_message"].get<std::string>().find(dir_.file("data")), std::string::npos)
      << "a viewer sees the server's paths: " << failed.dump();
  EXPECT_EQ(Json::parse(client_->Get("/videos", Auth(kViewer))->body)["items"].size(), 0u);
  EXPECT_TRUE(std::filesystem::is_empty(dir_.file("data/embeddings")));
  // The row says failed a moment before the worker removes the upload.
  EXPECT_TRUE(WaitUntil([&] { return std::filesystem::is_empty(dir_.file("data/raw")); }))
      << "the failed upload's file was kept";

  // Truncated video.
  std::string full = MakeProcedure("full.mp4", {0, 1}, 5);
  std::string cut = dir_.file("cut.mp4");
  std::string bytes = Slurp(full);
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 3);
  r = Upload(cut, "task-a", "trainee");
  ASSERT_EQ(r->status, 202);
  EXPECT_EQ(WaitJob("/videos/jobs/" + Json::parse(r->body)["ingest_job_id"].get<std::string>())["status"], "failed");

  // Oversize: 413, nothing kept.
  std::string big = dir_.file("big.mp4");
  std::ofstream(big, std::ios::binary) << std::string(9 << 20, 'x');
  r = Upload(big, "task-a", "trainee");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_TRUE(std::filesystem::is_empty(dir_.file("data/incoming")));

  // Missing fields, bad role, empty file.
  httplib::MultipartFormDataItems no_task = {{"file", "abc", "a.mp4", "video/mp4"}};
  r = client_->Post("/videos", Auth(kOperator), no_task);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(Json::parse(r->body)["error"].get<std::string>().find("task_id"), std::string::npos);
  httplib::MultipartFormDataItems no_file = {{"task_id", "t", "", ""}};
  EXPECT_EQ(client_->Post("/videos", Auth(kOperator), no_file)->status, 400);
  httplib::MultipartFormDataItems empty = {{"file", "", "a.mp4", "video/mp4"}, {"task_id", "t", "", ""}};
  r = client_->Post("/videos", Auth(kOperator), empty);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Json::parse(r->body)["error"], "empty upload");
  r = Upload(full, "task-a", "supervisor");
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("invalid role"), std::string::npos);
  EXPECT_EQ(client_->Post("/videos", Auth(kOperator), "{}", "application/json")->status, 400);

  // Score: bad JSON, missing fields, unknown ids, task mismatch.
  EXPECT_EQ(client_->Post("/score", Auth(kOperator), "{not json", "application/json")->status, 400);
  EXPECT_EQ(client_->Post("/score", Auth(kOperator), R"({"gold_video_id": 1})", "application/json")->status, 400);
  EXPECT_EQ(client_->Post("/score", Auth(kOperator), R"({"gold_video_id": "1", "trainee_video_id": 2})",
                          "application/json")->status, 400);
  r = client_->Post("/score", Auth(kOperator), R"({"gold_video_id": 4242, "trainee_video_id": 4243})", "application/json");
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(Json::parse(r->body)["error"], "video not found: 4242");
  int64_t a = IngestVideo(full, "task-a", "gold");
  int64_t b = IngestVideo(full, "task-b", "trainee");
  r = client_->Post("/score", Auth(kOperator), Json{{"gold_video_id", a}, {"trainee_video_id", b}}.dump(),
                    "application/json");
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("task_id must match"), std::string::npos);

  // Unknown ids and routes.
  EXPECT_EQ(client_->Get("/videos/4242", Auth(kViewer))->status, 404);
  EXPECT_EQ(client_->Get("/videos/abc", Auth(kViewer))->status, 400);
  EXPECT_EQ(client_->Get("/score/nope", Auth(kViewer))->status, 404);
  EXPECT_EQ(client_->Get("/videos/jobs/nope", Auth(kViewer))->status, 404);
  EXPECT_EQ(client_->Get("/videos?limit=0", Auth(kViewer))->status, 400);
  EXPECT_EQ(client_->Get("/no/such/route", Auth(kViewer))->status, 404);
}

TEST_F(ApiTest, DeleteRemovesRowsAndFiles) {
  std::string path = MakeProcedure("v.mp4", {0, 1}, 3);
  int64_t id = IngestVideo(path, "task-a", "gold");
  ASSERT_GT(id, 0);
  auto before = std::distance(std::filesystem::directory_iterator(dir_.file("data/raw")), {});
  EXPECT_EQ(before, 1);
  auto r = client_->Delete(("/videos/" + std::to_string(id)).c_str(), Auth(kAdmin));
  ASSERT_EQ(r->status, 200) << r->body;
  Json out = Json::parse(r->body);
  EXPECT_EQ(out["video_id"], id);
  EXPECT_EQ(out["removed_files"].size(), 2u);  // raw video and embeddings
  EXPECT_EQ(client_->Get(("/videos/" + std::to_string(id)).c_str(), Auth(kViewer))->status, 404);
  EXPECT_TRUE(std::filesystem::is_empty(dir_.file("data/raw")));
  EXPECT_TRUE(std::filesystem::is_empty(dir_.file("data/embeddings")));
  EXPECT_EQ(client_->Delete(("/videos/" + std::to_string(id)).c_str(), Auth(kAdmin))->status, 404);
  // The deletion is in the audit trail with its actor. (Not necessarily
  // the newest entry: the ingest's worker writes its job.completed row
  // just after the completion the test waited for.)
  Json trail = Json::parse(client_->Get("/audit/trail", Auth(kViewer))->body);
  Json deleted;
  for (const Json& e : trail["items"]) {
    if (e["action"] == "video.deleted") deleted = e;
  }
  ASSERT_TRUE(deleted.is_object()) << trail.dump();
  EXPECT_EQ(deleted["actor"], "token:admin");
  EXPECT_EQ(deleted["subject"], std::to_string(id));
  // It names the files the video had, relative to the data directory.
  Json detail = deleted["detail"].is_string() ? Json::parse(deleted["detail"].get<std::string>()) : deleted["detail"];
  ASSERT_TRUE(detail["files"].is_array()) << deleted.dump();
  EXPECT_EQ(detail["files"].size(), 2u) << deleted.dump();
  for (const Json& f : detail["files"]) {
    EXPECT_TRUE(f.get<std::string>().starts_with("raw/") || f.get<std::string>().starts_with("embeddings/")) << f;
  }
}

// /ready is 503 while the job queue is unreachable (here Redis, killed and
// started again), and 200 again once it answers; /health (liveness) stays
// 200 throughout: the store answers, a restart would not bring Redis back.
TEST_F(ApiTest, ReadyFollowsTheQueue) {
  StopServer();
  testing::RedisServer redis(dir_.path());
  ASSERT_TRUE(redis.Start()) << redis.error();
  ServiceConfig c = DefaultConfig();
  c.queue_backend = QueueBackend::kRedis;
  c.redis_url = redis.url();
  c.ingest_workers = c.score_workers = c.training_workers = 0;
  ASSERT_NO_FATAL_FAILURE(Start(c));
  // The answer once it is `status` (a reconnection may take a try), or the
  // last one after a minute.
  auto ready_becomes = [&](int status) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    auto r = client_->Get("/ready");
    while (r && r->status != status && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      r = client_->Get("/ready");
    }
    return r;
  };
  // sopilot_up{process="api"} (what APIDown reads) follows the same checks;
  // the queue's figures are read at most once a second, hence a poll too.
  auto up_becomes = [&](double value) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    double v = -2;
    while (std::chrono::steady_clock::now() < deadline) {
      auto m = client_->Get("/metrics");
      if (m && m->status == 200) v = SeriesValue(m->body, R"(sopilot_up{process="api"})");
      if (v == value) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return v;
  };
  auto r = ready_becomes(200);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Json::parse(r->body), Json({{"ready", true}, {"db", true}, {"queue", true}}));
  EXPECT_EQ(up_becomes(1), 1);

  redis.Stop(SIGKILL);
  r = ready_becomes(503);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 503) << r->body;
  EXPECT_EQ(Json::parse(r->body), Json({{"ready", false}, {"db", true}, {"queue", false}}));
  EXPECT_EQ(client_->Get("/health")->status, 200);
  EXPECT_EQ(up_becomes(0), 0);

  ASSERT_TRUE(redis.Start()) << redis.error();
  r = ready_becomes(200);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(up_becomes(1), 1);
}

TEST_F(ApiTest, HealthReadyQueueAndAuditExport) {
  EXPECT_EQ(client_->Get("/health")->status, 200);
  EXPECT_EQ(client_->Get("/ready")->status, 200);
  auto q = client_->Get("/ops/queue", Auth(kOperator));
  ASSERT_EQ(q->status, 200);
  Json queue = Json::parse(q->body);
  ASSERT_EQ(queue["queue"]["queues"].size(), 3u);
  EXPECT_EQ(queue["queue"]["queues"][0]["key"], "ingest");
  EXPECT_EQ(queue["queue"]["backend"], "sqlite");
  std::set<std::string> kinds;
  for (auto& [k, v] : queue["jobs"].items()) kinds.insert(k);
  EXPECT_EQ(kinds, (std::set<std::string>{"ingest", "score", "training"}));

  auto ex = client_->Post("/audit/export?limit=20", Auth(kAdmin), "", "application/json");
  ASSERT_EQ(ex->status, 200) << ex->body;
  Json meta = Json::parse(ex->body);
  EXPECT_EQ(meta["signature"]["key_id"], "test");
  auto file = client_->Get(("/audit/export/" + meta["export_id"].get<std::string>() + "/file").c_str(), Auth(kAdmin));
  ASSERT_EQ(file->status, 200);
  Json exported = Json::parse(file->body);
  EXPECT_EQ(exported["signature"]["signature_hex"], meta["signature"]["signature_hex"]);
  EXPECT_EQ(client_->Get("/audit/export/bad*id/file", Auth(kAdmin))->status, 400);
  EXPECT_NE(client_->Get("/audit/export/..%2Fsopilot.db/file", Auth(kAdmin))->status, 200);
  EXPECT_EQ(client_->Get("/audit/export/nope/file", Auth(kAdmin))->status, 404);

  // An export whose audit row cannot be written (a trigger refuses it, as a
  // full disk would) is not given out, and no file of it is left behind.
  namespace fs = std::filesystem;
  auto export_files = [&] {
    std::set<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_.file("data") + "/reports")) {
      if (e.path().filename().string().rfind("audit_export_", 0) == 0) out.insert(e.path().filename().string());
    }
    return out;
  };
  const std::set<std::string> before = export_files();
  ASSERT_EQ(before.size(), 1u);
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.file("data") + "/sopilot.db").c_str(), &raw), SQLITE_OK);
  // The server's own connection may hold the write lock a moment (its
  // workers record what they do): wait for it rather than fail with
  // SQLITE_BUSY, as CI's ASan run once did.
  sqlite3_busy_timeout(raw, 60000);
  ASSERT_EQ(sqlite3_exec(raw,
                         "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log BEGIN "
                         "SELECT RAISE(ABORT, 'audit refused'); END;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  auto refused = client_->Post("/audit/export?limit=20", Auth(kAdmin), "", "application/json");
  EXPECT_GE(refused->status, 500) << refused->body;
  EXPECT_TRUE(Json::parse(refused->body).contains("error")) << refused->body;
  EXPECT_EQ(export_files(), before);
  ASSERT_EQ(sqlite3_exec(raw, "DROP TRIGGER refuse_audit", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  // Recorded again, given out again.
  EXPECT_EQ(client_->Post("/audit/export?limit=20", Auth(kAdmin), "", "application/json")->status, 200);
  EXPECT_EQ(export_files().size(), 2u);
}

TEST_F(ApiTest, BodiesAreNotReadBeforeTheRouteAndTheCredentialsAllowThem) {
  // Eight clients without credentials (and with too large a body) announce
  // 800 MB each and send some megabytes of it. Each is answered before it
  // has sent a byte of its body, and the server's memory does not follow
  // what they send.
  const bool peak_known = testing::ResetPeakResident();  // else the RSS afterwards stands for the peak
  const int64_t before = testing::ResidentBytes();
  ASSERT_GT(before, 0);
  const std::string big = "Content-Length: 800000000\r\nContent-Type: application/json\r\n";
  const std::vector<std::pair<std::string, int>> cases = {
      {"POST /score HTTP/1.1\r\nHost: t\r\n" + big + "\r\n", 401},
      {"POST /no/such/route HTTP/1.1\r\nHost: t\r\n" + big + "\r\n", 404},
      {"POST /score HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer op-token\r\n" + big + "\r\n", 413},
      {"POST /videos HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer op-token\r\n" + big + "\r\n", 413},
      {"POST /score HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer view-token\r\n" + big + "\r\n", 403},
      {"POST /ops/fault-injection HTTP/1.1\r\nHost: t\r\n" + big + "\r\n", 401},
      {"POST /score HTTP/1.1\r\nHost: t\r\n" + big + "\r\n", 401},
      {"POST /videos HTTP/1.1\r\nHost: t\r\n" + big + "\r\n", 401},
  };
  const std::string megabyte(1 << 20, 'x');
  std::vector<std::thread> clients;
  std::vector<testing::RawResponse> answers(cases.size());
  std::atomic<int64_t> sent{0};
  for (size_t i = 0; i < cases.size(); ++i) {
    clients.emplace_back([&, i] {
      testing::RawConnection c(port_);
      if (!c.Send(cases[i].first)) return;
      answers[i] = c.Read();
      for (int mb = 0; mb < 16 && c.Send(megabyte); ++mb) sent += 1 << 20;  // until the server closes
      (void)c.WaitClosed();
    });
  }
  for (auto& t : clients) t.join();
  for (size_t i = 0; i < cases.size(); ++i) {
    ASSERT_TRUE(answers[i].ok) << cases[i].first;
    EXPECT_EQ(answers[i].status, cases[i].second) << cases[i].first << answers[i].body;
    EXPECT_EQ(answers[i].header("connection"), "close") << cases[i].first;
  }
  EXPECT_NE(Json::parse(answers[1].body)["error"].get<std::string>().find("no such route: POST /no/such/route"),
            std::string::npos);
  EXPECT_NE(answers[3].body.find("too large"), std::string::npos) << answers[3].body;
  const int64_t peak = peak_known ? testing::PeakResidentBytes() : testing::ResidentBytes();
  // The tight bound is the Release build's; under AddressSanitizer freed
  // memory sits in quarantine and every thread gets fake stacks, so only a
  // gross failure (bodies buffered by the gigabyte) is caught there.
#if defined(__SANITIZE_ADDRESS__)
  const int64_t bound = int64_t{512} << 20;
#else
  const int64_t bound = int64_t{64} << 20;
#endif
  EXPECT_LT(peak - before, bound) << "clients sent " << sent.load() << " bytes";
  EXPECT_TRUE(std::filesystem::is_empty(dir_.file("data/incoming")));
  // Refusals are counted under their route.
  std::string m = Scrape();
  EXPECT_GE(SeriesValue(m, R"(sopilot_http_requests_total{method="POST",route="/score",status="401"})"), 2);
  EXPECT_GE(SeriesValue(m, R"(sopilot_http_requests_total{method="POST",route="/score",status="413"})"), 1);
}

TEST_F(ApiTest, APostWithoutItsBodySaysWhatIsExpected) {
  for (const char* route : {"/score", "/ops/fault-injection", "/tasks/t/reembed", "/ops/queue/score/requeue"}) {
    testing::RawConnection c(port_);
    ASSERT_TRUE(c.Send(std::string("POST ") + route + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer admin-token\r\n\r\n"));
    testing::RawResponse r = c.Read();
    ASSERT_TRUE(r.ok) << route;
    EXPECT_EQ(r.status, 400) << route;
    EXPECT_EQ(Json::parse(r.body)["error"], "body must be a JSON object") << route;
  }
  testing::RawConnection c(port_);
  ASSERT_TRUE(c.Send("POST /videos HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer op-token\r\n"
                     "Content-Type: multipart/form-data; boundary=b\r\n\r\n"));
  testing::RawResponse r = c.Read();
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json::parse(r.body)["error"], "the upload was cut off or malformed");
  // A body past the upload limit plus the form's framing is refused unread (413).
  std::string big = dir_.file("big.bin");
  std::ofstream(big, std::ios::binary) << std::string((8 << 20) + (2 << 20), 'x');
  auto up = Upload(big, "task-a", "trainee");
  ASSERT_TRUE(up) << httplib::to_string(up.error());
  EXPECT_EQ(up->status, 413);
  EXPECT_TRUE(std::filesystem::is_empty(dir_.file("data/incoming")));
}

TEST_F(ApiTest, FileDownloadsHonourOneRange) {
  auto ex = client_->Post("/audit/export?limit=20", Auth(kAdmin), "", "application/json");
  ASSERT_EQ(ex->status, 200) << ex->body;
  const std::string path = "/audit/export/" + Json::parse(ex->body)["export_id"].get<std::string>() + "/file";
  auto full = client_->Get(path.c_str(), Auth(kAdmin));
  ASSERT_EQ(full->status, 200);
  ASSERT_GT(full->body.size(), 20u);
  EXPECT_EQ(full->get_header_value("Accept-Ranges"), "bytes");
  EXPECT_NE(full->get_header_value("Content-Disposition").find("attachment"), std::string::npos);
  const std::string size = std::to_string(full->body.size());
  httplib::Headers h = Auth(kAdmin);
  h.emplace("Range", "bytes=0-9");
  auto head = client_->Get(path.c_str(), h);
  EXPECT_EQ(head->status, 206);
  EXPECT_EQ(head->body, full->body.substr(0, 10));
  EXPECT_EQ(head->get_header_value("Content-Range"), "bytes 0-9/" + size);
  h = Auth(kAdmin);
  h.emplace("Range", "bytes=-10");
  EXPECT_EQ(client_->Get(path.c_str(), h)->body, full->body.substr(full->body.size() - 10));
  h = Auth(kAdmin);
  h.emplace("Range", "bytes=999999999-");
  auto unsat = client_->Get(path.c_str(), h);
  EXPECT_EQ(unsat->status, 416);
  EXPECT_EQ(unsat->get_header_value("Content-Range"), "bytes */" + size);
  std::string many = "bytes=0-";
  for (int i = 1; i < 800; ++i) many += ",0-";
  h = Auth(kAdmin);
  h.emplace("Range", many);
  auto amplified = client_->Get(path.c_str(), h);
  EXPECT_EQ(amplified->status, 200);
  EXPECT_EQ(amplified->body.size(), full->body.size());
  std::string m = Scrape();
  EXPECT_GE(SeriesValue(m, R"(sopilot_http_requests_total{method="GET",route="/audit/export/{export_id}/file",status="206"})"), 2);
  EXPECT_GE(SeriesValue(m, R"(sopilot_http_requests_total{method="GET",route="/audit/export/{export_id}/file",status="416"})"), 1);
}

// Every route that queues a job answers 202 Accepted with the job's JSON as
// before and a Location to poll it at; following it reaches the job's end.
TEST_F(ApiTest, JobRoutesAnswer202WithALocationToPoll) {
  // Polls a 202's Location (and checks it names the job) to the job's end.
  auto follow = [&](const httplib::Result& r, const std::string& prefix, const char* id_field) {
    EXPECT_TRUE(r && r->status == 202) << (r ? r->body : "no response");
    if (!r || r->status != 202) return Json();
    const std::string location = r->get_header_value("Location");
    EXPECT_EQ(location, prefix + Json::parse(r->body)[id_field].get<std::string>()) << r->body;
    return WaitJob(location);
  };
  Json gold = follow(Upload(MakeProcedure("gold.mp4", {0, 1, 3}, 3), "task-l", "", kOperator, "/gold"),
                     "/videos/jobs/", "ingest_job_id");
  ASSERT_EQ(gold["status"], "completed") << gold.dump();
  Json trainee = follow(Upload(MakeProcedure("trainee.mp4", {0, 3, 1}, 3), "task-l", "trainee"), "/videos/jobs/",
                        "ingest_job_id");
  ASSERT_EQ(trainee["status"], "completed") << trainee.dump();
  // The body is the job's JSON as a 200 carried it (field names unchanged).
  auto post = client_->Post("/score", Auth(kOperator), Json{{"trainee_video_id", trainee["video_id"]}}.dump(),
                            "application/json");
  ASSERT_TRUE(post);
  EXPECT_EQ(Json::parse(post->body)["trainee_video_id"], trainee["video_id"]);
  Json score = follow(post, "/score/", "score_job_id");
  EXPECT_EQ(score["status"], "completed") << score.dump();
  EXPECT_EQ(score["gold_video_id"], gold["video_id"]);
  Json nightly = follow(client_->Post("/train/nightly", Auth(kAdmin), "", "application/json"), "/train/jobs/",
                        "training_job_id");
  EXPECT_TRUE(nightly["status"] == "completed" || nightly["status"] == "skipped") << nightly.dump();
  Json reembed = follow(client_->Post("/tasks/task-l/reembed", Auth(kAdmin), R"({"embedder": "motion-v1"})",
                                      "application/json"),
                        "/train/jobs/", "training_job_id");
  EXPECT_EQ(reembed["status"], "completed") << reembed.dump();
  // Refusals keep their codes and carry no Location.
  auto refused = client_->Post("/score", Auth(kOperator), R"({"trainee_video_id": 4242})", "application/json");
  EXPECT_EQ(refused->status, 404) << refused->body;
  EXPECT_FALSE(refused->has_header("Location"));
  // The OpenAPI description says so.
  Json doc = Json::parse(client_->Get("/openapi.json")->body);
  for (auto [path, poll] : std::vector<std::pair<std::string, std::string>>{
           {"/videos", "/videos/jobs/"}, {"/gold", "/videos/jobs/"}, {"/score", "/score/"},
           {"/train/nightly", "/train/jobs/"}, {"/tasks/{task_id}/reembed", "/train/jobs/"},
           {"/ops/queue/{job_type}/requeue", "/score/"}}) {
    const Json& responses = doc["paths"][path]["post"]["responses"];
    EXPECT_FALSE(responses.contains("200")) << path;
    ASSERT_TRUE(responses.contains("202")) << path;
    EXPECT_TRUE(responses["202"]["headers"].contains("Location")) << path;
    EXPECT_NE(responses["202"]["headers"]["Location"]["description"].get<std::string>().find(poll), std::string::npos)
        << path;
  }
}

TEST_F(ApiTest, OpenApiDescribesWhatIsServed) {
  auto r = client_->Get("/openapi.json");
  ASSERT_EQ(r->status, 200);
  Json doc = Json::parse(r->body);
  EXPECT_EQ(doc["openapi"], "3.1.0");
  // Every documented operation answers (not 404 "no such route", not 405),
  // and every served route is documented.
  std::set<std::string> documented;
  for (auto& [path, ops] : doc["paths"].items()) {
    for (auto& [method, op] : ops.items()) {
      documented.insert(method + " " + path);
      std::string concrete = path;
      size_t at;
      while ((at = concrete.find('{')) != std::string::npos) concrete.replace(at, concrete.find('}') - at + 1, "1");
      httplib::Result res = method == "get" ? client_->Get(concrete.c_str(), Auth(kAdmin))
                            : method == "delete" ? client_->Delete(concrete.c_str(), Auth(kAdmin))
                            : method == "put"    ? client_->Put(concrete.c_str(), Auth(kAdmin), "{}", "application/json")
                                                 : client_->Post(concrete.c_str(), Auth(kAdmin), "{}", "application/json");
      ASSERT_TRUE(res) << concrete;
      EXPECT_NE(res->status, 405) << method << " " << path;
      if (res->status == 404) {
        EXPECT_EQ(Json::parse(res->body)["error"].get<std::string>().find("no such route"), std::string::npos)
            << method << " " << path << " is documented but not served";
      }
      EXPECT_TRUE(op.contains("responses")) << path;
    }
  }
  std::set<std::string> served;
  for (const Route& route : server_->routes()) {
    std::string m = route.method;
    for (char& c : m) c = static_cast<char>(std::tolower(c));
    served.insert(m + " " + route.path);
  }
  EXPECT_EQ(documented, served);
  // The documented fields are the fields served.
  int64_t id = IngestVideo(MakeProcedure("v.mp4", {0, 1}, 3), "task-a", "gold");
  Json video = Json::parse(client_->Get(("/videos/" + std::to_string(id)).c_str(), Auth(kViewer))->body);
  std::set<std::string> served_fields, documented_fields;
  for (auto& [k, v] : video.items()) served_fields.insert(k);
  for (auto& [k, v] : doc["components"]["schemas"]["Video"]["properties"].items()) documented_fields.insert(k);
  EXPECT_EQ(served_fields, documented_fields);
}

TEST_F(ApiTest, JobsPastTheirTimeoutAreRetriedWithBackoffThenDead) {
  StopServer();
  ServiceConfig c = DefaultConfig();
  // Every attempt times out: it is held running (the fault-injection test
  // hook) until its 10 ms are up, however fast the ingest would have been.
  c.ingest_timeout_sec = 0.01;
  c.fault_injection_enabled = true;
  c.test_hold_jobs = {JobKind::kIngest};
  c.queue.max_attempts = 3;
  c.queue.backoff_base_sec = 0.2;
  c.queue.backoff_factor = 2;
  ASSERT_NO_FATAL_FAILURE(Start(c));
  auto t0 = std::chrono::steady_clock::now();
  auto r = Upload(MakeProcedure("v.mp4", {0, 1}, 3), "task-a", "gold");
  ASSERT_EQ(r->status, 202);
  Json job = WaitJob("/videos/jobs/" + Json::parse(r->body)["ingest_job_id"].get<std::string>());
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(job["status"], "dead") << job.dump();
  EXPECT_EQ(job["attempts"], 3);
  EXPECT_NE(job["error_message"].get<std::string>().find("timed out"), std::string::npos) << job.dump();
  EXPECT_GE(took, 0.2 + 0.4) << "retries did not wait out their backoff";
  Json queue = Json::parse(client_->Get("/ops/queue", Auth(kOperator))->body);
  EXPECT_EQ(queue["queue"]["queues"][0]["dead"], 1);
  EXPECT_EQ(queue["jobs"]["ingest"]["dead"], 1);
  // The row says dead a moment before the worker counts the job dead.
  std::string metrics;
  WaitUntil([&] {
    metrics = Scrape();
    return SeriesValue(metrics, "sopilot_ingest_jobs_total{status=\"dead\"}") >= 1;
  });
  EXPECT_EQ(SeriesValue(metrics, "sopilot_ingest_jobs_total{status=\"retried\"}"), 2) << metrics;
  EXPECT_EQ(SeriesValue(metrics, "sopilot_ingest_jobs_total{status=\"dead\"}"), 1);
  EXPECT_EQ(SeriesValue(metrics, "sopilot_job_duration_seconds_count{job_type=\"ingest\"}"), 3);
  // A dead job keeps its upload, so that an operator can requeue it.
  EXPECT_FALSE(std::filesystem::is_empty(dir_.file("data/raw")));
  ASSERT_EQ(queue["queue"]["queues"][0]["dead_jobs"].size(), 1u) << queue.dump();
  EXPECT_EQ(queue["queue"]["queues"][0]["dead_jobs"][0]["job_id"], job["ingest_job_id"]);
}

// The worker pool's log: one line per job outcome, with the job's id, type,
// attempt and, for a failure, the error (base/log.h, JSON here).
TEST_F(ApiTest, JobLogLinesSayEachOutcome) {
  LogCapture capture({LogLevel::kInfo, LogFormat::kJson});
  auto lines_of = [&](const std::string& job_id) {
    std::vector<Json> out;
    for (const std::string& line : capture.Lines()) {
      Json j = Json::parse(line, nullptr, false);
      EXPECT_FALSE(j.is_discarded()) << line;
      if (!j.is_discarded() && j.value("job_id", "") == job_id) out.push_back(j);
    }
    return out;
  };
  // Completed.
  auto ok = Upload(MakeProcedure("ok.mp4", {0, 1}, 3), "task-a", "gold");
  ASSERT_EQ(ok->status, 202);
  const std::string ok_id = Json::parse(ok->body)["ingest_job_id"];
  ASSERT_EQ(WaitJob("/videos/jobs/" + ok_id)["status"], "completed");
  // The line is written before the ack that follows the commit: wait for it.
  ASSERT_TRUE(WaitUntil([&] { return !lines_of(ok_id).empty(); }));
  Json done = lines_of(ok_id)[0];
  EXPECT_EQ(done["msg"], "job completed");
  EXPECT_EQ(done["level"], "info");
  EXPECT_EQ(done["type"], "ingest");
  EXPECT_EQ(done["attempt"], 1);
  EXPECT_EQ(done["outcome"], "completed");
  EXPECT_TRUE(done["duration_ms"].is_number());

  // Retried, then dead: every attempt times out (held by the test hook).
  StopServer();
  ServiceConfig c = DefaultConfig();
  c.ingest_timeout_sec = 0.01;
  c.fault_injection_enabled = true;
  c.test_hold_jobs = {JobKind::kIngest};
  c.queue.max_attempts = 2;
  c.queue.backoff_base_sec = 0.05;
  ASSERT_NO_FATAL_FAILURE(Start(c));
  auto r = Upload(MakeProcedure("v.mp4", {0, 1}, 3), "task-a", "gold");
  ASSERT_EQ(r->status, 202);
  const std::string id = Json::parse(r->body)["ingest_job_id"];
  ASSERT_EQ(WaitJob("/videos/jobs/" + id)["status"], "dead");
  ASSERT_TRUE(WaitUntil([&] { return lines_of(id).size() >= 2; }));
  std::vector<Json> lines = lines_of(id);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["outcome"], "retry");
  EXPECT_EQ(lines[0]["level"], "warn");
  EXPECT_EQ(lines[0]["attempt"], 1);
  EXPECT_EQ(lines[1]["outcome"], "dead");
  EXPECT_EQ(lines[1]["level"], "error");
  EXPECT_EQ(lines[1]["attempt"], 2);
  for (const Json& j : lines) {
    EXPECT_EQ(j["type"], "ingest");
    EXPECT_NE(j["error"].get<std::string>().find("timed out"), std::string::npos) << j.dump();
  }
}

TEST_F(ApiTest, FaultInjectionMakesJobsFailOnlyWhenEnabled) {
  const std::string body = R"({"job_type": "score", "failure_rate": 1.0})";
  auto off = client_->Post("/ops/fault-injection", Auth(kAdmin), body, "application/json");
  EXPECT_EQ(off->status, 503);
  EXPECT_NE(off->body.find("SOPILOT_ENABLE_FAULT_INJECTION"), std::string::npos);
  StopServer();
  ServiceConfig c = DefaultConfig();
  c.fault_injection_enabled = true;
  ASSERT_NO_FATAL_FAILURE(Start(c));
  int64_t gold = IngestVideo(MakeProcedure("g.mp4", {0, 1}, 3), "task-a", "gold");
  int64_t trainee = IngestVideo(MakeProcedure("t.mp4", {0, 1}, 3), "task-a", "trainee");
  EXPECT_EQ(client_->Post("/ops/fault-injection", Auth(kOperator), body, "application/json")->status, 403);
  EXPECT_EQ(client_->Post("/ops/fault-injection", Auth(kAdmin), R"({"job_type": "score", "failure_rate": 2})",
                          "application/json")->status, 400);
  auto on = client_->Post("/ops/fault-injection", Auth(kAdmin), body, "application/json");
  ASSERT_EQ(on->status, 200) << on->body;
  EXPECT_EQ(Json::parse(on->body)["failure_rate"]["score"], 1.0);
  auto post = client_->Post("/score", Auth(kOperator), Json{{"gold_video_id", gold}, {"trainee_video_id", trainee}}.dump(),
                            "application/json");
  Json job = WaitJob("/score/" + Json::parse(post->body)["score_job_id"].get<std::string>());
  EXPECT_EQ(job["status"], "dead") << job.dump();
  EXPECT_NE(job["error_message"].get<std::string>().find("injected failure"), std::string::npos);
  // Ingest is untouched, and switching off restores scoring; the dead job,
  // requeued by an admin, now completes.
  client_->Post("/ops/fault-injection", Auth(kAdmin), R"({"job_type": "score", "failure_rate": 0})", "application/json");
  const std::string dead_id = job["score_job_id"];
  const std::string requeue = Json{{"job_id", dead_id}}.dump();
  EXPECT_EQ(client_->Post("/ops/queue/score/requeue", Auth(kOperator), requeue, "application/json")->status, 403);
  EXPECT_EQ(client_->Post("/ops/queue/ingest/requeue", Auth(kAdmin), requeue, "application/json")->status, 404);
  EXPECT_EQ(client_->Post("/ops/queue/bogus/requeue", Auth(kAdmin), requeue, "application/json")->status, 404);
  EXPECT_EQ(client_->Post("/ops/queue/score/requeue", Auth(kAdmin), "{}", "application/json")->status, 400);
  auto requeued = client_->Post("/ops/queue/score/requeue", Auth(kAdmin), requeue, "application/json");
  ASSERT_EQ(requeued->status, 202) << requeued->body;
  EXPECT_EQ(Json::parse(requeued->body)["status"], "queued");
  EXPECT_EQ(requeued->get_header_value("Location"), "/score/" + Json::parse(requeued->body)["job_id"].get<std::string>());
  Json again = WaitJob("/score/" + dead_id);
  EXPECT_EQ(again["status"], "completed") << again.dump();
  auto twice = client_->Post("/ops/queue/score/requeue", Auth(kAdmin), requeue, "application/json");
  EXPECT_EQ(twice->status, 400) << twice->body;  // completed, not dead
  EXPECT_NE(twice->body.find("not dead"), std::string::npos);
  post = client_->Post("/score", Auth(kOperator), Json{{"gold_video_id", gold}, {"trainee_video_id", trainee}}.dump(),
                       "application/json");
  EXPECT_EQ(WaitJob("/score/" + Json::parse(post->body)["score_job_id"].get<std::string>())["status"], "completed");
}

// The test hook: an admin holds a job type's jobs running until released;
// the hold shows in GET /ops/fault-injection, and never blocks a shutdown.
TEST_F(ApiTest, HoldKeepsJobsRunningUntilReleasedOrShutdown) {
  const std::string hold = R"({"job_type": "ingest", "hold": true})";
  EXPECT_EQ(client_->Post("/ops/fault-injection", Auth(kAdmin), hold, "application/json")->status, 503);
  StopServer();
  ServiceConfig c = DefaultConfig();
  c.fault_injection_enabled = true;
  ASSERT_NO_FATAL_FAILURE(Start(c));
  EXPECT_EQ(client_->Post("/ops/fault-injection", Auth(kOperator), hold, "application/json")->status, 403);
  EXPECT_EQ(client_->Post("/ops/fault-injection", Auth(kAdmin), R"({"job_type": "ingest", "hold": 1})",
                          "application/json")->status, 400);
  auto on = client_->Post("/ops/fault-injection", Auth(kAdmin), hold, "application/json");
  ASSERT_EQ(on->status, 200) << on->body;
  EXPECT_EQ(Json::parse(on->body)["hold"]["ingest"], true);
  EXPECT_EQ(Json::parse(on->body)["hold"]["score"], false);
  auto held = [&] {
    auto r = client_->Get("/ops/fault-injection", Auth(kOperator));
    return r && r->status == 200 ? Json::parse(r->body)["held"]["ingest"].get<int>() : -1;
  };
  const std::string video = MakeProcedure("v.mp4", {0, 1}, 2);
  auto r = Upload(video, "task-a", "gold");
  ASSERT_EQ(r->status, 202) << r->body;
  const std::string job = "/videos/jobs/" + Json::parse(r->body)["ingest_job_id"].get<std::string>();
  ASSERT_TRUE(WaitUntil([&] { return held() == 1; }));
  EXPECT_EQ(Json::parse(client_->Get(job.c_str(), Auth(kViewer))->body)["status"], "running");
  auto off = client_->Post("/ops/fault-injection", Auth(kAdmin), R"({"job_type": "ingest", "hold": false})",
                           "application/json");
  ASSERT_EQ(off->status, 200) << off->body;
  EXPECT_EQ(WaitJob(job)["status"], "completed");
  EXPECT_EQ(held(), 0);
  // Held again, a job is let go by a shutdown (it runs again after a restart).
  ASSERT_EQ(client_->Post("/ops/fault-injection", Auth(kAdmin), hold, "application/json")->status, 200);
  r = Upload(MakeProcedure("w.mp4", {2, 3}, 2), "task-a", "trainee");
  ASSERT_EQ(r->status, 202) << r->body;
  ASSERT_TRUE(WaitUntil([&] { return held() == 1; }));
  StopServer();  // returns: the held job stops
}

TEST_F(ApiTest, FiftyConcurrentUploadsAreAllKept) {
  std::string path = MakeProcedure("small.mp4", {0}, 2);
  const std::string bytes = Slurp(path);
  std::vector<std::thread> threads;
  std::vector<std::string> job_ids(50);
  std::atomic<int> ok{0};
  for (int i = 0; i < 50; ++i) {
    threads.emplace_back([&, i] {
      httplib::Client c("127.0.0.1", port_);
      c.set_read_timeout(60, 0);
      httplib::MultipartFormDataItems items = {{"file", bytes, "clip" + std::to_string(i) + ".mp4", "video/mp4"},
                                               {"task_id", "bulk", "", ""}};
      auto r = c.Post("/videos", Auth(kOperator), items);
      if (r && r->status == 202) {
        job_ids[i] = Json::parse(r->body)["ingest_job_id"];
        ok++;
      } else {
        ADD_FAILURE() << "upload " << i << ": " << (r ? std::to_string(r->status) + " " + r->body
                                                      : httplib::to_string(r.error()));
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(ok.load(), 50);
  std::set<std::string> unique(job_ids.begin(), job_ids.end());
  EXPECT_EQ(unique.size(), 50u);
  for (const std::string& id : job_ids) EXPECT_EQ(WaitJob("/videos/jobs/" + id, 120)["status"], "completed");
  EXPECT_EQ(Json::parse(client_->Get("/videos?task_id=bulk&limit=500", Auth(kViewer))->body)["items"].size(), 50u);
}

// A write that meets another connection's lock on the database (the
// metadata store and the SQLite queue share sopilot.db) waits it out, and
// /metrics counts it once, with its wait in the histogram of its database.
TEST_F(ApiTest, LockWaitsReachTheMetrics) {
  StopServer();
  ServiceConfig c = DefaultConfig();
  c.ingest_workers = c.score_workers = c.training_workers = 0;  // only the request writes
  ASSERT_NO_FATAL_FAILURE(Start(c));
  auto waiting = [&] {
    LockWaits* q = service_->queue()->lock_waits();
    return service_->store()->lock_waits()->waiting() + (q ? q->waiting() : 0);
  };
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open((c.data_dir + "/sopilot.db").c_str(), &other), SQLITE_OK);
  // The webhook dispatcher takes the write lock for a moment at each poll:
  // the test waits its turn for the lock rather than failing on SQLITE_BUSY.
  sqlite3_busy_timeout(other, 30000);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  std::thread release([&] {
    EXPECT_TRUE(WaitUntil([&] { return waiting() > 0; })) << "the request never waited on the lock";
    sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr);
  });
  auto post = client_->Post("/train/nightly", Auth(kAdmin), "", "application/json");
  release.join();
  sqlite3_close(other);
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 202) << post->body;
  const std::string body = Scrape();
  const double locked = SeriesValue(body, "sopilot_database_locked_errors_total");
  const double metadata = SeriesValue(body, R"(sopilot_database_lock_wait_seconds_count{database="metadata"})");
  const double queue = SeriesValue(body, R"(sopilot_database_lock_wait_seconds_count{database="queue"})");
  EXPECT_GE(locked, 1) << body;
  EXPECT_EQ(locked, metadata + queue) << "each waiting operation is counted once and timed once";
  EXPECT_GT(SeriesValue(body, R"(sopilot_database_lock_wait_seconds_sum{database="metadata"})") +
                SeriesValue(body, R"(sopilot_database_lock_wait_seconds_sum{database="queue"})"),
            0);
}

TEST_F(ApiTest, MetricsCountTheWorkDone) {
  int64_t gold = IngestVideo(MakeProcedure("gold.mp4", {0, 1, 3}), "task-m", "gold");
  int64_t trainee = IngestVideo(MakeProcedure("trainee.mp4", {0, 3, 1}), "task-m", "trainee");
  ASSERT_GT(gold, 0);
  ASSERT_GT(trainee, 0);
  auto post = client_->Post("/score", Auth(kOperator),
                            Json{{"gold_video_id", gold}, {"trainee_video_id", trainee}}.dump(), "application/json");
  ASSERT_EQ(post->status, 202) << post->body;
  Json done = WaitJob("/score/" + Json::parse(post->body)["score_job_id"].get<std::string>());
  ASSERT_EQ(done["status"], "completed") << done.dump();
  ASSERT_EQ(client_->Get(("/videos/" + std::to_string(gold)).c_str(), Auth(kViewer))->status, 200);

  // A job's row says completed a moment before its worker records the
  // job's duration: wait for the three durations.
  std::string body;
  EXPECT_TRUE(WaitUntil([&] {
    body = Scrape();
    return SeriesValue(body, "sopilot_job_duration_seconds_count{job_type=\"ingest\"}") >= 2 &&
           SeriesValue(body, "sopilot_job_duration_seconds_count{job_type=\"score\"}") >= 1;
  })) << body;

  // The seed's 13 families, with their types, whether or not they have series.
  const std::map<std::string, std::string> seed = {
      {"sopilot_ingest_jobs_total", "counter"},
      {"sopilot_score_jobs_total", "counter"},
      {"sopilot_training_jobs_total", "counter"},
      {"sopilot_redis_connection_errors_total", "counter"},
      {"sopilot_database_locked_errors_total", "counter"},
      {"sopilot_job_duration_seconds", "histogram"},
      {"sopilot_dtw_execution_seconds", "histogram"},
      {"sopilot_embedding_generation_seconds", "histogram"},
      {"sopilot_queue_depth", "gauge"},
      {"sopilot_gpu_memory_bytes", "gauge"},
      {"sopilot_active_workers", "gauge"},
      {"sopilot_total_clips", "gauge"},
      {"sopilot_build_info", "gauge"},
  };
  for (const auto& [name, type] : seed) {
    EXPECT_NE(body.find("# TYPE " + name + " " + type + "\n"), std::string::npos) << name;
    EXPECT_NE(body.find("# HELP " + name + " "), std::string::npos) << name;
  }
  for (const char* name : {"sopilot_http_requests_total", "process_cpu_seconds_total",
                           "process_resident_memory_bytes", "process_open_fds", "process_start_time_seconds"}) {
    EXPECT_NE(body.find(std::string("# TYPE ") + name + " "), std::string::npos) << name;
  }

  // The work done shows.
  EXPECT_EQ(SeriesValue(body, "sopilot_ingest_jobs_total{status=\"queued\"}"), 2) << body;
  EXPECT_EQ(SeriesValue(body, "sopilot_ingest_jobs_total{status=\"running\"}"), 2);
  EXPECT_EQ(SeriesValue(body, "sopilot_ingest_jobs_total{status=\"completed\"}"), 2);
  EXPECT_EQ(SeriesValue(body, "sopilot_score_jobs_total{status=\"completed\"}"), 1);
  EXPECT_GE(SeriesValue(body, "sopilot_job_duration_seconds_count{job_type=\"ingest\"}") +
                SeriesValue(body, "sopilot_job_duration_seconds_count{job_type=\"score\"}"),
            3);
  EXPECT_GE(SeriesValue(body, "sopilot_dtw_execution_seconds_count{gpu=\"false\"}"), 1);
  EXPECT_GT(SeriesValue(body, "sopilot_dtw_execution_seconds_sum{gpu=\"false\"}"), 0);
  // Buckets from 50 us: an alignment of microseconds to milliseconds has a
  // p95 to read (the original's buckets started at 10 ms). A structural
  // check, not a timing one: the bucket exists, whatever the machine's speed.
  {
    std::regex first_bucket(R"re(sopilot_dtw_execution_seconds_bucket\{gpu="false",le="(5e-05|0\.00005)"\} )re");
    EXPECT_TRUE(std::regex_search(body, first_bucket)) << body.substr(body.find("sopilot_dtw"), 600);
  }
  EXPECT_EQ(SeriesValue(body, "sopilot_embedding_generation_seconds_count{embedder=\"heuristic-v1\"}"), 2);
  EXPECT_GT(SeriesValue(body, "sopilot_total_clips"), 20);
  EXPECT_EQ(SeriesValue(body, "sopilot_queue_depth{queue=\"score\"}"), 0);
  EXPECT_EQ(SeriesValue(body, "sopilot_active_workers{queue=\"ingest\"}"), 1);  // one idle worker thread
  // The queue's own figures: every leased job's wait was observed, nothing
  // was redelivered or died, and no training has completed (no series: a
  // new install has no "last success" time).
  EXPECT_EQ(SeriesValue(body, "sopilot_job_wait_seconds_count{queue=\"ingest\"}"), 2) << body;
  EXPECT_EQ(SeriesValue(body, "sopilot_job_wait_seconds_count{queue=\"score\"}"), 1);
  // Each completed job's time from ready to done: its wait plus its run, so
  // never less than the waits alone.
  EXPECT_EQ(SeriesValue(body, "sopilot_job_latency_seconds_count{queue=\"ingest\"}"), 2);
  EXPECT_EQ(SeriesValue(body, "sopilot_job_latency_seconds_count{queue=\"score\"}"), 1);
  EXPECT_GE(SeriesValue(body, "sopilot_job_latency_seconds_sum{queue=\"score\"}"),
            SeriesValue(body, "sopilot_job_wait_seconds_sum{queue=\"score\"}"));
  EXPECT_GT(SeriesValue(body, "sopilot_job_latency_seconds_sum{queue=\"ingest\"}"), 0);
  for (const char* queue : {"ingest", "score", "training"}) {
    const std::string q = std::string("{queue=\"") + queue + "\"}";
    EXPECT_EQ(SeriesValue(body, "sopilot_job_redeliveries_total" + q), 0) << queue;
    EXPECT_EQ(SeriesValue(body, "sopilot_dead_jobs" + q), 0) << queue;
    EXPECT_GE(SeriesValue(body, "sopilot_jobs_running" + q), 0) << queue;
    EXPECT_GE(SeriesValue(body, "sopilot_workers_busy" + q), 0) << queue;
  }
  EXPECT_EQ(SeriesValue(body, "sopilot_queue_oldest_job_age_seconds{queue=\"score\"}"), 0);
  EXPECT_NE(body.find("# TYPE sopilot_training_last_success_timestamp_seconds gauge\n"), std::string::npos);
  EXPECT_EQ(SeriesValue(body, "sopilot_training_last_success_timestamp_seconds"), -1) << "no training yet";
  EXPECT_GE(SeriesValue(body, "sopilot_database_locked_errors_total"), 0);
  EXPECT_NE(body.find("sopilot_build_info{version=\""), std::string::npos);
  EXPECT_GE(SeriesValue(body, "sopilot_http_requests_total{method=\"GET\",route=\"/videos/jobs/{ingest_job_id}\","
                              "status=\"200\"}"),
            2);
  EXPECT_EQ(SeriesValue(body, "sopilot_http_requests_total{method=\"POST\",route=\"/score\",status=\"202\"}"), 1);
  EXPECT_GE(SeriesValue(body, "sopilot_http_request_duration_seconds_count{method=\"GET\",route=\"/videos/{video_id}\"}"),
            1);

  // Route labels are templates, never raw paths with ids in them.
  std::set<std::string> templates;
  for (const Route& r : server_->routes()) templates.insert(r.path);
  std::regex route_label("route=\"([^\"]*)\"");
  int routes_seen = 0;
  for (std::sregex_iterator it(body.begin(), body.end(), route_label), end; it != end; ++it, ++routes_seen) {
    EXPECT_TRUE(templates.count((*it)[1])) << "route label is not a template: " << (*it)[1];
  }
  EXPECT_GT(routes_seen, 0);

  // Prometheus's own checker accepts the body without a word.
  if (testing::RunCommand("command -v promtool").exit_code != 0) {
    GTEST_SKIP() << "promtool is not installed (Debian package prometheus; scripts/install-deps.sh)";
  }
  std::string file = dir_.file("metrics.txt");
  std::ofstream(file, std::ios::binary) << body;
  testing::CommandResult check = testing::RunCommand("promtool check metrics < " + testing::ShellQuote(file));
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_EQ(check.out + check.err, "") << body;
}

// A video's embedding time is also observed per clip, once per video: its
// decode-and-embed time divided by the clips it gave, so the figure does not
// grow with the video's length (SlowEmbeddingGeneration reads it).
TEST_F(ApiTest, IngestObservesTheEmbeddingTimePerClip) {
  int64_t id = IngestVideo(MakeProcedure("v.mp4", {0, 1, 3}), "task-e", "gold");
  ASSERT_GT(id, 0);
  const int clips =
      Json::parse(client_->Get(("/videos/" + std::to_string(id)).c_str(), Auth(kViewer))->body)["num_clips"].get<int>();
  ASSERT_GT(clips, 10);
  // Observed before the job's row says completed (it is part of the embed).
  const std::string body = Scrape();
  EXPECT_NE(body.find("# TYPE sopilot_embedding_seconds_per_clip histogram\n"), std::string::npos);
  const std::string e = "{embedder=\"heuristic-v1\"}";
  EXPECT_EQ(SeriesValue(body, "sopilot_embedding_seconds_per_clip_count" + e), 1) << body;
  EXPECT_EQ(SeriesValue(body, "sopilot_embedding_generation_seconds_count" + e), 1);
  const double video = SeriesValue(body, "sopilot_embedding_generation_seconds_sum" + e);
  const double per_clip = SeriesValue(body, "sopilot_embedding_seconds_per_clip_sum" + e);
  // The whole video's time over its clips, to rounding.
  EXPECT_GT(per_clip, 0);
  EXPECT_NEAR(per_clip * clips, video, video * 1e-9);
  // Plausible, with room for sanitizers and a loaded machine: decoding and
  // embedding a clip's frames takes more than 0.1 ms (the first bound) and
  // less than 10 s (heuristic-v1 measures 20-80 ms a clip on 2 busy cores).
  EXPECT_EQ(SeriesValue(body, "sopilot_embedding_seconds_per_clip_bucket{embedder=\"heuristic-v1\",le=\"1e-04\"}"), 0);
  EXPECT_EQ(SeriesValue(body, "sopilot_embedding_seconds_per_clip_bucket{embedder=\"heuristic-v1\",le=\"10\"}"), 1);
}


// ---------------------------------------------------------------- re-embedding a task

size_t FilesIn(const std::string& dir) {
  return static_cast<size_t>(std::distance(std::filesystem::directory_iterator(dir), {}));
}

TEST_F(ApiTest, ReembedSwitchesATasksVideosToAnotherEmbedderInANewIndexVersion) {
  int64_t gold = IngestVideo(MakeProcedure("gold.mp4", {0, 1, 3, 5}), "task-a", "gold");
  int64_t trainee = IngestVideo(MakeProcedure("trainee.mp4", {0, 3, 1, 5}), "task-a", "trainee");
  int64_t other = IngestVideo(MakeProcedure("other.mp4", {2, 4}), "task-b", "gold");
  ASSERT_GT(gold, 0);
  ASSERT_GT(trainee, 0);
  ASSERT_GT(other, 0);
  auto score = [&]() {
    auto post = client_->Post("/score", Auth(kOperator),
                              Json{{"gold_video_id", gold}, {"trainee_video_id", trainee}}.dump(), "application/json");
    EXPECT_EQ(post->status, 202) << post->body;
    return WaitJob("/score/" + Json::parse(post->body)["score_job_id"].get<std::string>());
  };
  auto video = [&](int64_t id) {
    return Json::parse(client_->Get(("/videos/" + std::to_string(id)).c_str(), Auth(kViewer))->body);
  };
  Json before = score();
  ASSERT_EQ(before["status"], "completed") << before.dump();
  EXPECT_EQ(before["result"]["embedding_model"], "heuristic-v1");
  EXPECT_EQ(before["result"]["index_version"], 0);

  auto post = client_->Post("/tasks/task-a/reembed", Auth(kAdmin), R"({"embedder": "motion-v1"})", "application/json");
  ASSERT_EQ(post->status, 202) << post->body;
  Json queued = Json::parse(post->body);
  EXPECT_EQ(queued["trigger"], "reembed");
  EXPECT_EQ(queued["task_id"], "task-a");
  EXPECT_EQ(queued["embedder"], "motion-v1");
  EXPECT_EQ(queued["requested_by"], "token:admin");
  const std::string job_id = queued["training_job_id"];
  Json done = WaitJob("/train/jobs/" + job_id);
  ASSERT_EQ(done["status"], "completed") << done.dump();
  const Json& r = done["result"];
  EXPECT_EQ(r["mode"], "reembed");
  EXPECT_EQ(r["embedding_model"], "motion-v1");
  EXPECT_EQ(r["embedding_dim"], 128);
  EXPECT_EQ(r["previous_models"], Json({{"heuristic-v1", 2}}));
  EXPECT_EQ(r["old_index_version"], 0);
  EXPECT_EQ(r["new_index_version"], 1);
  EXPECT_EQ(r["videos_reembedded"], 2);
  EXPECT_EQ(r["files_removed"], 2);  // the heuristic-v1 files of task-a

  // The videos now carry motion-v1; the other task is untouched.
  for (int64_t id : {gold, trainee}) {
    Json v = video(id);
    EXPECT_EQ(v["embedding_model"], "motion-v1") << v.dump();
    EXPECT_GT(v["num_clips"].get<int>(), 20);
  }
  EXPECT_EQ(video(other)["embedding_model"], "heuristic-v1");
  EXPECT_EQ(*service_->store()->CurrentIndexVersion("task-a"), 1);
  EXPECT_EQ(*service_->store()->CurrentIndexVersion("task-b"), 0);
  EXPECT_EQ(FilesIn(dir_.file("data/embeddings")), 3u);

  // Scores and searches read the new embeddings, from the new version.
  Json after = score();
  ASSERT_EQ(after["status"], "completed") << after.dump();
  EXPECT_EQ(after["result"]["embedding_model"], "motion-v1");
  EXPECT_EQ(after["result"]["index_version"], 1);
  EXPECT_EQ(after["result"]["feature_adapter"], false);
  auto search = client_->Get(("/search?task_id=task-a&video_id=" + std::to_string(gold) + "&clip_idx=0&k=3").c_str(),
                             Auth(kViewer));
  ASSERT_EQ(search->status, 200) << search->body;
  EXPECT_EQ(Json::parse(search->body)["items"].size(), 3u);

  // A video uploaded to the task later is embedded with the task's embedder.
  int64_t late = IngestVideo(MakeProcedure("late.mp4", {0, 1, 5}), "task-a", "trainee");
  EXPECT_EQ(video(late)["embedding_model"], "motion-v1");

  // The audit log records the request and the switch.
  Json trail = Json::parse(client_->Get("/audit/trail?limit=200", Auth(kViewer))->body);
  bool queued_entry = false;
  int switched_entries = 0;
  for (const Json& e : trail["items"]) {
    if (e["action"] == "job.queued" && e["subject"] == job_id) {
      queued_entry = e["actor"] == "token:admin" && e["detail"]["embedder"] == "motion-v1";
    }
    if (e["action"] == "task.reembedded" && e["subject"] == "task-a") {
      EXPECT_EQ(e["detail"]["training_job_id"], job_id);
      EXPECT_EQ(e["detail"]["requested_by"], "token:admin");
      EXPECT_EQ(e["detail"]["old_index_version"], 0);
      EXPECT_EQ(e["detail"]["new_index_version"], 1);
      ++switched_entries;
    }
  }
  EXPECT_TRUE(queued_entry) << trail.dump();
  EXPECT_EQ(switched_entries, 1) << trail.dump();

  // Again with the same embedder: the same files (content-addressed), a newer
  // version; a re-embed does not count as a training for the nightly run.
  const std::string path_before = service_->store()->GetVideo(gold)->embedding_path;
  post = client_->Post("/tasks/task-a/reembed", Auth(kAdmin), R"({"embedder": "motion-v1"})", "application/json");
  ASSERT_EQ(post->status, 202) << post->body;
  Json again = WaitJob("/train/jobs/" + Json::parse(post->body)["training_job_id"].get<std::string>());
  ASSERT_EQ(again["status"], "completed") << again.dump();
  EXPECT_EQ(again["result"]["old_index_version"], 1);
  EXPECT_EQ(again["result"]["new_index_version"], 2);
  EXPECT_EQ(again["result"]["videos_reembedded"], 3);
  EXPECT_EQ(again["result"]["files_removed"], 0);
  EXPECT_EQ(service_->store()->GetVideo(gold)->embedding_path, path_before);
  EXPECT_EQ(FilesIn(dir_.file("data/embeddings")), 4u);
  EXPECT_EQ(Json::parse(client_->Get("/train/nightly/status", Auth(kViewer))->body)["last_training_finished_at"],
            nullptr);
  const std::string metrics = Scrape();
  EXPECT_EQ(SeriesValue(metrics, "sopilot_training_jobs_total{status=\"completed\",trigger=\"reembed\"}"), 2)
      << metrics;
  EXPECT_EQ(SeriesValue(metrics, "sopilot_training_jobs_total{status=\"failed\",trigger=\"reembed\"}"), 0);
}

TEST_F(ApiTest, ReembedRefusesWhatItCannotDoAndAFailureKeepsTheOldEmbeddings) {
  std::string gold_path = MakeProcedure("gold.mp4", {0, 1, 3}, 3);
  int64_t gold = IngestVideo(gold_path, "task-a", "gold");
  int64_t trainee = IngestVideo(MakeProcedure("trainee.mp4", {0, 3, 1}, 3), "task-a", "trainee");
  ASSERT_GT(gold, 0);
  ASSERT_GT(trainee, 0);
  auto reembed = [&](const std::string& task, const std::string& body, const char* token = kAdmin) {
    return client_->Post(("/tasks/" + task + "/reembed").c_str(), Auth(token), body, "application/json");
  };
  // Roles as the other admin routes.
  EXPECT_EQ(client_->Post("/tasks/task-a/reembed", R"({"embedder": "motion-v1"})", "application/json")->status, 401);
  EXPECT_EQ(reembed("task-a", R"({"embedder": "motion-v1"})", kOperator)->status, 403);
  // Bad bodies and names: 400 naming the known embedders.
  auto r = reembed("task-a", R"({"embedder": "sift-v9"})");
  EXPECT_EQ(r->status, 400);
  std::string error = Json::parse(r->body)["error"];
  EXPECT_NE(error.find("unknown embedder \"sift-v9\""), std::string::npos) << error;
  EXPECT_NE(error.find("heuristic-v1"), std::string::npos) << error;
  EXPECT_NE(error.find("motion-v1"), std::string::npos) << error;
  // A combination with a bad weight: 400 with what is wrong with it.
  r = reembed("task-a", R"({"embedder": "heuristic-v1*0+motion-v1"})");
  EXPECT_EQ(r->status, 400);
  error = Json::parse(r->body)["error"];
  EXPECT_NE(error.find("the weight in \"heuristic-v1*0\" is zero"), std::string::npos) << error;
  r = reembed("task-a", "{}");
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(Json::parse(r->body)["error"].get<std::string>().find("embedder is required"), std::string::npos);
  EXPECT_EQ(reembed("task-a", "{not json")->status, 400);
  // Unknown task: 404.
  r = reembed("no-such-task", R"({"embedder": "motion-v1"})");
  EXPECT_EQ(r->status, 404);
  EXPECT_NE(Json::parse(r->body)["error"].get<std::string>().find("no-such-task"), std::string::npos);
  // A learned embedder without its models: 400 with the reason, nothing queued.
  StopServer();
  ServiceConfig config = DefaultConfig();
  config.embedders.models_dir = dir_.file("no-models");
  std::filesystem::create_directories(config.embedders.models_dir);
  ASSERT_NO_FATAL_FAILURE(Start(config));
  r = reembed("task-a", R"({"embedder": "pose-v1"})");
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_NE(Json::parse(r->body)["error"].get<std::string>().find("embedder pose-v1 cannot be used"),
            std::string::npos)
      << r->body;
  EXPECT_TRUE(service_->store()->JobsWithStatus(JobKind::kTraining, kJobQueued, 10)->empty());

  // A video whose upload is gone: the job fails naming it, and the task
  // stays on its old embeddings and version.
  const std::string raw = service_->store()->GetVideo(trainee)->file_path;
  const std::string kept = dir_.file("kept.mp4");
  std::filesystem::rename(dir_.file("data/" + raw), kept);
  r = reembed("task-a", R"({"embedder": "motion-v1"})");
  ASSERT_EQ(r->status, 202) << r->body;
  Json failed = WaitJob("/train/jobs/" + Json::parse(r->body)["training_job_id"].get<std::string>());
  EXPECT_EQ(failed["status"], "failed") << failed.dump();
  EXPECT_NE(failed["error_message"].get<std::string>().find("video " + std::to_string(trainee) + " (trainee.mp4)"),
            std::string::npos)
      << failed.dump();
  for (int64_t id : {gold, trainee}) EXPECT_EQ(service_->store()->GetVideo(id)->embedding_model, "heuristic-v1");
  EXPECT_EQ(*service_->store()->CurrentIndexVersion("task-a"), 0);
  EXPECT_EQ(FilesIn(dir_.file("data/embeddings")), 2u);  // the gold's motion-v1 file was not kept
  auto post = client_->Post("/score", Auth(kOperator), Json{{"gold_video_id", gold}, {"trainee_video_id", trainee}}.dump(),
                            "application/json");
  ASSERT_EQ(post->status, 202) << post->body;
  Json scored = WaitJob("/score/" + Json::parse(post->body)["score_job_id"].get<std::string>());
  EXPECT_EQ(scored["status"], "completed") << scored.dump();
  EXPECT_EQ(scored["result"]["embedding_model"], "heuristic-v1");
  std::filesystem::rename(kept, dir_.file("data/" + raw));

  // Two models in one task (SOPILOT_EMBEDDER changed under old videos): a
  // score is refused with the reason, never computed.
  StopServer();
  config = DefaultConfig();
  config.ingest.embedder = "motion-v1";
  ASSERT_NO_FATAL_FAILURE(Start(config));
  int64_t newer = IngestVideo(MakeProcedure("newer.mp4", {0, 1, 3}, 3), "task-a", "trainee");
  ASSERT_GT(newer, 0);
  post = client_->Post("/score", Auth(kOperator), Json{{"gold_video_id", gold}, {"trainee_video_id", newer}}.dump(),
                       "application/json");
  EXPECT_EQ(post->status, 400) << post->body;
  EXPECT_NE(post->body.find("is embedded with heuristic-v1"), std::string::npos) << post->body;
  EXPECT_NE(post->body.find("with motion-v1"), std::string::npos) << post->body;
  // Re-embedding the task makes them comparable.
  r = reembed("task-a", R"({"embedder": "motion-v1"})");
  ASSERT_EQ(r->status, 202) << r->body;
  Json done = WaitJob("/train/jobs/" + Json::parse(r->body)["training_job_id"].get<std::string>());
  ASSERT_EQ(done["status"], "completed") << done.dump();
  EXPECT_EQ(done["result"]["previous_models"], Json({{"heuristic-v1", 2}, {"motion-v1", 1}}));
  post = client_->Post("/score", Auth(kOperator), Json{{"gold_video_id", gold}, {"trainee_video_id", newer}}.dump(),
                       "application/json");
  ASSERT_EQ(post->status, 202) << post->body;
  scored = WaitJob("/score/" + Json::parse(post->body)["score_job_id"].get<std::string>());
  EXPECT_EQ(scored["status"], "completed") << scored.dump();
  EXPECT_EQ(scored["result"]["embedding_model"], "motion-v1");
}

// Search holds one video's embeddings at a time and the k best hits, and
// stops at a budget of clips per request, saying so.
TEST_F(ApiTest, SearchIsBoundedAndSaysWhenItStoppedEarly) {
  int64_t a = IngestVideo(MakeProcedure("a.mp4", {0, 1}), "search", "gold");
  int64_t b = IngestVideo(MakeProcedure("b.mp4", {1, 2}), "search", "trainee");
  ASSERT_GT(a, 0);
  ASSERT_GT(b, 0);
  const int total = Json::parse(client_->Get(("/videos/" + std::to_string(a)).c_str(), Auth(kViewer))->body)["num_clips"]
                        .get<int>() +
                    Json::parse(client_->Get(("/videos/" + std::to_string(b)).c_str(), Auth(kViewer))->body)["num_clips"]
                        .get<int>();
  const std::string query = "/search?task_id=search&video_id=" + std::to_string(a) + "&clip_idx=0&k=50";
  Json all = Json::parse(client_->Get(query.c_str(), Auth(kViewer))->body);
  EXPECT_EQ(all["truncated"], false);
  EXPECT_EQ(all["videos_searched"], 2);
  ASSERT_EQ(all["items"].size(), static_cast<size_t>(std::min(50, total - 1))) << all.dump();
  std::set<int64_t> videos;
  for (size_t i = 0; i < all["items"].size(); ++i) {
    videos.insert(all["items"][i]["video_id"].get<int64_t>());
    if (i > 0) {
      EXPECT_GE(all["items"][i - 1]["similarity"].get<double>(), all["items"][i]["similarity"].get<double>());
    }
    EXPECT_FALSE(all["items"][i]["video_id"] == a && all["items"][i]["clip_idx"] == 0) << "the query itself";
  }
  EXPECT_EQ(videos.size(), 2u);

  StopServer();
  ServiceConfig c = DefaultConfig();
  c.search_max_clips = 1;
  ASSERT_NO_FATAL_FAILURE(Start(c));
  Json cut = Json::parse(client_->Get(query.c_str(), Auth(kViewer))->body);
  EXPECT_EQ(cut["truncated"], true) << cut.dump();
  EXPECT_EQ(cut["videos_searched"], 1);
  for (const Json& item : cut["items"]) EXPECT_EQ(item["video_id"], cut["items"][0]["video_id"]);
}

}  // namespace
}  // namespace sopilot
