#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "queue/job_queue.h"
#include "queue/queue_test_util.h"
#include "testing/poll.h"
#include "testing/temp_dir.h"

namespace sopilot {
namespace {

// Real files and OS, but a wall clock the test moves by hand.
class FakeClockEnv : public EnvWrapper {
 public:
  FakeClockEnv() : EnvWrapper(Env::Default()) {}
  double NowUnixSeconds() override { return now_.load(); }
  void Advance(double sec) { now_.store(now_.load() + sec); }

 private:
  std::atomic<double> now_{1'700'000'000.0};
};

const std::vector<JobKind> kAllKinds = {JobKind::kIngest, JobKind::kScore, JobKind::kTraining};

class SqliteJobQueueTest : public ::testing::Test {
 protected:
  std::unique_ptr<JobQueue> Open(Env* env = nullptr, QueueOptions options = QueueOptions()) {
    auto q = OpenSqliteJobQueue(dir_.file("queue.db"), env ? env : &clock_, options);
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    return q.ok() ? std::move(q).value() : nullptr;
  }

  testing::TempDir dir_;
  FakeClockEnv clock_;
};

TEST(RetryDelayTest, DefaultScheduleIs10_60_300) {
  QueueOptions o;
  EXPECT_DOUBLE_EQ(RetryDelaySeconds(o, 1), 10);
  EXPECT_DOUBLE_EQ(RetryDelaySeconds(o, 2), 60);
  EXPECT_DOUBLE_EQ(RetryDelaySeconds(o, 3), 300);  // 360 capped
  EXPECT_DOUBLE_EQ(RetryDelaySeconds(o, 50), 300);
  EXPECT_DOUBLE_EQ(RetryDelaySeconds(o, 0), 10);
}

TEST_F(SqliteJobQueueTest, OpenRejectsBadOptionsAndPaths) {
  QueueOptions bad;
  bad.max_attempts = 0;
  EXPECT_EQ(OpenSqliteJobQueue(dir_.file("q.db"), &clock_, bad).status().code(), Status::Code::kInvalidArgument);
  auto q = OpenSqliteJobQueue(dir_.file("no/such/dir/q.db"), &clock_, QueueOptions());
  EXPECT_FALSE(q.ok());
}

TEST_F(SqliteJobQueueTest, EnqueueLeaseAck) {
  auto q = Open();
  ASSERT_TRUE(q);
  EXPECT_EQ(q->backend(), "sqlite");
  ASSERT_TRUE(q->Enqueue(JobKind::kIngest, "job-1").ok());
  QueueStats s = StatsOf(q.get(), JobKind::kIngest);
  EXPECT_EQ(s.queued, 1);
  EXPECT_EQ(s.running, 0);

  auto job = LeaseNow(q.get(), {JobKind::kIngest}, "w1");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->job_id, "job-1");
  EXPECT_EQ(job->kind, JobKind::kIngest);
  EXPECT_EQ(job->attempt, 1);
  EXPECT_EQ(job->lease_token.size(), 32u);
  s = StatsOf(q.get(), JobKind::kIngest);
  EXPECT_EQ(s.queued, 0);
  EXPECT_EQ(s.running, 1);
  EXPECT_FALSE(LeaseNow(q.get(), kAllKinds, "w2"));  // leased jobs are not handed out twice

