// `sopilot worker` processes beside `sopilot serve`, on a real redis-server
// (and on the embedded queue): jobs survive a SIGKILLed worker and a killed
// Redis, each completed exactly once.
#include "cli/worker_command.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "testing/postgres_server.h"
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
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

// The environment of a worker whose ingest jobs stay running once taken
// (the fault-injection test hook), so that a test knows a job is running.
const std::vector<std::string> kHoldIngest = {"SOPILOT_ENABLE_FAULT_INJECTION=1", "SOPILOT_TEST_HOLD_JOBS=ingest"};

// Polls `done` (a state) until it holds or a generous `timeout_sec` passes.
bool WaitUntil(const std::function<bool()>& done, double timeout_sec = 120) {
  auto deadline = Clock::now() + std::chrono::duration<double>(timeout_sec);
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return done();
}

TEST(ParseQueueListTest, OrderCaseAllAndErrors) {
  auto all = cli::ParseQueueList("all");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
  EXPECT_EQ(cli::ParseQueueList("")->size(), 3u);
  EXPECT_EQ(cli::ParseQueueList("*")->size(), 3u);
  auto two = cli::ParseQueueList(" Score , ingest,score");
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(*two, (std::vector<JobKind>{JobKind::kScore, JobKind::kIngest}));  // priority order kept
  auto bad = cli::ParseQueueList("ingest,gpu");
  EXPECT_EQ(bad.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("'gpu'"), std::string::npos);
  EXPECT_FALSE(cli::ParseQueueList(" , ").ok());
}

// An API process and worker processes on one data directory, and what the
// tests ask of them.
class Cluster {
 public:
  Cluster(testing::TempDir* dir, std::vector<std::string> env) : dir_(dir), env_(std::move(env)) {}

  int StartApi() {
    api_ = std::make_unique<testing::ServerProcess>(
        SOPILOT_BIN, std::vector<std::string>{"serve", "--port", "0", "--data-dir", dir_->file("data")}, env_,
        dir_->file("api.log"));
    port_ = api_->Start();
    return port_;
  }
  // Starts a worker (with `extra_env` besides the cluster's); returns its
  // metrics port (or -1).
  int StartWorker(const std::string& name, std::vector<std::string> extra = {},
                  const std::vector<std::string>& extra_env = {}) {
    std::vector<std::string> args = {"worker", "--metrics-port", "0", "--data-dir", dir_->file("data")};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<std::string> env = env_;
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    auto w = std::make_unique<testing::ServerProcess>(SOPILOT_BIN, args, env, dir_->file(name + ".log"));
    int port = w->Start();
    workers_[name] = std::move(w);
    return port;
  }
  testing::ServerProcess* worker(const std::string& name) { return workers_.at(name).get(); }
  testing::ServerProcess* api() { return api_.get(); }

  httplib::Result Upload(const std::string& path, const std::string& task, const std::string& role) {
    httplib::Client c("127.0.0.1", port_);
    httplib::MultipartFormDataItems items = {{"file", Slurp(path), "upload.mp4", "video/mp4"},
                                             {"task_id", task, "", ""},
                                             {"role", role, "", ""}};
    return c.Post("/videos", items);
  }
  Json Get(const std::string& path) {
    httplib::Client c("127.0.0.1", port_);
    auto r = c.Get(path.c_str());
    return r ? Json::parse(r->body, nullptr, false) : Json();
  }
  std::string Metrics(int port) {
    httplib::Client c("127.0.0.1", port);
    auto r = c.Get("/metrics");
    return r && r->status == 200 ? r->body : "";
  }
  int api_port() const { return port_; }

  // Waits until every job is in a final state; returns job id -> job JSON.
  std::map<std::string, Json> WaitAll(const std::vector<std::string>& ids, const std::string& route, double timeout) {
    std::map<std::string, Json> done;
    auto deadline = Clock::now() + std::chrono::duration<double>(timeout);
    while (done.size() < ids.size() && Clock::now() < deadline) {
      for (const std::string& id : ids) {
        if (done.count(id)) continue;
        Json j = Get(route + id);
        if (j.is_object() && j.contains("status") && j["status"] != "queued" && j["status"] != "running") done[id] = j;
      }
      if (done.size() < ids.size()) std::this_thread::sleep_for(milliseconds(100));
    }
    return done;
  }

