#include "store/metadata_store.h"

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <regex>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "store/store_backend_test_util.h"
#include "testing/fake_clock_env.h"
#include "testing/poll.h"
#include "testing/temp_dir.h"

namespace sopilot {
namespace {

using testing::FakeClockEnv;

// A second, raw connection to the file: what another program (or a curious
// operator with the sqlite3 shell) could do.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
    sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDb() { sqlite3_close(db_); }
  // The sqlite result code; the message in `error`.
  int Exec(const std::string& sql, std::string* error = nullptr) {
    char* msg = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg);
    if (error) *error = msg ? msg : "";
    sqlite3_free(msg);
    return rc;
  }
  // The first column of every row, as text ("" for NULL).
  std::vector<std::string> Column(const std::string& sql) {
    std::vector<std::string> out;
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db_);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* t = sqlite3_column_text(stmt, 0);
      out.push_back(t ? reinterpret_cast<const char*>(t) : "");
    }
    sqlite3_finalize(stmt);
    return out;
  }
  std::string One(const std::string& sql) {
    auto col = Column(sql);
    return col.empty() ? "<no row>" : col[0];
  }

 private:
  sqlite3* db_ = nullptr;
};

VideoRow MakeVideo(const std::string& task, const std::string& name, bool embedded = true) {
  VideoRow v;
  v.task_id = task;
  v.role = "trainee";
  v.file_name = name;
  v.file_path = "raw/" + name;
  v.content_sha256 = std::string(64, 'a');
  if (embedded) {
    v.embedding_path = "embeddings/" + name + ".emb";
    v.embedding_model = "heuristic-v1";
  }
  v.num_clips = 2;
  v.duration_sec = 8.5;
  v.source_fps = 30;
  v.sampled_fps = 4;
  return v;
}

std::vector<ClipRow> TwoClips() { return {{0, 0, 0.0, 4.0}, {0, 1, 4.0, 8.5}}; }

JobRow MakeJob(JobKind kind) {
  JobRow j;
  j.id = NewUuid4();
  j.kind = kind;
  j.requested_by = "token:admin";
  return j;
}

// Every test of MetadataStoreTest runs on SQLite and on PostgreSQL.
class MetadataStoreTest : public testing::StoreBackendTest {
 protected:
  // The audit rows whose subject is `subject` (a job's id, a video's), oldest first.
  std::vector<AuditEntry> AuditRowsOf(const std::string& subject) {
    std::vector<AuditEntry> out;
    auto trail = store_->AuditTrail(5000);
    EXPECT_TRUE(trail.ok()) << trail.status().ToString();
    if (!trail.ok()) return out;
    for (const AuditEntry& e : *trail) {
      if (e.subject == subject) out.push_back(e);
    }
    return out;
  }
  // From now on every INSERT into audit_log fails, as a full disk or a lost
  // connection would make it fail at that moment.
  void RefuseAuditInserts() {
    testing::RawSql raw = Raw();
    const std::string refuse =
        postgres() ? "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                     "RAISE EXCEPTION 'audit refused'; END $$; "
                     "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION "
                     "refuse_audit();"
                   : "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit "
                     "refused'); END;";
    std::string error;
    ASSERT_TRUE(raw.Exec(refuse, &error)) << error;
  }
};
INSTANTIATE_TEST_SUITE_P(Backends, MetadataStoreTest,
                         ::testing::Values(testing::StoreBackend::kSqlite, testing::StoreBackend::kPostgres),
                         testing::StoreBackendName);

// What only a file has: SQLite's locks.
class SqliteMetadataStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = MetadataStore::Open(path_, &env_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  testing::TempDir dir_;
  std::string path_ = dir_.file("sopilot.db");
  FakeClockEnv env_;
  std::unique_ptr<MetadataStore> store_;
};

// ---------------------------------------------------------------- helpers

TEST(MetadataHelpersTest, IsoTimestamp) {
  EXPECT_EQ(IsoTimestamp(1770543959.0), "2026-02-08T09:45:59+00:00");
  EXPECT_EQ(IsoTimestamp(1770543959.999), "2026-02-08T09:45:59+00:00");
  EXPECT_EQ(IsoTimestamp(0), "1970-01-01T00:00:00+00:00");
}

TEST(MetadataHelpersTest, Uuid4HasVersionAndVariantAndIsUnique) {
  std::regex shape("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewUuid4();
    ASSERT_TRUE(std::regex_match(id, shape)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

// ---------------------------------------------------------------- schema

TEST_P(MetadataStoreTest, MigrationCreatesSchema) {
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(store_->schema_version(), 6);
  EXPECT_TRUE(store_->Ping().ok());
  EXPECT_TRUE(store_->QuickCheck().ok());
  EXPECT_EQ(std::string(store_->backend()), postgres() ? "postgresql" : "sqlite");
  auto raw = Raw();
  // Tables, indexes and triggers by name, from the database's own catalogue.
  auto names = postgres() ? raw.Column("SELECT relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = "
                                       "c.relnamespace WHERE n.nspname = 'public' UNION "
                                       "SELECT tgname::text FROM pg_trigger WHERE NOT tgisinternal")
                          : raw.Column("SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name");
  std::set<std::string> got(names.begin(), names.end());
  for (const char* want : {"schema_migrations", "videos", "clips", "jobs", "audit_log", "idx_videos_task",
                           "idx_jobs_kind_status", "idx_clips_video", "audit_log_no_update", "audit_log_no_delete",
                           "index_versions", "task_index", "version_embeddings", "leases", "scheduler_slots", "sop_versions",
                           "sop_versions_immutable", "idx_jobs_score_history", "task_settings", "webhook_deliveries",
                           "jobs_score_ended"}) {
    EXPECT_TRUE(got.count(want)) << want;
  }
  EXPECT_EQ(raw.Column("SELECT version FROM schema_migrations ORDER BY version"), (std::vector<std::string>{"1", "2", "3", "4", "5", "6"}));
  EXPECT_EQ(raw.One("SELECT applied_at FROM schema_migrations LIMIT 1"), "2026-02-08T09:45:59+00:00");
  if (!postgres()) {
    EXPECT_EQ(raw.One("PRAGMA journal_mode"), "wal");
  }
  // The kind check is in the table, not only in the code.
  std::string err;
  EXPECT_FALSE(raw.Exec("INSERT INTO jobs (id, kind, status, created_at, updated_at) "
                        "VALUES ('x', 'bogus', 'queued', 't', 't')",
                        &err));
  EXPECT_NE(err.find(postgres() ? "check constraint" : "CHECK"), std::string::npos) << err;
}

TEST_P(MetadataStoreTest, ReopeningIsANoOp) {
  ASSERT_NE(store_, nullptr);
  auto id = store_->InsertVideo(MakeVideo("t1", "a.mp4"), TwoClips());
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  store_.reset();
  env_.now = 1770600000.0;
  store_ = OpenStore();
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(store_->schema_version(), 6);
  auto v = store_->GetVideo(*id);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->file_name, "a.mp4");
  auto raw = Raw();
  EXPECT_EQ(raw.One("SELECT COUNT(*) FROM schema_migrations"), "6");
  EXPECT_EQ(raw.One("SELECT MAX(applied_at) FROM schema_migrations"), "2026-02-08T09:45:59+00:00");
}

TEST_P(MetadataStoreTest, NewerSchemaVersionIsRefused) {
  store_.reset();
  {
    std::string err;
    ASSERT_TRUE(Raw().Exec("INSERT INTO schema_migrations VALUES (7, 'later')", &err)) << err;
  }
  auto s = MetadataStore::Open(location_, &env_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Status::Code::kUnsupported);
  EXPECT_NE(s.status().message().find("database schema version 7 is newer than this build supports (6)"),
            std::string::npos)
      << s.status().ToString();
}

TEST(MetadataStoreOpenTest, NotADatabaseFails) {
  testing::TempDir dir;
  std::ofstream(dir.file("junk.db")) << std::string(4096, 'x');
  auto s = MetadataStore::Open(dir.file("junk.db"), Env::Default());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Status::Code::kCorruption) << s.status().ToString();
}

TEST(MetadataStoreOpenTest, UnopenablePathFails) {
  testing::TempDir dir;
  auto s = MetadataStore::Open(dir.file("no/such/dir/x.db"), Env::Default());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Status::Code::kIOError) << s.status().ToString();
}

// ---------------------------------------------------------------- videos

TEST_P(MetadataStoreTest, InsertAndGetVideoWithClips) {
  ASSERT_NE(store_, nullptr);
  VideoRow in = MakeVideo("task-a", "gold.mp4");
  in.role = "gold";
  in.site_id = "site-1";
  auto id = store_->InsertVideo(in, TwoClips());
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_GT(*id, 0);

  auto v = store_->GetVideo(*id);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->id, *id);
  EXPECT_EQ(v->task_id, "task-a");
  EXPECT_EQ(v->role, "gold");
  EXPECT_EQ(v->site_id, "site-1");
  EXPECT_EQ(v->camera_id, "");
  EXPECT_EQ(v->file_path, "raw/gold.mp4");
  EXPECT_EQ(v->embedding_path, "embeddings/gold.mp4.emb");
  EXPECT_EQ(v->embedding_model, "heuristic-v1");
  EXPECT_EQ(v->num_clips, 2);
  EXPECT_DOUBLE_EQ(v->duration_sec, 8.5);
  EXPECT_DOUBLE_EQ(v->source_fps, 30);
  EXPECT_DOUBLE_EQ(v->sampled_fps, 4);
  EXPECT_EQ(v->created_at, "2026-02-08T09:45:59+00:00");

  auto clips = store_->GetClips(*id);
  ASSERT_TRUE(clips.ok());
  ASSERT_EQ(clips->size(), 2u);
  EXPECT_EQ((*clips)[1].video_id, *id);
  EXPECT_EQ((*clips)[1].clip_idx, 1);
  EXPECT_DOUBLE_EQ((*clips)[1].start_sec, 4.0);
  EXPECT_DOUBLE_EQ((*clips)[1].end_sec, 8.5);
  EXPECT_EQ(*store_->TotalClips(), 2);

  auto missing = store_->GetVideo(*id + 100);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
}

TEST_P(MetadataStoreTest, InsertVideoIsAllOrNothing) {
  ASSERT_NE(store_, nullptr);
  std::vector<ClipRow> dup = {{0, 0, 0, 1}, {0, 0, 1, 2}};  // clip_idx 0 twice
  auto id = store_->InsertVideo(MakeVideo("t", "a.mp4"), dup);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), Status::Code::kInvalidArgument) << id.status().ToString();
  EXPECT_TRUE(store_->ListVideos("", 10)->empty());
  EXPECT_EQ(*store_->TotalClips(), 0);

  VideoRow bad = MakeVideo("t", "b.mp4");
  bad.role = "boss";
  EXPECT_EQ(store_->InsertVideo(bad, {}).status().code(), Status::Code::kInvalidArgument);
  // The store is still usable after the rollback.
  EXPECT_TRUE(store_->InsertVideo(MakeVideo("t", "c.mp4"), TwoClips()).ok());
}