  EXPECT_TRUE(q->Extend(*job, 60).ok());
  ASSERT_TRUE(q->Ack(*job).ok());
  s = StatsOf(q.get(), JobKind::kIngest);
  EXPECT_EQ(s.queued + s.running + s.dead, 0);
  EXPECT_EQ(q->Ack(*job).code(), Status::Code::kNotFound);  // gone
  EXPECT_EQ(q->Lease({}, "w1", 30, 0).status().code(), Status::Code::kInvalidArgument);
}

// Another process's connection holds the queue's write lock for a while: an
// Enqueue waits it out and counts once as an operation that waited (the
// queue's part of sopilot_database_locked_errors_total), however many
// retries it slept.
TEST_F(SqliteJobQueueTest, AnOperationThatWaitsOnALockIsCountedOnce) {
  auto q = Open();
  ASSERT_TRUE(q);
  LockWaits* waits = q->lock_waits();
  ASSERT_NE(waits, nullptr) << "the SQLite queue reports its lock waits";
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.file("queue.db").c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  double seen = -1;
  waits->SetObserver([&](double s) { seen = s; });
  std::atomic<bool> waited{false};
  std::thread release([&] {
    waited = testing::PollUntil([&] { return waits->waiting() > 0; });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr);
  });
  Status st = q->Enqueue(JobKind::kIngest, "job-1");
  release.join();
  sqlite3_close(other);
  waits->SetObserver(nullptr);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_TRUE(waited.load()) << "the queue did not wait for the lock";
  EXPECT_EQ(waits->operations(), 1u);
  EXPECT_GE(seen, 0.02);
  // Operations that meet no lock are not counted.
  ASSERT_TRUE(q->Enqueue(JobKind::kIngest, "job-2").ok());
  EXPECT_TRUE(LeaseNow(q.get(), {JobKind::kIngest}, "w1"));
  EXPECT_EQ(waits->operations(), 1u);
}

TEST_F(SqliteJobQueueTest, KindsAreServedInTheGivenOrderAndFifoWithinAKind) {
  auto q = Open();
  ASSERT_TRUE(q);
  ASSERT_TRUE(q->Enqueue(JobKind::kTraining, "t1").ok());
  clock_.Advance(1);
  ASSERT_TRUE(q->Enqueue(JobKind::kIngest, "i1").ok());
  ASSERT_TRUE(q->Enqueue(JobKind::kIngest, "i2").ok());  // same timestamp: insertion order
  clock_.Advance(1);
  ASSERT_TRUE(q->Enqueue(JobKind::kScore, "s1").ok());

  std::vector<std::string> order;
  while (auto job = LeaseNow(q.get(), {JobKind::kScore, JobKind::kIngest, JobKind::kTraining}, "w")) {
    order.push_back(job->job_id);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"s1", "i1", "i2", "t1"}));

  // Kinds not asked for are never returned.
  ASSERT_TRUE(q->Enqueue(JobKind::kTraining, "t2").ok());
  EXPECT_FALSE(LeaseNow(q.get(), {JobKind::kIngest, JobKind::kScore}, "w"));
  auto t2 = LeaseNow(q.get(), {JobKind::kTraining}, "w");
  ASSERT_TRUE(t2);
  EXPECT_EQ(t2->job_id, "t2");
  EXPECT_EQ(t2->kind, JobKind::kTraining);
}

TEST_F(SqliteJobQueueTest, EnqueueIsIdempotentWhileQueuedOrRunning) {
  auto q = Open();
  ASSERT_TRUE(q);
  ASSERT_TRUE(q->Enqueue(JobKind::kScore, "j").ok());
  ASSERT_TRUE(q->Enqueue(JobKind::kScore, "j").ok());
  EXPECT_EQ(StatsOf(q.get(), JobKind::kScore).queued, 1);

  auto job = LeaseNow(q.get(), {JobKind::kScore}, "w");
  ASSERT_TRUE(job);
  ASSERT_TRUE(q->Enqueue(JobKind::kScore, "j").ok());  // running: still a no-op
  QueueStats s = StatsOf(q.get(), JobKind::kScore);
  EXPECT_EQ(s.queued, 0);
  EXPECT_EQ(s.running, 1);
  EXPECT_FALSE(LeaseNow(q.get(), {JobKind::kScore}, "w2"));
  EXPECT_TRUE(q->Ack(*job).ok());  // and the lease is untouched

  // The same id under another kind is a caller's bug.
  ASSERT_TRUE(q->Enqueue(JobKind::kScore, "k").ok());
  EXPECT_EQ(q->Enqueue(JobKind::kIngest, "k").code(), Status::Code::kInvalidArgument);
}

TEST_F(SqliteJobQueueTest, LeaseWaitsUpToWaitSecThenReturnsNothing) {
  auto q = Open();
  ASSERT_TRUE(q);
  auto start = std::chrono::steady_clock::now();
  auto r = q->Lease(kAllKinds, "w", 30, 0.2);
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(*r);
  EXPECT_GE(waited, 0.19);
}

