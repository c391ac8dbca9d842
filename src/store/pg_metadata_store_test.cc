// What only the PostgreSQL store has: a server that can go away and come
// back, and locks shared by every process on the database. On a real
// server (testing::PostgresServer); skipped when PostgreSQL is not installed.
#include "store/pg_metadata_store.h"

#include <atomic>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "store/pg_session_pool.h"
#include "store/store_backend_test_util.h"
#include "testing/fake_clock_env.h"
#include "testing/command.h"
#include "testing/poll.h"
#include "testing/postgres_server.h"
#include "testing/redis_server.h"
#include "testing/temp_dir.h"

namespace sopilot {
namespace {

using testing::FakeClockEnv;

// A gold video's row of task "oil", as an upload would store it.
VideoRow OilGoldVideo() {
  VideoRow video;
  video.task_id = "oil";
  video.role = "gold";
  video.file_name = "gold.mp4";
  video.file_path = "raw/ab/abcd.mp4";
  video.embedding_path = "emb/ab/abcd.emb";
  return video;
}

class PgMetadataStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::PostgresBinDir().empty()) {
      GTEST_SKIP() << "PostgreSQL is not installed (scripts/install-deps.sh installs it)";
    }
  }
  FakeClockEnv env_;
};

TEST_F(PgMetadataStoreTest, AnUnreachableServerIsUnavailable) {
  const int port = testing::FreeLoopbackPort();  // nobody listens there
  auto s = MetadataStore::Open("postgresql://sopilot:secret-pw@127.0.0.1:" + std::to_string(port) + "/none", &env_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Status::Code::kUnavailable) << s.status().ToString();
  EXPECT_EQ(s.status().message().find("secret-pw"), std::string::npos) << "the password was repeated";
}

// The server goes away under an open store and comes back on the same port:
// calls meanwhile fail as Unavailable (never a crash), and the first call
// after it is back connects again.
TEST_F(PgMetadataStoreTest, ALostConnectionIsUnavailableAndTheNextCallConnectsAgain) {
  testing::PostgresServer server;  // its own: this test stops it
  ASSERT_TRUE(server.Start()) << server.error();
  ASSERT_TRUE(server.CreateDatabase("lost"));
  auto opened = MetadataStore::Open(server.Url("lost"), &env_);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<MetadataStore> store = std::move(opened).value();
  EXPECT_STREQ(store->backend(), "postgresql");
  ASSERT_TRUE(store->AppendAudit("system", "before", "", "{}").ok());

  ASSERT_TRUE(server.Stop());
  Status down = store->AppendAudit("system", "during", "", "{}");
  EXPECT_EQ(down.code(), Status::Code::kUnavailable) << down.ToString();
  EXPECT_EQ(store->Ping().code(), Status::Code::kUnavailable);
  EXPECT_EQ(store->GetJob("x").status().code(), Status::Code::kUnavailable);

  ASSERT_TRUE(server.Start()) << server.error();
  ASSERT_TRUE(store->Ping().ok());
  ASSERT_TRUE(store->AppendAudit("system", "after", "", "{}").ok());
  auto trail = store->AuditTrail(10);
  ASSERT_TRUE(trail.ok()) << trail.status().ToString();
  ASSERT_EQ(trail->size(), 2u);  // "during" was never written
  EXPECT_EQ((*trail)[0].action, "after");
  EXPECT_EQ((*trail)[1].action, "before");
}

