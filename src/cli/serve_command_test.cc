// `sopilot serve` as a process: start, stop, refuse bad configuration, and
// survive kill -9 with jobs queued and running.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "testing/command.h"
#include "testing/server_process.h"
#include "testing/temp_dir.h"
#include "testing/text.h"
#include "testing/test_videos.h"

namespace sopilot {
namespace {

using testing::SeriesValue;
using testing::Slurp;

using Json = nlohmann::json;
namespace fs = std::filesystem;

TEST(ServeTest, StartsServesAndStopsOnSigterm) {
  testing::TempDir dir;
  testing::ServerProcess server(SOPILOT_BIN, {"serve", "--port", "0", "--data-dir", dir.file("data")}, {},
                                dir.file("log"));
  int port = server.Start();
  ASSERT_GT(port, 0) << server.Log();
  EXPECT_NE(server.Log().find("listening on 127.0.0.1 only"), std::string::npos) << server.Log();
  httplib::Client c("127.0.0.1", port);
  auto health = c.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(c.Get("/ready")->status, 200);
  server.Kill(SIGTERM);
  EXPECT_EQ(server.Wait(), 0);
  EXPECT_NE(server.Log().find("stopped"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir.file("data/sopilot.db")));
}

TEST(ServeTest, RefusesToListenOnTheNetworkWithoutCredentials) {
  testing::TempDir dir;
  auto r = testing::RunCommand(std::string(SOPILOT_BIN) + " serve --host 0.0.0.0 --port 0 --data-dir " +
                               testing::ShellQuote(dir.file("data")));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("without credentials"), std::string::npos) << r.err;
}

TEST(ServeTest, InvalidConfigurationListsEveryProblem) {
  testing::TempDir dir;
  auto r = testing::RunCommand("SOPILOT_UPLOAD_MAX_MB=lots SOPILOT_API_TOKEN=t SOPILOT_API_TOKEN_ROLE=superuser "
                               "SOPILOT_INGEST_TIMEOUT_SEC=-5 " + std::string(SOPILOT_BIN) + " serve --data-dir " +
                               testing::ShellQuote(dir.file("data")));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("SOPILOT_UPLOAD_MAX_MB"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("superuser"), std::string::npos) << r.err;
}

// Jobs queued and running when the server is killed with SIGKILL all reach
// a final state after a restart, each result recorded once, no file orphaned.
// The first server holds its ingest jobs once they are running (the
// fault-injection test hook), so the kill comes while one job is certainly
// running and the other five are certainly queued, however fast the machine.
TEST(ServeTest, KillNineMidWorkLosesNothingAndDuplicatesNothing) {
  testing::TempDir dir;
  std::vector<std::string> videos;
  for (int i = 0; i < 6; ++i) {
    std::string p = dir.file("v" + std::to_string(i) + ".mp4");
    testing::MakeProcedureVideo(p, {{testing::DistinctScenes()[i], 6.0}, {testing::DistinctScenes()[i + 1], 6.0}},
                                "640x360", 25);
    videos.push_back(p);
  }
  const std::vector<std::string> env = {"SOPILOT_LEASE_SEC=1", "SOPILOT_INGEST_WORKERS=1"};
  std::vector<std::string> held_env = env;
  held_env.push_back("SOPILOT_ENABLE_FAULT_INJECTION=1");
  held_env.push_back("SOPILOT_TEST_HOLD_JOBS=ingest");
  const std::vector<std::string> args = {"serve", "--port", "0", "--data-dir", dir.file("data")};
  auto server = std::make_unique<testing::ServerProcess>(SOPILOT_BIN, args, held_env, dir.file("log1"));
  int port = server->Start();
  ASSERT_GT(port, 0) << server->Log();

  std::vector<std::string> jobs;
  std::string running_job;
  {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(60, 0);
    for (size_t i = 0; i < videos.size(); ++i) {
      httplib::MultipartFormDataItems items = {{"file", Slurp(videos[i]), "v" + std::to_string(i) + ".mp4", "video/mp4"},
                                               {"task_id", "crash", "", ""}};
      auto r = c.Post("/videos", items);
      ASSERT_TRUE(r && r->status == 202) << (r ? r->body : "no response");
      jobs.push_back(Json::parse(r->body)["ingest_job_id"]);
    }
    // Kill while one job runs (held: the one ingest worker waits in it) and
    // the others wait in the queue.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    Json hooks;
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = c.Get("/ops/fault-injection");
      ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "no response");
      hooks = Json::parse(r->body);
      if (hooks["held"]["ingest"] == 1) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_EQ(hooks["held"]["ingest"], 1) << hooks.dump() << server->Log();
    int queued = 0;
    for (const std::string& id : jobs) {
      auto r = c.Get(("/videos/jobs/" + id).c_str());
      ASSERT_TRUE(r && r->status == 200);
      const std::string status = Json::parse(r->body)["status"];
      if (status == "running") {
        EXPECT_TRUE(running_job.empty()) << "two jobs running with one worker";
        running_job = id;
      }
      queued += status == "queued";
    }
    ASSERT_FALSE(running_job.empty());
    EXPECT_EQ(queued, 5);
  }
  server->Kill(SIGKILL);
  EXPECT_EQ(server->Wait(), 128 + SIGKILL);

