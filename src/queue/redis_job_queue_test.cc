// The Redis queue against a real redis-server (the shipped configuration).
// Time is Redis's own clock (TIME in the scripts), which a test cannot move;
// instead the tests use long leases, backoffs and heartbeats, so that "not
// yet" holds however slow the machine, and then move one entry's due time
// into the past (TimePasses) where the test would otherwise sleep.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "queue/job_queue.h"
#include "queue/queue_test_util.h"
#include "testing/redis_server.h"
#include "testing/temp_dir.h"

namespace sopilot {
namespace {

using std::chrono::milliseconds;

class RedisJobQueueTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()) << server_.error(); }

  std::unique_ptr<JobQueue> Open(QueueOptions options = QueueOptions(), const std::string& prefix = "sopilot") {
    auto q = OpenRedisJobQueue(server_.url(), prefix, options, [this](const std::string&) { ++errors_; });
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    return q.ok() ? std::move(q).value() : nullptr;
  }
  // Retries after a minute: the tests make the time pass (TimePasses).
  static QueueOptions MinuteRetries(int max_attempts = 3) {
    QueueOptions o;
    o.max_attempts = max_attempts;
    o.backoff_base_sec = 60;
    o.backoff_factor = 1;
    o.backoff_max_sec = 60;
    return o;
  }

  // Redis's clock in seconds.
  double RedisNow() const {
    std::istringstream t(server_.Cli("time"));
    double sec = 0, usec = 0;
    t >> sec >> usec;
    return sec + usec / 1e6;
  }
  // The time `member` of the sorted set `key` is due (a lease's end, a
  // backoff's end, a heartbeat's end); -1 when it is not there.
  double DueAt(const std::string& key, const std::string& member) const {
    std::string score = server_.Cli("zscore " + key + " " + member);
    return score.empty() ? -1 : std::stod(score);
  }
  // Instead of sleeping until that time: it has passed.
  void TimePasses(const std::string& key, const std::string& member) {
    ASSERT_GT(DueAt(key, member), 0) << key << " " << member;
    server_.Cli("zadd " + key + " XX 1 " + member);
    ASSERT_EQ(DueAt(key, member), 1);
  }

  testing::TempDir dir_;
  testing::RedisServer server_{dir_.path()};
  std::atomic<int> errors_{0};
};

TEST_F(RedisJobQueueTest, OpenChecksTheUrlAndPrefixButDoesNotConnect) {
  EXPECT_EQ(OpenRedisJobQueue("http://x", "sopilot", QueueOptions(), nullptr).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(OpenRedisJobQueue(server_.url(), "", QueueOptions(), nullptr).status().code(),
            Status::Code::kInvalidArgument);
  // Nothing listens on port 1: opening works, using it is Unavailable.
  auto q = OpenRedisJobQueue("redis://127.0.0.1:1/0", "sopilot", QueueOptions(), nullptr);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ((*q)->Enqueue(JobKind::kIngest, "a").code(), Status::Code::kUnavailable);
  EXPECT_EQ((*q)->Ping().code(), Status::Code::kUnavailable);
}

TEST_F(RedisJobQueueTest, QueuesHaveThePrefixedNamesOperatorsSeeInRedis) {
  auto q = Open(QueueOptions(), "acme");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->backend(), "redis");
  EXPECT_EQ(q->QueueName(JobKind::kScore), "acme_score");
  ASSERT_TRUE(q->Enqueue(JobKind::kIngest, "job-1").ok());
  ASSERT_TRUE(q->Enqueue(JobKind::kScore, "job-2").ok());
  ASSERT_TRUE(q->Enqueue(JobKind::kTraining, "job-3").ok());
  EXPECT_EQ(server_.Cli("lrange acme_ingest 0 -1"), "job-1");
  EXPECT_EQ(server_.Cli("lrange acme_score 0 -1"), "job-2");
  EXPECT_EQ(server_.Cli("lrange acme_training 0 -1"), "job-3");
  EXPECT_EQ(server_.Cli("hget acme:job:job-2 state"), "ready");
}

