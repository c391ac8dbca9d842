// Issue 11, part 7: a full disk and a damaged store, through the real
// `sopilot serve` binary on real files (a tmpfs that really fills up, a
// SQLite file with garbage in it), plus the ingest retry on a full disk in
// process (a fault-injecting Env: the moment the embedding file is written
// cannot be hit from outside).
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/digest.h"
#include "http/api_server.h"
#include "service/sopilot_service.h"
#include "service/worker_pool.h"
#include "store/metadata_store.h"
#include "testing/command.h"
#include "testing/server_process.h"
#include "testing/temp_dir.h"
#include "testing/test_videos.h"
#include "testing/text.h"
#include "testing/tmpfs.h"

namespace sopilot {
namespace {

using Json = nlohmann::json;
using testing::Slurp;
namespace fs = std::filesystem;

// Polls GET `path` until `done` holds for its JSON body (or the deadline);
// returns the last body.
Json WaitFor(httplib::Client& c, const std::string& path, const std::function<bool(const Json&)>& done,
             double timeout_sec = 120) {
  Json last;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_sec);
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = c.Get(path.c_str());
    if (r) {
      last = Json::parse(r->body, nullptr, false);
      if (!last.is_discarded() && done(last)) return last;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return last;
}

bool Finished(const Json& job) {
  return job.contains("status") && job["status"] != "queued" && job["status"] != "running";
}

httplib::Result Upload(httplib::Client& c, const std::string& video, const std::string& task,
                       const std::string& role) {
  httplib::MultipartFormDataItems items = {{"file", Slurp(video), fs::path(video).filename().string(), "video/mp4"},
                                           {"task_id", task, "", ""},
                                           {"role", role, "", ""}};
  return c.Post("/videos", items);
}

// Uploads and waits for the ingest; returns the job as last seen.
Json UploadAndIngest(httplib::Client& c, const std::string& video, const std::string& task, const std::string& role) {
  auto r = Upload(c, video, task, role);
  if (!r || r->status != 202) return Json{{"upload_failed", r ? r->body : "no response"}};
  std::string id = Json::parse(r->body)["ingest_job_id"];
  return WaitFor(c, "/videos/jobs/" + id, Finished);
}

// Regular files under `dir` (relative paths).
std::set<std::string> FilesUnder(const std::string& dir) {
  std::set<std::string> out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return out;
  for (auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.insert(fs::relative(e.path(), dir).string());
  }
  return out;
}

// The number of lines of `text` (a last line without '\n' counts).
size_t Lines(const std::string& text) {
  size_t n = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) n += !line.empty();
  return n;
}

// ---------------------------------------------------------------- disk full

// A data directory on a 24 MiB tmpfs; a filler file takes every free byte;
// an upload then cannot be stored: 507 with a clear error, nothing half
// written (no incoming file, no blob, no temporary file, no job row), the
// process keeps serving; once the filler is gone the same upload is accepted
// and ingested.
TEST(StorageFaultsTest, FullDiskUploadAnswers507LeavesNothingAndRecovers) {
  testing::TmpfsMount disk(24u << 20);
  if (!disk.ok()) GTEST_SKIP() << disk.error();
  testing::TempDir dir;
  const std::string video = dir.file("trainee.mp4");
  testing::MakeProcedureVideo(video, {{testing::DistinctScenes()[0], 3.0}, {testing::DistinctScenes()[1], 3.0}});
  const std::string data = disk.file("data");
  testing::ServerProcess server(SOPILOT_BIN, {"serve", "--port", "0", "--data-dir", data},
                                {"SOPILOT_INGEST_WORKERS=1"}, dir.file("log"));
  int port = server.Start();
  ASSERT_GT(port, 0) << server.Log();
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(60, 0);
  ASSERT_EQ(c.Get("/health")->status, 200);

  const std::string filler = disk.file("filler");
  disk.Fill(filler);
  ASSERT_LT(disk.FreeBytes(), fs::file_size(video)) << "the disk is not full";

  auto r = Upload(c, video, "disk", "trainee");
  ASSERT_TRUE(r) << "no response: the client must hear the 507, not a reset connection";
  EXPECT_EQ(r->status, 507) << r->body;
  Json body = Json::parse(r->body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << r->body;
  EXPECT_NE(body.value("error", "").find("not enough disk space to store the upload"), std::string::npos) << r->body;

  // Nothing half-written: no upload being received, no blob, no temporary
  // file anywhere, no row.
  EXPECT_TRUE(FilesUnder(data + "/incoming").empty());
  EXPECT_TRUE(FilesUnder(data + "/raw").empty());
  EXPECT_TRUE(FilesUnder(data + "/embeddings").empty());
  for (const std::string& f : FilesUnder(data)) EXPECT_EQ(f.find(".tmp."), std::string::npos) << f;
  auto videos = c.Get("/videos");
  ASSERT_TRUE(videos);
  EXPECT_EQ(videos->status, 200) << videos->body;
  EXPECT_EQ(Json::parse(videos->body)["items"].size(), 0u) << videos->body;
  auto queue = c.Get("/ops/queue");
  ASSERT_TRUE(queue);
  ASSERT_EQ(queue->status, 200) << queue->body;
  EXPECT_EQ(Json::parse(queue->body)["jobs"]["ingest"].value("total", -1), 0) << queue->body;

  // Space returns: the service is healthy and takes the upload.
  fs::remove(filler);
  Json health = WaitFor(c, "/health", [](const Json& j) { return j.value("status", "") == "ok"; }, 60);
  EXPECT_EQ(health.value("status", ""), "ok") << health.dump();
  auto again = Upload(c, video, "disk", "trainee");
  ASSERT_TRUE(again);
  ASSERT_EQ(again->status, 202) << again->body;
  std::string id = Json::parse(again->body)["ingest_job_id"];
  Json job = WaitFor(c, "/videos/jobs/" + id, Finished);
  EXPECT_EQ(job.value("status", ""), "completed") << job.dump() << "\n" << server.Log();
  EXPECT_EQ(FilesUnder(data + "/raw").size(), 1u);
  EXPECT_EQ(FilesUnder(data + "/embeddings").size(), 1u);

  server.Kill(SIGTERM);
  EXPECT_EQ(server.Wait(), 0) << server.Log();
}

// An ingest job whose embedding file cannot be written (the disk filled up
// while it ran) is a temporary failure: back to queued with the reason,
// retried, and completed once space returns. In process, with an Env whose
// writes under embeddings/ fail as a full disk's do.
class EmbeddingsDiskFullEnv : public EnvWrapper {
 public:
  EmbeddingsDiskFullEnv() : EnvWrapper(Env::Default()) {}
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    if (full.load() && path.find("/embeddings/") != std::string::npos) {
      ++refused;
      return Status::NoSpace(path + ": cannot create: No space left on device (the disk is full)");
    }
    return target()->NewWritableFile(path);
  }
  std::atomic<bool> full{true};
  std::atomic<int> refused{0};
};

TEST(StorageFaultsTest, IngestThatCannotWriteItsEmbeddingsIsRetriedNotFailed) {
  testing::TempDir dir;
  const std::string video = dir.file("gold.mp4");
  testing::MakeProcedureVideo(video, {{testing::DistinctScenes()[2], 3.0}, {testing::DistinctScenes()[3], 3.0}});
  EmbeddingsDiskFullEnv env;
  ServiceConfig config;
  config.data_dir = dir.file("data");
  config.queue.backoff_base_sec = 0.2;
  config.queue.backoff_max_sec = 0.2;
  config.queue.max_attempts = 20;
  config.score_workers = config.training_workers = 0;
  config.ingest_workers = 1;
  auto service = SopilotService::Open(config, &env);
  ASSERT_TRUE(service.ok()) << service.status().ToString();
  const std::string incoming = (*service)->blobs().NewIncomingPath();
  fs::copy_file(video, incoming);
  UploadRequest u;
  u.task_id = "t";
  u.role = "gold";
  u.file_name = "gold.mp4";
  auto job = (*service)->SubmitUpload(incoming, Sha256Hex(Slurp(video)), u, "tester");
  ASSERT_TRUE(job.ok()) << job.status().ToString();

  WorkerPool workers(service->get(), 5.0);
  workers.Start();
  // The first run fails on the full disk and the job goes back to the
  // queue; a queued row carries no error, the audit log has the retry and why.
  auto retried_for_space = [&] {
    auto trail = (*service)->store()->AuditTrail(100);
    if (!trail.ok()) return false;
    for (const AuditEntry& e : *trail) {
      if (e.action == "job.retrying" && e.subject == job->id && e.detail_json.find("disk is full") != std::string::npos) {
        return true;
      }
    }
    return false;
  };
  JobRow row;
  bool retried = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!retried && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    retried = env.refused.load() >= 1 && retried_for_space();
  }
  EXPECT_TRUE(retried) << "no job.retrying entry naming the full disk";
  auto seen = (*service)->store()->GetJob(job->id);
  ASSERT_TRUE(seen.ok());
  EXPECT_NE(seen->status, kJobFailed);
  EXPECT_NE(seen->status, kJobDead);
  EXPECT_TRUE(FilesUnder(dir.file("data/embeddings")).empty()) << "a partial embedding file was left";
  // Space returns: the retry completes it.
  env.full = false;
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = (*service)->store()->GetJob(job->id);
    ASSERT_TRUE(r.ok());
    row = *r;
    if (row.status != kJobQueued && row.status != kJobRunning) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(row.status, kJobCompleted) << row.error_message;
  EXPECT_GE(row.attempts, 2);
  EXPECT_EQ(FilesUnder(dir.file("data/embeddings")).size(), 1u);
  workers.Stop();
}

