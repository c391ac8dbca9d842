// `sopilot watch` as a process, beside a real `sopilot serve` on the same data
// directory: videos dropped in the layout and by name pattern are ingested
// once each with receipts, a non-video fails with its reason, a file still
// being written is not taken until it is complete, and a watcher killed
// with -9 after taking a file finishes it after a restart, without a
// duplicate.
#include <gtest/gtest.h>
#include <httplib.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "testing/command.h"
#include "testing/redis_server.h"
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

bool WaitUntil(const std::function<bool()>& done, double timeout_sec) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_sec);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

// Receipts in DIR/.processed (or error files in .failed) by source path.
std::map<std::string, Json> Receipts(const std::string& dir, const std::string& sub, const std::string& suffix) {
  std::map<std::string, Json> out;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(dir + "/" + sub, ec)) {
    std::string name = e.path().filename().string();
    if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    if (name.find(".tmp.") != std::string::npos) continue;
    Json j = Json::parse(Slurp(e.path().string()), nullptr, false);
    std::string source = j.is_object() ? j.value("source", "") : "";
    EXPECT_FALSE(out.count(source)) << "two receipts for " << source;
    j["_file"] = name.substr(0, name.size() - suffix.size());
    out[source] = j;
  }
  return out;
}

TEST(WatchCommandTest, UsageErrors) {
  testing::TempDir dir;
  const std::string bin = SOPILOT_BIN;
  auto r = testing::RunCommand(bin + " watch " + testing::ShellQuote(dir.file("in")) + " --role boss --data-dir " +
                               testing::ShellQuote(dir.file("data")));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("'boss'"), std::string::npos) << r.err;
  r = testing::RunCommand("SOPILOT_WATCH_SETTLE_SEC=soon " + bin + " watch " + testing::ShellQuote(dir.file("in")));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("SOPILOT_WATCH_SETTLE_SEC"), std::string::npos) << r.err;
  r = testing::RunCommand(bin + " watch --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--gold-pattern"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir.file("data"))) << "nothing is opened on a usage error";
}

TEST(WatchCommandTest, StopsOnSigtermAndDefaultsToTheDataDirsInbox) {
  testing::TempDir dir;
  testing::ServerProcess watcher(SOPILOT_BIN, {"watch", "--data-dir", dir.file("data")}, {}, dir.file("log"));
  ASSERT_TRUE(watcher.StartUntil("sopilot: watching ")) << watcher.Log();
  EXPECT_TRUE(fs::is_directory(dir.file("data/watch_inbox/.processing")));
  EXPECT_TRUE(fs::is_directory(dir.file("data/watch_inbox/.processed")));
  EXPECT_TRUE(fs::is_directory(dir.file("data/watch_inbox/.failed")));
  watcher.Kill(SIGTERM);
  EXPECT_EQ(watcher.Wait(), 0) << watcher.Log();
  EXPECT_NE(watcher.Log().find("SIGTERM received"), std::string::npos) << watcher.Log();
}