TEST_F(RedisJobQueueTest, EnqueueLeaseAck) {
  auto q = Open();
  ASSERT_TRUE(q);
  ASSERT_TRUE(q->Ping().ok());
  ASSERT_TRUE(q->Enqueue(JobKind::kIngest, "job-1").ok());
  EXPECT_EQ(StatsOf(q.get(), JobKind::kIngest).queued, 1);
  auto job = LeaseNow(q.get(), {JobKind::kIngest}, "w1");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->job_id, "job-1");
  EXPECT_EQ(job->kind, JobKind::kIngest);
  EXPECT_EQ(job->attempt, 1);
  EXPECT_EQ(job->lease_token.size(), 32u);
  QueueStats s = StatsOf(q.get(), JobKind::kIngest);
  EXPECT_EQ(s.queued, 0);
  EXPECT_EQ(s.running, 1);
  EXPECT_FALSE(LeaseNow(q.get(), {JobKind::kIngest}, "w2"));
  ASSERT_TRUE(q->Extend(*job, 30).ok());
  ASSERT_TRUE(q->Ack(*job).ok());
  s = StatsOf(q.get(), JobKind::kIngest);
  EXPECT_EQ(s.queued + s.running + s.dead, 0);
  EXPECT_EQ(server_.Cli("exists sopilot:job:job-1"), "0");  // nothing left behind
  // A second ack, or an ack with a wrong token, is a lost lease.
  EXPECT_EQ(q->Ack(*job).code(), Status::Code::kNotFound);
}

TEST_F(RedisJobQueueTest, AckAndLeaseAcksTheDoneJobAndLeasesTheNext) {
  auto q = Open();
  ASSERT_TRUE(q);
  for (const char* id : {"a", "b"}) ASSERT_TRUE(q->Enqueue(JobKind::kScore, id).ok());
  ASSERT_TRUE(q->Enqueue(JobKind::kIngest, "i").ok());
  auto a = LeaseNow(q.get(), {JobKind::kScore}, "w");
  ASSERT_TRUE(a);
  auto b = q->AckAndLease(*a, {JobKind::kScore, JobKind::kIngest}, "w", 30);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_TRUE(b->has_value());
  EXPECT_EQ((*b)->job_id, "b");
  EXPECT_EQ(server_.Cli("exists sopilot:job:a"), "0");  // a acked
  EXPECT_EQ(q->Ack(*a).code(), Status::Code::kNotFound);
  // The first kind is empty: the next kind in order is served.
  auto i = q->AckAndLease(**b, {JobKind::kScore, JobKind::kIngest}, "w", 30);
  ASSERT_TRUE(i.ok() && i->has_value());
  EXPECT_EQ((*i)->job_id, "i");
  EXPECT_EQ((*i)->kind, JobKind::kIngest);
  EXPECT_EQ(StatsOf(q.get(), JobKind::kScore).running, 0);
  // A lost lease is not acked, and nothing is left to lease.
  LeasedJob stale = **i;
  stale.lease_token = "not-the-token";
  auto none = q->AckAndLease(stale, {JobKind::kScore, JobKind::kIngest}, "w", 30);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(StatsOf(q.get(), JobKind::kIngest).running, 1);
  ASSERT_TRUE(q->Ack(**i).ok());
}

TEST_F(RedisJobQueueTest, KindsAreServedInTheGivenOrderAndFifoWithinAKind) {
  auto q = Open();
  ASSERT_TRUE(q);
  for (const char* id : {"s1", "s2"}) ASSERT_TRUE(q->Enqueue(JobKind::kScore, id).ok());
  for (const char* id : {"i1", "i2"}) ASSERT_TRUE(q->Enqueue(JobKind::kIngest, id).ok());
  std::vector<std::string> order;
  while (auto j = LeaseNow(q.get(), {JobKind::kIngest, JobKind::kScore}, "w")) order.push_back(j->job_id);
  EXPECT_EQ(order, (std::vector<std::string>{"i1", "i2", "s1", "s2"}));
}