// The start-up repair's lock: a second process asking for it waits until the
// first has finished. The second is seen waiting in pg_locks (state, not
// timing) before the first lets go.
TEST_F(PgMetadataStoreTest, RunExclusivelyLetsOneProcessInAtATime) {
  std::string why;
  testing::PostgresServer* server = testing::SharedPostgres(&why);
  ASSERT_NE(server, nullptr) << why;
  ASSERT_TRUE(server->CreateDatabase("exclusive"));
  auto a = MetadataStore::Open(server->Url("exclusive"), &env_);
  auto b = MetadataStore::Open(server->Url("exclusive"), &env_);
  ASSERT_TRUE(a.ok() && b.ok());

  std::atomic<bool> a_inside{false}, release{false}, b_ran{false};
  std::atomic<bool> b_ran_while_a_inside{false};
  std::thread first([&] {
    Status st = (*a)->RunExclusively("startup-repair", [&] {
      a_inside = true;
      // The store is usable inside (the lock is on a connection of its own).
      Status inner = (*a)->AppendAudit("system", "repair", "", "{}");
      testing::PollUntil([&] { return release.load(); });
      a_inside = false;
      return inner;
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
  });
  ASSERT_TRUE(testing::PollUntil([&] { return a_inside.load(); }));
  std::thread second([&] {
    Status st = (*b)->RunExclusively("startup-repair", [&] {
      if (a_inside) b_ran_while_a_inside = true;
      b_ran = true;
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
  });
  ASSERT_TRUE(testing::PollUntil([&] {
    return server->Query("exclusive", "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
               .One() == "1";
  })) << "the second process never waited for the lock";
  EXPECT_FALSE(b_ran.load());
  release = true;
  first.join();
  second.join();
  EXPECT_TRUE(b_ran.load());
  EXPECT_FALSE(b_ran_while_a_inside.load());
  // Another name is another lock.
  EXPECT_TRUE((*b)->RunExclusively("other", [] { return Status::Ok(); }).ok());
}

// A call waiting for a lock holds up only itself: while another program
// holds a task's SOP lock and one thread's save waits for it (seen waiting
// in pg_locks), the store's other calls go on. With one connection behind a
// mutex, every call of the process waited behind the save. The wait is
// counted for the metrics, as SQLite's are.
TEST_F(PgMetadataStoreTest, ACallWaitingForALockHoldsUpOnlyItself) {
  std::string why;
  testing::PostgresServer* server = testing::SharedPostgres(&why);
  ASSERT_NE(server, nullptr) << why;
  ASSERT_TRUE(server->CreateDatabase("overlap"));
  // No lock timeout: the save must still be waiting when it is let go,
  // however slow the machine.
  store_detail::PgPoolOptions options;
  options.lock_timeout_ms = 0;
  auto opened = PgMetadataStore::Open(server->Url("overlap"), &env_, options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<PgMetadataStore> store = std::move(opened).value();

  EXPECT_EQ(store->lock_waits()->operations(), 0u) << "opening the store waited";
  store_detail::PgSession other;  // another program on the database
  ASSERT_TRUE(other.Connect(server->Url("overlap")).ok());
  ASSERT_TRUE(other.Exec("BEGIN").ok());
  ASSERT_TRUE(other.Exec("SELECT pg_advisory_xact_lock(hashtextextended('sop/t', 0))").ok());

  std::atomic<bool> saved{false};
  std::thread saver([&] {
    auto v = store->AppendSopVersion("t", std::nullopt, R"({"steps":[]})", "alice");
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    saved = true;
  });
  const bool waiting = testing::PollUntil([&] {
    return server->Query("overlap", "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
               .One() == "1";
  });
  // The other calls run on a thread of their own, so that a store that
  // serialises them fails here instead of hanging.
  std::atomic<bool> others_done{false};
  std::thread others([&] {
    EXPECT_TRUE(store->AppendAudit("alice", "meanwhile", "", "{}").ok());
    auto trail = store->AuditTrail(5);
    EXPECT_TRUE(trail.ok() && trail->size() == 1u);
    EXPECT_TRUE(store->Ping().ok());
    others_done = true;
  });
  const bool went_on = waiting && testing::PollUntil([&] { return others_done.load(); });
  const bool save_still_waiting = !saved.load();
  const int64_t waiting_seen = store->lock_waits()->waiting();
  ASSERT_TRUE(other.Exec("COMMIT").ok());  // lets the save go, in every case
  saver.join();
  others.join();
  EXPECT_TRUE(waiting) << "the save never waited for the lock";
  EXPECT_TRUE(went_on) << "the store's other calls waited behind the save";
  EXPECT_TRUE(save_still_waiting);
  EXPECT_EQ(waiting_seen, 1) << "the metrics did not see the save waiting";
  EXPECT_TRUE(saved.load());
  // One operation waited, once (sopilot_database_lock_wait_seconds).
  EXPECT_EQ(store->lock_waits()->operations(), 1u);
  EXPECT_EQ(store->lock_waits()->waiting(), 0);
  auto sop = store->GetSopVersion("t", 0);
  ASSERT_TRUE(sop.ok()) << sop.status().ToString();
  EXPECT_EQ(sop->version, 1);
}

// What doc/operations.md tells operators to back PostgreSQL up with: a
// pg_dump of a store in use, restored with pg_restore into an empty
// database, opens as the same store. Its rows are all there, the audit log
// still refuses changes (the triggers came along), and new rows get new ids
// (the sequences came along).
TEST_F(PgMetadataStoreTest, PgDumpAndRestoreKeepTheStoreWhole) {
  std::string why;
  testing::PostgresServer* server = testing::SharedPostgres(&why);
  ASSERT_NE(server, nullptr) << why;
  const std::string bin = testing::PostgresBinDir();
  if (!std::filesystem::exists(bin + "/pg_dump") || !std::filesystem::exists(bin + "/pg_restore")) {
    GTEST_SKIP() << "pg_dump or pg_restore is not in " << bin;
  }
  ASSERT_TRUE(server->CreateDatabase("dumped"));
  ASSERT_TRUE(server->CreateDatabase("restored"));
  int64_t video_id = 0;
  {
    auto opened = MetadataStore::Open(server->Url("dumped"), &env_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    MetadataStore& store = **opened;
    VideoRow video = OilGoldVideo();
    video.num_clips = 2;
    auto id = store.InsertVideo(video, {{0, 0, 0.0, 2.0}, {0, 1, 1.0, 3.0}});
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    video_id = *id;
    JobRow job;
    job.id = "job-1";
    job.kind = JobKind::kScore;
    job.task_id = "oil";
    ASSERT_TRUE(store.InsertJob(job).ok());
    ASSERT_TRUE(store.AppendAudit("alice", "video.uploaded", "1", "{}").ok());
    ASSERT_TRUE(store.AppendSopVersion("oil", video_id, R"({"steps":[]})", "alice").ok());
  }
  testing::TempDir dir;
  const std::string dump = dir.file("sopilot.dump");
  auto dumped = testing::RunCommand(bin + "/pg_dump --format=custom --file=" + dump + " '" +
                                    server->Url("dumped") + "' 2>&1");
  ASSERT_EQ(dumped.exit_code, 0) << dumped.out;
  auto restored = testing::RunCommand(bin + "/pg_restore --no-owner --exit-on-error --dbname='" +
                                      server->Url("restored") + "' " + dump + " 2>&1");
  ASSERT_EQ(restored.exit_code, 0) << restored.out;

  auto opened = MetadataStore::Open(server->Url("restored"), &env_);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  MetadataStore& store = **opened;
  auto video = store.GetVideo(video_id);
  ASSERT_TRUE(video.ok()) << video.status().ToString();
  EXPECT_EQ(video->file_path, "raw/ab/abcd.mp4");
  auto clips = store.GetClips(video_id);
  ASSERT_TRUE(clips.ok());
  EXPECT_EQ(clips->size(), 2u);
  auto job = store.GetJob("job-1");
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(job->status, "queued");
  auto trail = store.AuditTrail(10);
  ASSERT_TRUE(trail.ok());
  ASSERT_EQ(trail->size(), 1u);
  EXPECT_EQ((*trail)[0].actor, "alice");
  auto sop = store.GetSopVersion("oil", 0);
  ASSERT_TRUE(sop.ok()) << sop.status().ToString();
  EXPECT_EQ(sop->version, 1);
  EXPECT_FALSE(server->Query("restored", "UPDATE audit_log SET actor = 'mallory'").ok)
      << "the restored audit log can be rewritten";
  EXPECT_FALSE(server->Query("restored", "DELETE FROM audit_log").ok);
  VideoRow another = *video;
  another.file_path = "raw/cd/cdef.mp4";
  auto next = store.InsertVideo(another, {});
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_GT(*next, video_id);
  auto second = store.AppendSopVersion("oil", video_id, R"({"steps":[]})", "bob");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, 2);
}

// A base backup (pg_basebackup, the WAL streamed alongside) taken while the
// store is being written starts as a server of its own and opens as the
// same store: everything committed before the backup began is there, what
// it holds of the audit log is an unbroken beginning of the source's, the
// log stays append-only, and the id sequences continue past the rows.
TEST_F(PgMetadataStoreTest, BaseBackupTakenWhileWritingOpensAsTheSameStore) {
  std::string why;
  testing::PostgresServer* server = testing::SharedPostgres(&why);
  ASSERT_NE(server, nullptr) << why;
  if (!std::filesystem::exists(testing::PostgresBinDir() + "/pg_basebackup")) {
    GTEST_SKIP() << "pg_basebackup is not in " << testing::PostgresBinDir();
  }
  ASSERT_TRUE(server->CreateDatabase("based"));
  auto opened = MetadataStore::Open(server->Url("based"), &env_);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  MetadataStore& source = **opened;
  VideoRow video = OilGoldVideo();
  auto video_id = source.InsertVideo(video, {{0, 0, 0.0, 2.0}});
  ASSERT_TRUE(video_id.ok()) << video_id.status().ToString();
  ASSERT_TRUE(source.AppendAudit("alice", "video.uploaded", std::to_string(*video_id), "{}").ok());

  // A writer appends to the audit log for as long as the backup runs, and
  // at least once after it has started (a state, not a moment).
  std::atomic<bool> stop{false};
  std::atomic<int> appended{0};
  std::thread writer([&] {
    while (!stop.load()) {
      if (source.AppendAudit("system", "tick", std::to_string(appended.load()), "{}").ok()) appended++;
    }
  });
  testing::PostgresServer copy;
  const int before_backup = appended.load();
  const bool backed_up = copy.RestoreBaseBackupOf(*server);
  ASSERT_TRUE(testing::PollUntil([&] { return appended.load() > before_backup + 1; }, 120));
  stop = true;
  writer.join();
  ASSERT_TRUE(backed_up) << copy.error();
  ASSERT_TRUE(copy.Start()) << copy.error();

  auto restored = MetadataStore::Open(copy.Url("based"), &env_);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  MetadataStore& store = **restored;
  auto got = store.GetVideo(*video_id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->file_path, "raw/ab/abcd.mp4");
  // The copy holds the source's oldest audit rows, unchanged and with none
  // left out, including every tick appended before the backup began.
  const std::string rows = "SELECT seq || ' ' || action || ' ' || subject FROM audit_log ORDER BY seq";
  auto trail = copy.Query("based", rows);
  auto full = server->Query("based", rows);
  ASSERT_TRUE(trail.ok && full.ok) << trail.error << full.error;
  ASSERT_GE(trail.column.size(), static_cast<size_t>(before_backup) + 1);
  ASSERT_LE(trail.column.size(), full.column.size());
  for (size_t i = 0; i < trail.column.size(); ++i) ASSERT_EQ(trail.column[i], full.column[i]) << i;
  EXPECT_NE(trail.column.front().find(" video.uploaded "), std::string::npos) << trail.column.front();
  EXPECT_FALSE(copy.Query("based", "DELETE FROM audit_log").ok) << "the copy's audit log can be deleted";
  VideoRow another = video;
  another.file_path = "raw/cd/cdef.mp4";
  auto next = store.InsertVideo(another, {});
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_GT(*next, *video_id);
  ASSERT_TRUE(store.AppendAudit("bob", "after.restore", "x", "{}").ok());
  auto newest = store.AuditTrail(1);
  ASSERT_TRUE(newest.ok());
  // Past every row (a recovered sequence may skip ahead: PostgreSQL logs
  // sequences some values in advance).
  EXPECT_GT((*newest)[0].seq, static_cast<int64_t>(trail.column.size()));
}

}  // namespace
}  // namespace sopilot
