// Training through real `sopilot serve` processes: the API flow (train,
// then score in the new index version, metrics), the default (adapter off:
// skipped with its reason), and the nightly scheduler with two processes on
// one data directory (one schedules, the run is queued once).
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <functional>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "store/metadata_store.h"  // UnixFromIsoTimestamp
#include "testing/server_process.h"
#include "testing/temp_dir.h"
#include "testing/text.h"
#include "testing/test_videos.h"

namespace sopilot {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

using testing::SeriesValue;
using testing::Slurp;

class Server {
 public:
  Server(const testing::TempDir& dir, const std::string& name, std::vector<std::string> env)
      : process_(SOPILOT_BIN, {"serve", "--port", "0", "--data-dir", dir.file("data")}, std::move(env),
                 dir.file(name + ".log")) {}
  bool Start() {
    port_ = process_.Start();
    if (port_ <= 0) return false;
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    client_->set_read_timeout(60, 0);
    return true;
  }
  httplib::Client& http() { return *client_; }
  testing::ServerProcess& process() { return process_; }
  Json GetJson(const std::string& path) {
    auto r = client_->Get(path.c_str());
    EXPECT_TRUE(r && r->status == 200) << path << ": " << (r ? r->body : "no response");
    return r && r->status == 200 ? Json::parse(r->body) : Json();
  }
  Json WaitJob(const std::string& path, double seconds = 300) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    Json j;
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = client_->Get(path.c_str());
      if (r && r->status == 200) {
        j = Json::parse(r->body);
        if (j["status"] != "queued" && j["status"] != "running") return j;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "job did not finish: " << j.dump();
    return j;
  }
  int64_t Ingest(const std::string& path, const std::string& task, const std::string& role) {
    httplib::MultipartFormDataItems items = {
        {"file", Slurp(path), fs::path(path).filename().string(), "video/mp4"},
        {"task_id", task, "", ""},
        {"role", role, "", ""}};
    auto r = client_->Post("/videos", items);
    EXPECT_TRUE(r && r->status == 202) << (r ? r->body : "no response");
    if (!r || r->status != 202) return -1;
    Json job = WaitJob("/videos/jobs/" + Json::parse(r->body)["ingest_job_id"].get<std::string>());
    EXPECT_EQ(job["status"], "completed") << job.dump();
    return job["video_id"].is_number() ? job["video_id"].get<int64_t>() : -1;
  }
  Json Train() {
    auto r = client_->Post("/train/nightly", "", "application/json");
    EXPECT_TRUE(r && r->status == 202) << (r ? r->body : "no response");
    if (!r || r->status != 202) return Json();
    Json queued = Json::parse(r->body);
    EXPECT_EQ(queued["trigger"], "manual");
    return WaitJob("/train/jobs/" + queued["training_job_id"].get<std::string>());
  }