// Counts the clock reads of the queue that uses it: each attempt to lease
// reads the clock once, so a second read means the first attempt found
// nothing and the lease is waiting.
class CountingClockEnv : public FakeClockEnv {
 public:
  double NowUnixSeconds() override {
    ++reads_;
    return FakeClockEnv::NowUnixSeconds();
  }
  int reads() const { return reads_.load(); }

 private:
  std::atomic<int> reads_{0};
};

TEST_F(SqliteJobQueueTest, WaitingLeaseWakesForAJobEnqueuedMeanwhile) {
  CountingClockEnv waiting_clock;
  auto q = Open(&waiting_clock);
  auto other = Open();  // another connection, as another thread's worker would have
  ASSERT_TRUE(q && other);
  const int opened = waiting_clock.reads();
  std::thread producer([&] {
    // Once the lease has tried and found nothing, and so is waiting.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (waiting_clock.reads() < opened + 2 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_GE(waiting_clock.reads(), opened + 2);
    EXPECT_TRUE(other->Enqueue(JobKind::kIngest, "late").ok());
  });
  // The wait, two minutes, outlasts any scheduling delay and ends as soon
  // as the job is there.
  auto r = q->Lease(kAllKinds, "w", 30, 120);
  producer.join();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(*r);
  EXPECT_EQ((*r)->job_id, "late");
}

TEST_F(SqliteJobQueueTest, FailRetriesAfterBackoffThenDiesAndCanBeRequeued) {
  auto q = Open();
  ASSERT_TRUE(q);
  ASSERT_TRUE(q->Enqueue(JobKind::kIngest, "j").ok());

  // Runs 1 and 2 fail and are retried after 10 s and 60 s.
  const double delays[] = {10, 60};
  for (int run = 1; run <= 2; ++run) {
    auto job = LeaseNow(q.get(), {JobKind::kIngest}, "w");
    ASSERT_TRUE(job) << "run " << run;
    EXPECT_EQ(job->attempt, run);
    auto retried = q->Fail(*job, "boom " + std::to_string(run));
    ASSERT_TRUE(retried.ok()) << retried.status().ToString();
    EXPECT_TRUE(*retried);
    QueueStats s = StatsOf(q.get(), JobKind::kIngest);
    EXPECT_EQ(s.queued, 1);
    EXPECT_EQ(s.retrying, 1);
    EXPECT_EQ(s.running, 0);
    EXPECT_EQ(q->Ack(*job).code(), Status::Code::kNotFound);  // the failed lease is over

    clock_.Advance(delays[run - 1] - 0.5);
    EXPECT_FALSE(LeaseNow(q.get(), {JobKind::kIngest}, "w")) << "ready before its backoff, run " << run;
    clock_.Advance(0.5);
    EXPECT_EQ(StatsOf(q.get(), JobKind::kIngest).retrying, 0);
  }

  // Run 3 is the last (max_attempts 3): failing it kills the job.
  auto job = LeaseNow(q.get(), {JobKind::kIngest}, "w");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->attempt, 3);
  auto retried = q->Fail(*job, "boom 3");
  ASSERT_TRUE(retried.ok());
  EXPECT_FALSE(*retried);
  QueueStats s = StatsOf(q.get(), JobKind::kIngest);
  EXPECT_EQ(s.dead, 1);
  EXPECT_EQ(s.queued, 0);
  clock_.Advance(1000);
  EXPECT_FALSE(LeaseNow(q.get(), {JobKind::kIngest}, "w"));
  auto dead = q->DeadJobs(JobKind::kIngest, 10);
  ASSERT_TRUE(dead.ok());
  EXPECT_EQ(*dead, std::vector<std::string>{"j"});
  EXPECT_TRUE(q->DeadJobs(JobKind::kScore, 10)->empty());

  // Requeue: ready now, with a fresh attempt count.
  EXPECT_EQ(q->Requeue(JobKind::kScore, "j").code(), Status::Code::kNotFound);  // wrong kind
  ASSERT_TRUE(q->Requeue(JobKind::kIngest, "j").ok());
  EXPECT_EQ(q->Requeue(JobKind::kIngest, "j").code(), Status::Code::kNotFound);  // no longer dead
  job = LeaseNow(q.get(), {JobKind::kIngest}, "w");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->attempt, 1);
  EXPECT_EQ(StatsOf(q.get(), JobKind::kIngest).dead, 0);
}