TEST(StorageFaultsTest, NoSpaceIsHttp507) {
  EXPECT_EQ(HttpStatusFor(Status::NoSpace("disk full")), 507);
  EXPECT_EQ(HttpStatusFor(Status::Corruption("damaged")), 500);
}

// ---------------------------------------------------------------- corrupt store

// A metadata store with content: `rows` audit entries of about 2 KB each,
// written and closed (so the WAL is checkpointed into the file).
void MakeStore(const std::string& data_dir, int rows) {
  fs::create_directories(data_dir);
  auto store = MetadataStore::Open(data_dir + "/sopilot.db", Env::Default());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const std::string detail = Json{{"pad", std::string(2000, 'p')}}.dump();
  for (int i = 0; i < rows; ++i) {
    ASSERT_TRUE((*store)->AppendAudit("tester", "padding", std::to_string(i), detail).ok());
  }
}

// Overwrites `n` bytes of `path` at `offset` with a fixed pseudo-random pattern.
void Garbage(const std::string& path, uint64_t offset, uint64_t n) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f) << path;
  f.seekp(static_cast<std::streamoff>(offset));
  uint32_t x = 2463534242u;
  for (uint64_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    f.put(static_cast<char>(x & 0xff));
  }
  ASSERT_TRUE(f) << path;
}