TEST_P(MetadataStoreTest, ListVideosNewestFirstWithTaskFilterAndLimit) {
  ASSERT_NE(store_, nullptr);
  std::vector<int64_t> ids;
  for (int i = 0; i < 6; ++i) {
    auto id = store_->InsertVideo(MakeVideo(i % 2 ? "odd" : "even", "v" + std::to_string(i) + ".mp4"), {});
    ASSERT_TRUE(id.ok());
    ids.push_back(*id);
  }
  auto all = store_->ListVideos("", 100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 6u);
  EXPECT_EQ((*all)[0].id, ids[5]);
  EXPECT_EQ((*all)[5].id, ids[0]);

  auto odd = store_->ListVideos("odd", 100);
  ASSERT_EQ(odd->size(), 3u);
  EXPECT_EQ((*odd)[0].id, ids[5]);
  EXPECT_EQ((*odd)[2].id, ids[1]);
  for (const auto& v : *odd) EXPECT_EQ(v.task_id, "odd");

  EXPECT_EQ(store_->ListVideos("", 2)->size(), 2u);
  EXPECT_EQ(store_->ListVideos("", 0)->size(), 1u);   // clamped up to 1
  EXPECT_EQ(store_->ListVideos("", -5)->size(), 1u);
  EXPECT_TRUE(store_->ListVideos("nope", 10)->empty());
}

TEST_P(MetadataStoreTest, ListVideosClampsLimitTo500) {
  ASSERT_NE(store_, nullptr);
  for (int i = 0; i < 501; ++i) ASSERT_TRUE(store_->InsertVideo(MakeVideo("t", "v.mp4"), {}).ok());
  EXPECT_EQ(store_->ListVideos("", 100000)->size(), 500u);
}

TEST_P(MetadataStoreTest, VideosOfTaskOnlyEmbeddedOldestFirst) {
  ASSERT_NE(store_, nullptr);
  int64_t a = *store_->InsertVideo(MakeVideo("t", "a.mp4"), {});
  ASSERT_TRUE(store_->InsertVideo(MakeVideo("t", "pending.mp4", /*embedded=*/false), {}).ok());
  int64_t b = *store_->InsertVideo(MakeVideo("t", "b.mp4"), {});
  ASSERT_TRUE(store_->InsertVideo(MakeVideo("other", "c.mp4"), {}).ok());
  auto v = store_->VideosOfTask("t");
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->size(), 2u);
  EXPECT_EQ((*v)[0].id, a);
  EXPECT_EQ((*v)[1].id, b);
}

TEST_P(MetadataStoreTest, DeleteVideoRemovesClipsAndNullsJobReferences) {
  ASSERT_NE(store_, nullptr);
  int64_t gold = *store_->InsertVideo(MakeVideo("t", "gold.mp4"), TwoClips());
  int64_t trainee = *store_->InsertVideo(MakeVideo("t", "trainee.mp4"), TwoClips());
  JobRow ingest = MakeJob(JobKind::kIngest);
  ASSERT_TRUE(store_->InsertJob(ingest).ok());
  ASSERT_TRUE(store_->CompleteIngestJob(ingest.id, gold, R"({"num_clips":2})").ok());
  JobRow score = MakeJob(JobKind::kScore);
  score.gold_video_id = gold;
  score.trainee_video_id = trainee;
  ASSERT_TRUE(store_->InsertJob(score).ok());

  EXPECT_TRUE(*store_->PathInUse("raw/gold.mp4"));
  EXPECT_TRUE(*store_->PathInUse("embeddings/gold.mp4.emb"));
  ASSERT_TRUE(store_->DeleteVideo(gold).ok());

  EXPECT_EQ(store_->GetVideo(gold).status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(store_->GetClips(gold)->empty());
  EXPECT_EQ(*store_->TotalClips(), 2);  // the trainee's
  auto i = store_->GetJob(ingest.id);
  ASSERT_TRUE(i.ok());
  EXPECT_FALSE(i->video_id.has_value());
  EXPECT_EQ(i->status, kJobCompleted);  // the row stays
  auto s = store_->GetJob(score.id);
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->gold_video_id.has_value());
  EXPECT_EQ(s->trainee_video_id, trainee);
  EXPECT_FALSE(*store_->PathInUse("raw/gold.mp4"));
  EXPECT_TRUE(*store_->PathInUse("raw/trainee.mp4"));

  EXPECT_EQ(store_->DeleteVideo(gold).code(), Status::Code::kNotFound);
}

TEST_P(MetadataStoreTest, ADeletedVideoWritesItsRowInTheSameTransaction) {
  ASSERT_NE(store_, nullptr);
  int64_t a = *store_->InsertVideo(MakeVideo("t", "a.mp4"), TwoClips());
  int64_t b = *store_->InsertVideo(MakeVideo("t", "b.mp4"), TwoClips());
  const AuditRecord deleted{"token:admin", "video.deleted", R"({"files":["raw/a.mp4"],"task_id":"t"})"};
  ASSERT_TRUE(store_->DeleteVideo(a, deleted).ok());
  auto rows = AuditRowsOf(std::to_string(a));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].actor, "token:admin");
  EXPECT_EQ(rows[0].action, "video.deleted");
  EXPECT_EQ(nlohmann::json::parse(rows[0].detail_json), nlohmann::json::parse(deleted.detail_json));
  // No video, no deletion, no row.
  EXPECT_EQ(store_->DeleteVideo(a, deleted).code(), Status::Code::kNotFound);
  EXPECT_EQ(AuditRowsOf(std::to_string(a)).size(), 1u);
  // A detail that is not a JSON object: the video stays.
  EXPECT_EQ(store_->DeleteVideo(b, AuditRecord{"token:admin", "video.deleted", "[]"}).code(),
            Status::Code::kInvalidArgument);
  EXPECT_TRUE(store_->GetVideo(b).ok());

  // The row cannot be written: the video, its clips and its files' claim stay.
  ASSERT_NO_FATAL_FAILURE(RefuseAuditInserts());
  EXPECT_FALSE(store_->DeleteVideo(b, deleted).ok());
  EXPECT_TRUE(store_->GetVideo(b).ok());
  EXPECT_EQ(store_->GetClips(b)->size(), 2u);
  EXPECT_TRUE(*store_->PathInUse("raw/b.mp4"));
  EXPECT_TRUE(AuditRowsOf(std::to_string(b)).empty());
  // Without the audit the same deletion goes through (the trigger is the cause).
  ASSERT_TRUE(store_->DeleteVideo(b).ok());
  EXPECT_EQ(store_->GetVideo(b).status().code(), Status::Code::kNotFound);
}