TEST_F(SqliteJobQueueTest, ExpiredLeaseGoesToAnotherWorkerAndTheFirstLosesIt) {
  auto q1 = Open();
  auto q2 = Open();
  ASSERT_TRUE(q1 && q2);
  ASSERT_TRUE(q1->Enqueue(JobKind::kScore, "j").ok());
  auto first = LeaseNow(q1.get(), {JobKind::kScore}, "w1", 30);
  ASSERT_TRUE(first);

  clock_.Advance(29);
  auto n = q2->RecoverExpired();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->total, 0);  // not expired yet
  ASSERT_TRUE(q1->Extend(*first, 30).ok());  // now until +59
  clock_.Advance(29);
  EXPECT_EQ(q2->RecoverExpired()->total, 0);
  clock_.Advance(2);
  n = q2->RecoverExpired();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->total, 1);
  EXPECT_EQ(n->by_kind[static_cast<int>(JobKind::kScore)], 1);  // counted in its own queue
  EXPECT_EQ(n->by_kind[static_cast<int>(JobKind::kIngest)], 0);

  auto second = LeaseNow(q2.get(), {JobKind::kScore}, "w2", 30);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->job_id, "j");
  EXPECT_EQ(second->attempt, 2);
  EXPECT_NE(second->lease_token, first->lease_token);

  // The first worker comes back: its lease is gone and it must not touch
  // the second worker's.
  EXPECT_EQ(q1->Extend(*first, 30).code(), Status::Code::kNotFound);
  EXPECT_EQ(q1->Ack(*first).code(), Status::Code::kNotFound);
  EXPECT_EQ(q1->Fail(*first, "late").status().code(), Status::Code::kNotFound);
  QueueStats s = StatsOf(q1.get(), JobKind::kScore);
  EXPECT_EQ(s.running, 1);
  EXPECT_EQ(s.dead, 0);
  ASSERT_TRUE(q2->Ack(*second).ok());
  EXPECT_EQ(StatsOf(q1.get(), JobKind::kScore).running, 0);
}

TEST_F(SqliteJobQueueTest, WaitsOldestAgeAndBusyWorkersFollowTheQueueClock) {
  auto q = Open();
  ASSERT_TRUE(q);
  EXPECT_EQ(StatsOf(q.get(), JobKind::kScore).oldest_wait_sec, 0.0);  // nothing waits
  ASSERT_TRUE(q->Enqueue(JobKind::kScore, "a").ok());
  clock_.Advance(7);
  EXPECT_DOUBLE_EQ(StatsOf(q.get(), JobKind::kScore).oldest_wait_sec, 7);
  ASSERT_TRUE(q->Enqueue(JobKind::kScore, "b").ok());
  clock_.Advance(3);
  auto a = LeaseNow(q.get(), {JobKind::kScore}, "w1");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->job_id, "a");
  EXPECT_DOUBLE_EQ(a->waited_sec, 10);
  QueueStats s = StatsOf(q.get(), JobKind::kScore);
  EXPECT_DOUBLE_EQ(s.oldest_wait_sec, 3);  // b is the oldest still waiting
  EXPECT_EQ(s.busy_workers, 1);
  auto b = LeaseNow(q.get(), {JobKind::kScore}, "w1");
  ASSERT_TRUE(b);
  s = StatsOf(q.get(), JobKind::kScore);
  EXPECT_EQ(s.running, 2);
  EXPECT_EQ(s.busy_workers, 1) << "two leases of one worker are one busy worker";
  EXPECT_EQ(s.oldest_wait_sec, 0.0);
  // A retry waits from the end of its backoff (10 s), not from its enqueue.
  ASSERT_TRUE(*q->Fail(*b, "boom"));
  clock_.Advance(10 + 4);
  EXPECT_DOUBLE_EQ(StatsOf(q.get(), JobKind::kScore).oldest_wait_sec, 4);
  auto again = LeaseNow(q.get(), {JobKind::kScore}, "w2");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->job_id, "b");
  EXPECT_DOUBLE_EQ(again->waited_sec, 4);
  EXPECT_EQ(StatsOf(q.get(), JobKind::kScore).busy_workers, 2);
  EXPECT_EQ(StatsOf(q.get(), JobKind::kIngest).busy_workers, 0);
}