TEST_F(RedisJobQueueTest, EnqueueIsIdempotentWhileQueuedOrRunningAndRefusesAnotherKind) {
  auto q = Open();
  ASSERT_TRUE(q);
  ASSERT_TRUE(q->Enqueue(JobKind::kScore, "j").ok());
  ASSERT_TRUE(q->Enqueue(JobKind::kScore, "j").ok());
  EXPECT_EQ(StatsOf(q.get(), JobKind::kScore).queued, 1);
  auto job = LeaseNow(q.get(), {JobKind::kScore}, "w");
  ASSERT_TRUE(job);
  ASSERT_TRUE(q->Enqueue(JobKind::kScore, "j").ok());  // running: no-op
  EXPECT_EQ(StatsOf(q.get(), JobKind::kScore).queued, 0);
  Status other = q->Enqueue(JobKind::kIngest, "j");
  EXPECT_EQ(other.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(other.message().find("already queued as score"), std::string::npos) << other.message();
}

TEST_F(RedisJobQueueTest, LeaseWaitsUpToWaitSecAndSeesAJobEnqueuedMeanwhile) {
  auto q = Open();
  ASSERT_TRUE(q);
  auto t0 = std::chrono::steady_clock::now();
  auto r = q->Lease({JobKind::kScore}, "w", 10, 0.3);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, milliseconds(300));
  // A job enqueued while a lease waits is taken (the wait, two minutes,
  // outlasts any scheduling delay; it ends as soon as the job is there).
  std::thread producer([&] {
    std::this_thread::sleep_for(milliseconds(200));
    auto other = Open();  // another process's queue object, as the API's
    EXPECT_TRUE(other->Enqueue(JobKind::kScore, "late").ok());
  });
  r = q->Lease({JobKind::kScore}, "w", 10, 120);
  producer.join();
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->job_id, "late");
}

TEST_F(RedisJobQueueTest, FailRetriesAfterBackoffThenDiesAndCanBeRequeued) {
  auto q = Open(MinuteRetries(3));
  ASSERT_TRUE(q);
  ASSERT_TRUE(q->Enqueue(JobKind::kIngest, "j").ok());
  for (int attempt = 1; attempt <= 3; ++attempt) {
    if (attempt > 1) {
      // Not before its backoff has passed; then at once.
      EXPECT_FALSE(LeaseNow(q.get(), {JobKind::kIngest}, "w")) << "attempt " << attempt;
      TimePasses("sopilot_ingest:delayed", "j");
    }
    std::optional<LeasedJob> job = LeaseNow(q.get(), {JobKind::kIngest}, "w");
    ASSERT_TRUE(job) << "attempt " << attempt;
    EXPECT_EQ(job->attempt, attempt);
    const double before = RedisNow();
    auto retried = q->Fail(*job, "boom " + std::to_string(attempt));
    const double after = RedisNow();
    ASSERT_TRUE(retried.ok()) << retried.status().ToString();
    EXPECT_EQ(*retried, attempt < 3);
    if (attempt < 3) {
      QueueStats s = StatsOf(q.get(), JobKind::kIngest);
      EXPECT_EQ(s.queued, 1);
      EXPECT_EQ(s.retrying, 1);
      // Due one backoff after the failure, on Redis's clock.
      const double due = DueAt("sopilot_ingest:delayed", "j");
      EXPECT_GE(due, before + 60 - 0.01);
      EXPECT_LE(due, after + 60 + 0.01);
    }
  }
  QueueStats s = StatsOf(q.get(), JobKind::kIngest);
  EXPECT_EQ(s.dead, 1);
  EXPECT_EQ(s.queued, 0);
  EXPECT_EQ(server_.Cli("zrange sopilot_dead 0 -1"), "j");
  EXPECT_EQ(server_.Cli("hget sopilot:job:j last_error"), "boom 3");
  auto dead = q->DeadJobs(JobKind::kIngest, 10);
  ASSERT_TRUE(dead.ok());
  EXPECT_EQ(*dead, std::vector<std::string>{"j"});
  EXPECT_TRUE(q->DeadJobs(JobKind::kScore, 10)->empty());
  EXPECT_EQ(q->Requeue(JobKind::kScore, "j").code(), Status::Code::kNotFound);  // wrong kind
  EXPECT_EQ(q->Requeue(JobKind::kIngest, "nope").code(), Status::Code::kNotFound);
  ASSERT_TRUE(q->Requeue(JobKind::kIngest, "j").ok());
  s = StatsOf(q.get(), JobKind::kIngest);
  EXPECT_EQ(s.dead, 0);
  EXPECT_EQ(s.queued, 1);
  auto again = LeaseNow(q.get(), {JobKind::kIngest}, "w");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->attempt, 1);  // a fresh count
}