TEST_P(MetadataStoreTest, ASavedSopVersionWritesItsRowInTheSameTransaction) {
  ASSERT_NE(store_, nullptr);
  const int64_t gold = *store_->InsertVideo(MakeVideo("t", "gold.mp4"), TwoClips());
  const AuditRecord saved{"token:editor", "sop.saved", R"({"steps":2})"};
  auto v1 = store_->AppendSopVersion("t", gold, R"({"steps":[]})", "token:editor", saved);
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  auto v2 = store_->AppendSopVersion("t", gold, R"({"steps":[1]})", "token:editor", saved);
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  auto rows = AuditRowsOf("t");
  ASSERT_EQ(rows.size(), 2u);
  std::set<int64_t> versions;
  for (const AuditEntry& row : rows) {
    EXPECT_EQ(row.actor, "token:editor");
    EXPECT_EQ(row.action, "sop.saved");
    nlohmann::json detail = nlohmann::json::parse(row.detail_json);
    EXPECT_EQ(detail["steps"], 2);
    versions.insert(detail["version"].get<int64_t>());  // the number the save made
  }
  EXPECT_EQ(versions, (std::set<int64_t>{*v1, *v2}));
  // A detail that is not a JSON object: no version.
  EXPECT_EQ(store_->AppendSopVersion("t", gold, R"({"steps":[2]})", "token:editor",
                                     AuditRecord{"token:editor", "sop.saved", "[]"})
                .status()
                .code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(store_->GetSopVersion("t", 0)->version, *v2);

  // The row cannot be written: no version is saved, and the next save that
  // can be recorded gets the next number.
  ASSERT_NO_FATAL_FAILURE(RefuseAuditInserts());
  EXPECT_FALSE(store_->AppendSopVersion("t", gold, R"({"steps":[3]})", "token:editor", saved).ok());
  EXPECT_EQ(store_->GetSopVersion("t", 0)->version, *v2);
  EXPECT_EQ(AuditRowsOf("t").size(), 2u);
  // Without the audit the same save goes through (the trigger is the cause).
  auto v3 = store_->AppendSopVersion("t", gold, R"({"steps":[3]})", "token:editor");
  ASSERT_TRUE(v3.ok()) << v3.status().ToString();
  EXPECT_EQ(*v3, *v2 + 1);
}

// A task's settings (webhook, automatic scoring) change with their audit row
// or not at all.
TEST_P(MetadataStoreTest, ATaskSettingWritesItsRowInTheSameTransaction) {
  ASSERT_NE(store_, nullptr);
  const AuditRecord set{"token:admin", "task.webhook_set", R"({"url":"http://hooks.test/a","secret_set":true})"};
  const AuditRecord removed{"token:admin", "task.webhook_removed", "{}"};
  const AuditRecord auto_on{"token:admin", "task.auto_score_set", R"({"enabled":true})"};
  ASSERT_TRUE(store_->PutTaskWebhook("t", "http://hooks.test/a", "s3cret", "token:admin", set).ok());
  ASSERT_TRUE(store_->SetTaskAutoScore("t", true, "token:admin", auto_on).ok());
  ASSERT_TRUE(store_->ClearTaskWebhook("t", "token:admin", removed).ok());
  // No webhook, no removal, no row.
  EXPECT_EQ(store_->ClearTaskWebhook("t", "token:admin", removed).code(), Status::Code::kNotFound);
  std::vector<std::string> actions;
  for (const AuditEntry& row : AuditRowsOf("t")) {
    EXPECT_EQ(row.actor, "token:admin");
    actions.push_back(row.action);
  }
  std::sort(actions.begin(), actions.end());
  EXPECT_EQ(actions, (std::vector<std::string>{"task.auto_score_set", "task.webhook_removed", "task.webhook_set"}));
  // A detail that is not a JSON object: the setting stays as it was.
  EXPECT_EQ(store_->SetTaskAutoScore("t", false, "token:admin", AuditRecord{"token:admin", "task.auto_score_set", "[]"})
                .code(),
            Status::Code::kInvalidArgument);
  EXPECT_TRUE(store_->GetTaskSettings("t")->auto_score);

  // The row cannot be written: no setting changes.
  ASSERT_TRUE(store_->PutTaskWebhook("t", "http://hooks.test/b", "", "token:admin", set).ok());
  ASSERT_NO_FATAL_FAILURE(RefuseAuditInserts());
  EXPECT_FALSE(store_->PutTaskWebhook("t", "http://hooks.test/c", "", "token:other", set).ok());
  EXPECT_FALSE(store_->SetTaskAutoScore("t", false, "token:other", auto_on).ok());
  EXPECT_FALSE(store_->ClearTaskWebhook("t", "token:other", removed).ok());
  TaskSettingsRow after = *store_->GetTaskSettings("t");
  EXPECT_EQ(after.webhook_url, "http://hooks.test/b");
  EXPECT_TRUE(after.auto_score);
  EXPECT_EQ(after.updated_by, "token:admin");
  EXPECT_EQ(AuditRowsOf("t").size(), 4u);
  // Without the audit the same change goes through (the trigger is the cause).
  ASSERT_TRUE(store_->SetTaskAutoScore("t", false, "token:other").ok());
  EXPECT_FALSE(store_->GetTaskSettings("t")->auto_score);
}

// An upload waiting in a job keeps its file: queued, running and dead jobs
// (a dead one may be requeued) hold it; completed and failed ones do not.
TEST_P(MetadataStoreTest, UnfinishedJobsHoldTheirUpload) {
  ASSERT_NE(store_, nullptr);
  // Each job through legal transitions to one status, with a file of its own.
  const std::vector<std::vector<const char*>> paths = {
      {}, {kJobRunning}, {kJobRunning, kJobDead}, {kJobRunning, kJobFailed}, {kJobRunning, kJobCompleted}};
  for (size_t n = 0; n < paths.size(); ++n) {
    JobRow ingest = MakeJob(JobKind::kIngest);
    const std::string file = "raw/upload" + std::to_string(n) + ".mp4";
    ingest.file_path = file;
    ASSERT_TRUE(store_->InsertJob(ingest).ok());
    std::string status = kJobQueued;
    for (const char* next : paths[n]) {
      ASSERT_TRUE(store_->SetJobStatus(ingest.id, next).ok()) << status << " -> " << next;
      status = next;
    }
    const bool held = status != kJobFailed && status != kJobCompleted;
    EXPECT_EQ(*store_->PathInUse(file), held) << status;
    int removes = 0;
    auto removed = store_->RemoveIfUnreferenced(file, [&] {
      ++removes;
      return Status::Ok();
    });
    ASSERT_TRUE(removed.ok());
    EXPECT_EQ(*removed, !held) << status;
    EXPECT_EQ(removes, held ? 0 : 1) << status;
  }
  // A failing removal is reported, not swallowed.
  auto failed = store_->RemoveIfUnreferenced("raw/nobody.mp4", [] { return Status::IOError("read-only"); });
  EXPECT_EQ(failed.status().code(), Status::Code::kIOError);
}

// InsertJobPlacing: the row and the file together, or neither.
TEST_P(MetadataStoreTest, InsertJobPlacingIsAllOrNothing) {
  ASSERT_NE(store_, nullptr);
  JobRow job = MakeJob(JobKind::kIngest);
  job.file_path = "raw/new.mp4";
  Status st = store_->InsertJobPlacing(job, [] { return Status::NoSpace("disk full"); });
  EXPECT_EQ(st.code(), Status::Code::kNoSpace);
  EXPECT_EQ(store_->GetJob(job.id).status().code(), Status::Code::kNotFound) << "the row outlived a failed placing";
  bool placed = false;
  ASSERT_TRUE(store_->InsertJobPlacing(job, [&] {
                       placed = true;
                       return Status::Ok();
                     }).ok());
  EXPECT_TRUE(placed);
  EXPECT_EQ(store_->GetJob(job.id)->status, kJobQueued);
  EXPECT_TRUE(*store_->PathInUse("raw/new.mp4"));
}

TEST_P(MetadataStoreTest, AllReferencedPaths) {
  ASSERT_NE(store_, nullptr);
  ASSERT_TRUE(store_->InsertVideo(MakeVideo("t", "a.mp4"), {}).ok());
  ASSERT_TRUE(store_->InsertVideo(MakeVideo("t", "b.mp4", /*embedded=*/false), {}).ok());
  VideoRow same = MakeVideo("t2", "a.mp4");  // same content, another task
  ASSERT_TRUE(store_->InsertVideo(same, {}).ok());
  auto paths = store_->AllReferencedPaths();
  ASSERT_TRUE(paths.ok());
  EXPECT_EQ(*paths, (std::vector<std::string>{"embeddings/a.mp4.emb", "raw/a.mp4", "raw/b.mp4"}));
}

// ---------------------------------------------------------------- jobs

TEST_P(MetadataStoreTest, JobStateMachine) {
  ASSERT_NE(store_, nullptr);
  JobRow job = MakeJob(JobKind::kScore);
  job.status = "completed";  // ignored: a new job is queued
  ASSERT_TRUE(store_->InsertJob(job).ok());
  auto j = store_->GetJob(job.id);
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ(j->kind, JobKind::kScore);
  EXPECT_EQ(j->status, kJobQueued);
  EXPECT_EQ(j->attempts, 0);
  EXPECT_EQ(j->requested_by, "token:admin");
  EXPECT_EQ(j->created_at, "2026-02-08T09:45:59+00:00");
  EXPECT_EQ(j->queued_at, j->created_at);
  EXPECT_EQ(j->started_at, "");
  EXPECT_EQ(j->finished_at, "");

  env_.now = env_.now + 10;
  ASSERT_TRUE(store_->SetJobStatus(job.id, kJobRunning).ok());
  j = store_->GetJob(job.id);
  EXPECT_EQ(j->status, kJobRunning);
  EXPECT_EQ(j->attempts, 1);
  EXPECT_EQ(j->started_at, "2026-02-08T09:46:09+00:00");
  EXPECT_EQ(j->updated_at, j->started_at);

  env_.now = env_.now + 10;
  ASSERT_TRUE(store_->SetJobStatus(job.id, kJobFailed, "decoder crashed").ok());
  j = store_->GetJob(job.id);
  EXPECT_EQ(j->status, kJobFailed);
  EXPECT_EQ(j->error_message, "decoder crashed");
  EXPECT_EQ(j->finished_at, "2026-02-08T09:46:19+00:00");

  env_.now = env_.now + 10;
  ASSERT_TRUE(store_->SetJobStatus(job.id, kJobQueued).ok());
  j = store_->GetJob(job.id);
  EXPECT_EQ(j->error_message, "");
  EXPECT_EQ(j->queued_at, "2026-02-08T09:46:29+00:00");
  EXPECT_EQ(j->finished_at, "");

  ASSERT_TRUE(store_->SetJobStatus(job.id, kJobRunning).ok());
  EXPECT_EQ(store_->GetJob(job.id)->attempts, 2);

  env_.now = env_.now + 10;
  ASSERT_TRUE(store_->CompleteScoreJob(job.id, 87.5, "reports/x.json", R"({"score":87.5})").ok());
  j = store_->GetJob(job.id);
  EXPECT_EQ(j->status, kJobCompleted);
  EXPECT_EQ(j->score, 87.5);
  EXPECT_EQ(j->result_path, "reports/x.json");
  EXPECT_EQ(j->result_json, R"({"score":87.5})");
  EXPECT_EQ(j->finished_at, "2026-02-08T09:46:39+00:00");

  // A result is never recorded twice, and a final job never moves.
  Status again = store_->CompleteScoreJob(job.id, 10, "reports/y.json", "{}");
  EXPECT_EQ(again.code(), Status::Code::kInvalidArgument) << again.ToString();
  for (const char* s : {kJobRunning, kJobQueued, kJobFailed, kJobCompleted}) {
    EXPECT_EQ(store_->SetJobStatus(job.id, s).code(), Status::Code::kInvalidArgument) << s;
  }
  j = store_->GetJob(job.id);
  EXPECT_EQ(j->score, 87.5);
  EXPECT_EQ(j->result_path, "reports/x.json");
  EXPECT_EQ(j->attempts, 2);
}

TEST_P(MetadataStoreTest, AScoreOfTheClosestGoldRecordsTheGoldItSettledOn) {
  JobRow job = MakeJob(JobKind::kScore);
  job.gold_video_id.reset();  // not known before the score runs
  job.sop_version = 3;        // the SOP's, should its gold be the closest
  job.gold_selection = "closest";
  ASSERT_TRUE(store_->InsertJob(job).ok());
  auto queued = store_->GetJob(job.id);
  ASSERT_TRUE(queued.ok());
  EXPECT_EQ(queued->gold_selection, "closest");
  EXPECT_FALSE(queued->gold_video_id.has_value());
  auto gold = store_->InsertVideo(MakeVideo("t1", "gold-b.mp4"), TwoClips());
  ASSERT_TRUE(gold.ok());
  // Another gold than the SOP's won: the score used no SOP version.
  ASSERT_TRUE(store_->CompleteScoreJob(job.id, 91, "reports/c.json", "{}",
                                       MetadataStore::ScoredGold{*gold, std::nullopt})
                  .ok());
  auto done = store_->GetJob(job.id);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->gold_video_id, *gold);
  EXPECT_FALSE(done->sop_version.has_value());
  EXPECT_EQ(done->score, 91);
  EXPECT_EQ(done->gold_selection, "closest");

  // Without one, the row's gold and SOP version stay as submitted.
  JobRow named = MakeJob(JobKind::kScore);
  named.gold_video_id = *gold;
  named.sop_version = 2;
  named.gold_selection = "named";
  ASSERT_TRUE(store_->InsertJob(named).ok());
  ASSERT_TRUE(store_->CompleteScoreJob(named.id, 50, "reports/n.json", "{}").ok());
  EXPECT_EQ(store_->GetJob(named.id)->gold_video_id, *gold);
  EXPECT_EQ(store_->GetJob(named.id)->sop_version, 2);
}

TEST_P(MetadataStoreTest, DeadAndSkippedAreFinal) {
  ASSERT_NE(store_, nullptr);
  JobRow dead = MakeJob(JobKind::kIngest);
  ASSERT_TRUE(store_->InsertJob(dead).ok());
  ASSERT_TRUE(store_->SetJobStatus(dead.id, kJobRunning).ok());
  ASSERT_TRUE(store_->SetJobStatus(dead.id, kJobFailed, "boom").ok());
  // From failed a job can be retried or buried, but not completed.
  EXPECT_FALSE(store_->CompleteIngestJob(dead.id, 1, "{}").ok());
  ASSERT_TRUE(store_->SetJobStatus(dead.id, kJobDead).ok());
  EXPECT_EQ(store_->GetJob(dead.id)->error_message, "boom");  // kept
  EXPECT_EQ(store_->SetJobStatus(dead.id, kJobQueued).code(), Status::Code::kInvalidArgument);
  // Only an operator's requeue brings it back, and only from dead.
  ASSERT_TRUE(store_->ReviveDeadJob(dead.id).ok());
  auto revived = store_->GetJob(dead.id);
  EXPECT_EQ(revived->status, kJobQueued);
  EXPECT_EQ(revived->error_message, "");
  EXPECT_EQ(revived->finished_at, "");
  EXPECT_EQ(store_->ReviveDeadJob(dead.id).code(), Status::Code::kNotFound);  // queued, not dead
  EXPECT_EQ(store_->ReviveDeadJob("no-such-job").code(), Status::Code::kNotFound);

  JobRow training = MakeJob(JobKind::kTraining);
  training.trigger = "manual";
  ASSERT_TRUE(store_->InsertJob(training).ok());
  ASSERT_TRUE(store_->SetJobStatus(training.id, kJobRunning).ok());
  EXPECT_EQ(store_->CompleteTrainingJob(training.id, kJobFailed, "", "{}").code(), Status::Code::kInvalidArgument);
  ASSERT_TRUE(store_->CompleteTrainingJob(training.id, kJobSkipped, "", R"({"reason":"no new videos"})").ok());
  auto t = store_->GetJob(training.id);
  EXPECT_EQ(t->status, kJobSkipped);
  EXPECT_EQ(t->trigger, "manual");
  EXPECT_NE(t->finished_at, "");
  EXPECT_FALSE(store_->SetJobStatus(training.id, kJobRunning).ok());
  EXPECT_FALSE(store_->CompleteTrainingJob(training.id, kJobCompleted, "reports/s.json", "{}").ok());
}

TEST_P(MetadataStoreTest, JobErrors) {
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(store_->SetJobStatus("no-such-job", kJobRunning).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(store_->GetJob("no-such-job").status().code(), Status::Code::kNotFound);

  JobRow job = MakeJob(JobKind::kIngest);
  ASSERT_TRUE(store_->InsertJob(job).ok());
  EXPECT_FALSE(store_->InsertJob(job).ok());  // same id
  EXPECT_EQ(store_->SetJobStatus(job.id, "paused").code(), Status::Code::kInvalidArgument);
  // Completing as another kind is refused.
  EXPECT_FALSE(store_->CompleteScoreJob(job.id, 1, "reports/a.json", "{}").ok());
  EXPECT_EQ(store_->GetJob(job.id)->status, kJobQueued);
  // Foreign keys are on: a video that does not exist cannot be referenced.
  EXPECT_FALSE(store_->CompleteIngestJob(job.id, 424242, "{}").ok());
  EXPECT_EQ(store_->CompleteIngestJob(job.id, 1, "not json").code(), Status::Code::kInvalidArgument);
  JobRow dangling = MakeJob(JobKind::kScore);
  dangling.gold_video_id = 999;
  EXPECT_EQ(store_->InsertJob(dangling).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(store_->InsertJob(JobRow{}).code(), Status::Code::kInvalidArgument);  // no id
}

TEST_P(MetadataStoreTest, JobsWithStatusAndCounts) {
  ASSERT_NE(store_, nullptr);
  std::vector<std::string> ingest_ids;
  for (int i = 0; i < 4; ++i) {
    JobRow j = MakeJob(JobKind::kIngest);
    ASSERT_TRUE(store_->InsertJob(j).ok());
    ingest_ids.push_back(j.id);
  }
  ASSERT_TRUE(store_->InsertJob(MakeJob(JobKind::kScore)).ok());
  ASSERT_TRUE(store_->SetJobStatus(ingest_ids[1], kJobRunning).ok());

  auto queued = store_->JobsWithStatus(JobKind::kIngest, kJobQueued, 100);
  ASSERT_TRUE(queued.ok());
  ASSERT_EQ(queued->size(), 3u);  // oldest first, the same second: insertion order
  EXPECT_EQ((*queued)[0].id, ingest_ids[0]);
  EXPECT_EQ((*queued)[1].id, ingest_ids[2]);
  EXPECT_EQ((*queued)[2].id, ingest_ids[3]);
  EXPECT_EQ(store_->JobsWithStatus(JobKind::kIngest, kJobQueued, 0)->size(), 1u);

  auto counts = store_->JobStatusCounts(JobKind::kIngest);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(*counts, (std::vector<std::pair<std::string, int64_t>>{{"queued", 3}, {"running", 1}}));
  EXPECT_EQ(*store_->JobStatusCounts(JobKind::kScore),
            (std::vector<std::pair<std::string, int64_t>>{{"queued", 1}}));
  EXPECT_TRUE(store_->JobStatusCounts(JobKind::kTraining)->empty());
}

TEST_P(MetadataStoreTest, IngestJobFieldsRoundTrip) {
  ASSERT_NE(store_, nullptr);
  JobRow in = MakeJob(JobKind::kIngest);
  in.task_id = "t";
  in.role = "gold";
  in.file_name = "Gold Run.mp4";
  in.file_path = "raw/abc.mp4";
  in.site_id = "s";
  in.camera_id = "c";
  in.operator_id_hash = "h";
  ASSERT_TRUE(store_->InsertJob(in).ok());
  auto j = store_->GetJob(in.id);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->kind, JobKind::kIngest);
  EXPECT_EQ(j->task_id, "t");
  EXPECT_EQ(j->role, "gold");
  EXPECT_EQ(j->file_name, "Gold Run.mp4");
  EXPECT_EQ(j->file_path, "raw/abc.mp4");
  EXPECT_EQ(j->site_id, "s");
  EXPECT_EQ(j->camera_id, "c");
  EXPECT_EQ(j->operator_id_hash, "h");
  EXPECT_FALSE(j->video_id.has_value());
  EXPECT_FALSE(j->score.has_value());

  int64_t vid = *store_->InsertVideo(MakeVideo("t", "abc.mp4"), {});
  ASSERT_TRUE(store_->SetJobStatus(in.id, kJobRunning).ok());
  ASSERT_TRUE(store_->CompleteIngestJob(in.id, vid, R"({"num_clips":0})").ok());
  j = store_->GetJob(in.id);
  EXPECT_EQ(j->video_id, vid);
  EXPECT_EQ(j->result_json, R"({"num_clips":0})");
}

// The worker's path: video, clips and job completion in one transaction, so
// a job delivered twice does not add a second video.
TEST_P(MetadataStoreTest, CompleteIngestJobWithVideoIsOnceOnly) {
  ASSERT_NE(store_, nullptr);
  JobRow job = MakeJob(JobKind::kIngest);
  ASSERT_TRUE(store_->InsertJob(job).ok());
  ASSERT_TRUE(store_->SetJobStatus(job.id, kJobRunning).ok());
  auto vid = store_->CompleteIngestJobWithVideo(job.id, MakeVideo("t", "a.mp4"), TwoClips(), R"({"num_clips":2})");
  ASSERT_TRUE(vid.ok()) << vid.status().ToString();
  auto j = store_->GetJob(job.id);
  EXPECT_EQ(j->status, kJobCompleted);
  EXPECT_EQ(j->video_id, *vid);
  EXPECT_EQ(j->result_json, R"({"num_clips":2})");
  EXPECT_EQ(store_->GetClips(*vid)->size(), 2u);

  auto again = store_->CompleteIngestJobWithVideo(job.id, MakeVideo("t", "a.mp4"), TwoClips(), "{}");
  EXPECT_EQ(again.status().code(), Status::Code::kInvalidArgument) << again.status().ToString();
  EXPECT_EQ(store_->ListVideos("", 100)->size(), 1u);  // rolled back
  EXPECT_EQ(*store_->TotalClips(), 2);
  EXPECT_EQ(store_->GetJob(job.id)->video_id, *vid);

  // Unknown job, or a job of another kind: no video either.
  EXPECT_FALSE(store_->CompleteIngestJobWithVideo("nope", MakeVideo("t", "b.mp4"), {}, "{}").ok());
  JobRow score = MakeJob(JobKind::kScore);
  ASSERT_TRUE(store_->InsertJob(score).ok());
  EXPECT_FALSE(store_->CompleteIngestJobWithVideo(score.id, MakeVideo("t", "b.mp4"), {}, "{}").ok());
  EXPECT_EQ(store_->ListVideos("", 100)->size(), 1u);
}

// Values are bound, never spliced into SQL.
TEST_P(MetadataStoreTest, HostileStringsAreStoredVerbatim) {
  ASSERT_NE(store_, nullptr);
  const std::string evil = "x'); DROP TABLE videos; --";
  auto id = store_->InsertVideo(MakeVideo(evil, evil), {});
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(store_->GetVideo(*id)->task_id, evil);
  EXPECT_EQ(store_->ListVideos(evil, 10)->size(), 1u);
  EXPECT_TRUE(*store_->PathInUse("raw/" + evil));
}

// ---------------------------------------------------------------- audit

TEST_P(MetadataStoreTest, AuditAppendAndTrail) {
  ASSERT_NE(store_, nullptr);
  ASSERT_TRUE(store_->AppendAudit("token:admin", "job.queued", "j1", R"({"kind":"score"})").ok());
  env_.now = env_.now + 1;
  ASSERT_TRUE(store_->AppendAudit("system", "job.completed", "j1", "").ok());
  ASSERT_TRUE(store_->AppendAudit("basic:alice", "video.deleted", "7", "{}").ok());
  EXPECT_EQ(store_->AppendAudit("system", "x", "", "[1,2]").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(store_->AppendAudit("system", "x", "", "{").code(), Status::Code::kInvalidArgument);

  auto trail = store_->AuditTrail(10);
  ASSERT_TRUE(trail.ok());
  ASSERT_EQ(trail->size(), 3u);
  EXPECT_EQ((*trail)[0].action, "video.deleted");
  EXPECT_EQ((*trail)[0].actor, "basic:alice");
  EXPECT_EQ((*trail)[1].detail_json, "{}");
  EXPECT_EQ((*trail)[1].at, "2026-02-08T09:46:00+00:00");
  EXPECT_EQ((*trail)[2].action, "job.queued");
  EXPECT_EQ((*trail)[2].subject, "j1");
  EXPECT_EQ((*trail)[2].detail_json, R"({"kind":"score"})");
  EXPECT_GT((*trail)[0].seq, (*trail)[1].seq);
  EXPECT_GT((*trail)[1].seq, (*trail)[2].seq);
  EXPECT_EQ(store_->AuditTrail(0)->size(), 1u);
  EXPECT_EQ(store_->AuditTrail(2)->size(), 2u);
}

// A completion and its audit row are one transaction: a completed job always
// has its row, and one that did not complete has none.
TEST_P(MetadataStoreTest, ACompletionWritesItsAuditRowInItsOwnTransaction) {
  ASSERT_NE(store_, nullptr);

  JobRow ingest = MakeJob(JobKind::kIngest);
  ASSERT_TRUE(store_->InsertJob(ingest).ok());
  auto vid = store_->CompleteIngestJobWithVideo(ingest.id, MakeVideo("t", "a.mp4"), TwoClips(), "{}", std::nullopt,
                                                AuditRecord{});
  ASSERT_TRUE(vid.ok()) << vid.status().ToString();
  auto rows = AuditRowsOf(ingest.id);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].action, "job.completed");
  EXPECT_EQ(rows[0].actor, "system");
  EXPECT_EQ(nlohmann::json::parse(rows[0].detail_json), nlohmann::json({{"video_id", *vid}}));

  JobRow score = MakeJob(JobKind::kScore);
  ASSERT_TRUE(store_->InsertJob(score).ok());
  const AuditRecord scored{"system", "job.completed", R"({"score":87.5,"verdict":"pass"})"};
  ASSERT_TRUE(store_->CompleteScoreJob(score.id, 87.5, "reports/x.json", "{}", std::nullopt, scored).ok());
  rows = AuditRowsOf(score.id);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(rows[0].detail_json), nlohmann::json::parse(scored.detail_json));
  // Completed once: the second completion fails and writes no second row.
  EXPECT_EQ(store_->CompleteScoreJob(score.id, 10, "reports/y.json", "{}", std::nullopt, scored).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(AuditRowsOf(score.id).size(), 1u);

  JobRow training = MakeJob(JobKind::kTraining);
  ASSERT_TRUE(store_->InsertJob(training).ok());
  ASSERT_TRUE(store_
                  ->CompleteTrainingJob(training.id, kJobSkipped, "reports/t.json", "{}",
                                        AuditRecord{"system", "job.skipped", R"({"reason":"no gold"})"})
                  .ok());
  rows = AuditRowsOf(training.id);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].action, "job.skipped");

  // A detail that is not a JSON object is refused before anything is written.
  JobRow bad = MakeJob(JobKind::kScore);
  ASSERT_TRUE(store_->InsertJob(bad).ok());
  EXPECT_EQ(store_->CompleteScoreJob(bad.id, 50, "reports/z.json", "{}", std::nullopt,
                                     AuditRecord{"system", "job.completed", "[1]"})
                .code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(store_->GetJob(bad.id)->status, kJobQueued);

  // The audit row cannot be written (a trigger refuses it, as a full disk or
  // a lost connection would at that moment): the job is not completed either.
  ASSERT_NO_FATAL_FAILURE(RefuseAuditInserts());
  EXPECT_FALSE(store_->CompleteScoreJob(bad.id, 50, "reports/z.json", "{}", std::nullopt, scored).ok());
  EXPECT_FALSE(store_->CompleteTrainingJob(MakeJob(JobKind::kTraining).id, kJobCompleted, "r", "{}", scored).ok());
  JobRow ingest2 = MakeJob(JobKind::kIngest);
  ASSERT_TRUE(store_->InsertJob(ingest2).ok());
  EXPECT_FALSE(store_->CompleteIngestJobWithVideo(ingest2.id, MakeVideo("t", "b.mp4"), TwoClips(), "{}",
                                                  std::nullopt, AuditRecord{})
                   .ok());
  EXPECT_EQ(store_->GetJob(bad.id)->status, kJobQueued);
  EXPECT_EQ(store_->GetJob(bad.id)->score, std::nullopt);
  EXPECT_EQ(store_->GetJob(ingest2.id)->status, kJobQueued);
  EXPECT_EQ(store_->ListVideos("", 100)->size(), 1u);  // b.mp4 was rolled back
  EXPECT_TRUE(AuditRowsOf(bad.id).empty());
  // Without the audit the same completion goes through (the trigger is the cause).
  ASSERT_TRUE(store_->CompleteScoreJob(bad.id, 50, "reports/z.json", "{}").ok());
  EXPECT_EQ(store_->GetJob(bad.id)->status, kJobCompleted);
}