  // How many times the audit log says each job completed, read straight
  // from the SQLite file, or from database `pg_db` of `pg` when the
  // metadata is in PostgreSQL.
  std::map<std::string, int> CompletionsByJob(const testing::PostgresServer* pg = nullptr,
                                              const std::string& pg_db = "") {
    std::map<std::string, int> out;
    if (pg != nullptr) {
      auto r = pg->Query(pg_db, "SELECT subject FROM audit_log WHERE action = 'job.completed'");
      EXPECT_TRUE(r.ok) << r.error;
      for (const std::string& subject : r.column) out[subject]++;
      return out;
    }
    sqlite3* db = nullptr;
    sqlite3_open_v2(dir_->file("data/sopilot.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT subject FROM audit_log WHERE action = 'job.completed'", -1, &st, nullptr);
    while (sqlite3_step(st) == SQLITE_ROW) out[reinterpret_cast<const char*>(sqlite3_column_text(st, 0))]++;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
  }

  // CompletionsByJob once every one of `ids` has its audit row: a worker
  // writes that row just after the job's final state, which the API may
  // already show, so the test waits on the rows, not on a moment.
  std::map<std::string, int> CompletionsOnceRecorded(const std::vector<std::string>& ids,
                                                     const testing::PostgresServer* pg = nullptr,
                                                     const std::string& pg_db = "") {
    std::map<std::string, int> out;
    WaitUntil([&] {
      out = CompletionsByJob(pg, pg_db);
      for (const std::string& id : ids) {
        if (out.count(id) == 0) return false;
      }
      return true;
    });
    return out;
  }

 private:
  testing::TempDir* dir_;
  std::vector<std::string> env_;
  std::unique_ptr<testing::ServerProcess> api_;
  std::map<std::string, std::unique_ptr<testing::ServerProcess>> workers_;
  int port_ = -1;
};

class DistributedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.Start()) << redis_.error();
    video_ = dir_.file("v.mp4");
    testing::MakeVideo(video_, "testsrc2=size=640x360:rate=25", 20);
  }
  std::vector<std::string> RedisEnv() {
    return {"SOPILOT_QUEUE_BACKEND=redis", "SOPILOT_REDIS_URL=" + redis_.url(), "SOPILOT_RQ_QUEUE_PREFIX=sop",
            "SOPILOT_LEASE_SEC=2"};
  }
  testing::TempDir dir_;
  testing::RedisServer redis_{dir_.path()};
  std::string video_;
};