// Random bytes over the header, a truncated file, garbage pages in the
// middle: `sopilot serve` exits 1 at once with one line naming the file and
// the problem, and the way out.
TEST(StorageFaultsTest, CorruptStoreStopsTheStartWithOneClearLine) {
  for (const std::string damage : {"header", "truncated", "middle"}) {
    SCOPED_TRACE(damage);
    testing::TempDir dir;
    const std::string data = dir.file("data");
    MakeStore(data, 400);
    const std::string db = data + "/sopilot.db";
    const uint64_t size = fs::file_size(db);
    ASSERT_GT(size, 200u * 4096) << "the store is too small for the test";
    if (damage == "header") Garbage(db, 0, 100);
    if (damage == "truncated") fs::resize_file(db, size / 2 + 1234);
    if (damage == "middle") Garbage(db, (size / 4096 / 2) * 4096, 8 * 4096);
    auto r = testing::RunCommand("timeout 120 " + std::string(SOPILOT_BIN) + " serve --port 0 --data-dir " +
                                 testing::ShellQuote(data));
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(Lines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find(fs::weakly_canonical(db).string() + ": the metadata store is corrupt ("), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("restore it from a backup"), std::string::npos) << r.err;
    if (damage == "header") {
      EXPECT_NE(r.err.find("file is not a database"), std::string::npos) << r.err;
    }
  }
}