TEST_P(MetadataStoreTest, AnInsertedJobWritesItsQueuedRowInItsOwnTransaction) {
  ASSERT_NE(store_, nullptr);
  const AuditRecord queued{"alice", "job.queued", R"({"kind":"score","trainee_video_id":7})"};
  JobRow score = MakeJob(JobKind::kScore);
  ASSERT_TRUE(store_->InsertJob(score, queued).ok());
  auto rows = AuditRowsOf(score.id);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].actor, "alice");
  EXPECT_EQ(rows[0].action, "job.queued");
  EXPECT_EQ(nlohmann::json::parse(rows[0].detail_json), nlohmann::json::parse(queued.detail_json));

  int placed = 0;
  JobRow ingest = MakeJob(JobKind::kIngest);
  ingest.file_path = "raw/ab/abcdef.mp4";
  ASSERT_TRUE(store_->InsertJobPlacing(ingest, [&] { ++placed; return Status::Ok(); }, queued).ok());
  EXPECT_EQ(placed, 1);
  EXPECT_EQ(AuditRowsOf(ingest.id).size(), 1u);

  // A detail that is not a JSON object: neither the job nor its row.
  JobRow bad = MakeJob(JobKind::kScore);
  EXPECT_EQ(store_->InsertJob(bad, AuditRecord{"alice", "job.queued", "[1]"}).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(store_->GetJob(bad.id).status().code(), Status::Code::kNotFound);

  // The row cannot be written (a trigger refuses it, as a full disk or a lost
  // connection would at that moment): the job is not inserted either, and a
  // placed file is placed inside the transaction that is rolled back.
  ASSERT_NO_FATAL_FAILURE(RefuseAuditInserts());
  JobRow refused = MakeJob(JobKind::kTraining);
  EXPECT_FALSE(store_->InsertJob(refused, queued).ok());
  EXPECT_EQ(store_->GetJob(refused.id).status().code(), Status::Code::kNotFound);
  JobRow refused_upload = MakeJob(JobKind::kIngest);
  refused_upload.file_path = "raw/cd/cdef01.mp4";
  EXPECT_FALSE(store_->InsertJobPlacing(refused_upload, [&] { ++placed; return Status::Ok(); }, queued).ok());
  EXPECT_EQ(store_->GetJob(refused_upload.id).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(*store_->PathInUse(refused_upload.file_path), false);
  EXPECT_TRUE(AuditRowsOf(refused.id).empty());
  // Without the audit the same insert goes through (the trigger is the cause).
  ASSERT_TRUE(store_->InsertJob(refused).ok());
  EXPECT_EQ(store_->GetJob(refused.id)->status, kJobQueued);
}

TEST_P(MetadataStoreTest, AJobsChangeOfStateWritesItsRowInTheSameTransaction) {
  ASSERT_NE(store_, nullptr);
  JobRow job = MakeJob(JobKind::kScore);
  ASSERT_TRUE(store_->InsertJob(job).ok());
  const AuditRecord running{"system", "job.running", R"({"attempt":1})"};
  ASSERT_TRUE(store_->SetJobStatus(job.id, kJobRunning, "", running).ok());
  EXPECT_EQ(store_->GetJob(job.id)->status, kJobRunning);
  const AuditRecord dead{"system", "job.dead", R"({"error":"decoder gave up"})"};
  ASSERT_TRUE(store_->SetJobStatus(job.id, kJobDead, "decoder gave up", dead).ok());
  const AuditRecord requeued{"alice", "job.requeued", R"({"kind":"score"})"};
  ASSERT_TRUE(store_->ReviveDeadJob(job.id, requeued).ok());
  EXPECT_EQ(store_->GetJob(job.id)->status, kJobQueued);
  auto rows = AuditRowsOf(job.id);
  ASSERT_EQ(rows.size(), 3u);
  std::set<std::string> actions;
  for (const auto& r : rows) actions.insert(r.actor + " " + r.action + " " + nlohmann::json::parse(r.detail_json).dump());
  EXPECT_EQ(actions, (std::set<std::string>{R"(system job.running {"attempt":1})",
                                            R"(system job.dead {"error":"decoder gave up"})",
                                            R"(alice job.requeued {"kind":"score"})"}));

  // A change refused by the job's state writes no row: a completed job is
  // not moved, a job that is not dead is not revived.
  JobRow done = MakeJob(JobKind::kScore);
  ASSERT_TRUE(store_->InsertJob(done).ok());
  ASSERT_TRUE(store_->CompleteScoreJob(done.id, 90, "reports/d.json", "{}").ok());
  EXPECT_FALSE(store_->SetJobStatus(done.id, kJobFailed, "late", AuditRecord{"system", "job.failed", "{}"}).ok());
  EXPECT_EQ(store_->ReviveDeadJob(done.id, requeued).code(), Status::Code::kNotFound);
  EXPECT_TRUE(AuditRowsOf(done.id).empty());

  // The row cannot be written: the state does not change either.
  ASSERT_NO_FATAL_FAILURE(RefuseAuditInserts());
  EXPECT_FALSE(store_->SetJobStatus(job.id, kJobRunning, "", running).ok());
  EXPECT_EQ(store_->GetJob(job.id)->status, kJobQueued);
  EXPECT_EQ(store_->GetJob(job.id)->attempts, 1) << "the refused move to running did not count an attempt";
  ASSERT_TRUE(store_->SetJobStatus(job.id, kJobRunning).ok());
  ASSERT_TRUE(store_->SetJobStatus(job.id, kJobDead, "again").ok());
  EXPECT_FALSE(store_->ReviveDeadJob(job.id, requeued).ok());
  EXPECT_EQ(store_->GetJob(job.id)->status, kJobDead);
  EXPECT_EQ(AuditRowsOf(job.id).size(), 3u);
  // Without the audit the same revival goes through (the trigger is the cause).
  ASSERT_TRUE(store_->ReviveDeadJob(job.id).ok());
  EXPECT_EQ(store_->GetJob(job.id)->status, kJobQueued);
}

TEST_P(MetadataStoreTest, AuditLogRefusesUpdateAndDeleteInSql) {
  ASSERT_NE(store_, nullptr);
  ASSERT_TRUE(store_->AppendAudit("system", "job.queued", "j1", "{}").ok());
  auto raw = Raw();
  std::string err;
  EXPECT_FALSE(raw.Exec("UPDATE audit_log SET actor = 'mallory'", &err));
  EXPECT_NE(err.find("audit_log is append-only"), std::string::npos) << err;
  EXPECT_FALSE(raw.Exec("DELETE FROM audit_log", &err));
  EXPECT_NE(err.find("audit_log is append-only"), std::string::npos) << err;
  if (postgres()) {
    EXPECT_FALSE(raw.Exec("TRUNCATE audit_log", &err));
    EXPECT_NE(err.find("audit_log is append-only"), std::string::npos) << err;
  }
  EXPECT_EQ(raw.One("SELECT actor FROM audit_log"), "system");
  EXPECT_EQ(raw.One("SELECT COUNT(*) FROM audit_log"), "1");
}

// ---------------------------------------------------------------- concurrency

// Two stores on one file behave as two processes would: each has its own
// connection, and their write transactions meet SQLite's file locks.
TEST_P(MetadataStoreTest, TwoStoresManyThreads) {
  ASSERT_NE(store_, nullptr);
  auto other = OpenStore();
  ASSERT_NE(other, nullptr);
  constexpr int kThreads = 4, kPerThread = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    MetadataStore* s = (t % 2 ? other : store_).get();
    threads.emplace_back([s, t, &failures] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string name = "t" + std::to_string(t) + "-" + std::to_string(i);
        auto id = s->InsertVideo(MakeVideo("task", name), TwoClips());
        if (!id.ok()) {
          ADD_FAILURE() << id.status().ToString();
          ++failures;
          continue;
        }
        Status st = s->AppendAudit("system", "video.created", std::to_string(*id), "{}");
        if (!st.ok()) {
          ADD_FAILURE() << st.ToString();
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store_->ListVideos("task", 500)->size(), size_t{kThreads * kPerThread});
  EXPECT_EQ(*store_->TotalClips(), 2 * kThreads * kPerThread);
  EXPECT_EQ(other->AuditTrail(5000)->size(), size_t{kThreads * kPerThread});
}

// Another connection holds the write lock for a while: the store waits and
// then succeeds, and the write counts once as an operation that waited,
// however many retries it slept. The lock is released once the store is
// seen waiting.
TEST_F(SqliteMetadataStoreTest, WaitsOutAShortLock) {
  ASSERT_NE(store_, nullptr);
  RawDb raw(path_);
  ASSERT_EQ(raw.Exec("BEGIN IMMEDIATE"), SQLITE_OK);
  LockWaits* waits = store_->lock_waits();
  const uint64_t waits_before = waits->operations();
  std::vector<double> seen;
  std::mutex seen_mu;
  waits->SetObserver([&](double s) {
    std::lock_guard<std::mutex> lock(seen_mu);
    seen.push_back(s);
  });
  std::atomic<bool> waited{false};
  std::thread release([&] {
    waited = testing::PollUntil([&] { return waits->waiting() > 0; });
    // Held a little longer, so the write sleeps through several retries.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    raw.Exec("COMMIT");
  });
  auto id = store_->InsertVideo(MakeVideo("t", "a.mp4"), {});
  release.join();
  waits->SetObserver(nullptr);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_TRUE(waited.load()) << "the store did not wait for the lock";
  EXPECT_EQ(waits->operations(), waits_before + 1);
  EXPECT_EQ(waits->waiting(), 0);
  std::lock_guard<std::mutex> lock(seen_mu);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_GE(seen[0], 0.02) << "the wait lasted at least as long as the lock was held after it began";
}

// A lock held past the busy timeout (5 s) fails as "database is locked".
TEST_F(SqliteMetadataStoreTest, GivesUpOnALongLock) {
  ASSERT_NE(store_, nullptr);
  RawDb raw(path_);
  ASSERT_EQ(raw.Exec("BEGIN IMMEDIATE"), SQLITE_OK);
  auto start = std::chrono::steady_clock::now();
  Status st = store_->AppendAudit("system", "x", "", "{}");
  auto waited = std::chrono::steady_clock::now() - start;
  raw.Exec("ROLLBACK");
  EXPECT_EQ(st.code(), Status::Code::kIOError) << st.ToString();
  EXPECT_NE(st.message().find("database is locked"), std::string::npos) << st.ToString();
  EXPECT_GE(waited, std::chrono::milliseconds(4500));  // no upper bound: a loaded machine may take longer
  // Reads are not blocked by a writer in WAL mode, and after the lock is gone
  // writing works again.
  EXPECT_TRUE(store_->AuditTrail(10).ok());
  EXPECT_TRUE(store_->AppendAudit("system", "y", "", "{}").ok());
}

// Several processes starting at once on a fresh file: one migrates, the
// others find the schema in place.
TEST_P(MetadataStoreTest, ConcurrentOpensMigrateOnce) {
  const std::string path = FreshLocation("fresh");
  ASSERT_FALSE(path.empty());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      auto s = MetadataStore::Open(path, Env::Default());
      if (s.ok() && (*s)->schema_version() == 6 && (*s)->InsertVideo(MakeVideo("t", "a.mp4"), {}).ok()) ++ok;
      else ADD_FAILURE() << (s.ok() ? "insert failed" : s.status().ToString());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 6);
  auto fresh = MetadataStore::Open(path, Env::Default());
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_EQ((*fresh)->ListVideos("t", 100)->size(), 6u);
  if (postgres()) {
    EXPECT_EQ(server_->Query(path.substr(path.rfind('/') + 1), "SELECT COUNT(*) FROM schema_migrations").One(), "6");
  } else {
    EXPECT_EQ(testing::RawSql(GetParam(), path, nullptr, "").One("SELECT COUNT(*) FROM schema_migrations"), "6");
  }
}

// A real second process writing while this one writes.
TEST_P(MetadataStoreTest, ChildProcessWritesConcurrently) {
  const std::string path = FreshLocation("shared");
  ASSERT_FALSE(path.empty());
  {
    auto s = MetadataStore::Open(path, Env::Default());  // create and migrate first
    ASSERT_TRUE(s.ok()) << s.status().ToString();
  }
  constexpr int kRows = 100;
  // Fork before this process opens the file again: SQLite connections must
  // not cross fork().
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int code = 0;
    auto s = MetadataStore::Open(path, Env::Default());
    if (!s.ok()) {
      code = 2;
    } else {
      for (int i = 0; i < kRows && code == 0; ++i) {
        if (!(*s)->InsertVideo(MakeVideo("child", "c.mp4"), TwoClips()).ok()) code = 3;
        if (!(*s)->AppendAudit("system", "child", "", "{}").ok()) code = 4;
      }
    }
    s = Status::Internal("closed");  // close the connection before leaving
    _exit(code);  // skip gtest's and the parent's teardown in the child
  }
  auto s = MetadataStore::Open(path, Env::Default());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  for (int i = 0; i < kRows; ++i) {
    ASSERT_TRUE((*s)->InsertVideo(MakeVideo("parent", "p.mp4"), TwoClips()).ok());
    ASSERT_TRUE((*s)->AppendAudit("system", "parent", "", "{}").ok());
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0);
  EXPECT_EQ((*s)->ListVideos("child", 500)->size(), size_t{kRows});
  EXPECT_EQ((*s)->ListVideos("parent", 500)->size(), size_t{kRows});
  EXPECT_EQ(*(*s)->TotalClips(), 4 * kRows);
  EXPECT_EQ((*s)->AuditTrail(5000)->size(), size_t{2 * kRows});
}