// Two workers, 30 jobs, one worker SIGKILLed in the middle of a job: the job
// comes back after its lease and every job completes exactly once. Worker a
// holds the ingest job it takes (the fault-injection test hook), so it is
// certainly in the middle of that job when it is killed.
TEST_F(DistributedTest, ThirtyJobsTwoWorkersOneKilledMidJob) {
  Cluster cluster(&dir_, RedisEnv());
  ASSERT_GT(cluster.StartApi(), 0) << cluster.api()->Log();
  EXPECT_NE(cluster.api()->Log().find("no workers in this process"), std::string::npos) << cluster.api()->Log();
  ASSERT_GT(cluster.StartWorker("a", {}, kHoldIngest), 0) << cluster.worker("a")->Log();

  std::vector<std::string> ids;
  for (int i = 0; i < 30; ++i) {
    auto r = cluster.Upload(video_, "task-" + std::to_string(i % 3), i % 2 ? "trainee" : "gold");
    ASSERT_TRUE(r && r->status == 202) << (r ? r->body : "no response");
    ids.push_back(Json::parse(r->body)["ingest_job_id"]);
  }
  // The queue is in Redis under the configured prefix.
  EXPECT_NE(redis_.Cli("exists sop_ingest"), "");

  // Worker a leases a job and holds it running; find it in Redis.
  const std::string pid_a = ":" + std::to_string(cluster.worker("a")->pid()) + ":";
  std::string killed_job;
  ASSERT_TRUE(WaitUntil([&] {
    std::istringstream leased(redis_.Cli("zrange sop_ingest:leased 0 -1"));
    std::string id;
    while (leased >> id) {
      if (redis_.Cli("hget sop:job:" + id + " owner").find(pid_a) != std::string::npos) killed_job = id;
    }
    return !killed_job.empty() && cluster.Get("/videos/jobs/" + killed_job)["status"] == "running";
  })) << "worker a never held a job: " << cluster.worker("a")->Log();
  // Worker b takes the rest meanwhile; a dies in the middle of its job.
  int metrics_b = cluster.StartWorker("b");
  ASSERT_GT(metrics_b, 0) << cluster.worker("b")->Log();
  cluster.worker("a")->Kill(SIGKILL);
  EXPECT_EQ(cluster.worker("a")->Wait(), 128 + SIGKILL);

  auto done = cluster.WaitAll(ids, "/videos/jobs/", 300);
  ASSERT_EQ(done.size(), ids.size()) << cluster.worker("b")->Log();
  std::set<int64_t> video_ids;
  for (const auto& [id, job] : done) {
    EXPECT_EQ(job["status"], "completed") << job.dump();
    video_ids.insert(job["video_id"].get<int64_t>());
  }
  EXPECT_EQ(video_ids.size(), 30u);  // one video per job, none twice
  // Worker a died holding the lease, so only a reclaim by worker b can
  // acknowledge the job and remove it from Redis. (b runs it again, or finds
  // it already completed when a died between recording and acking: then
  // the row was final before the reclaim, so wait for it.)
  // The last job's row may also be final a moment before its ack.
  WaitUntil([&] {
    return redis_.Cli("exists sop:job:" + killed_job) == "0" && redis_.Cli("zcard sop_ingest:leased") == "0";
  });
  EXPECT_EQ(redis_.Cli("exists sop:job:" + killed_job), "0");
  EXPECT_EQ(redis_.Cli("zcard sop_ingest:leased"), "0");
  EXPECT_GE(done[killed_job]["attempts"].get<int>(), 1);
  Json videos = cluster.Get("/videos?limit=500");
  EXPECT_EQ(videos["items"].size(), 30u);
  auto completions = cluster.CompletionsOnceRecorded(ids);
  for (const std::string& id : ids) EXPECT_EQ(completions[id], 1) << id;
  Json queue = cluster.Get("/ops/queue");
  EXPECT_EQ(queue["queue"]["backend"], "redis");
  EXPECT_EQ(queue["queue"]["redis_ok"], true);
  EXPECT_EQ(queue["queue"]["queues"][0]["name"], "sop_ingest");
  EXPECT_EQ(queue["queue"]["queues"][0]["depth"], 0);

  // Worker b serves its own metrics; the API counts the dead worker out
  // once its heartbeat has run out (20 s after its last one).
  std::string wm = cluster.Metrics(metrics_b);
  EXPECT_GT(SeriesValue(wm, "sopilot_ingest_jobs_total{status=\"completed\"}"), 0) << wm;
  EXPECT_GT(SeriesValue(wm, "sopilot_job_duration_seconds_count{job_type=\"ingest\"}"), 0);
  EXPECT_EQ(SeriesValue(wm, "sopilot_redis_connection_errors_total"), 0);
  // Each process says what it is and that it can work (WorkerDown and
  // APIDown tell the two apart by this label).
  EXPECT_EQ(SeriesValue(wm, "sopilot_up{process=\"worker\"}"), 1) << wm;
  EXPECT_EQ(SeriesValue(wm, "sopilot_up{process=\"api\"}"), -1);
  EXPECT_EQ(SeriesValue(cluster.Metrics(cluster.api_port()), "sopilot_up{process=\"api\"}"), 1);
  auto active = [&] {
    return SeriesValue(cluster.Metrics(cluster.api_port()), "sopilot_active_workers{queue=\"ingest\"}");
  };
  EXPECT_TRUE(WaitUntil([&] { return active() == 1; })) << active();
  // A clean stop withdraws the worker at once: its heartbeat is gone from
  // Redis when it has exited (not 20 s later), and the API, which reads
  // the queue at most once a second, then counts no worker.
  const std::string pid_b = ":" + std::to_string(cluster.worker("b")->pid()) + ":";
  cluster.worker("b")->Kill(SIGTERM);
  EXPECT_EQ(cluster.worker("b")->Wait(), 0) << cluster.worker("b")->Log();
  EXPECT_EQ(redis_.Cli("zrange sop:workers:ingest 0 -1").find(pid_b), std::string::npos)
      << redis_.Cli("zrange sop:workers:ingest 0 -1");
  EXPECT_TRUE(WaitUntil([&] { return active() == 0; })) << active();
}