// Damage found while serving (the start-up check turned off, so that the
// damaged pages are met by a request): the requests that touch them fail
// with a JSON error naming the problem, /health and /ready answer 503 from
// then on, and the process keeps running and serving what is intact.
TEST(StorageFaultsTest, DamagedPageMetWhileServingFailsThoseRequestsAndHealth) {
  testing::TempDir dir;
  const std::string data = dir.file("data");
  MakeStore(data, 400);
  const std::string db = data + "/sopilot.db";
  const uint64_t size = fs::file_size(db);
  Garbage(db, (size / 4096 / 2) * 4096, 8 * 4096);
  testing::ServerProcess server(SOPILOT_BIN, {"serve", "--port", "0", "--data-dir", data},
                                {"SOPILOT_STARTUP_QUICK_CHECK=0"}, dir.file("log"));
  int port = server.Start();
  ASSERT_GT(port, 0) << server.Log();
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(60, 0);
  // Nothing has touched the damaged pages yet.
  ASSERT_EQ(c.Get("/health")->status, 200);
  EXPECT_EQ(testing::SeriesValue(c.Get("/metrics")->body, R"(sopilot_up{process="api"})"), 1);

  auto trail = c.Get("/audit/trail?limit=1000");
  ASSERT_TRUE(trail);
  EXPECT_TRUE(trail->status == 500 || trail->status == 503) << trail->status << " " << trail->body;
  Json err = Json::parse(trail->body, nullptr, false);
  ASSERT_TRUE(err.is_object()) << trail->body;
  EXPECT_NE(err.value("error", "").find("the metadata store is corrupt"), std::string::npos) << trail->body;
  EXPECT_NE(err.value("error", "").find("restore it from a backup"), std::string::npos) << trail->body;

  auto health = c.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 503) << health->body;
  EXPECT_NE(Json::parse(health->body).value("error", "").find("corrupt"), std::string::npos) << health->body;
  EXPECT_EQ(c.Get("/ready")->status, 503);
  // What APIDown reads: the scrape still answers (up is 1), and says this API
  // cannot serve.
  auto metrics = c.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(testing::SeriesValue(metrics->body, R"(sopilot_up{process="api"})"), 0) << metrics->body;
  // Still up, and what is intact still answers.
  EXPECT_EQ(c.Get("/")->status, 200);
  auto videos = c.Get("/videos");
  ASSERT_TRUE(videos);
  EXPECT_EQ(videos->status, 200) << videos->body;
  EXPECT_EQ(c.Get("/audit/trail?limit=1000")->status, trail->status) << "the same request fails the same way";

  server.Kill(SIGTERM);
  EXPECT_EQ(server.Wait(), 0) << server.Log();
}