  server = std::make_unique<testing::ServerProcess>(SOPILOT_BIN, args, env, dir.file("log2"));
  port = server->Start();
  ASSERT_GT(port, 0) << server->Log();
  std::smatch m;
  std::string log = server->Log();
  ASSERT_TRUE(std::regex_search(log, m, std::regex("([0-9]+) unfinished jobs requeued"))) << log;
  EXPECT_EQ(std::stoi(m[1]), 6) << "every job was queued or running when killed";
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(30, 0);
  std::set<int64_t> video_ids;
  for (const std::string& id : jobs) {
    Json job;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(300);
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = c.Get(("/videos/jobs/" + id).c_str());
      ASSERT_TRUE(r);
      job = Json::parse(r->body);
      if (job["status"] != "queued" && job["status"] != "running") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_EQ(job["status"], "completed") << job.dump();
    video_ids.insert(job["video_id"].get<int64_t>());
    // The job that was running when the server died ran again.
    if (id == running_job) {
      EXPECT_GE(job["attempts"].get<int>(), 2);
    }
  }
  EXPECT_EQ(video_ids.size(), jobs.size());
  Json list = Json::parse(c.Get("/videos?task_id=crash")->body);
  EXPECT_EQ(list["items"].size(), jobs.size()) << "a job recorded its video twice";
  // Every stored file belongs to a video; nothing half-written remains.
  size_t raw = 0, emb = 0;
  for (auto& e : fs::directory_iterator(dir.file("data/raw"))) raw += e.is_regular_file();
  for (auto& e : fs::directory_iterator(dir.file("data/embeddings"))) emb += e.is_regular_file();
  EXPECT_EQ(raw, jobs.size());
  EXPECT_EQ(emb, jobs.size());
  EXPECT_TRUE(fs::is_empty(dir.file("data/incoming")));
  for (auto& e : fs::recursive_directory_iterator(dir.file("data"))) {
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
  }
  server->Kill(SIGTERM);
  EXPECT_EQ(server->Wait(), 0);
}