// ---------------------------------------------------------------- index versions and leases

TEST_P(MetadataStoreTest, AVersionOneDatabaseMigratesToTheLatestKeepingItsRows) {
  auto id = store_->InsertVideo(MakeVideo("t1", "a.mp4"), TwoClips());
  ASSERT_TRUE(id.ok());
  store_.reset();
  {
    // Back to what a build with only migration 1 left.
    const std::vector<const char*> sqlite = {
        "DROP TRIGGER jobs_score_ended", "DROP TABLE webhook_deliveries", "DROP TABLE task_settings",
        "DROP TABLE version_embeddings", "DROP TABLE task_index", "DROP TABLE index_versions",
        "DROP TABLE leases", "DROP TABLE scheduler_slots", "DROP INDEX idx_videos_created",
        "ALTER TABLE jobs DROP COLUMN embedder", "DROP TABLE sop_versions",
        "DROP INDEX idx_jobs_score_history", "ALTER TABLE jobs DROP COLUMN sop_version",
        "ALTER TABLE jobs DROP COLUMN gold_selection", "DELETE FROM schema_migrations WHERE version >= 2"};
    const std::vector<const char*> pg = {
        "DROP TRIGGER jobs_score_ended ON jobs", "DROP FUNCTION jobs_score_ended()", "DROP TABLE webhook_deliveries",
        "DROP TABLE task_settings", "DROP TABLE version_embeddings", "DROP TABLE task_index",
        "DROP TABLE index_versions", "DROP TABLE leases", "DROP TABLE scheduler_slots",
        "DROP INDEX idx_videos_created", "ALTER TABLE jobs DROP COLUMN embedder", "DROP TABLE sop_versions",
        "DROP FUNCTION sop_versions_immutable()", "DROP INDEX idx_jobs_score_history",
        "ALTER TABLE jobs DROP COLUMN sop_version", "ALTER TABLE jobs DROP COLUMN gold_selection",
        "DELETE FROM schema_migrations WHERE version >= 2"};
    auto raw = Raw();
    for (const char* sql : postgres() ? pg : sqlite) {
      std::string err;
      ASSERT_TRUE(raw.Exec(sql, &err)) << sql << ": " << err;
    }
  }
  store_ = OpenStore();
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(store_->schema_version(), 6);
  EXPECT_EQ(store_->GetVideo(*id)->file_name, "a.mp4");
  EXPECT_EQ(*store_->CurrentIndexVersion("t1"), 0);
}