TEST_F(SqliteJobQueueTest, JobThatKeepsKillingItsWorkerDiesAfterMaxAttempts) {
  QueueOptions options;
  options.max_attempts = 2;
  auto q = Open(nullptr, options);
  ASSERT_TRUE(q);
  ASSERT_TRUE(q->Enqueue(JobKind::kIngest, "poison").ok());
  for (int run = 1; run <= 2; ++run) {
    auto job = LeaseNow(q.get(), {JobKind::kIngest}, "w" + std::to_string(run), 10);
    ASSERT_TRUE(job) << "run " << run;
    EXPECT_EQ(job->attempt, run);
    clock_.Advance(11);  // the worker died
    EXPECT_EQ(q->RecoverExpired()->total, 1);
  }
  QueueStats s = StatsOf(q.get(), JobKind::kIngest);
  EXPECT_EQ(s.dead, 1);
  EXPECT_EQ(s.queued, 0);
  EXPECT_FALSE(LeaseNow(q.get(), {JobKind::kIngest}, "w3"));
  EXPECT_EQ(*q->DeadJobs(JobKind::kIngest, 10), std::vector<std::string>{"poison"});
}

TEST_F(SqliteJobQueueTest, LeaseKillsAReadyJobWithNoAttemptsLeft) {
  // A job recovered under max_attempts 3 after two runs, then a queue with
  // max_attempts 2 meets it: dead rather than a third run.
  {
    auto q = Open();
    ASSERT_TRUE(q);
    ASSERT_TRUE(q->Enqueue(JobKind::kIngest, "j").ok());
    for (int run = 1; run <= 2; ++run) {
      ASSERT_TRUE(LeaseNow(q.get(), {JobKind::kIngest}, "w", 10));
      clock_.Advance(11);
      EXPECT_EQ(q->RecoverExpired()->total, 1);
    }
    EXPECT_EQ(StatsOf(q.get(), JobKind::kIngest).queued, 1);
  }
  QueueOptions options;
  options.max_attempts = 2;
  auto q = Open(nullptr, options);
  ASSERT_TRUE(q);
  EXPECT_FALSE(LeaseNow(q.get(), {JobKind::kIngest}, "w"));
  EXPECT_EQ(StatsOf(q.get(), JobKind::kIngest).dead, 1);
}

TEST_F(SqliteJobQueueTest, ItemsAndLeasesSurviveReopening) {
  LeasedJob leased;
  {
    auto q = Open();
    ASSERT_TRUE(q);
    ASSERT_TRUE(q->Enqueue(JobKind::kIngest, "a").ok());
    ASSERT_TRUE(q->Enqueue(JobKind::kIngest, "b").ok());
    ASSERT_TRUE(q->Enqueue(JobKind::kTraining, "c").ok());
    auto job = LeaseNow(q.get(), {JobKind::kIngest}, "w", 30);
    ASSERT_TRUE(job);
    leased = *job;
  }
  auto q = Open();
  ASSERT_TRUE(q);
  QueueStats s = StatsOf(q.get(), JobKind::kIngest);
  EXPECT_EQ(s.queued, 1);
  EXPECT_EQ(s.running, 1);
  EXPECT_EQ(StatsOf(q.get(), JobKind::kTraining).queued, 1);
  EXPECT_TRUE(q->Ack(leased).ok());  // the lease token is durable too
  auto b = LeaseNow(q.get(), {JobKind::kIngest}, "w");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->job_id, "b");
  auto c = LeaseNow(q.get(), {JobKind::kTraining}, "w");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->job_id, "c");
}