 private:
  testing::ServerProcess process_;
  int port_ = -1;
  std::unique_ptr<httplib::Client> client_;
};

std::string MakeProcedure(const testing::TempDir& dir, const std::string& name, const std::vector<int>& scenes) {
  std::vector<testing::Segment> segs;
  for (int s : scenes) segs.push_back({testing::DistinctScenes()[s], 4});
  std::string path = dir.file(name);
  testing::MakeProcedureVideo(path, segs);
  return path;
}

TEST(TrainingServeTest, TrainsFromTheApiAndScoresInTheNewIndexVersion) {
  testing::TempDir dir;
  Server server(dir, "serve", {"SOPILOT_ENABLE_FEATURE_ADAPTER=1"});
  ASSERT_TRUE(server.Start()) << server.process().Log();
  int64_t gold = server.Ingest(MakeProcedure(dir, "gold.mp4", {0, 1, 3, 5}), "task-a", "gold");
  int64_t trainee = server.Ingest(MakeProcedure(dir, "trainee.mp4", {0, 3, 1, 5}), "task-a", "trainee");
  ASSERT_GT(gold, 0);
  ASSERT_GT(trainee, 0);

  Json job = server.Train();
  ASSERT_EQ(job["status"], "completed") << job.dump();
  // The original's TrainingResultResponse fields.
  for (const char* k : {"training_job_id", "trigger", "status", "requested_by", "error_message", "queued_at",
                        "started_at", "finished_at", "result"}) {
    EXPECT_TRUE(job.contains(k)) << k;
  }
  EXPECT_EQ(job["trigger"], "manual");
  EXPECT_EQ(job["requested_by"], "anonymous");
  const Json& r = job["result"];
  for (const char* k : {"status", "mode", "trigger", "since", "new_videos", "adapter_path", "videos_used",
                        "clips_used", "embedding_dim", "reindex", "threshold", "duration_sec"}) {
    EXPECT_TRUE(r.contains(k)) << k << " in " << r.dump();
  }
  EXPECT_EQ(r["status"], "completed");
  EXPECT_EQ(r["new_videos"], 2);
  EXPECT_EQ(r["videos_used"], 1);
  EXPECT_EQ(r["embedding_dim"], 904);
  EXPECT_EQ(r["reindex"]["new_index_version"]["task-a"], 1);
  EXPECT_EQ(r["reindex"]["videos_refreshed"], 2);
  EXPECT_TRUE(fs::exists(r["adapter_path"]["task-a"].get<std::string>()));
  EXPECT_EQ(Json::parse(Slurp(dir.file("data/reports/training_" + job["training_job_id"].get<std::string>() + ".json"))),
            r);

  // A score now reads both videos in version 1, adapted.
  auto post = server.http().Post("/score", Json{{"gold_video_id", gold}, {"trainee_video_id", trainee}}.dump(),
                                 "application/json");
  ASSERT_TRUE(post && post->status == 202) << (post ? post->body : "");
  Json score = server.WaitJob("/score/" + Json::parse(post->body)["score_job_id"].get<std::string>());
  ASSERT_EQ(score["status"], "completed") << score.dump();
  EXPECT_EQ(score["result"]["index_version"], 1);
  EXPECT_EQ(score["result"]["feature_adapter"], true);
  EXPECT_NE(score["result"]["embedding_model"].get<std::string>().find("heuristic-v1+adapter:"), std::string::npos);
  // Search too.
  auto search = server.http().Get(("/search?task_id=task-a&video_id=" + std::to_string(gold) + "&clip_idx=0&k=3").c_str());
  ASSERT_TRUE(search && search->status == 200) << (search ? search->body : "");
  EXPECT_EQ(Json::parse(search->body)["items"].size(), 3u);

  Json status = server.GetJson("/train/nightly/status");
  EXPECT_EQ(status["enabled"], false);
  EXPECT_TRUE(status["next_run_local"].is_null());
  EXPECT_EQ(status["hour_local"], 2);
  EXPECT_EQ(status["min_new_videos"], 10);
  EXPECT_EQ(status["feature_adapter_enabled"], true);
  EXPECT_EQ(status["new_videos"], 0);
  EXPECT_EQ(status["last_training_finished_at"], job["finished_at"]);

  // The job is counted by status and trigger, and timed (the worker records
  // the duration a moment after the row says completed).
  std::string body;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    body = server.http().Get("/metrics")->body;
    if (SeriesValue(body, "sopilot_job_duration_seconds_count{job_type=\"training\"}") >= 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(SeriesValue(body, "sopilot_training_jobs_total{status=\"queued\",trigger=\"manual\"}"), 1) << body;
  EXPECT_EQ(SeriesValue(body, "sopilot_training_jobs_total{status=\"running\",trigger=\"manual\"}"), 1);
  EXPECT_EQ(SeriesValue(body, "sopilot_training_jobs_total{status=\"completed\",trigger=\"manual\"}"), 1);
  EXPECT_EQ(SeriesValue(body, "sopilot_job_duration_seconds_count{job_type=\"training\"}"), 1);
  // The last success is the job's own finish time (an alert on its age
  // reads this), to the second.
  auto finished = UnixFromIsoTimestamp(job["finished_at"].get<std::string>());
  ASSERT_TRUE(finished) << job.dump();
  EXPECT_EQ(SeriesValue(body, "sopilot_training_last_success_timestamp_seconds"), *finished);

  server.process().Kill(SIGTERM);
  EXPECT_EQ(server.process().Wait(), 0);
}

TEST(TrainingServeTest, ByDefaultTheAdapterIsOffAndTrainingSaysSo) {
  testing::TempDir dir;
  Server server(dir, "serve", {});
  ASSERT_TRUE(server.Start()) << server.process().Log();
  Json job = server.Train();
  ASSERT_EQ(job["status"], "skipped") << job.dump();
  EXPECT_EQ(job["result"]["reason"], "the feature adapter is disabled (SOPILOT_ENABLE_FEATURE_ADAPTER=0)");
  EXPECT_EQ(server.GetJson("/train/nightly/status")["feature_adapter_enabled"], false);
  std::string body = server.http().Get("/metrics")->body;
  EXPECT_EQ(SeriesValue(body, "sopilot_training_jobs_total{status=\"skipped\",trigger=\"manual\"}"), 1) << body;
}

// A fixed-offset time zone in which the local clock reaches a full hour
// `seconds` from now: TZ, that hour, and that time as next_run_local shows it.
struct Zone {
  std::string tz;
  int hour;
  std::string run_local;
};
Zone ZoneWithHourIn(int seconds) {
  const int64_t at = static_cast<int64_t>(std::time(nullptr)) + seconds;
  const int64_t offset = (3600 - at % 3600) % 3600;  // local = UTC + offset
  char tz[32];
  std::snprintf(tz, sizeof tz, "SOP-0:%02d:%02d", static_cast<int>(offset / 60), static_cast<int>(offset % 60));
  const int hour = static_cast<int>(((at + offset) / 3600) % 24);
  const std::time_t local = static_cast<std::time_t>(at + offset);
  std::tm tm{};
  gmtime_r(&local, &tm);
  char iso[32];
  std::strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%S", &tm);
  return {tz, hour, iso};
}

// The checks a process's scheduler has made, from its nightly status (-1
// when the answer has none).
int64_t Checks(const Json& status) {
  return status.is_object() && status.contains("scheduler_checks") ? status["scheduler_checks"].get<int64_t>() : -1;
}

// Polls `path` on `server` until `done` holds of its JSON (or a generous
// deadline passes); returns the last answer.
Json PollJson(Server& server, const std::string& path, const std::function<bool(const Json&)>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  Json j = server.GetJson(path);
  while (!done(j) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    j = server.GetJson(path);
  }
  return j;
}

TEST(TrainingServeTest, TwoServeProcessesOnOneDataDirectoryScheduleTheNightlyRunOnce) {
  testing::TempDir dir;
  // The run time is a few seconds away in the processes' local time: a
  // fixed-offset TZ is the clock the test injects. Each scheduler takes the
  // first run time after its start, so when the processes came up too late
  // for it (a slow machine) they are started again with a later zone.
  std::unique_ptr<Server> a, b;
  Zone zone;
  Json sa, sb;
  for (int attempt = 1;; ++attempt) {
    ASSERT_LE(attempt, 5) << "the processes never started before their run time";
    zone = ZoneWithHourIn(15);
    std::vector<std::string> env = {"TZ=" + zone.tz, "SOPILOT_NIGHTLY_ENABLED=1",
                                    "SOPILOT_NIGHTLY_HOUR_LOCAL=" + std::to_string(zone.hour),
                                    "SOPILOT_NIGHTLY_CHECK_SEC=0.2", "SOPILOT_NIGHTLY_MIN_NEW_VIDEOS=1"};
    const std::string n = std::to_string(attempt);
    a = std::make_unique<Server>(dir, "a" + n, env);
    b = std::make_unique<Server>(dir, "b" + n, env);
    ASSERT_TRUE(a->Start()) << a->process().Log();
    ASSERT_TRUE(b->Start()) << b->process().Log();
    // One scheduler: once each process has checked, both name the same
    // holder and one of them is it.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    for (;;) {
      sa = a->GetJson("/train/nightly/status");
      sb = b->GetJson("/train/nightly/status");
      if (Checks(sa) >= 1 && Checks(sb) >= 1 && !sa["scheduler_holder"].is_null() &&
          sa["scheduler_holder"] == sb["scheduler_holder"] &&
          sa["this_process_schedules"] != sb["this_process_schedules"]) {
        break;
      }
      if (std::chrono::steady_clock::now() > deadline) break;  // the expectations below say what is wrong
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    // next_run_local is computed when asked: the run is still ahead of both
    // answers, hence of both schedulers, which started before them.
    if (sa["next_run_local"] == zone.run_local && sb["next_run_local"] == zone.run_local) break;
    for (Server* s : {a.get(), b.get()}) {
      s->process().Kill(SIGTERM);
      EXPECT_EQ(s->process().Wait(), 0);
    }
  }
  EXPECT_EQ(sa["enabled"], true);
  EXPECT_EQ(sa["hour_local"], zone.hour);
  char expect_next[16];
  std::snprintf(expect_next, sizeof expect_next, "T%02d:00:00", zone.hour);
  EXPECT_NE(sa["next_run_local"].get<std::string>().find(expect_next), std::string::npos) << sa.dump();
  EXPECT_FALSE(sa["scheduler_holder"].is_null()) << sa.dump();
  EXPECT_EQ(sa["scheduler_holder"], sb["scheduler_holder"]);
  EXPECT_NE(sa["this_process_schedules"], sb["this_process_schedules"]) << sa.dump() << sb.dump();

  // Wait for the run (both processes check every 0.2 s), then until each
  // process has checked the schedule twice more: a second scheduler would
  // have queued a second job by then.
  Json jobs = PollJson(*a, "/ops/queue", [](const Json& q) { return q.is_object() && q["jobs"]["training"]["total"] >= 1; });
  ASSERT_EQ(jobs["jobs"]["training"]["total"], 1) << "no nightly run was queued; logs:\n"
                                                  << a->process().Log() << b->process().Log();
  for (Server* s : {a.get(), b.get()}) {
    const int64_t seen = Checks(s->GetJson("/train/nightly/status"));
    Json now = PollJson(*s, "/train/nightly/status", [&](const Json& j) { return Checks(j) >= seen + 2; });
    EXPECT_GE(Checks(now), seen + 2) << now.dump();
  }
  EXPECT_EQ(a->GetJson("/ops/queue")["jobs"]["training"]["total"], 1);

  // The run: queued by the scheduler, skipped under the threshold with its
  // reason (no video at all here).
  std::string job_id;
  const Json trail = a->GetJson("/audit/trail?limit=100");
  for (const Json& e : trail["items"]) {
    if (e["action"] == "job.queued" && e["actor"] == "system:nightly") job_id = e["subject"].get<std::string>();
  }
  ASSERT_FALSE(job_id.empty()) << trail.dump();
  Json job = a->WaitJob("/train/jobs/" + job_id);
  EXPECT_EQ(job["trigger"], "nightly");
  EXPECT_EQ(job["requested_by"], "system:nightly");
  EXPECT_EQ(job["status"], "skipped");
  EXPECT_EQ(job["result"]["reason"], "not enough new videos");
  EXPECT_EQ(job["result"]["new_videos"], 0);
  EXPECT_EQ(job["result"]["threshold"], 1);
  const std::string logs = a->process().Log() + b->process().Log();
  size_t queued_lines = 0;
  for (size_t at = logs.find("training job"); at != std::string::npos; at = logs.find("training job", at + 1)) {
    ++queued_lines;
  }
  EXPECT_EQ(queued_lines, 1u) << logs;

  // The scheduler's process stops cleanly: it gives the lease up and the
  // other one takes over.
  Server& leader = sa["this_process_schedules"] == true ? *a : *b;
  Server& other = sa["this_process_schedules"] == true ? *b : *a;
  leader.process().Kill(SIGTERM);
  EXPECT_EQ(leader.process().Wait(), 0);
  Json so = PollJson(other, "/train/nightly/status", [](const Json& j) { return j.is_object() && j["this_process_schedules"] == true; });
  EXPECT_EQ(so["this_process_schedules"], true) << so.dump();
}

}  // namespace
}  // namespace sopilot
