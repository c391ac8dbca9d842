// The exception border through the real binaries: text that is not UTF-8
// (a form field, a file name, a row written before fields were checked) and
// a job that throws. Each of these once ended `sopilot serve` or `sopilot
// watch` with std::terminate, again at every restart.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "testing/command.h"
#include "testing/server_process.h"
#include "testing/temp_dir.h"
#include "testing/test_videos.h"
#include "testing/text.h"

namespace sopilot {
namespace {

using testing::Slurp;
using Json = nlohmann::json;
namespace fs = std::filesystem;

// Polls `done` until it holds or `timeout_sec` (generous: a deadline, not a
// measurement) passes.
bool WaitUntil(const std::function<bool()>& done, double timeout_sec = 120) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_sec);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

Json JsonOf(const httplib::Result& r) {
  return r ? Json::parse(r->body, nullptr, false) : Json();
}

httplib::Result Upload(httplib::Client& c, const std::string& video, const std::string& file_name,
                       const std::string& task_id, const std::string& site_id = "") {
  httplib::MultipartFormDataItems items = {{"file", Slurp(video), file_name, "video/mp4"},
                                           {"task_id", task_id, "", ""}};
  if (!site_id.empty()) items.push_back({"site_id", site_id, "", ""});
  return c.Post("/videos", items);
}

// The job's status once it is final (completed, failed, dead), or "" when
// the deadline passes first.
std::string WaitForFinal(httplib::Client& c, const std::string& path, Json* last = nullptr) {
  std::string status;
  WaitUntil([&] {
    Json j = JsonOf(c.Get(path));
    if (last) *last = j;
    status = j.is_object() ? j.value("status", "") : "";
    return status == "completed" || status == "failed" || status == "dead";
  });
  return status;
}

void MakeVideo(const std::string& path, int k) {
  testing::MakeProcedureVideo(path, {{testing::DistinctScenes()[k % 10], 2.0}, {testing::DistinctScenes()[(k + 4) % 10], 2.0}},
                              "320x180", 12);
}

TEST(ExceptionBorderTest, FieldsThatAreNotUtf8AreRefusedWithTheFieldNamedAndNothingIsStored) {
  testing::TempDir dir;
  MakeVideo(dir.file("v.mp4"), 0);
  testing::ServerProcess server(SOPILOT_BIN, {"serve", "--port", "0", "--data-dir", dir.file("data")}, {},
                                dir.file("log"));
  int port = server.Start();
  ASSERT_GT(port, 0) << server.Log();
  httplib::Client c("127.0.0.1", port);

  struct Case {
    std::string file_name, task_id, site_id, field;
  } cases[] = {
      {"v.mp4", "bad\xff", "", "task_id is not valid UTF-8"},
      {"v.mp4", "task\x01", "", "task_id contains a control character"},
      {"v.mp4", "t", "site\xc3", "site_id is not valid UTF-8"},
      {"caf\xe9.mp4", "t", "", "file name is not valid UTF-8"},
  };
  for (const Case& k : cases) {
    auto r = Upload(c, dir.file("v.mp4"), k.file_name, k.task_id, k.site_id);
    ASSERT_TRUE(r) << k.field;
    EXPECT_EQ(r->status, 400) << k.field << ": " << r->body;
    Json body = JsonOf(r);
    ASSERT_TRUE(body.is_object()) << r->body;
    EXPECT_NE(body.value("error", "").find(k.field), std::string::npos) << r->body;
  }
  // Nothing was stored: no video, no job, and listing still works.
  auto videos = c.Get("/videos");
  ASSERT_TRUE(videos);
  EXPECT_EQ(videos->status, 200) << videos->body;
  EXPECT_EQ(JsonOf(videos)["items"].size(), 0u) << videos->body;
  auto jobs = testing::RunCommand("sqlite3 " + testing::ShellQuote(dir.file("data/sopilot.db")) +
                                  " 'SELECT COUNT(*) FROM jobs'");
  EXPECT_EQ(jobs.out, "0\n") << jobs.err;

  // UTF-8 beyond ASCII is welcome.
  auto ok = Upload(c, dir.file("v.mp4"), "caf\xc3\xa9.mp4", "caf\xc3\xa9-t\xc3\xa2" "che");
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->status, 202) << ok->body;
  const std::string job_id = JsonOf(ok).value("ingest_job_id", "");
  EXPECT_EQ(WaitForFinal(c, "/videos/jobs/" + job_id), "completed");
  // GET /videos may answer from its short-lived cache (the empty list asked
  // for above) for a moment: wait for the listing, not for a time.
  Json listed;
  ASSERT_TRUE(WaitUntil([&] {
    listed = JsonOf(c.Get("/videos"));
    return listed.is_object() && listed["items"].size() == 1u;
  })) << listed.dump();
  EXPECT_EQ(listed["items"][0].value("task_id", ""), "caf\xc3\xa9-t\xc3\xa2" "che");
  EXPECT_EQ(c.Get("/health")->status, 200);
  EXPECT_TRUE(server.running());
}