TEST(WatchCommandTest, EndToEndWithServeIncludingAFileBeingWrittenAndARestart) {
  testing::TempDir dir;
  const std::string data = dir.file("data"), in = dir.file("in"), src = dir.file("src");
  fs::create_directories(src);
  // taskA's directories exist before the watcher starts (their files are
  // reported by inotify); taskC and taskD are made afterwards (their first
  // files are found by listing the new directory).
  fs::create_directories(in + "/taskA/gold");
  fs::create_directories(in + "/taskA/trainee");
  // Distinct videos (the same bytes would be the same content).
  auto make = [&](const std::string& name, int k) {
    std::string p = src + "/" + name;
    testing::MakeProcedureVideo(p, {{testing::DistinctScenes()[k % 10], 2.0}, {testing::DistinctScenes()[(k + 3) % 10], 2.0}},
                                "320x180", 12);
    return p;
  };
  std::map<std::string, std::string> made;  // source path in DIR -> generated file
  const std::vector<std::pair<std::string, std::pair<std::string, std::string>>> expected = {
      // source in DIR, (task, role)
      {"taskA/gold/g.mp4", {"taskA", "gold"}},
      {"taskA/trainee/t1.mp4", {"taskA", "trainee"}},
      {"cam1_gold.mp4", {"rootTask", "gold"}},          // --task, role by name
      {"taskC/cam2_trainee.mp4", {"taskC", "trainee"}},  // role by name
      {"taskC/other.mp4", {"taskC", "audit"}},            // --role
      {"taskA/trainee/slow.mp4", {"taskA", "trainee"}},  // written slowly
      {"taskD/slow2.mp4", {"taskD", "audit"}},           // written slowly in a new directory
      {"taskA/trainee/late.mp4", {"taskA", "trainee"}},  // across the restart
  };
  for (size_t i = 0; i < expected.size(); ++i) made[expected[i].first] = make(std::to_string(i) + "v.mp4", int(i));

  const std::vector<std::string> serve_args = {"serve", "--port", "0", "--data-dir", data};
  auto server = std::make_unique<testing::ServerProcess>(SOPILOT_BIN, serve_args, std::vector<std::string>{},
                                                         dir.file("serve1.log"));
  ASSERT_GT(server->Start(), 0) << server->Log();
  const std::vector<std::string> watch_args = {"watch", in, "--data-dir", data, "--task", "rootTask", "--role", "audit",
                                               "--settle-sec", "0.5"};
  auto watcher = std::make_unique<testing::ServerProcess>(SOPILOT_BIN, watch_args, std::vector<std::string>{},
                                                          dir.file("watch1.log"));
  ASSERT_TRUE(watcher->StartUntil("sopilot: watching ")) << watcher->Log();

  // Dropped by copying in place (the writer closes: IN_CLOSE_WRITE), by
  // rename (IN_MOVED_TO), and into directories made after the start.
  auto drop = [&](const std::string& rel) {
    fs::create_directories(fs::path(in + "/" + rel).parent_path());
    fs::copy_file(made[rel], in + "/" + rel);
  };
  drop("taskA/gold/g.mp4");
  drop("taskA/trainee/t1.mp4");
  fs::copy_file(made["cam1_gold.mp4"], dir.file("staged.mp4"));
  fs::rename(dir.file("staged.mp4"), in + "/cam1_gold.mp4");
  drop("taskC/cam2_trainee.mp4");
  drop("taskC/other.mp4");
  std::ofstream(in + "/taskA/trainee/broken.mp4") << "this is not a video";
  std::ofstream(in + "/taskA/readme.txt") << "not a video either, and not taken";

  // Files still being written: half of each, held open for writing past the
  // settle time. In a watched directory the missing close holds slow.mp4
  // back; in a directory made just now the watch may come too late to see
  // the writes, and the open-for-writing check holds slow2.mp4 back.
  struct Slow {
    std::string rel, path, bytes;
    int fd = -1;
  };
  std::vector<Slow> slows(2);
  slows[0].rel = "taskA/trainee/slow.mp4";
  slows[1].rel = "taskD/slow2.mp4";
  for (Slow& s : slows) {
    s.path = in + "/" + s.rel;
    s.bytes = Slurp(made[s.rel]);
    fs::create_directories(fs::path(s.path).parent_path());
    s.fd = open(s.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ASSERT_GE(s.fd, 0);
    ASSERT_EQ(write(s.fd, s.bytes.data(), s.bytes.size() / 2), static_cast<ssize_t>(s.bytes.size() / 2));
  }
  ASSERT_TRUE(WaitUntil([&] { return Receipts(in, ".processed", ".json").size() == 5; }, 300)) << watcher->Log();
  // The watcher has looked at each half-written file once it had been
  // unchanged for the settle time, and decided to wait for it.
  ASSERT_TRUE(watcher->WaitForLog("slow\\.mp4: unchanged for 0\\.5 s but its writer has not closed it; waiting", 120))
      << watcher->Log();
  ASSERT_TRUE(watcher->WaitForLog("slow2\\.mp4: (unchanged for 0\\.5 s but its writer has not closed it|a process "
                                  "still has it open for writing); waiting",
                                  120))
      << watcher->Log();
  const std::string log = watcher->Log();
  for (const Slow& s : slows) {
    EXPECT_TRUE(fs::exists(s.path)) << log;
    EXPECT_EQ(log.find(s.rel + ": taken"), std::string::npos) << log;
  }
  for (Slow& s : slows) {
    const size_t half = s.bytes.size() / 2;
    ASSERT_EQ(write(s.fd, s.bytes.data() + half, s.bytes.size() - half), static_cast<ssize_t>(s.bytes.size() - half));
    ASSERT_EQ(close(s.fd), 0);
  }
  ASSERT_TRUE(WaitUntil([&] { return Receipts(in, ".processed", ".json").size() == 7; }, 300)) << watcher->Log();

  auto failed = Receipts(in, ".failed", ".error.json");
  ASSERT_EQ(failed.size(), 1u) << watcher->Log();
  ASSERT_TRUE(failed.count("taskA/trainee/broken.mp4"));
  const Json& broken = failed["taskA/trainee/broken.mp4"];
  EXPECT_EQ(broken["status"], "failed");
  EXPECT_NE(broken["error"].get<std::string>().find("broken.mp4"), std::string::npos) << broken.dump();
  EXPECT_EQ(Slurp(in + "/.failed/" + broken["_file"].get<std::string>()), "this is not a video");

  // The restart: with the service down, the watcher takes and submits a
  // file (its job waits in the queue), and is killed with -9.
  server->Kill(SIGTERM);
  ASSERT_EQ(server->Wait(), 0);
  drop("taskA/trainee/late.mp4");
  ASSERT_TRUE(watcher->WaitForLog("late\\.mp4: submitted: ingest job [-0-9a-f]+ queued", 120)) << watcher->Log();
  watcher->Kill(SIGKILL);
  EXPECT_EQ(watcher->Wait(), 128 + SIGKILL);
  size_t in_processing = 0;
  for (auto& e : fs::directory_iterator(in + "/.processing")) in_processing += e.is_regular_file();
  EXPECT_EQ(in_processing, 2u) << "the file and its intent";

  server = std::make_unique<testing::ServerProcess>(SOPILOT_BIN, serve_args, std::vector<std::string>{},
                                                    dir.file("serve2.log"));
  int port = server->Start();
  ASSERT_GT(port, 0) << server->Log();
  watcher = std::make_unique<testing::ServerProcess>(SOPILOT_BIN, watch_args, std::vector<std::string>{},
                                                     dir.file("watch2.log"));
  ASSERT_TRUE(watcher->StartUntil("sopilot: watching ")) << watcher->Log();
  EXPECT_NE(watcher->Log().find("late.mp4: resuming"), std::string::npos) << watcher->Log();
  ASSERT_TRUE(WaitUntil([&] { return Receipts(in, ".processed", ".json").size() == expected.size(); }, 300))
      << watcher->Log();

  // Every video once: one receipt each, one video each, as the layout says.
  auto receipts = Receipts(in, ".processed", ".json");
  httplib::Client c("127.0.0.1", port);
  auto list = c.Get("/videos?limit=500");
  ASSERT_TRUE(list && list->status == 200);
  Json videos = Json::parse(list->body)["items"];
  EXPECT_EQ(videos.size(), expected.size()) << videos.dump();
  std::map<int64_t, Json> by_id;
  for (const Json& v : videos) by_id[v["video_id"].get<int64_t>()] = v;
  std::set<int64_t> seen;
  for (const auto& [source, place] : expected) {
    ASSERT_TRUE(receipts.count(source)) << source;
    const Json& r = receipts[source];
    EXPECT_EQ(r["status"], "completed") << r.dump();
    EXPECT_EQ(r["task_id"], place.first) << source;
    EXPECT_EQ(r["role"], place.second) << source;
    EXPECT_EQ(r["sha256"].get<std::string>().size(), 64u);
    int64_t id = r["video_id"].get<int64_t>();
    EXPECT_TRUE(seen.insert(id).second) << "video " << id << " twice";
    ASSERT_TRUE(by_id.count(id)) << source;
    EXPECT_EQ(by_id[id]["task_id"], place.first);
    EXPECT_EQ(by_id[id]["role"], place.second);
    EXPECT_GT(by_id[id]["num_clips"].get<int>(), 0);
    // The video itself, complete, beside its receipt.
    EXPECT_EQ(Slurp(in + "/.processed/" + r["_file"].get<std::string>()), Slurp(made[source])) << source;
    EXPECT_FALSE(fs::exists(in + "/" + source));
    auto job = c.Get(("/videos/jobs/" + r["ingest_job_id"].get<std::string>()).c_str());
    ASSERT_TRUE(job && job->status == 200);
    EXPECT_EQ(Json::parse(job->body)["requested_by"], "watcher:folder");
  }
  EXPECT_TRUE(fs::is_empty(in + "/.processing"));
  EXPECT_TRUE(fs::exists(in + "/taskA/readme.txt"));
  EXPECT_TRUE(fs::is_empty(data + "/incoming"));
  // One ingest job per file: the restart submitted nothing twice.
  Json queue = Json::parse(c.Get("/ops/queue")->body);
  EXPECT_EQ(queue["jobs"]["ingest"]["total"], static_cast<int>(expected.size()) + 1) << queue.dump();

  watcher->Kill(SIGTERM);
  EXPECT_EQ(watcher->Wait(), 0);
  server->Kill(SIGTERM);
  EXPECT_EQ(server->Wait(), 0);
}

// Distributed mode: the Redis queue and a `sopilot worker` process. While
// Redis is down the watcher takes files but keeps them in .processing/ (never
// .failed/); once it is back each is ingested once.
TEST(WatchCommandTest, RedisDownKeepsFilesInProcessingThenAWorkerIngestsEachOnce) {
  testing::TempDir dir;
  testing::RedisServer redis(dir.path());
  ASSERT_TRUE(redis.Start()) << redis.error();
  const std::string data = dir.file("data"), in = dir.file("in");
  std::vector<std::string> videos;
  for (int i = 0; i < 2; ++i) {
    videos.push_back(dir.file(std::to_string(i) + "src.mp4"));
    testing::MakeProcedureVideo(videos.back(), {{testing::DistinctScenes()[i], 2.0}, {testing::DistinctScenes()[i + 5], 2.0}},
                                "320x180", 12);
  }
  const std::vector<std::string> env = {"SOPILOT_QUEUE_BACKEND=redis", "SOPILOT_REDIS_URL=" + redis.url(),
                                        "SOPILOT_RQ_QUEUE_PREFIX=watch"};
  testing::ServerProcess watcher(SOPILOT_BIN, {"watch", in, "--data-dir", data, "--settle-sec", "0.3"}, env,
                                 dir.file("watch.log"));
  ASSERT_TRUE(watcher.StartUntil("sopilot: watching ")) << watcher.Log();
  EXPECT_NE(watcher.Log().find("redis redis://127.0.0.1:"), std::string::npos) << watcher.Log();
  testing::ServerProcess worker(SOPILOT_BIN, {"worker", "--metrics-port", "0", "--data-dir", data}, env,
                                dir.file("worker.log"));
  ASSERT_GT(worker.Start(), 0) << worker.Log();

  redis.Stop(SIGKILL);
  fs::create_directories(in + "/outage/gold");
  fs::create_directories(in + "/outage/trainee");
  fs::copy_file(videos[0], in + "/outage/gold/g.mp4");
  fs::copy_file(videos[1], in + "/outage/trainee/t.mp4");
  ASSERT_TRUE(watcher.WaitForLog("t\\.mp4: .*unavailable.*; will try again \\(the file stays in \\.processing/\\)", 120))
      << watcher.Log();
  ASSERT_TRUE(watcher.WaitForLog("g\\.mp4: .*unavailable.*; will try again", 120)) << watcher.Log();
  // Both submissions have failed and are waiting to be retried: the files
  // are in .processing/. (That no retry during the outage sends a file to
  // .failed/ is checked at the end: .failed/ is still empty then.)
  EXPECT_TRUE(fs::is_empty(in + "/.failed"));
  EXPECT_EQ(Receipts(in, ".processed", ".json").size(), 0u);
  size_t waiting = 0;
  for (auto& e : fs::directory_iterator(in + "/.processing")) waiting += e.is_regular_file();
  EXPECT_EQ(waiting, 4u) << "two files and their intents";

  ASSERT_TRUE(redis.Start()) << redis.error();
  ASSERT_TRUE(WaitUntil([&] { return Receipts(in, ".processed", ".json").size() == 2; }, 300))
      << watcher.Log() << worker.Log();
  auto receipts = Receipts(in, ".processed", ".json");
  EXPECT_EQ(receipts["outage/gold/g.mp4"]["role"], "gold");
  EXPECT_EQ(receipts["outage/trainee/t.mp4"]["role"], "trainee");
  EXPECT_NE(receipts["outage/gold/g.mp4"]["video_id"], receipts["outage/trainee/t.mp4"]["video_id"]);
  EXPECT_TRUE(fs::is_empty(in + "/.failed"));
  EXPECT_TRUE(fs::is_empty(in + "/.processing"));

  // The service's view: one video per file, one ingest job per file.
  testing::ServerProcess api(SOPILOT_BIN, {"serve", "--port", "0", "--data-dir", data},
                             {env[0], env[1], env[2], "SOPILOT_INGEST_WORKERS=0", "SOPILOT_SCORE_WORKERS=0",
                              "SOPILOT_TRAINING_WORKERS=0"},
                             dir.file("api.log"));
  int port = api.Start();
  ASSERT_GT(port, 0) << api.Log();
  httplib::Client c("127.0.0.1", port);
  Json list = Json::parse(c.Get("/videos?task_id=outage")->body);
  EXPECT_EQ(list["items"].size(), 2u) << list.dump();
  Json queue = Json::parse(c.Get("/ops/queue")->body);
  EXPECT_EQ(queue["jobs"]["ingest"]["total"], 2) << queue.dump();
  for (testing::ServerProcess* p : {&watcher, &worker, &api}) {
    p->Kill(SIGTERM);
    EXPECT_EQ(p->Wait(), 0) << p->Log();
  }
}

}  // namespace
}  // namespace sopilot