// Damage no request meets (pages of a table nobody reads) is found by the
// periodic integrity check, on a connection of its own: /health turns 503 and
// the log says what is wrong, once.
TEST(StorageFaultsTest, DamageNoRequestMeetsIsFoundByThePeriodicCheck) {
  testing::TempDir dir;
  const std::string data = dir.file("data");
  MakeStore(data, 400);
  const std::string db = data + "/sopilot.db";
  testing::ServerProcess server(SOPILOT_BIN, {"serve", "--port", "0", "--data-dir", data},
                                {"SOPILOT_INTEGRITY_CHECK_SEC=0.2"}, dir.file("log"));
  int port = server.Start();
  ASSERT_GT(port, 0) << server.Log();
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(60, 0);
  ASSERT_EQ(c.Get("/health")->status, 200) << "the start-up check passed an intact store";

  const uint64_t size = fs::file_size(db);
  Garbage(db, (size / 4096 / 2) * 4096, 8 * 4096);
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    auto health = c.Get("/health");
    ASSERT_TRUE(health);
    status = health->status;
    if (status == 503) {
      EXPECT_NE(Json::parse(health->body).value("error", "").find("corrupt"), std::string::npos) << health->body;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(status, 503) << server.Log();
  EXPECT_EQ(c.Get("/ready")->status, 503);
  server.Kill(SIGTERM);
  EXPECT_EQ(server.Wait(), 0) << server.Log();
  const std::string log = server.Log();
  // One line of the operational log at level error (base/log.h's text format).
  EXPECT_NE(log.find(" ERROR " + fs::weakly_canonical(db).string() + ": the metadata store is corrupt ("),
            std::string::npos)
      << log;
  size_t first = log.find("the metadata store is corrupt");
  EXPECT_EQ(log.find("the metadata store is corrupt", first + 1), std::string::npos) << "reported more than once";
}

// A truncated and a damaged embedding file: each score job that reads one
// fails once and for good (failed, not retried, with a clear error), and the
// worker goes on to score the next pair.
TEST(StorageFaultsTest, DamagedEmbeddingFileFailsOnlyTheScoreJobThatReadsIt) {
  testing::TempDir dir;
  const auto& scenes = testing::DistinctScenes();
  const std::string gold = dir.file("gold.mp4"), cut = dir.file("cut.mp4"), flipped = dir.file("flipped.mp4");
  testing::MakeProcedureVideo(gold, {{scenes[4], 3.0}, {scenes[5], 3.0}});
  testing::MakeProcedureVideo(cut, {{scenes[5], 3.0}, {scenes[4], 3.0}});
  testing::MakeProcedureVideo(flipped, {{scenes[4], 4.0}, {scenes[5], 2.0}});
  const std::string data = dir.file("data");
  testing::ServerProcess server(SOPILOT_BIN, {"serve", "--port", "0", "--data-dir", data}, {}, dir.file("log"));
  int port = server.Start();
  ASSERT_GT(port, 0) << server.Log();
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(60, 0);

  // Each video's embedding file is the one its ingest added.
  std::map<std::string, int64_t> ids;
  std::map<std::string, std::string> files;
  for (const std::string& v : {gold, cut, flipped}) {
    std::set<std::string> before = FilesUnder(data + "/embeddings");
    Json job = UploadAndIngest(c, v, "emb", v == gold ? "gold" : "trainee");
    ASSERT_EQ(job.value("status", ""), "completed") << job.dump();
    ids[v] = job["video_id"];
    for (const std::string& f : FilesUnder(data + "/embeddings")) {
      if (!before.count(f)) files[v] = data + "/embeddings/" + f;
    }
    ASSERT_FALSE(files[v].empty());
  }
  fs::resize_file(files[cut], fs::file_size(files[cut]) / 2);
  Garbage(files[flipped], fs::file_size(files[flipped]) / 2, 4);

  auto score = [&](int64_t g, int64_t t) {
    auto r = c.Post("/score", Json{{"gold_video_id", g}, {"trainee_video_id", t}}.dump(), "application/json");
    if (!r || r->status != 202) return Json{{"submit_failed", r ? r->body : "no response"}};
    std::string id = Json::parse(r->body)["score_job_id"];
    return WaitFor(c, "/score/" + id, Finished);
  };
  Json truncated = score(ids[gold], ids[cut]);
  EXPECT_EQ(truncated.value("status", ""), "failed") << truncated.dump();
  EXPECT_EQ(truncated.value("attempts", 0), 1) << truncated.dump();
  EXPECT_NE(truncated.value("error_message", "").find("not a valid embedding file"), std::string::npos)
      << truncated.dump();
  EXPECT_NE(truncated.value("error_message", "").find("truncated"), std::string::npos) << truncated.dump();
  Json damaged = score(ids[gold], ids[flipped]);
  EXPECT_EQ(damaged.value("status", ""), "failed") << damaged.dump();
  EXPECT_EQ(damaged.value("attempts", 0), 1) << damaged.dump();
  EXPECT_NE(damaged.value("error_message", "").find("checksum mismatch"), std::string::npos) << damaged.dump();

  // Nothing waits for a retry, nothing is dead: failed for good.
  auto queue = c.Get("/ops/queue");
  ASSERT_TRUE(queue);
  Json queue_body = Json::parse(queue->body);  // kept alive: the loop reads into it
  for (const Json& q : queue_body["queue"]["queues"]) {
    if (q["key"] != "score") continue;
    EXPECT_EQ(q["retrying"], 0) << q.dump();
    EXPECT_EQ(q["dead"], 0) << q.dump();
    EXPECT_EQ(q["queued"], 0) << q.dump();
  }
  // The worker lives on: an intact pair scores, and the service is healthy.
  Json ok = score(ids[gold], ids[gold]);
  EXPECT_EQ(ok.value("status", ""), "completed") << ok.dump();
  EXPECT_EQ(c.Get("/health")->status, 200);
  // Still failed, still one attempt.
  Json again = WaitFor(c, "/score/" + truncated.value("score_job_id", ""), Finished);
  EXPECT_EQ(again.value("status", ""), "failed");
  EXPECT_EQ(again.value("attempts", 0), 1);

  server.Kill(SIGTERM);
  EXPECT_EQ(server.Wait(), 0) << server.Log();
}

}  // namespace
}  // namespace sopilot