// Redis killed in the middle of a run and started again: the API refuses
// new work with 503 while it is down, the workers wait and reconnect, and
// every job accepted before the outage completes. Worker h holds the first
// job it takes (the fault-injection test hook), so Redis goes down while a
// job is certainly running and seven certainly wait; worker w is started
// during the outage and must reconnect.
TEST_F(DistributedTest, RedisKilledMidRunLosesNothingAndTheApiSays503MeanwhileTo) {
  Cluster cluster(&dir_, RedisEnv());
  ASSERT_GT(cluster.StartApi(), 0) << cluster.api()->Log();
  ASSERT_GT(cluster.StartWorker("h", {"--queues", "ingest,score"}, kHoldIngest), 0) << cluster.worker("h")->Log();
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) {
    auto r = cluster.Upload(video_, "outage", i == 0 ? "gold" : "trainee");
    ASSERT_TRUE(r && r->status == 202) << (r ? r->body : "no response");
    ids.push_back(Json::parse(r->body)["ingest_job_id"]);
  }
  // Down while one job runs and the others wait.
  auto count = [&](const std::string& status) {
    int n = 0;
    for (const std::string& id : ids) n += cluster.Get("/videos/jobs/" + id)["status"] == status;
    return n;
  };
  ASSERT_TRUE(WaitUntil([&] { return count("running") == 1; })) << cluster.worker("h")->Log();
  EXPECT_EQ(count("queued"), 7);
  redis_.Stop(SIGKILL);

  auto r = cluster.Upload(video_, "outage", "trainee");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503) << r->body;
  Json err = Json::parse(r->body, nullptr, false);
  ASSERT_TRUE(err.is_object()) << r->body;
  EXPECT_NE(err["error"].get<std::string>().find("unavailable"), std::string::npos) << r->body;
  httplib::Client c("127.0.0.1", cluster.api_port());
  auto score = c.Post("/score", Json{{"gold_video_id", 1}, {"trainee_video_id", 1}}.dump(), "application/json");
  ASSERT_TRUE(score);
  EXPECT_EQ(score->status, 503) << score->body;
  auto train = c.Post("/train/nightly", "", "application/json");
  ASSERT_TRUE(train);
  EXPECT_EQ(train->status, 503) << train->body;
  Json queue = cluster.Get("/ops/queue");  // still answers, and says why
  EXPECT_EQ(queue["queue"]["redis_ok"], false) << queue.dump();
  EXPECT_TRUE(queue["queue"]["error"].is_string());
  EXPECT_EQ(cluster.Get("/health")["status"], "ok");  // the API itself is up
  // A worker started during the outage fails to take jobs and backs off;
  // worker h dies holding its job, whose lease runs out in Redis.
  int worker_metrics = cluster.StartWorker("w", {"--queues", "ingest,score"});
  ASSERT_GT(worker_metrics, 0) << cluster.worker("w")->Log();
  ASSERT_TRUE(cluster.worker("w")->WaitForLog("cannot take jobs: .*retrying with backoff", 120))
      << cluster.worker("w")->Log();
  cluster.worker("h")->Kill(SIGKILL);
  EXPECT_EQ(cluster.worker("h")->Wait(), 128 + SIGKILL);

  ASSERT_TRUE(redis_.Start()) << redis_.error();
  auto done = cluster.WaitAll(ids, "/videos/jobs/", 300);
  ASSERT_EQ(done.size(), ids.size()) << cluster.worker("w")->Log();
  std::set<int64_t> video_ids;
  for (const auto& [id, job] : done) {
    EXPECT_EQ(job["status"], "completed") << job.dump();
    video_ids.insert(job["video_id"].get<int64_t>());
  }
  EXPECT_EQ(video_ids.size(), ids.size());
  auto completions = cluster.CompletionsOnceRecorded(ids);
  for (const std::string& id : ids) EXPECT_EQ(completions[id], 1) << id;
  EXPECT_NE(cluster.worker("w")->Log().find("queue reachable again"), std::string::npos) << cluster.worker("w")->Log();
  // Both sides counted their failures.
  EXPECT_GT(SeriesValue(cluster.Metrics(cluster.api_port()), "sopilot_redis_connection_errors_total"), 0);
  EXPECT_GT(SeriesValue(cluster.Metrics(worker_metrics), "sopilot_redis_connection_errors_total"), 0);
  // And work is accepted again.
  r = cluster.Upload(video_, "outage", "trainee");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202) << r->body;
}

