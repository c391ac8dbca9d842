// The training job, the versions it builds and the nightly runner, on a real
// data directory (SQLite store and queue, files): videos are inserted with
// synthetic embedding files, so the numbers can be checked exactly.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "base/digest.h"
#include "embed/embedding_file.h"
#include "service/nightly_runner.h"
#include "service/sopilot_service.h"
#include "testing/fake_clock_env.h"
#include "testing/temp_dir.h"
#include "testing/test_videos.h"
#include "train/feature_adapter.h"

namespace sopilot {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

class NeverStop : public JobContext {
 public:
  bool ShouldStop() const override { return false; }
};

// 2026-02-09T01:00:00Z: an hour past the nightly run's default slot.
class FakeClockEnv : public testing::FakeClockEnv {
 public:
  FakeClockEnv() : testing::FakeClockEnv(1770595200.0 + 3600) {}
};

constexpr int kDim = 24;

EmbeddingSet RandomSet(int rows, uint32_t seed, float offset = 0) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  EmbeddingSet s;
  s.model = "heuristic-v1";
  s.sampling = {4, 2, 0.5, 320, 0.6};
  s.vectors = FloatMatrix(rows, kDim);
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < kDim; ++j) s.vectors.at(i, j) = offset + 0.1f * j + n(rng) * (1.0f + 0.2f * j);
    s.clips.push_back({i, 0.5 * i, 0.5 * i + 2});
  }
  NormalizeRows(&s.vectors);
  return s;
}

class TrainingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
    config_.data_dir = dir_.file("data");
    config_.feature_adapter_enabled = true;
    config_.adapter_std_floor = 0.01;
    config_.nightly_min_new_videos = 3;
    Open();
  }
  void Open() {
    service_.reset();
    auto s = SopilotService::Open(config_, &env_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    service_ = std::move(*s);
  }
  // A video row with its raw embedding file, as an ingest leaves them.
  int64_t AddVideo(const std::string& task, const std::string& role, const EmbeddingSet& set) {
    static int n = 0;
    const std::string name = "v" + std::to_string(++n);
    const std::string emb = "embeddings/" + name + ".emb";
    EXPECT_TRUE(service_->blobs().Put(emb, *EncodeEmbeddingSet(set)).ok());
    EXPECT_TRUE(service_->blobs().Put("raw/" + name + ".mp4", "video").ok());
    raw_[emb] = set;
    VideoRow v;
    v.task_id = task;
    v.role = role;
    v.file_name = name + ".mp4";
    v.file_path = "raw/" + name + ".mp4";
    v.content_sha256 = std::string(64, 'a');
    v.embedding_path = emb;
    v.embedding_model = set.model;
    v.num_clips = set.vectors.rows;
    std::vector<ClipRow> clips;
    for (const ClipSpan& c : set.clips) clips.push_back({0, c.index, c.start_sec, c.end_sec});
    auto id = service_->store()->InsertVideo(v, clips);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return *id;
  }
  // Queues a training job and runs it as a worker would; returns its row.
  JobRow Train(const std::string& trigger = "manual") {
    auto job = service_->SubmitTraining(trigger, "token:admin");
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    auto leased = service_->queue()->Lease({JobKind::kTraining}, "test-worker", 60, 1);
    EXPECT_TRUE(leased.ok() && leased->has_value());
    NeverStop ctx;
    Status st = service_->RunJob(**leased, ctx);
    EXPECT_TRUE(st.ok()) << st.ToString();
    EXPECT_TRUE(service_->queue()->Ack(**leased).ok());
    return *service_->store()->GetJob(job->id);
  }
  FeatureAdapter Fit(const std::vector<EmbeddingSet>& golds) {
    AdapterFitter fit(config_.adapter_std_floor);
    for (const auto& g : golds) EXPECT_TRUE(fit.Add(g).ok());
    return *fit.Finish();
  }
  static void ExpectRowsNear(const FloatMatrix& a, const FloatMatrix& b) {
    ASSERT_EQ(a.rows, b.rows);
    ASSERT_EQ(a.cols, b.cols);
    for (size_t i = 0; i < a.data.size(); ++i) ASSERT_NEAR(a.data[i], b.data[i], 1e-6) << "at " << i;
  }

  testing::TempDir dir_;
  FakeClockEnv env_;
  ServiceConfig config_;
  std::unique_ptr<SopilotService> service_;
  std::map<std::string, EmbeddingSet> raw_;
};