class IndexVersionTest : public MetadataStoreTest {
 protected:
  int64_t Video(const std::string& task, const std::string& name, const std::string& role = "trainee") {
    VideoRow v = MakeVideo(task, name);
    v.role = role;
    auto id = store_->InsertVideo(v, TwoClips());
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : -1;
  }
  // Builds and switches to a version whose files are named after it.
  int64_t Build(const std::string& task, const std::vector<int64_t>& videos) {
    auto v = store_->ReserveIndexVersion(task, "job");
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    const std::string tag = task + "_v" + std::to_string(*v);
    EXPECT_TRUE(store_->SetIndexVersionAdapter(task, *v, "models/" + tag + ".adapter").ok());
    for (int64_t id : videos) {
      EXPECT_TRUE(store_->PutVersionEmbedding(id, task, *v, "embeddings/" + tag + "_" + std::to_string(id) + ".emb").ok());
    }
    auto sw = store_->SwitchIndexVersion(task, *v);
    EXPECT_TRUE(sw.ok() && sw->switched);
    return *v;
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, IndexVersionTest,
                         ::testing::Values(testing::StoreBackend::kSqlite, testing::StoreBackend::kPostgres),
                         testing::StoreBackendName);

TEST_P(IndexVersionTest, ResolveGivesRawUntilTheFirstVersionThenTheCurrentOne) {
  int64_t gold = Video("t", "g.mp4", "gold"), trainee = Video("t", "t.mp4");
  auto r = store_->ResolveEmbeddings({trainee, gold});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].video.id, trainee);  // in the order asked
  EXPECT_EQ((*r)[1].video.role, "gold");
  for (const auto& e : *r) {
    EXPECT_EQ(e.index_version, 0);
    EXPECT_EQ(e.adapter_path, "");
    EXPECT_EQ(e.adapted_path, "");
  }
  EXPECT_EQ(*store_->TaskGoldCounts(), (std::vector<std::pair<std::string, int>>{{"t", 1}}));

  // A version being built is invisible until it is switched to.
  auto v1 = store_->ReserveIndexVersion("t", "job-1");
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(*v1, 1);
  ASSERT_TRUE(store_->SetIndexVersionAdapter("t", 1, "models/t_v1.adapter").ok());
  ASSERT_TRUE(store_->PutVersionEmbedding(gold, "t", 1, "embeddings/g1.emb").ok());
  EXPECT_EQ((*store_->ResolveEmbeddings({gold}))[0].index_version, 0);
  auto sw = store_->SwitchIndexVersion("t", 1);
  ASSERT_TRUE(sw.ok());
  EXPECT_TRUE(sw->switched);
  EXPECT_EQ(sw->previous, 0);
  r = store_->ResolveEmbeddings({gold, trainee});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].index_version, 1);
  EXPECT_EQ((*r)[0].adapter_path, "models/t_v1.adapter");
  EXPECT_EQ((*r)[0].adapted_path, "embeddings/g1.emb");
  EXPECT_EQ((*r)[1].index_version, 1);
  EXPECT_EQ((*r)[1].adapted_path, "");  // not built: apply the adapter to the raw file
  EXPECT_EQ(store_->VideosMissingFromVersion("t", 1)->size(), 1u);

  // Other tasks are not affected; absent videos are NotFound.
  int64_t other = Video("u", "u.mp4");
  EXPECT_EQ((*store_->ResolveEmbeddings({other}))[0].index_version, 0);
  EXPECT_EQ(store_->ResolveEmbeddings({gold, 999}).status().code(), Status::Code::kNotFound);
  auto task = store_->ResolveTaskEmbeddings("t");
  ASSERT_TRUE(task.ok());
  ASSERT_EQ(task->size(), 2u);
  EXPECT_EQ((*task)[0].video.id, gold);
}