TEST_F(RedisJobQueueTest, ExpiredLeaseGoesToAnotherWorkerAndTheFirstLosesIt) {
  auto q = Open();
  ASSERT_TRUE(q);
  ASSERT_TRUE(q->Enqueue(JobKind::kScore, "a").ok());
  ASSERT_TRUE(q->Enqueue(JobKind::kScore, "b").ok());
  const double before = RedisNow();
  auto first = LeaseNow(q.get(), {JobKind::kScore}, "dying-worker", 60);
  const double after = RedisNow();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->job_id, "a");
  EXPECT_GE(DueAt("sopilot_score:leased", "a"), before + 60 - 0.01);  // the lease's end, on Redis's clock
  EXPECT_LE(DueAt("sopilot_score:leased", "a"), after + 60 + 0.01);
  EXPECT_EQ(q->RecoverExpired()->total, 0);  // not yet
  TimePasses("sopilot_score:leased", "a");
  EXPECT_EQ(q->RecoverExpired()->total, 1);
  EXPECT_EQ(server_.Cli("hget sopilot:job:a last_error"), "lease of dying-worker expired on attempt 1");
  auto second = LeaseNow(q.get(), {JobKind::kScore}, "w2");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->job_id, "a");  // a reclaimed job runs next, before b
  EXPECT_EQ(second->attempt, 2);
  EXPECT_EQ(q->Extend(*first, 30).code(), Status::Code::kNotFound);
  EXPECT_EQ(q->Ack(*first).code(), Status::Code::kNotFound);
  EXPECT_EQ(q->Fail(*first, "late").status().code(), Status::Code::kNotFound);
  ASSERT_TRUE(q->Ack(*second).ok());
}

TEST_F(RedisJobQueueTest, WaitsOldestAgeAndBusyWorkersComeFromRedisClock) {
  auto q = Open();
  ASSERT_TRUE(q);
  EXPECT_EQ(StatsOf(q.get(), JobKind::kScore).oldest_wait_sec, 0.0);
  ASSERT_TRUE(q->Enqueue(JobKind::kScore, "a").ok());
  ASSERT_TRUE(q->Enqueue(JobKind::kScore, "b").ok());
  ASSERT_TRUE(q->Enqueue(JobKind::kScore, "c").ok());
  // Redis's clock cannot be moved: wait until the oldest job has visibly
  // waited, then check that its lease reports at least that wait.
  double seen = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while ((seen = StatsOf(q.get(), JobKind::kScore).oldest_wait_sec) < 0.05 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GE(seen, 0.05);
  auto a = LeaseNow(q.get(), {JobKind::kScore}, "w1");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->job_id, "a");
  EXPECT_GE(a->waited_sec, seen - 0.001);  // milliseconds in the reply
  auto b = LeaseNow(q.get(), {JobKind::kScore}, "w1");
  auto c = LeaseNow(q.get(), {JobKind::kScore}, "w2");
  ASSERT_TRUE(b && c);
  QueueStats s = StatsOf(q.get(), JobKind::kScore);
  EXPECT_EQ(s.running, 3);
  EXPECT_EQ(s.busy_workers, 2) << "w1 holds two leases, w2 one";
  EXPECT_EQ(s.oldest_wait_sec, 0.0);
  EXPECT_EQ(StatsOf(q.get(), JobKind::kIngest).busy_workers, 0);
}

TEST_F(RedisJobQueueTest, JobThatKeepsKillingItsWorkerDiesAfterMaxAttempts) {
  auto q = Open(MinuteRetries(2));
  ASSERT_TRUE(q);
  ASSERT_TRUE(q->Enqueue(JobKind::kIngest, "poison").ok());
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(LeaseNow(q.get(), {JobKind::kIngest}, "w", 60));
    TimePasses("sopilot_ingest:leased", "poison");  // the worker died; its lease runs out
    ASSERT_EQ(q->RecoverExpired()->total, 1);
  }
  QueueStats s = StatsOf(q.get(), JobKind::kIngest);
  EXPECT_EQ(s.dead, 1);
  EXPECT_EQ(s.queued + s.running, 0);
}