// Identical uploads share one stored file. Deleting the video of the first
// while the second's ingest waits in the queue must keep that file: the
// waiting job still needs it (issue: an accepted upload was lost as
// "ingest file missing"). One ingest worker, held in a third video's job, so
// the identical upload is certainly still queued when the delete comes.
TEST(ServeTest, DeletingAVideoKeepsTheFileAnIdenticalQueuedUploadNeeds) {
  testing::TempDir dir;
  const std::string a = dir.file("a.mp4"), b = dir.file("b.mp4");
  testing::MakeProcedureVideo(a, {{testing::DistinctScenes()[0], 4.0}, {testing::DistinctScenes()[1], 4.0}}, "320x240",
                              25);
  testing::MakeProcedureVideo(b, {{testing::DistinctScenes()[2], 4.0}, {testing::DistinctScenes()[3], 4.0}}, "320x240",
                              25);
  testing::ServerProcess server(
      SOPILOT_BIN, {"serve", "--port", "0", "--data-dir", dir.file("data")},
      {"SOPILOT_INGEST_WORKERS=1", "SOPILOT_ENABLE_FAULT_INJECTION=1"}, dir.file("log"));
  int port = server.Start();
  ASSERT_GT(port, 0) << server.Log();
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(60, 0);
  auto upload = [&](const std::string& path) -> std::string {
    httplib::MultipartFormDataItems items = {{"file", Slurp(path), fs::path(path).filename().string(), "video/mp4"},
                                             {"task_id", "blobs", "", ""}};
    auto r = c.Post("/videos", items);
    if (!r || r->status != 202) {
      ADD_FAILURE() << (r ? r->body : "no response");
      return "";
    }
    return Json::parse(r->body)["ingest_job_id"];
  };
  auto job_status = [&](const std::string& id) {
    auto r = c.Get(("/videos/jobs/" + id).c_str());
    return r && r->status == 200 ? Json::parse(r->body) : Json();
  };
  auto wait_until = [&](const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(180);
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  };

  const std::string first = upload(a);
  ASSERT_TRUE(wait_until([&] { return job_status(first)["status"] == "completed"; })) << job_status(first).dump();
  const int64_t first_video = job_status(first)["video_id"];

  ASSERT_EQ(c.Post("/ops/fault-injection", R"({"job_type": "ingest", "hold": true})", "application/json")->status, 200);
  const std::string blocker = upload(b);
  ASSERT_TRUE(wait_until([&] { return job_status(blocker)["status"] == "running"; })) << server.Log();
  const std::string second = upload(a);  // same bytes as the first
  ASSERT_EQ(job_status(second)["status"], "queued") << "the one worker is held in another job";

  auto deleted = c.Delete(("/videos/" + std::to_string(first_video)).c_str());
  ASSERT_TRUE(deleted && deleted->status == 200) << (deleted ? deleted->body : "no response");
  const Json deleted_body = Json::parse(deleted->body);
  for (const auto& f : deleted_body["removed_files"]) {
    EXPECT_EQ(f.get<std::string>().find("/raw/"), std::string::npos) << "removed the queued upload's file: " << f;
  }

  ASSERT_EQ(c.Post("/ops/fault-injection", R"({"job_type": "ingest", "hold": false})", "application/json")->status, 200);
  ASSERT_TRUE(wait_until([&] {
    const std::string st = job_status(second)["status"];
    return st != "queued" && st != "running";
  }));
  Json done = job_status(second);
  ASSERT_EQ(done["status"], "completed") << done.dump();
  auto file = c.Get(("/videos/" + std::to_string(done["video_id"].get<int64_t>()) + "/file").c_str());
  ASSERT_TRUE(file && file->status == 200);
  EXPECT_TRUE(file->body == Slurp(a)) << "the stored upload is not the uploaded bytes";

  // Once no video and no job needs it, a delete does remove it.
  auto again = c.Delete(("/videos/" + std::to_string(done["video_id"].get<int64_t>())).c_str());
  ASSERT_TRUE(again && again->status == 200);
  bool raw_removed = false;
  const Json again_body = Json::parse(again->body);
  for (const auto& f : again_body["removed_files"]) {
    raw_removed |= f.get<std::string>().find("/raw/") != std::string::npos;
  }
  EXPECT_TRUE(raw_removed) << again->body;
  server.Kill(SIGTERM);
  EXPECT_EQ(server.Wait(), 0);
}

// A 30 kB file whose timestamps were multiplied 20,000 times declares 22
// hours. Its ingest fails at once, for good (one attempt, never retried), and
// says why, instead of decoding 80,000 clips and asking the scorer for an
// 80,000² matrix.
TEST(ServeTest, ATimestampBombFailsFastWithAClearError) {
  testing::TempDir dir;
  const std::string bomb = dir.file("bomb.mkv");
  ASSERT_EQ(testing::Ffmpeg("-f lavfi -i testsrc2=size=64x48:rate=25:duration=4 -c:v mpeg4 -bsf:v " +
                            testing::ShellQuote("setts=ts=PTS*20000") + " " + testing::ShellQuote(bomb)),
            "");
  testing::ServerProcess server(SOPILOT_BIN, {"serve", "--port", "0", "--data-dir", dir.file("data")},
                                {"SOPILOT_RQ_RETRY_MAX=3", "SOPILOT_RETRY_BACKOFF_SEC=0"}, dir.file("log"));
  int port = server.Start();
  ASSERT_GT(port, 0) << server.Log();
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(60, 0);
  httplib::MultipartFormDataItems items = {{"file", Slurp(bomb), "bomb.mkv", "video/x-matroska"},
                                           {"task_id", "bombs", "", ""}};
  auto r = c.Post("/videos", items);
  ASSERT_TRUE(r && r->status == 202) << (r ? r->body : "no response");
  const std::string id = Json::parse(r->body)["ingest_job_id"];
  Json job;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(180);
  while (std::chrono::steady_clock::now() < deadline) {
    job = Json::parse(c.Get(("/videos/jobs/" + id).c_str())->body);
    if (job["status"] != "queued" && job["status"] != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(job["status"], "failed") << job.dump();
  EXPECT_EQ(job["attempts"], 1) << "a limit is not a temporary error: " << job.dump();
  EXPECT_NE(job["error_message"].get<std::string>().find("limit on a video's length"), std::string::npos)
      << job.dump();
  EXPECT_EQ(Json::parse(c.Get("/videos?task_id=bombs")->body)["items"].size(), 0u);
  server.Kill(SIGTERM);
  EXPECT_EQ(server.Wait(), 0);
}

}  // namespace
}  // namespace sopilot