TEST_P(IndexVersionTest, VersionsOnlyMoveForwardAndReservationsNeverCollide) {
  int64_t a = Video("t", "a.mp4", "gold");
  auto v1 = *store_->ReserveIndexVersion("t", "j1");
  auto v2 = *store_->ReserveIndexVersion("t", "j2");
  EXPECT_EQ(v1, 1);
  EXPECT_EQ(v2, 2);
  EXPECT_EQ(*store_->ReserveIndexVersion("other", "j3"), 1);  // per task
  ASSERT_TRUE(store_->PutVersionEmbedding(a, "t", 2, "embeddings/a2.emb").ok());
  EXPECT_TRUE(store_->SwitchIndexVersion("t", 2)->switched);
  // The slower training of version 1 finishes later: no going back.
  auto late = store_->SwitchIndexVersion("t", 1);
  ASSERT_TRUE(late.ok());
  EXPECT_FALSE(late->switched);
  EXPECT_EQ(late->previous, 2);
  EXPECT_EQ(*store_->CurrentIndexVersion("t"), 2);
  // A version that does not exist cannot become current (foreign key).
  EXPECT_FALSE(store_->SwitchIndexVersion("t", 9).ok());
  EXPECT_EQ(*store_->CurrentIndexVersion("t"), 2);
  // The ingest-time catch-up records only for the current version.
  int64_t b = Video("t", "b.mp4");
  EXPECT_FALSE(*store_->PutVersionEmbeddingIfCurrent(b, "t", 1, "embeddings/b1.emb"));
  EXPECT_TRUE(*store_->PutVersionEmbeddingIfCurrent(b, "t", 2, "embeddings/b2.emb"));
  EXPECT_FALSE(*store_->PutVersionEmbeddingIfCurrent(b, "t", 2, "embeddings/other.emb"));  // already there
  EXPECT_EQ((*store_->ResolveEmbeddings({b}))[0].adapted_path, "embeddings/b2.emb");
}

TEST_P(IndexVersionTest, DroppingOldVersionsKeepsTheNewestAndReturnsFilesNoLongerUsed) {
  int64_t a = Video("t", "a.mp4", "gold"), b = Video("t", "b.mp4");
  for (int i = 0; i < 5; ++i) Build("t", {a, b});
  // Version 5 current; 4 and 3 kept; 1 and 2 dropped.
  auto shared = store_->ReserveIndexVersion("t", "j");  // 6: being built, not touched
  ASSERT_TRUE(shared.ok());
  ASSERT_TRUE(store_->PutVersionEmbedding(a, "t", *shared, "embeddings/t_v1_" + std::to_string(a) + ".emb").ok());
  EXPECT_TRUE(*store_->PathInUse("models/t_v1.adapter"));
  EXPECT_TRUE(*store_->PathInUse("embeddings/t_v2_" + std::to_string(b) + ".emb"));
  auto gone = store_->DropOldIndexVersions("t", 2);
  ASSERT_TRUE(gone.ok()) << gone.status().ToString();
  std::set<std::string> got(gone->begin(), gone->end());
  std::set<std::string> want = {"models/t_v1.adapter", "models/t_v2.adapter",
                                "embeddings/t_v1_" + std::to_string(b) + ".emb",
                                "embeddings/t_v2_" + std::to_string(a) + ".emb",
                                "embeddings/t_v2_" + std::to_string(b) + ".emb"};
  // t_v1_<a>.emb is still used by version 6.
  EXPECT_EQ(got, want);
  EXPECT_FALSE(*store_->PathInUse("models/t_v1.adapter"));
  EXPECT_TRUE(*store_->PathInUse("embeddings/t_v1_" + std::to_string(a) + ".emb"));
  EXPECT_EQ(*store_->CurrentIndexVersion("t"), 5);
  auto raw = Raw();
  EXPECT_EQ(raw.Column("SELECT version FROM index_versions WHERE task_id = 't' ORDER BY version"),
            (std::vector<std::string>{"3", "4", "5", "6"}));
  EXPECT_EQ(raw.One("SELECT COUNT(*) FROM version_embeddings WHERE version IN (1, 2)"), "0");
  // Again: nothing more to drop.
  EXPECT_TRUE(store_->DropOldIndexVersions("t", 2)->empty());
  // Referenced paths include every version's files.
  auto all = *store_->AllReferencedPaths();
  EXPECT_TRUE(std::count(all.begin(), all.end(), "models/t_v5.adapter"));
  EXPECT_TRUE(std::count(all.begin(), all.end(), "embeddings/t_v4_" + std::to_string(b) + ".emb"));
}

TEST_P(IndexVersionTest, DeletingAVideoDropsItsVersionRows) {
  int64_t a = Video("t", "a.mp4", "gold");
  Build("t", {a});
  EXPECT_EQ(*store_->VersionPathsOfVideo(a), std::vector<std::string>{"embeddings/t_v1_" + std::to_string(a) + ".emb"});
  ASSERT_TRUE(store_->DeleteVideo(a).ok());
  EXPECT_TRUE(store_->VersionPathsOfVideo(a)->empty());
  EXPECT_FALSE(*store_->PathInUse("embeddings/t_v1_" + std::to_string(a) + ".emb"));
  EXPECT_TRUE(*store_->PathInUse("models/t_v1.adapter"));  // the version stays
}

// The consistency the score job relies on: a reader resolving two videos
// while another connection switches versions sees both in one version.
TEST_P(IndexVersionTest, ResolvingWhileAnotherConnectionSwitchesSeesOneVersion) {
  int64_t a = Video("t", "a.mp4", "gold"), b = Video("t", "b.mp4");
  Build("t", {a, b});
  std::atomic<bool> done{false};
  std::atomic<bool> writer_ok{true};
  std::thread writer([&] {
    auto other = MetadataStore::Open(location_, &env_);
    for (int i = 0; i < 200 && other.ok() && writer_ok; ++i) {
      auto v = (*other)->ReserveIndexVersion("t", "j");
      if (!v.ok()) {
        writer_ok = false;
        break;
      }
      const std::string tag = "t_v" + std::to_string(*v);
      bool ok = (*other)->SetIndexVersionAdapter("t", *v, "models/" + tag + ".adapter").ok() &&
                (*other)->PutVersionEmbedding(a, "t", *v, "embeddings/" + tag + "_" + std::to_string(a) + ".emb").ok() &&
                (*other)->PutVersionEmbedding(b, "t", *v, "embeddings/" + tag + "_" + std::to_string(b) + ".emb").ok();
      auto sw = (*other)->SwitchIndexVersion("t", *v);
      ok = ok && sw.ok() && sw->switched;
      if (i % 10 == 0) ok = ok && (*other)->DropOldIndexVersions("t", 2).ok();
      if (!ok) writer_ok = false;
    }
    if (!other.ok()) writer_ok = false;
    done = true;
  });
  int reads = 0;
  std::set<int64_t> versions_seen;
  while (!done) {
    auto r = store_->ResolveEmbeddings({a, b});
    if (!r.ok()) {
      ADD_FAILURE() << r.status().ToString();
      break;
    }
    const auto& ga = (*r)[0];
    const auto& gb = (*r)[1];
    const std::string tag = "t_v" + std::to_string(ga.index_version);
    if (ga.index_version != gb.index_version || ga.adapter_path != "models/" + tag + ".adapter" ||
        ga.adapted_path != "embeddings/" + tag + "_" + std::to_string(a) + ".emb" ||
        gb.adapted_path != "embeddings/" + tag + "_" + std::to_string(b) + ".emb") {
      ADD_FAILURE() << "mixed versions: " << ga.index_version << " " << ga.adapter_path << " " << ga.adapted_path
                    << " / " << gb.index_version << " " << gb.adapted_path;
      break;
    }
    versions_seen.insert(ga.index_version);
    ++reads;
  }
  done = true;
  writer.join();
  EXPECT_TRUE(writer_ok);
  EXPECT_GT(reads, 0);
  EXPECT_EQ(*store_->CurrentIndexVersion("t"), 201);
}

TEST_P(MetadataStoreTest, CountsNewVideosSinceTheLastCompletedTraining) {
  EXPECT_EQ(*store_->LastCompletedTrainingFinishedAt(), "");
  ASSERT_TRUE(store_->InsertVideo(MakeVideo("t", "a.mp4"), {}).ok());
  EXPECT_EQ(*store_->CountVideosCreatedAfter(""), 1);
  JobRow skipped = MakeJob(JobKind::kTraining);
  ASSERT_TRUE(store_->InsertJob(skipped).ok());
  env_.now = env_.now + 10;
  ASSERT_TRUE(store_->CompleteTrainingJob(skipped.id, kJobSkipped, "", "{}").ok());
  EXPECT_EQ(*store_->LastCompletedTrainingFinishedAt(), "");  // skipped runs do not count
  JobRow done = MakeJob(JobKind::kTraining);
  ASSERT_TRUE(store_->InsertJob(done).ok());
  ASSERT_TRUE(store_->CompleteTrainingJob(done.id, kJobCompleted, "", "{}").ok());
  const std::string since = *store_->LastCompletedTrainingFinishedAt();
  EXPECT_EQ(since, "2026-02-08T09:46:09+00:00");
  EXPECT_EQ(*store_->CountVideosCreatedAfter(since), 0);
  env_.now = env_.now + 1;
  ASSERT_TRUE(store_->InsertVideo(MakeVideo("t", "b.mp4"), {}).ok());
  ASSERT_TRUE(store_->InsertVideo(MakeVideo("u", "c.mp4", false), {}).ok());  // counted even without embeddings (as the original)
  EXPECT_EQ(*store_->CountVideosCreatedAfter(since), 2);
}

TEST_P(MetadataStoreTest, LeaseHasOneHolderUntilItExpiresOrIsReleased) {
  EXPECT_EQ(store_->GetLease("nightly")->holder, "");
  EXPECT_TRUE(*store_->AcquireLease("nightly", "a", 100, 30));
  EXPECT_FALSE(*store_->AcquireLease("nightly", "b", 110, 30));
  EXPECT_TRUE(*store_->AcquireLease("nightly", "a", 120, 30));  // renewal: until 150
  EXPECT_FALSE(*store_->AcquireLease("nightly", "b", 149, 30));
  EXPECT_TRUE(*store_->AcquireLease("other", "b", 149, 30));    // another name
  EXPECT_TRUE(*store_->AcquireLease("nightly", "b", 150, 30));  // expired: b takes it
  EXPECT_EQ(store_->GetLease("nightly")->holder, "b");
  EXPECT_EQ(store_->GetLease("nightly")->expires_at, 180);
  EXPECT_FALSE(*store_->AcquireLease("nightly", "a", 151, 30));
  ASSERT_TRUE(store_->ReleaseLease("nightly", "a").ok());  // not a's: nothing happens
  EXPECT_EQ(store_->GetLease("nightly")->holder, "b");
  ASSERT_TRUE(store_->ReleaseLease("nightly", "b").ok());
  EXPECT_TRUE(*store_->AcquireLease("nightly", "a", 152, 30));
  EXPECT_FALSE(store_->AcquireLease("nightly", "", 152, 30).ok());
}