TEST_F(TrainingTest, FitsEachTaskOnItsGoldVideosAndAdaptsEveryVideoOfTheTask) {
  EmbeddingSet g1 = RandomSet(30, 1), g2 = RandomSet(20, 2, 0.5f), t1 = RandomSet(25, 3), o = RandomSet(10, 4);
  int64_t gold1 = AddVideo("task-a", "gold", g1);
  int64_t gold2 = AddVideo("task-a", "gold", g2);
  int64_t trainee = AddVideo("task-a", "trainee", t1);
  AddVideo("task-b", "trainee", o);  // no gold: skipped

  JobRow job = Train();
  ASSERT_EQ(job.status, kJobCompleted) << job.result_json;
  Json r = Json::parse(job.result_json);
  EXPECT_EQ(r["mode"], "builtin_feature_adapter");
  EXPECT_EQ(r["trigger"], "manual");
  EXPECT_EQ(r["new_videos"], 4);
  EXPECT_TRUE(r["since"].is_null());
  EXPECT_EQ(r["videos_used"], 2);  // the gold videos
  EXPECT_EQ(r["clips_used"], 50);
  EXPECT_EQ(r["embedding_dim"], kDim);
  EXPECT_EQ(r["reindex"]["old_index_version"]["task-a"], 0);
  EXPECT_EQ(r["reindex"]["new_index_version"]["task-a"], 1);
  EXPECT_EQ(r["reindex"]["videos_refreshed"], 3);
  EXPECT_EQ(r["reindex"]["clips_indexed"], 75);
  EXPECT_EQ(r["reindex"]["tasks_touched"], Json::array({"task-a"}));
  ASSERT_EQ(r["tasks"].size(), 2u);
  EXPECT_EQ(r["tasks"][1]["task_id"], "task-b");
  EXPECT_EQ(r["tasks"][1]["status"], "skipped");
  EXPECT_EQ(r["tasks"][1]["reason"], "no gold video");
  // The summary file says the same as the row.
  EXPECT_EQ(job.summary_path, "reports/training_" + job.id + ".json");
  EXPECT_EQ(Json::parse(*service_->blobs().Get(job.summary_path, 1 << 20)), r);

  // The adapter file: the statistics of the two gold videos, nothing else.
  const std::string adapter_path = r["adapter_path"]["task-a"];
  auto adapter = ReadFeatureAdapterFile(Env::Default(), adapter_path);
  ASSERT_TRUE(adapter.ok()) << adapter.status().ToString();
  FeatureAdapter expected = Fit({g1, g2});
  EXPECT_EQ(adapter->mean, expected.mean);
  EXPECT_EQ(adapter->std, expected.std);
  EXPECT_EQ(adapter->task_id, "task-a");
  EXPECT_EQ(adapter->version, 1);
  EXPECT_EQ(adapter->source_video_ids, (std::vector<int64_t>{gold1, gold2}));
  EXPECT_NE(adapter_path.find("/models/adapters/task-a_"), std::string::npos) << adapter_path;

  // Every video of the task has its adapted file in version 1.
  EXPECT_EQ(*service_->store()->CurrentIndexVersion("task-a"), 1);
  EXPECT_EQ(*service_->store()->CurrentIndexVersion("task-b"), 0);
  auto resolved = service_->store()->ResolveEmbeddings({gold1, gold2, trainee});
  ASSERT_TRUE(resolved.ok());
  for (const auto& e : *resolved) {
    ASSERT_FALSE(e.adapted_path.empty()) << e.video.id;
    auto set = ReadEmbeddingFile(Env::Default(), service_->blobs().Absolute(e.adapted_path));
    ASSERT_TRUE(set.ok());
    EXPECT_EQ(set->model, expected.AdaptedModel());
    ExpectRowsNear(set->vectors, *ApplyFeatureAdapter(expected, raw_[e.video.embedding_path].vectors));
  }

  // A score job reads both sides adapted, in version 1.
  auto pair = service_->LoadScorePair(gold1, trainee);
  ASSERT_TRUE(pair.ok()) << pair.status().ToString();
  EXPECT_EQ(pair->index_version, 1);
  EXPECT_EQ(pair->gold_set.model, pair->trainee_set.model);
  ExpectRowsNear(pair->trainee_set.vectors, *ApplyFeatureAdapter(expected, t1.vectors));

  // Training and job counters.
  auto audit = service_->store()->AuditTrail(10);
  EXPECT_EQ((*audit)[0].action, "job.completed");
  EXPECT_EQ((*audit)[0].subject, job.id);
}