constexpr int kManyJobs = 200;

std::string ManyJobId(int i) { return "job-" + std::to_string(i); }

// Leases and acks until the queue is empty; returns the ids leased.
std::vector<std::string> Drain(JobQueue* q, const std::string& worker, bool* ok) {
  std::vector<std::string> ids;
  for (;;) {
    auto r = q->Lease(kAllKinds, worker, 30, 0);
    if (!r.ok()) {
      *ok = false;
      ADD_FAILURE() << r.status().ToString();
      return ids;
    }
    if (!*r) return ids;
    ids.push_back((*r)->job_id);
    if ((*r)->attempt != 1 || !q->Ack(**r).ok()) *ok = false;
  }
}

TEST_F(SqliteJobQueueTest, FourThreadsLeaseEveryJobExactlyOnce) {
  {
    auto q = Open(Env::Default());
    ASSERT_TRUE(q);
    for (int i = 0; i < kManyJobs; ++i) ASSERT_TRUE(q->Enqueue(JobKind::kScore, ManyJobId(i)).ok());
  }
  constexpr int kThreads = 4;
  std::vector<std::vector<std::string>> leased(kThreads);
  bool oks[kThreads] = {true, true, true, true};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto q = OpenSqliteJobQueue(dir_.file("queue.db"), Env::Default(), QueueOptions());
      if (!q.ok()) {
        oks[t] = false;
        return;
      }
      leased[t] = Drain(q->get(), "w" + std::to_string(t), &oks[t]);
    });
  }
  for (auto& th : threads) th.join();

  std::multiset<std::string> all;
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_TRUE(oks[t]) << "thread " << t;
    all.insert(leased[t].begin(), leased[t].end());
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(kManyJobs));
  for (int i = 0; i < kManyJobs; ++i) EXPECT_EQ(all.count(ManyJobId(i)), 1u) << ManyJobId(i);
  auto q = Open(Env::Default());
  QueueStats s = StatsOf(q.get(), JobKind::kScore);
  EXPECT_EQ(s.queued + s.running + s.dead, 0);
}