TEST_P(MetadataStoreTest, LeaseRaceAcrossProcessesHasOneWinner) {
  // Many processes try to take a free lease at the same instant.
  store_.reset();
  constexpr int kProcs = 6;
  std::vector<pid_t> pids;
  for (int i = 0; i < kProcs; ++i) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto s = MetadataStore::Open(location_, Env::Default());
      int code = 2;
      if (s.ok()) {
        auto won = (*s)->AcquireLease("nightly", "p" + std::to_string(i), 1000, 60);
        code = !won.ok() ? 3 : (*won ? 0 : 1);
      }
      s = Status::Internal("closed");
      _exit(code);
    }
    pids.push_back(pid);
  }
  int winners = 0;
  for (pid_t pid : pids) {
    int wstatus = 0;
    ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
    ASSERT_TRUE(WIFEXITED(wstatus));
    ASSERT_LE(WEXITSTATUS(wstatus), 1) << "a child failed";
    if (WEXITSTATUS(wstatus) == 0) ++winners;
  }
  EXPECT_EQ(winners, 1);
}

TEST_P(MetadataStoreTest, ASlotIsClaimedOnce) {
  EXPECT_TRUE(*store_->ClaimSchedulerSlot("2026-02-09T02:00:00", "a"));
  EXPECT_FALSE(*store_->ClaimSchedulerSlot("2026-02-09T02:00:00", "b"));
  EXPECT_TRUE(*store_->ClaimSchedulerSlot("2026-02-10T02:00:00", "b"));
}

// ---------------------------------------------------------------- re-embedding

TEST_P(MetadataStoreTest, SwitchTaskEmbedderSwitchesEveryVideoAtOnceOrNothing) {
  ASSERT_NE(store_, nullptr);
  auto a = store_->InsertVideo(MakeVideo("t", "a.mp4"), TwoClips());
  auto b = store_->InsertVideo(MakeVideo("t", "b.mp4"), TwoClips());
  auto other = store_->InsertVideo(MakeVideo("u", "c.mp4"), TwoClips());
  ASSERT_TRUE(a.ok() && b.ok() && other.ok());
  EXPECT_EQ(*store_->TaskEmbedder("t"), "");
  auto reembedded = [](int64_t id, const std::string& name, int clips) {
    MetadataStore::ReembeddedVideo r;
    r.video_id = id;
    r.old_embedding_path = "embeddings/" + name + ".emb";
    r.embedding_path = "embeddings/" + name + ".motion.emb";
    r.embedding_model = "motion-v1";
    r.sampled_fps = 4;
    for (int i = 0; i < clips; ++i) r.clips.push_back({id, i, i * 0.5, i * 0.5 + 2});
    return r;
  };
  JobRow job = MakeJob(JobKind::kTraining);
  job.trigger = kReembedTrigger;
  job.task_id = "t";
  job.embedder = "motion-v1";
  ASSERT_TRUE(store_->InsertJob(job).ok());
  EXPECT_EQ(store_->GetJob(job.id)->embedder, "motion-v1");
  EXPECT_EQ(*store_->IndexVersionOfJob("t", job.id), 0);
  auto v = store_->ReserveIndexVersion("t", job.id);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*store_->IndexVersionOfJob("t", job.id), *v);

  // One video of the task left out: nothing changes, and it is named.
  auto sw = store_->SwitchTaskEmbedder("t", *v, "motion-v1", {reembedded(*a, "a.mp4", 3)});
  ASSERT_TRUE(sw.ok()) << sw.status().ToString();
  EXPECT_FALSE(sw->switched);
  EXPECT_EQ(sw->missing, std::vector<int64_t>{*b});
  EXPECT_EQ(store_->GetVideo(*a)->embedding_model, "heuristic-v1");
  EXPECT_EQ(*store_->CurrentIndexVersion("t"), 0);

  // Re-embedded from a file the video no longer has: missing too.
  auto stale = reembedded(*b, "b.mp4", 3);
  stale.old_embedding_path = "embeddings/elsewhere.emb";
  sw = store_->SwitchTaskEmbedder("t", *v, "motion-v1", {reembedded(*a, "a.mp4", 3), stale});
  ASSERT_TRUE(sw.ok());
  EXPECT_FALSE(sw->switched);
  EXPECT_EQ(sw->missing, std::vector<int64_t>{*b});

  // Every video: all switch, clips replaced, the task keeps the embedder.
  sw = store_->SwitchTaskEmbedder("t", *v, "motion-v1", {reembedded(*a, "a.mp4", 3), reembedded(*b, "b.mp4", 5)});
  ASSERT_TRUE(sw.ok());
  EXPECT_TRUE(sw->switched);
  EXPECT_EQ(sw->previous, 0);
  EXPECT_EQ(sw->replaced_paths, (std::vector<std::string>{"embeddings/a.mp4.emb", "embeddings/b.mp4.emb"}));
  EXPECT_EQ(store_->GetVideo(*b)->embedding_model, "motion-v1");
  EXPECT_EQ(store_->GetVideo(*b)->embedding_path, "embeddings/b.mp4.motion.emb");
  EXPECT_EQ(store_->GetVideo(*b)->num_clips, 5);
  EXPECT_EQ(store_->GetClips(*b)->size(), 5u);
  EXPECT_EQ(store_->GetVideo(*other)->embedding_model, "heuristic-v1");  // another task
  EXPECT_EQ(*store_->CurrentIndexVersion("t"), *v);
  EXPECT_EQ(*store_->TaskEmbedder("t"), "motion-v1");
  EXPECT_EQ(*store_->TaskEmbedder("u"), "");
  EXPECT_FALSE(*store_->PathInUse("embeddings/a.mp4.emb"));
  EXPECT_EQ(Raw().One("SELECT embedder FROM index_versions WHERE task_id = 't'"), "motion-v1");

  // Again (a retried job): not switched twice.
  sw = store_->SwitchTaskEmbedder("t", *v, "motion-v1", {});
  ASSERT_TRUE(sw.ok());
  EXPECT_FALSE(sw->switched);
  EXPECT_EQ(sw->previous, *v);

  // A later adapter version keeps the task's embedder.
  auto v2 = store_->ReserveIndexVersion("t", "training-job");
  ASSERT_TRUE(store_->SwitchIndexVersion("t", *v2)->switched);
  EXPECT_EQ(*store_->TaskEmbedder("t"), "motion-v1");
  // A re-embed is no training for the nightly threshold.
  ASSERT_TRUE(store_->CompleteTrainingJob(job.id, kJobCompleted, "", "{}").ok());
  EXPECT_EQ(*store_->LastCompletedTrainingFinishedAt(), "");
}

// A task's switch to another embedder writes its "task.reembedded" row in the
// switch's transaction: once when it switches, never when it does not, and
// no switch without it.
TEST_P(MetadataStoreTest, ASwitchOfEmbedderWritesItsRowInTheSameTransaction) {
  ASSERT_NE(store_, nullptr);
  auto a = store_->InsertVideo(MakeVideo("t", "a.mp4"), TwoClips());
  ASSERT_TRUE(a.ok());
  auto reembedded = [&](const std::string& from, const std::string& to) {
    MetadataStore::ReembeddedVideo r;
    r.video_id = *a;
    r.old_embedding_path = from;
    r.embedding_path = to;
    r.embedding_model = "motion-v1";
    r.sampled_fps = 4;
    r.clips.push_back({*a, 0, 0.0, 2.0});
    return r;
  };
  const AuditRecord row{"system", "task.reembedded", R"({"training_job_id":"j1","videos":1})"};
  auto v1 = store_->ReserveIndexVersion("t", "j1");
  ASSERT_TRUE(v1.ok());
  const std::string first = store_->GetVideo(*a)->embedding_path;
  auto sw = store_->SwitchTaskEmbedder("t", *v1, "motion-v1", {reembedded(first, "embeddings/a.motion.emb")}, row);
  ASSERT_TRUE(sw.ok()) << sw.status().ToString();
  ASSERT_TRUE(sw->switched);
  // The same switch again (a retried job): nothing switches, no second row.
  sw = store_->SwitchTaskEmbedder("t", *v1, "motion-v1", {reembedded(first, "embeddings/a.motion.emb")}, row);
  ASSERT_TRUE(sw.ok());
  EXPECT_FALSE(sw->switched);
  auto rows = AuditRowsOf("t");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].action, "task.reembedded");
  nlohmann::json detail = nlohmann::json::parse(rows[0].detail_json);
  EXPECT_EQ(detail["training_job_id"], "j1");
  EXPECT_EQ(detail["old_index_version"], 0);  // the version it replaced (none)

  // The row cannot be written: the task stays on its version and embedder.
  auto v2 = store_->ReserveIndexVersion("t", "j2");
  ASSERT_TRUE(v2.ok());
  ASSERT_NO_FATAL_FAILURE(RefuseAuditInserts());
  EXPECT_FALSE(store_->SwitchTaskEmbedder("t", *v2, "heuristic-v1",
                                          {reembedded("embeddings/a.motion.emb", "embeddings/a.h.emb")}, row)
                   .ok());
  EXPECT_EQ(*store_->CurrentIndexVersion("t"), *v1);
  EXPECT_EQ(*store_->TaskEmbedder("t"), "motion-v1");
  EXPECT_EQ(store_->GetVideo(*a)->embedding_path, "embeddings/a.motion.emb");
  EXPECT_EQ(AuditRowsOf("t").size(), 1u);
}

TEST_P(MetadataStoreTest, AnIngestEmbeddedBeforeItsTaskSwitchedEmbedderIsNotRecorded) {
  ASSERT_NE(store_, nullptr);
  auto a = store_->InsertVideo(MakeVideo("t", "a.mp4"), TwoClips());
  ASSERT_TRUE(a.ok());
  JobRow ingest = MakeJob(JobKind::kIngest);
  ASSERT_TRUE(store_->InsertJob(ingest).ok());
  // Embedded while the task had no embedder of its own...
  const std::string seen = *store_->TaskEmbedder("t");
  // ...then a re-embed switches it.
  auto v = store_->ReserveIndexVersion("t", "reembed-job");
  MetadataStore::ReembeddedVideo r;
  r.video_id = *a;
  r.old_embedding_path = "embeddings/a.mp4.emb";
  r.embedding_path = "embeddings/a.mp4.motion.emb";
  r.embedding_model = "motion-v1";
  ASSERT_TRUE(store_->SwitchTaskEmbedder("t", *v, "motion-v1", {r})->switched);
  auto late = store_->CompleteIngestJobWithVideo(ingest.id, MakeVideo("t", "b.mp4"), TwoClips(), "{}", seen);
  EXPECT_EQ(late.status().code(), Status::Code::kUnavailable) << late.status().ToString();
  EXPECT_EQ(store_->ListVideos("t", 100)->size(), 1u);
  EXPECT_EQ(store_->GetJob(ingest.id)->status, kJobQueued);
  // Embedded again with the task's embedder: recorded.
  VideoRow again = MakeVideo("t", "b.mp4");
  again.embedding_model = "motion-v1";
  auto ok = store_->CompleteIngestJobWithVideo(ingest.id, again, TwoClips(), "{}", std::string("motion-v1"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(store_->ListVideos("t", 100)->size(), 2u);
}

}  // namespace
}  // namespace sopilot