// Rows written before the fields were checked (or by another tool) may hold
// any bytes: listing, showing and scoring them must still work.
TEST(ExceptionBorderTest, StoredRowsThatAreNotUtf8AreListedAndScored) {
  testing::TempDir dir;
  MakeVideo(dir.file("g.mp4"), 1);
  MakeVideo(dir.file("t.mp4"), 2);
  const std::vector<std::string> args = {"serve", "--port", "0", "--data-dir", dir.file("data")};
  int ids[2] = {0, 0};
  {
    testing::ServerProcess server(SOPILOT_BIN, args, {}, dir.file("log1"));
    int port = server.Start();
    ASSERT_GT(port, 0) << server.Log();
    httplib::Client c("127.0.0.1", port);
    const char* files[2] = {"g.mp4", "t.mp4"};
    for (int i = 0; i < 2; ++i) {
      auto r = Upload(c, dir.file(files[i]), files[i], "t");
      ASSERT_TRUE(r && r->status == 202) << (r ? r->body : "no answer");
      Json job;
      ASSERT_EQ(WaitForFinal(c, "/videos/jobs/" + JsonOf(r).value("ingest_job_id", ""), &job), "completed")
          << job.dump();
      ids[i] = job.value("video_id", 0);
      ASSERT_GT(ids[i], 0) << job.dump();
    }
    server.Kill(SIGTERM);
    ASSERT_EQ(server.Wait(), 0) << server.Log();
  }
  // What an older version (or a hand edit) may have left in the store.
  auto edit = testing::RunCommand("sqlite3 " + testing::ShellQuote(dir.file("data/sopilot.db")) +
                                  " \"UPDATE videos SET file_name = CAST(X'636166E92E6D7034' AS TEXT),"
                                  " site_id = CAST(X'6C696E65FF' AS TEXT), operator_id_hash = CAST(X'0A01' AS TEXT)\"");
  ASSERT_EQ(edit.exit_code, 0) << edit.err;

  testing::ServerProcess server(SOPILOT_BIN, args, {}, dir.file("log2"));
  int port = server.Start();
  ASSERT_GT(port, 0) << server.Log();
  httplib::Client c("127.0.0.1", port);
  auto listed = c.Get("/videos");
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->status, 200) << listed->body;
  Json items = JsonOf(listed)["items"];
  ASSERT_EQ(items.size(), 2u) << listed->body;
  EXPECT_EQ(items[0].value("file_name", ""), "caf\xef\xbf\xbd.mp4");  // U+FFFD for the bad byte
  auto one = c.Get("/videos/" + std::to_string(ids[0]));
  ASSERT_TRUE(one);
  EXPECT_EQ(one->status, 200) << one->body;

  auto score = c.Post("/score", Json({{"gold_video_id", ids[0]}, {"trainee_video_id", ids[1]}}).dump(),
                      "application/json");
  ASSERT_TRUE(score);
  ASSERT_EQ(score->status, 202) << score->body;
  Json result;
  EXPECT_EQ(WaitForFinal(c, "/score/" + JsonOf(score).value("score_job_id", ""), &result), "completed")
      << result.dump();
  EXPECT_TRUE(server.running()) << server.Log();
  EXPECT_EQ(c.Get("/health")->status, 200);
}