TEST_F(TrainingTest, ANightlyRunUnderTheThresholdIsSkippedWithItsReasonAManualOneIsNot) {
  AddVideo("task-a", "gold", RandomSet(10, 1));
  AddVideo("task-a", "trainee", RandomSet(10, 2));
  JobRow nightly = Train("nightly");
  ASSERT_EQ(nightly.status, kJobSkipped);
  Json r = Json::parse(nightly.result_json);
  EXPECT_EQ(r["status"], "skipped");
  EXPECT_EQ(r["reason"], "not enough new videos");
  EXPECT_EQ(r["new_videos"], 2);
  EXPECT_EQ(r["threshold"], 3);
  EXPECT_EQ(*service_->store()->CurrentIndexVersion("task-a"), 0);

  JobRow manual = Train("manual");
  ASSERT_EQ(manual.status, kJobCompleted) << manual.result_json;
  const std::string since = Json::parse(manual.result_json)["since"].is_null() ? "" : "x";
  EXPECT_EQ(since, "");  // the skipped run did not move the watermark

  // After a completed run only newer videos count.
  env_.now = env_.now + 60;
  for (int i = 0; i < 3; ++i) AddVideo("task-a", "trainee", RandomSet(10, 10 + i));
  JobRow again = Train("nightly");
  ASSERT_EQ(again.status, kJobCompleted) << again.result_json;
  Json a = Json::parse(again.result_json);
  EXPECT_EQ(a["new_videos"], 3);
  EXPECT_EQ(a["since"], manual.finished_at);
  EXPECT_EQ(a["reindex"]["old_index_version"]["task-a"], 1);
  EXPECT_EQ(a["reindex"]["new_index_version"]["task-a"], 2);
}

TEST_F(TrainingTest, NothingToFitIsSkippedWithItsReason) {
  JobRow empty = Train();
  EXPECT_EQ(empty.status, kJobSkipped);
  EXPECT_EQ(Json::parse(empty.result_json)["reason"], "no videos available for adaptation");
  AddVideo("task-a", "trainee", RandomSet(10, 1));
  JobRow no_gold = Train();
  EXPECT_EQ(no_gold.status, kJobSkipped);
  EXPECT_EQ(Json::parse(no_gold.result_json)["reason"], "no task has a gold video to fit on");
  AddVideo("task-b", "gold", RandomSet(1, 2));  // one clip cannot be fitted
  JobRow tiny = Train();
  EXPECT_EQ(tiny.status, kJobSkipped);
  Json t = Json::parse(tiny.result_json);
  EXPECT_EQ(t["reason"], "no task could be fitted");
  EXPECT_NE(t["tasks"][1]["reason"].get<std::string>().find("insufficient embeddings"), std::string::npos) << t;
}

TEST_F(TrainingTest, WithTheAdapterDisabledTrainingIsSkippedAndScoresUseRawEmbeddings) {
  int64_t g = AddVideo("task-a", "gold", RandomSet(12, 1));
  int64_t t = AddVideo("task-a", "trainee", RandomSet(12, 2));
  ASSERT_EQ(Train().status, kJobCompleted);  // enabled: version 1
  config_.feature_adapter_enabled = false;
  Open();
  JobRow off = Train();
  EXPECT_EQ(off.status, kJobSkipped);
  EXPECT_EQ(Json::parse(off.result_json)["reason"],
            "the feature adapter is disabled (SOPILOT_ENABLE_FEATURE_ADAPTER=0)");
  auto pair = service_->LoadScorePair(g, t);
  ASSERT_TRUE(pair.ok());
  EXPECT_EQ(pair->index_version, 0);
  EXPECT_EQ(pair->gold_set.model, "heuristic-v1");
  ExpectRowsNear(pair->trainee_set.vectors, raw_[service_->store()->GetVideo(t)->embedding_path].vectors);
}

