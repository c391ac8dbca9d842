#include "queue/redis_job_replies.h"

#include <gtest/gtest.h>

#include <string>

#include "queue/redis_client.h"

namespace sopilot {
namespace {

RedisReply One(const std::string& resp) {
  auto r = ParseRedisReplies(resp);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r.ok() ? r->size() : 0, 1u) << resp;
  return r.ok() && r->size() == 1 ? (*r)[0] : RedisReply();
}

TEST(RedisRepliesTest, ParsesEveryReplyType) {
  auto r = ParseRedisReplies("+OK\r\n-ERR no\r\n:-7\r\n$3\r\nabc\r\n$-1\r\n*2\r\n:1\r\n*1\r\n$0\r\n\r\n$5\r\nab");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 6u) << "the incomplete last reply is left out";
  EXPECT_EQ((*r)[0].type, RedisReply::Type::kStatus);
  EXPECT_EQ((*r)[1].str, "ERR no");
  EXPECT_EQ((*r)[2].integer, -7);
  EXPECT_EQ((*r)[3].str, "abc");
  EXPECT_TRUE((*r)[4].is_nil());
  ASSERT_EQ((*r)[5].elements.size(), 2u);
  EXPECT_EQ((*r)[5].elements[1].elements[0].str, "");
  EXPECT_EQ(ParseRedisReplies("?what\r\n").status().code(), Status::Code::kInvalidArgument);
}

TEST(RedisRepliesTest, LeaseReplies) {
  auto none = ParseLeaseReply(One("$-1\r\n"), JobKind::kScore, "t");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto job = ParseLeaseReply(One("*3\r\n$2\r\nj1\r\n:2\r\n:1500\r\n"), JobKind::kScore, "t");
  ASSERT_TRUE(job.ok() && job->has_value());
  EXPECT_EQ((*job)->job_id, "j1");
  EXPECT_EQ((*job)->attempt, 2);
  EXPECT_EQ((*job)->lease_token, "t");
  EXPECT_DOUBLE_EQ((*job)->waited_sec, 1.5);
  // A clock that stepped back between ready and lease is no wait, not a
  // negative one.
  auto stepped = ParseLeaseReply(One("*3\r\n$2\r\nj1\r\n:1\r\n:-20\r\n"), JobKind::kScore, "t");
  ASSERT_TRUE(stepped.ok() && stepped->has_value());
  EXPECT_EQ((*stepped)->waited_sec, 0.0);
  // Shapes a server of ours never sends are errors, never a job with an
  // empty id or a made-up attempt.
  for (const char* bad : {"*2\r\n$0\r\n\r\n:1\r\n", "*2\r\n$2\r\nj1\r\n$1\r\n1\r\n", "*2\r\n$2\r\nj1\r\n:0\r\n",
                          "*2\r\n$2\r\nj1\r\n:4294967296\r\n", "*1\r\n$2\r\nj1\r\n", ":1\r\n", "*2\r\n*0\r\n:1\r\n",
                          "*2\r\n$2\r\nj1\r\n:1\r\n", "*3\r\n$2\r\nj1\r\n:1\r\n$1\r\n5\r\n"}) {
    EXPECT_EQ(ParseLeaseReply(One(bad), JobKind::kScore, "t").status().code(), Status::Code::kInternal) << bad;
  }
}

TEST(RedisRepliesTest, StatsAndErrors) {
  auto s = ParseStatsReplies(*ParseRedisReplies(":3\r\n:1\r\n:2\r\n$1\r\n4\r\n"));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->queued, 4);
  EXPECT_EQ(s->retrying, 1);
  EXPECT_EQ(s->running, 2);
  EXPECT_EQ(s->dead, 4);
  EXPECT_EQ(ParseStatsReplies(*ParseRedisReplies(":0\r\n:0\r\n:0\r\n$2\r\n-1\r\n"))->dead, 0);
  EXPECT_FALSE(ParseStatsReplies(*ParseRedisReplies(":0\r\n:0\r\n:0\r\n$1\r\nx\r\n")).ok());
  EXPECT_FALSE(ParseStatsReplies(*ParseRedisReplies(":9223372036854775807\r\n:1\r\n:0\r\n$-1\r\n")).ok())
      << "queued would overflow";
  EXPECT_FALSE(ParseStatsReplies(*ParseRedisReplies(":0\r\n:0\r\n")).ok());
  EXPECT_EQ(CheckRedisReply(One("-WRONGKIND job 1 is score\r\n"), "x").status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(CheckRedisReply(One("-LOADING wait\r\n"), "x").status().code(), Status::Code::kUnavailable);
  EXPECT_EQ(CheckRedisReply(One("-ERR\r\n"), "x").status().code(), Status::Code::kInternal);
  EXPECT_EQ(ParseIntegerReply(One("$1\r\n1\r\n"), "ack").status().code(), Status::Code::kInternal);
  auto ids = ParseDeadJobsReply(One("*2\r\n$1\r\na\r\n$1\r\nb\r\n"));
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(ParseDeadJobsReply(One("*1\r\n:1\r\n")).ok());
}

TEST(RedisRepliesTest, QueueAgeReplies) {
  QueueStats s;
  ASSERT_TRUE(ParseQueueAgeReply(One("*2\r\n:2500\r\n:3\r\n"), &s).ok());
  EXPECT_DOUBLE_EQ(s.oldest_wait_sec, 2.5);
  EXPECT_EQ(s.busy_workers, 3);
  for (const char* bad : {"*1\r\n:1\r\n", "*2\r\n$1\r\n1\r\n:1\r\n", ":1\r\n", "$-1\r\n"}) {
    EXPECT_EQ(ParseQueueAgeReply(One(bad), &s).code(), Status::Code::kInternal) << bad;
  }
}

}  // namespace
}  // namespace sopilot