// A job that throws fails that job — dead at once, since a retry would
// throw again — and never the process; a restart does not revive it; once
// the cause is gone an admin requeues it and it completes.
TEST(ExceptionBorderTest, AJobThatThrowsIsDeadAndTheServerCarriesOn) {
  testing::TempDir dir;
  MakeVideo(dir.file("v.mp4"), 3);
  const std::vector<std::string> args = {"serve", "--port", "0", "--data-dir", dir.file("data")};
  std::string job_id;
  {
    testing::ServerProcess server(SOPILOT_BIN, args,
                                  {"SOPILOT_ENABLE_FAULT_INJECTION=1", "SOPILOT_FAULT_THROW_IN=ingest"},
                                  dir.file("log1"));
    int port = server.Start();
    ASSERT_GT(port, 0) << server.Log();
    httplib::Client c("127.0.0.1", port);
    auto r = Upload(c, dir.file("v.mp4"), "v.mp4", "t");
    ASSERT_TRUE(r && r->status == 202) << (r ? r->body : "no answer");
    job_id = JsonOf(r).value("ingest_job_id", "");
    Json job;
    ASSERT_EQ(WaitForFinal(c, "/videos/jobs/" + job_id, &job), "dead") << job.dump();
    EXPECT_NE(job.value("error_message", "").find("injected exception"), std::string::npos) << job.dump();
    EXPECT_EQ(job.value("attempts", 0), 1) << "retried an exception: " << job.dump();
    Json queue = JsonOf(c.Get("/ops/queue"));
    EXPECT_NE(queue.dump().find(job_id), std::string::npos) << "the dead job is listed: " << queue.dump();
    EXPECT_EQ(c.Get("/health")->status, 200);
    EXPECT_TRUE(server.running()) << server.Log();
    server.Kill(SIGTERM);
    EXPECT_EQ(server.Wait(), 0) << server.Log();
  }
  testing::ServerProcess server(SOPILOT_BIN, args, {}, dir.file("log2"));
  int port = server.Start();
  ASSERT_GT(port, 0) << server.Log();
  httplib::Client c("127.0.0.1", port);
  EXPECT_EQ(JsonOf(c.Get("/videos/jobs/" + job_id)).value("status", ""), "dead") << "revived by a restart";
  auto requeued = c.Post("/ops/queue/ingest/requeue", Json({{"job_id", job_id}}).dump(), "application/json");
  ASSERT_TRUE(requeued);
  ASSERT_EQ(requeued->status, 202) << requeued->body;
  Json job;
  EXPECT_EQ(WaitForFinal(c, "/videos/jobs/" + job_id, &job), "completed") << job.dump();
}

// The watch folder: a file whose name is not UTF-8 is filed in .failed/
// with its reason, the watcher carries on (and takes the next file), and a
// restart does not stumble on it.
TEST(ExceptionBorderTest, AWatchedFileNamedInAnotherEncodingIsFiledAsFailed) {
  testing::TempDir dir;
  const std::string data = dir.file("data"), in = dir.file("in");
  fs::create_directories(in + "/t");
  MakeVideo(dir.file("a.mp4"), 5);
  MakeVideo(dir.file("b.mp4"), 6);
  testing::ServerProcess server(SOPILOT_BIN, {"serve", "--port", "0", "--data-dir", data}, {}, dir.file("serve.log"));
  int port = server.Start();
  ASSERT_GT(port, 0) << server.Log();
  const std::vector<std::string> watch_args = {"watch", in, "--data-dir", data, "--settle-sec", "0.2"};
  auto watcher = std::make_unique<testing::ServerProcess>(SOPILOT_BIN, watch_args, std::vector<std::string>{},
                                                          dir.file("watch1.log"));
  ASSERT_TRUE(watcher->StartUntil("sopilot: watching ")) << watcher->Log();
  fs::copy_file(dir.file("a.mp4"), in + "/t/caf\xe9.mp4");  // Latin-1, as an old camera names it
  auto count = [&](const std::string& sub, const std::string& suffix) {
    int n = 0;
    std::error_code ec;
    for (auto& e : fs::directory_iterator(in + "/" + sub, ec)) {
      const std::string name = e.path().filename().string();
      n += name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    }
    return n;
  };
  ASSERT_TRUE(WaitUntil([&] { return count(".failed", ".error.json") == 1; })) << watcher->Log();
  std::string error_json;
  for (auto& e : fs::directory_iterator(in + "/.failed")) {
    if (e.path().string().find(".error.json") != std::string::npos) error_json = Slurp(e.path().string());
  }
  Json err = Json::parse(error_json, nullptr, false);
  ASSERT_TRUE(err.is_object()) << error_json;
  EXPECT_NE(err.value("error", "").find("not valid UTF-8"), std::string::npos) << error_json;
  EXPECT_FALSE(fs::exists(in + "/t/caf\xe9.mp4"));
  EXPECT_TRUE(watcher->running()) << watcher->Log();

  // The watcher still works, and a restart with the failed file filed away
  // starts cleanly.
  fs::copy_file(dir.file("b.mp4"), in + "/t/b.mp4");
  ASSERT_TRUE(WaitUntil([&] { return count(".processed", ".json") == 1; })) << watcher->Log();
  watcher->Kill(SIGTERM);
  EXPECT_EQ(watcher->Wait(), 0) << watcher->Log();
  watcher = std::make_unique<testing::ServerProcess>(SOPILOT_BIN, watch_args, std::vector<std::string>{},
                                                     dir.file("watch2.log"));
  ASSERT_TRUE(watcher->StartUntil("sopilot: watching ")) << watcher->Log();
  fs::copy_file(dir.file("a.mp4"), in + "/t/\xff\xfe.mp4");
  ASSERT_TRUE(WaitUntil([&] { return count(".failed", ".error.json") == 2; })) << watcher->Log();
  EXPECT_TRUE(watcher->running()) << watcher->Log();
  watcher->Kill(SIGTERM);
  EXPECT_EQ(watcher->Wait(), 0) << watcher->Log();
}

}  // namespace
}  // namespace sopilot