TEST_F(TrainingTest, AVideoIngestedAfterTrainingIsReadInTheCurrentVersion) {
  EmbeddingSet gs = RandomSet(15, 1);
  int64_t g = AddVideo("task-a", "gold", gs);
  ASSERT_EQ(Train().status, kJobCompleted);
  // Inserted after the version was built: no adapted file...
  EmbeddingSet late = RandomSet(15, 9);
  int64_t t = AddVideo("task-a", "trainee", late);
  EXPECT_EQ((*service_->store()->ResolveEmbeddings({t}))[0].adapted_path, "");
  // ...the score job applies version 1's adapter to the raw one.
  auto pair = service_->LoadScorePair(g, t);
  ASSERT_TRUE(pair.ok()) << pair.status().ToString();
  EXPECT_EQ(pair->index_version, 1);
  FeatureAdapter a = Fit({gs});
  ExpectRowsNear(pair->trainee_set.vectors, *ApplyFeatureAdapter(a, late.vectors));
  EXPECT_EQ(pair->trainee_set.model, a.AdaptedModel());
}

TEST_F(TrainingTest, OldVersionsAreDroppedWithTheirFilesAndDeletesRemoveAdaptedFiles) {
  int64_t g = AddVideo("task-a", "gold", RandomSet(12, 1));
  int64_t t = AddVideo("task-a", "trainee", RandomSet(12, 2));
  std::vector<std::string> adapters;
  for (int i = 0; i < 5; ++i) {
    JobRow job = Train();
    ASSERT_EQ(job.status, kJobCompleted);
    adapters.push_back(Json::parse(job.result_json)["adapter_path"]["task-a"]);
  }
  // Version 5 current, 4 and 3 kept.
  EXPECT_FALSE(fs::exists(adapters[0]));
  EXPECT_FALSE(fs::exists(adapters[1]));
  for (int i = 2; i < 5; ++i) EXPECT_TRUE(fs::exists(adapters[i])) << adapters[i];
  // Exactly the kept versions' adapted files are on disk besides the raw ones.
  int adapted_files = 0;
  for (const auto& f : fs::directory_iterator(config_.data_dir + "/embeddings")) {
    if (!raw_.count("embeddings/" + f.path().filename().string())) ++adapted_files;
  }
  EXPECT_EQ(adapted_files, 3 * 2);
  // The start-up check keeps them (they are referenced).
  auto report = service_->StartupCheck();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->orphan_files_removed, 0);
  EXPECT_TRUE(report->missing_files.empty());
  // Deleting a video removes its adapted files of every version.
  auto version_files = *service_->store()->VersionPathsOfVideo(t);
  ASSERT_EQ(version_files.size(), 3u);
  ASSERT_TRUE(service_->DeleteVideo(t, "token:admin").ok());
  for (const auto& f : version_files) EXPECT_FALSE(service_->blobs().Exists(f)) << f;
  EXPECT_TRUE(service_->store()->GetVideo(g).ok());
}