TEST_F(SqliteJobQueueTest, ForkedProcessAndParentLeaseEveryJobExactlyOnce) {
  {
    auto q = Open(Env::Default());
    ASSERT_TRUE(q);
    for (int i = 0; i < kManyJobs; ++i) ASSERT_TRUE(q->Enqueue(JobKind::kIngest, ManyJobId(i)).ok());
  }  // closed: neither process uses a connection opened before the fork
  // Each process leases one job before they both go on together (so each
  // has leased some, however the two are scheduled): the parent first, then
  // the child, which says so on `ready_pipe`.
  int ids_pipe[2], go_pipe[2], ready_pipe[2];
  ASSERT_EQ(pipe(ids_pipe), 0);
  ASSERT_EQ(pipe(go_pipe), 0);
  ASSERT_EQ(pipe(ready_pipe), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Child: no gtest assertions here; report through the pipe and _exit.
    close(ids_pipe[0]);
    close(go_pipe[1]);
    close(ready_pipe[0]);
    auto q = OpenSqliteJobQueue(dir_.file("queue.db"), Env::Default(), QueueOptions());
    char go;
    if (!q.ok() || read(go_pipe[0], &go, 1) != 1) _exit(2);
    std::string out;
    for (bool first = true;; first = false) {
      auto r = (*q)->Lease(kAllKinds, "child", 30, 0);
      if (!r.ok()) _exit(3);
      if (!*r) break;
      if ((*r)->attempt != 1 || !(*q)->Ack(**r).ok()) _exit(4);
      out += (*r)->job_id + "\n";
      if (first && write(ready_pipe[1], "r", 1) != 1) _exit(6);
      usleep(200);  // a little work, so the two really interleave
    }
    size_t off = 0;
    while (off < out.size()) {
      ssize_t n = write(ids_pipe[1], out.data() + off, out.size() - off);
      if (n <= 0) _exit(5);
      off += static_cast<size_t>(n);
    }
    _exit(0);
  }
  close(ids_pipe[1]);
  close(go_pipe[0]);
  close(ready_pipe[1]);
  auto q = Open(Env::Default());
  ASSERT_TRUE(q);
  std::vector<std::string> parent_ids;
  bool ok = true;
  auto first = q->Lease(kAllKinds, "parent", 30, 0);
  ASSERT_TRUE(first.ok() && *first) << first.status().ToString();
  parent_ids.push_back((*first)->job_id);
  if ((*first)->attempt != 1 || !q->Ack(**first).ok()) ok = false;
  ASSERT_EQ(write(go_pipe[1], "g", 1), 1);
  close(go_pipe[1]);
  char ready;
  ASSERT_EQ(read(ready_pipe[0], &ready, 1), 1) << "the child leased nothing";  // then both go on together
  close(ready_pipe[0]);
  for (;;) {
    auto r = q->Lease(kAllKinds, "parent", 30, 0);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    if (!*r) break;
    parent_ids.push_back((*r)->job_id);
    if ((*r)->attempt != 1 || !q->Ack(**r).ok()) ok = false;
    usleep(200);
  }
  std::string child_out;
  char buf[4096];
  ssize_t n;
  while ((n = read(ids_pipe[0], buf, sizeof(buf))) > 0) child_out.append(buf, static_cast<size_t>(n));
  close(ids_pipe[0]);
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFEXITED(wstatus));
  ASSERT_EQ(WEXITSTATUS(wstatus), 0);
  EXPECT_TRUE(ok);

  std::vector<std::string> child_ids;
  for (size_t start = 0, end; (end = child_out.find('\n', start)) != std::string::npos; start = end + 1) {
    child_ids.push_back(child_out.substr(start, end - start));
  }
  EXPECT_GT(parent_ids.size(), 0u);
  EXPECT_GT(child_ids.size(), 0u);
  std::multiset<std::string> all(parent_ids.begin(), parent_ids.end());
  all.insert(child_ids.begin(), child_ids.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kManyJobs));
  for (int i = 0; i < kManyJobs; ++i) EXPECT_EQ(all.count(ManyJobId(i)), 1u) << ManyJobId(i);
  QueueStats s = StatsOf(q.get(), JobKind::kIngest);
  EXPECT_EQ(s.queued + s.running + s.dead, 0);
}

}  // namespace
}  // namespace sopilot

namespace sopilot {
namespace {

TEST_F(SqliteJobQueueTest, HeartbeatsAreSharedByEveryQueueOnTheFileAndRunOut) {
  auto worker_side = Open();
  auto api_side = Open();  // another connection, as another process
  ASSERT_TRUE(worker_side && api_side);
  ASSERT_TRUE(worker_side->Ping().ok());
  EXPECT_EQ(worker_side->QueueName(JobKind::kTraining), "sopilot_training");
  ASSERT_TRUE(worker_side->Heartbeat("h:1:0", {JobKind::kIngest, JobKind::kScore}, 15).ok());
  ASSERT_TRUE(worker_side->Heartbeat("h:1:1", {JobKind::kScore}, 15).ok());
  ASSERT_TRUE(worker_side->Heartbeat("h:1:1", {JobKind::kScore}, 15).ok());  // renewed, not doubled
  EXPECT_EQ(*api_side->ActiveWorkers(JobKind::kIngest), 1);
  EXPECT_EQ(*api_side->ActiveWorkers(JobKind::kScore), 2);
  EXPECT_EQ(*api_side->ActiveWorkers(JobKind::kTraining), 0);
  clock_.Advance(10);
  ASSERT_TRUE(worker_side->Heartbeat("h:1:1", {JobKind::kScore}, 15).ok());
  clock_.Advance(10);  // h:1:0 silent for 20 s: gone
  EXPECT_EQ(*api_side->ActiveWorkers(JobKind::kIngest), 0);
  EXPECT_EQ(*api_side->ActiveWorkers(JobKind::kScore), 1);
  ASSERT_TRUE(worker_side->RemoveWorker("h:1:1").ok());
  EXPECT_EQ(*api_side->ActiveWorkers(JobKind::kScore), 0);
}

}  // namespace
}  // namespace sopilot