// Several hosts: the metadata in PostgreSQL, the queue in Redis, and the API
// and the workers sharing nothing else but the blob directory (here one
// directory for every process, as a ReadWriteMany volume would be). Worker a
// holds the job it takes (the fault-injection test hook) and is SIGKILLed
// holding it; PostgreSQL is stopped (an immediate shutdown, as a crash) and
// started again while that job is unfinished and others wait. Every job
// completes exactly once, and no SQLite file appears. Then score jobs run on
// the same hosts and land in the score history.
TEST_F(DistributedTest, PostgresAndRedisSeveralHostsLoseNothing) {
  if (testing::PostgresBinDir().empty()) {
    GTEST_SKIP() << "PostgreSQL is not installed (scripts/install-deps.sh installs it)";
  }
  testing::PostgresServer pg;
  ASSERT_TRUE(pg.Start()) << pg.error();
  ASSERT_TRUE(pg.CreateDatabase("sopilot")) << pg.error();
  std::vector<std::string> env = RedisEnv();
  env.push_back("SOPILOT_DATABASE_URL=" + pg.Url("sopilot"));
  Cluster cluster(&dir_, env);
  ASSERT_GT(cluster.StartApi(), 0) << cluster.api()->Log();
  ASSERT_GT(cluster.StartWorker("a", {}, kHoldIngest), 0) << cluster.worker("a")->Log();
  // Nothing of the metadata or the queue is in the data directory: no
  // sopilot.db (nor its -wal, -shm or -journal) however the run goes.
  auto sqlite_files = [&] {
    std::string found;
    for (const auto& e : std::filesystem::directory_iterator(dir_.file("data"))) {
      const std::string name = e.path().filename().string();
      if (name.rfind("sopilot.db", 0) == 0) found += name + " ";
    }
    return found;
  };
  EXPECT_EQ(sqlite_files(), "");

  constexpr int kJobs = 24;
  std::vector<std::string> ids;
  for (int i = 0; i < kJobs; ++i) {
    auto r = cluster.Upload(video_, "task-" + std::to_string(i % 3), i % 2 ? "trainee" : "gold");
    ASSERT_TRUE(r && r->status == 202) << (r ? r->body : "no response");
    ids.push_back(Json::parse(r->body)["ingest_job_id"]);
  }
  // Worker a leases a job and holds it running.
  const std::string pid_a = ":" + std::to_string(cluster.worker("a")->pid()) + ":";
  std::string held_job;
  ASSERT_TRUE(WaitUntil([&] {
    std::istringstream leased(redis_.Cli("zrange sop_ingest:leased 0 -1"));
    std::string id;
    while (leased >> id) {
      if (redis_.Cli("hget sop:job:" + id + " owner").find(pid_a) != std::string::npos) held_job = id;
    }
    return !held_job.empty() && cluster.Get("/videos/jobs/" + held_job)["status"] == "running";
  })) << "worker a never held a job: " << cluster.worker("a")->Log();
  ASSERT_GT(cluster.StartWorker("b"), 0) << cluster.worker("b")->Log();
  ASSERT_GT(cluster.StartWorker("c"), 0) << cluster.worker("c")->Log();

  // PostgreSQL goes down while a's job is certainly unfinished; a dies
  // holding it, so its lease runs out during the outage.
  ASSERT_TRUE(pg.Stop());
  cluster.worker("a")->Kill(SIGKILL);
  EXPECT_EQ(cluster.worker("a")->Wait(), 128 + SIGKILL);
  // The API is not ready while the store does not answer (PostgreSQL stays
  // down until this holds, so the wait is on a state).
  Json ready;
  EXPECT_TRUE(WaitUntil([&] {
    ready = cluster.Get("/ready");
    return ready.is_object() && ready["ready"] == false && ready["db"] == false;
  })) << ready.dump();
  EXPECT_EQ(ready["queue"], true) << ready.dump();
  ASSERT_TRUE(pg.Start()) << pg.error();
  EXPECT_TRUE(WaitUntil([&] {
    ready = cluster.Get("/ready");
    return ready.is_object() && ready["ready"] == true;
  })) << ready.dump();

  auto done = cluster.WaitAll(ids, "/videos/jobs/", 300);
  ASSERT_EQ(done.size(), ids.size()) << cluster.worker("b")->Log() << cluster.worker("c")->Log();
  std::set<int64_t> video_ids;
  for (const auto& [id, job] : done) {
    EXPECT_EQ(job["status"], "completed") << job.dump();
    if (job["video_id"].is_number()) video_ids.insert(job["video_id"].get<int64_t>());
  }
  EXPECT_EQ(video_ids.size(), ids.size());  // one video per job, none twice
  EXPECT_GE(done[held_job]["attempts"].get<int>(), 1);
  Json videos = cluster.Get("/videos?limit=500");
  EXPECT_EQ(videos["items"].size(), ids.size()) << videos.dump();
  auto completions = cluster.CompletionsOnceRecorded(ids, &pg, "sopilot");
  for (const std::string& id : ids) {
    EXPECT_EQ(completions[id], 1) << id << "\n" << cluster.worker("b")->Log() << cluster.worker("c")->Log();
  }
  EXPECT_EQ(completions.size(), ids.size());
  // The held job's lease was reclaimed and acknowledged; nothing is left
  // leased (the last ack may follow its row by a moment).
  EXPECT_TRUE(WaitUntil([&] {
    return redis_.Cli("exists sop:job:" + held_job) == "0" && redis_.Cli("zcard sop_ingest:leased") == "0";
  })) << redis_.Cli("zrange sop_ingest:leased 0 -1");

  // Score jobs on the same hosts: each trainee of task-0 against the gold
  // uploaded before it (the same video, so a perfect score). Workers b and c
  // take them from Redis, read the embeddings from the shared directory and
  // record the results in PostgreSQL; each completes once, and the task's
  // score history, which PostgreSQL answers, lists all four.
  httplib::Client api("127.0.0.1", cluster.api_port());
  std::vector<std::string> scores;
  for (int g : {0, 6, 12, 18}) {  // ids[g] is a gold of task-0, ids[g + 3] a trainee of it
    auto post = api.Post("/score",
                         Json{{"gold_video_id", done[ids[g]]["video_id"]},
                              {"trainee_video_id", done[ids[g + 3]]["video_id"]}}
                             .dump(),
                         "application/json");
    ASSERT_TRUE(post && post->status == 202) << (post ? post->body : "no response");
    scores.push_back(Json::parse(post->body)["score_job_id"]);
  }
  auto scored = cluster.WaitAll(scores, "/score/", 300);
  ASSERT_EQ(scored.size(), scores.size()) << cluster.worker("b")->Log() << cluster.worker("c")->Log();
  for (const auto& [id, job] : scored) {
    EXPECT_EQ(job["status"], "completed") << job.dump();
    EXPECT_EQ(job["score"], 100.0) << job.dump();
    EXPECT_EQ(job["result"]["verdict"], "pass") << job.dump();
  }
  Json history = cluster.Get("/scores?task_id=task-0");
  EXPECT_EQ(history["items"].size(), scores.size()) << history.dump();
  completions = cluster.CompletionsOnceRecorded(scores, &pg, "sopilot");
  for (const std::string& id : scores) {
    EXPECT_EQ(completions[id], 1) << id << "\n" << cluster.worker("b")->Log() << cluster.worker("c")->Log();
  }
  EXPECT_EQ(sqlite_files(), "");
}