// A score job that runs during reindexing reads one consistent version: a
// trainer keeps building versions (each with a new gold video, so that
// every version's adapter differs) while a reader loads score pairs; every
// pair must be both sides adapted by one adapter, the one of the version
// it resolved, and the rows must be that adapter applied to the raw ones.
TEST_F(TrainingTest, ScorePairsReadDuringReindexingComeFromOneVersion) {
  int64_t gold = AddVideo("task-a", "gold", RandomSet(40, 1));
  int64_t trainee = AddVideo("task-a", "trainee", RandomSet(40, 2));
  ASSERT_EQ(Train().status, kJobCompleted);
  const EmbeddingSet raw_gold = raw_[service_->store()->GetVideo(gold)->embedding_path];
  const EmbeddingSet raw_trainee = raw_[service_->store()->GetVideo(trainee)->embedding_path];

  struct Sample {
    int64_t version;
    std::string gold_model, trainee_model;
    std::vector<float> gold_row, trainee_row;  // the last row of each
  };
  std::vector<Sample> samples;
  std::map<std::string, FeatureAdapter> adapters;  // by fingerprint
  std::atomic<bool> done{false}, reader_stopped{false};
  std::atomic<int> trainings{0};
  // The trainings the reader had seen finish when it began its latest
  // complete sample: after each training the trainer waits until the reader
  // has read once since (while the next training runs, reads still race
  // with it), so the reader sees the versions change however the threads
  // are scheduled.
  std::atomic<int> read_after{0};
  std::thread trainer([&] {
    for (int i = 0; i < 12; ++i) {
      AddVideo("task-a", "gold", RandomSet(10, 100 + i, 0.05f * i));
      JobRow job = Train();
      if (job.status != kJobCompleted) break;
      auto a = ReadFeatureAdapterFile(Env::Default(), Json::parse(job.result_json)["adapter_path"]["task-a"]);
      if (a.ok()) adapters[a->Fingerprint()] = *a;
      const int trained = ++trainings;
      while (read_after.load() < trained && !reader_stopped.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    done = true;
  });
  while (!done) {
    const int trained_before = trainings.load();
    auto p = service_->LoadScorePair(gold, trainee);
    if (!p.ok()) {
      ADD_FAILURE() << p.status().ToString();
      break;
    }
    read_after = trained_before;
    const int last = p->gold_set.vectors.rows - 1;
    samples.push_back({p->index_version, p->gold_set.model, p->trainee_set.model,
                       std::vector<float>(p->gold_set.vectors.row(last), p->gold_set.vectors.row(last) + kDim),
                       std::vector<float>(p->trainee_set.vectors.row(last), p->trainee_set.vectors.row(last) + kDim)});
  }
  reader_stopped = true;
  trainer.join();
  EXPECT_EQ(trainings.load(), 12);
  ASSERT_FALSE(samples.empty());
  std::set<int64_t> versions;
  for (const Sample& s : samples) {
    versions.insert(s.version);
    ASSERT_EQ(s.gold_model, s.trainee_model) << "version " << s.version << " mixed two adapters";
    const std::string fingerprint = s.gold_model.substr(s.gold_model.rfind(':') + 1);
    if (!adapters.count(fingerprint)) continue;  // version 1 (trained before the thread started)
    const FeatureAdapter& a = adapters[fingerprint];
    ASSERT_EQ(a.version, s.version) << "the rows are not of the version resolved";
    FloatMatrix g(1, kDim), t(1, kDim);
    std::copy(raw_gold.vectors.row(raw_gold.vectors.rows - 1), raw_gold.vectors.row(raw_gold.vectors.rows - 1) + kDim,
              g.row(0));
    std::copy(raw_trainee.vectors.row(raw_trainee.vectors.rows - 1),
              raw_trainee.vectors.row(raw_trainee.vectors.rows - 1) + kDim, t.row(0));
    FloatMatrix eg = *ApplyFeatureAdapter(a, g), et = *ApplyFeatureAdapter(a, t);
    for (int j = 0; j < kDim; ++j) {
      ASSERT_NEAR(s.gold_row[j], eg.at(0, j), 1e-6);
      ASSERT_NEAR(s.trainee_row[j], et.at(0, j), 1e-6);
    }
  }
  // The reader saw the versions change under it (otherwise this proves little).
  EXPECT_GE(versions.size(), 2u) << samples.size() << " samples";
}

// Two schedulers on two store connections (two services on one data
// directory), one fake clock: one of them leads and the nightly run is
// queued once; when the leader stops, the other takes over.
TEST_F(TrainingTest, TwoNightlyRunnersOnOneDataDirectoryQueueOneRun) {
  config_.nightly_enabled = true;
  config_.nightly_hour_local = 2;
  config_.nightly_check_sec = 10;  // lease 30 s
  Open();
  auto second = SopilotService::Open(config_, &env_);
  ASSERT_TRUE(second.ok());
  auto clock = [this] { return env_.now.load(); };
  NightlyRunner a(service_.get(), clock), b(second->get(), clock);
  env_.now = 1770595200.0 + 2 * 3600 - 60;  // 01:59
  int fired = 0;
  for (int i = 0; i < 30; ++i, env_.now = env_.now + 10) {  // to 02:04
    for (NightlyRunner* r : {&a, &b}) {
      auto o = r->RunOnce();
      ASSERT_TRUE(o.ok()) << o.status().ToString();
      if (*o == NightlyScheduler::Outcome::kFired) ++fired;
    }
    EXPECT_NE(a.leader(), b.leader());
  }
  EXPECT_EQ(fired, 1);
  auto queued = service_->store()->JobsWithStatus(JobKind::kTraining, kJobQueued, 100);
  ASSERT_EQ(queued->size(), 1u);
  EXPECT_EQ((*queued)[0].trigger, "nightly");
  EXPECT_EQ((*queued)[0].requested_by, "system:nightly");
  // The status names the scheduler that holds the lease.
  Json status = *service_->NightlyStatus();
  EXPECT_EQ(status["enabled"], true);
  EXPECT_EQ(status["next_run_local"], "2026-02-10T02:00:00");
  EXPECT_EQ(status["scheduler_holder"], a.leader() ? a.scheduler().holder() : b.scheduler().holder());

  // The leader stops (gives the lease up); the other runs the next night.
  NightlyRunner& leader = a.leader() ? a : b;
  NightlyRunner& other = a.leader() ? b : a;
  leader.Stop();
  // The queued job still waits (nobody ran it): the next night queues none.
  env_.now = 1770595200.0 + 86400 + 2 * 3600 - 20;
  for (int i = 0; i < 6; ++i, env_.now = env_.now + 10) ASSERT_TRUE(other.RunOnce().ok());
  EXPECT_TRUE(other.leader());
  EXPECT_EQ(service_->store()->JobsWithStatus(JobKind::kTraining, kJobQueued, 100)->size(), 1u);
  auto audit = service_->store()->AuditTrail(5);
  EXPECT_EQ((*audit)[0].action, "nightly.not_queued");
  EXPECT_EQ((*audit)[0].subject, "2026-02-10T02:00:00");
}

// A real ingest after a training writes the new video's adapted file for the
// current version at once (the search index stays complete).
TEST_F(TrainingTest, AnIngestAfterTrainingAddsTheVideoToTheCurrentVersion) {
  auto ingest = [&](const std::string& name, const std::string& role) -> int64_t {
    const std::string video = dir_.file(name);
    testing::MakeProcedureVideo(video, {{testing::DistinctScenes()[0], 3}, {testing::DistinctScenes()[3], 3}});
    const std::string incoming = service_->blobs().NewIncomingPath();
    fs::copy_file(video, incoming);
    UploadRequest req;
    req.task_id = "task-v";
    req.role = role;
    req.file_name = name;
    auto job = service_->SubmitUpload(incoming, *Sha256FileHex(incoming), req, "token:operator");
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    auto leased = service_->queue()->Lease({JobKind::kIngest}, "test-worker", 60, 1);
    EXPECT_TRUE(leased.ok() && leased->has_value());
    NeverStop ctx;
    Status st = service_->RunJob(**leased, ctx);
    EXPECT_TRUE(st.ok()) << st.ToString();
    EXPECT_TRUE(service_->queue()->Ack(**leased).ok());
    return service_->store()->GetJob(job->id)->video_id.value_or(-1);
  };
  int64_t gold = ingest("gold.mp4", "gold");
  ASSERT_GT(gold, 0);
  ASSERT_EQ(Train().status, kJobCompleted);
  int64_t trainee = ingest("trainee.mp4", "trainee");
  ASSERT_GT(trainee, 0);
  auto e = service_->store()->ResolveEmbeddings({trainee});
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)[0].index_version, 1);
  ASSERT_FALSE((*e)[0].adapted_path.empty());
  auto adapted = ReadEmbeddingFile(Env::Default(), service_->blobs().Absolute((*e)[0].adapted_path));
  auto raw = ReadEmbeddingFile(Env::Default(), service_->blobs().Absolute((*e)[0].video.embedding_path));
  auto adapter = ReadFeatureAdapterFile(Env::Default(), service_->blobs().Absolute((*e)[0].adapter_path));
  ASSERT_TRUE(adapted.ok() && raw.ok() && adapter.ok());
  EXPECT_EQ(adapted->model, adapter->AdaptedModel());
  ExpectRowsNear(adapted->vectors, *ApplyFeatureAdapter(*adapter, raw->vectors));
}

}  // namespace
}  // namespace sopilot