TEST_F(RedisJobQueueTest, HeartbeatsCountActiveWorkersUntilTheyStopOrRunOut) {
  auto q = Open();
  ASSERT_TRUE(q);
  EXPECT_EQ(*q->ActiveWorkers(JobKind::kIngest), 0);
  ASSERT_TRUE(q->Heartbeat("host:1:0", {JobKind::kIngest, JobKind::kScore}, 60).ok());
  ASSERT_TRUE(q->Heartbeat("host:2:0", {JobKind::kTraining}, 60).ok());
  ASSERT_TRUE(q->Heartbeat("host:1:0", {JobKind::kIngest, JobKind::kScore}, 60).ok());  // renewed, not doubled
  EXPECT_EQ(*q->ActiveWorkers(JobKind::kIngest), 1);
  EXPECT_EQ(*q->ActiveWorkers(JobKind::kScore), 1);
  EXPECT_EQ(*q->ActiveWorkers(JobKind::kTraining), 1);
  TimePasses("sopilot:workers:training", "host:2:0");
  EXPECT_EQ(*q->ActiveWorkers(JobKind::kTraining), 0);  // its heartbeat ran out
  ASSERT_TRUE(q->RemoveWorker("host:1:0").ok());
  EXPECT_EQ(*q->ActiveWorkers(JobKind::kIngest), 0);
}

TEST_F(RedisJobQueueTest, QueuedLeasedAndDeadJobsSurviveARedisKill) {
  auto q = Open(MinuteRetries(1));
  ASSERT_TRUE(q);
  ASSERT_TRUE(q->Enqueue(JobKind::kIngest, "leased").ok());
  auto leased = LeaseNow(q.get(), {JobKind::kIngest}, "w", 60);
  ASSERT_TRUE(leased);
  ASSERT_TRUE(q->Enqueue(JobKind::kIngest, "doomed").ok());
  auto doomed = LeaseNow(q.get(), {JobKind::kIngest}, "w", 60);
  ASSERT_TRUE(doomed);
  ASSERT_FALSE(*q->Fail(*doomed, "bad"));
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(q->Enqueue(JobKind::kScore, "s" + std::to_string(i)).ok());
  server_.Stop(SIGKILL);  // no shutdown save: only the AOF can bring them back
  EXPECT_EQ(q->Enqueue(JobKind::kScore, "while-down").code(), Status::Code::kUnavailable);
  EXPECT_GT(errors_.load(), 0);
  ASSERT_TRUE(server_.Start()) << server_.error();
  EXPECT_EQ(StatsOf(q.get(), JobKind::kScore).queued, 20);
  EXPECT_EQ(StatsOf(q.get(), JobKind::kIngest).running, 1);
  EXPECT_EQ(StatsOf(q.get(), JobKind::kIngest).dead, 1);
  ASSERT_TRUE(q->Ack(*leased).ok());  // the lease token survived too
  std::set<std::string> got;
  while (auto j = LeaseNow(q.get(), {JobKind::kScore}, "w")) {
    got.insert(j->job_id);
    ASSERT_TRUE(q->Ack(*j).ok());
  }
  EXPECT_EQ(got.size(), 20u);
}

TEST_F(RedisJobQueueTest, EightThreadsOnTwoConnectionsLeaseEveryJobExactlyOnce) {
  auto producer = Open();
  ASSERT_TRUE(producer);
  constexpr int kJobs = 400;
  for (int i = 0; i < kJobs; ++i) ASSERT_TRUE(producer->Enqueue(JobKind::kScore, "j" + std::to_string(i)).ok());
  auto a = Open(), b = Open();
  std::mutex mu;
  std::multiset<std::string> seen;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    JobQueue* q = t % 2 ? a.get() : b.get();
    threads.emplace_back([&, q, t] {
      for (;;) {
        auto r = q->Lease({JobKind::kScore}, "w" + std::to_string(t), 30, 0);
        if (!r.ok() || !r->has_value()) return;
        ASSERT_TRUE(q->Ack(**r).ok());
        std::lock_guard<std::mutex> l(mu);
        seen.insert((*r)->job_id);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(seen.size(), static_cast<size_t>(kJobs));
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), static_cast<size_t>(kJobs));
}

}  // namespace
}  // namespace sopilot