// With the embedded queue a worker process shares the SQLite data
// directory with `sopilot serve` (here running no worker threads itself).
TEST(WorkerSqliteTest, WorkerProcessRunsJobsOfTheEmbeddedQueue) {
  testing::TempDir dir;
  const std::string video = dir.file("v.mp4");
  testing::MakeVideo(video, "testsrc2=size=320x240:rate=25", 6);
  Cluster cluster(&dir, {"SOPILOT_INGEST_WORKERS=0", "SOPILOT_SCORE_WORKERS=0", "SOPILOT_TRAINING_WORKERS=0"});
  ASSERT_GT(cluster.StartApi(), 0) << cluster.api()->Log();
  int metrics = cluster.StartWorker("w", {"--concurrency", "2"});
  ASSERT_GT(metrics, 0) << cluster.worker("w")->Log();
  EXPECT_NE(cluster.worker("w")->Log().find("the embedded queue of"), std::string::npos);
  std::vector<std::string> ids;
  for (const char* role : {"gold", "trainee"}) {
    auto r = cluster.Upload(video, "shared", role);
    ASSERT_TRUE(r && r->status == 202) << (r ? r->body : "no response");
    ids.push_back(Json::parse(r->body)["ingest_job_id"]);
  }
  auto done = cluster.WaitAll(ids, "/videos/jobs/", 300);
  ASSERT_EQ(done.size(), 2u) << cluster.worker("w")->Log();
  for (const auto& [id, job] : done) EXPECT_EQ(job["status"], "completed") << job.dump();
  // The API's metrics count the worker process's two threads (the API reads
  // the queue at most once a second).
  auto active = [&] {
    return SeriesValue(cluster.Metrics(cluster.api_port()), "sopilot_active_workers{queue=\"ingest\"}");
  };
  EXPECT_TRUE(WaitUntil([&] { return active() == 2; })) << active();
  httplib::Client wc("127.0.0.1", metrics);
  auto health = wc.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200) << health->body;
  EXPECT_EQ(wc.Get("/nope")->status, 404);
}

TEST(WorkerUsageTest, BadQueuesAndBadRedisUrlAreUsageErrors) {
  testing::TempDir dir;
  testing::ServerProcess bad_queue(SOPILOT_BIN, {"worker", "--queues", "ingest,gpu", "--data-dir", dir.file("d")}, {},
                                   dir.file("log1"));
  EXPECT_EQ(bad_queue.Start(120), -1);
  EXPECT_EQ(bad_queue.Wait(), -1);  // already reaped by Start
  EXPECT_NE(bad_queue.Log().find("unknown queue 'gpu'"), std::string::npos) << bad_queue.Log();
  testing::ServerProcess bad_url(SOPILOT_BIN, {"worker", "--data-dir", dir.file("d")},
                                 {"SOPILOT_QUEUE_BACKEND=redis", "SOPILOT_REDIS_URL=rediss://h:1/0"}, dir.file("log2"));
  EXPECT_EQ(bad_url.Start(120), -1);
  EXPECT_NE(bad_url.Log().find("SOPILOT_REDIS_URL"), std::string::npos) << bad_url.Log();
}

}  // namespace
}  // namespace sopilot
