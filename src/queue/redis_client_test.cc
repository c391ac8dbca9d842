#include "queue/redis_client.h"

#include <signal.h>

#include <atomic>

#include <gtest/gtest.h>

#include "testing/redis_server.h"
#include "testing/temp_dir.h"

namespace sopilot {
namespace {

TEST(RedisUrlTest, ParsesTheFormsRedisPyAccepts) {
  auto u = ParseRedisUrl("redis://127.0.0.1:6379/0");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 6379);
  EXPECT_EQ(u->db, 0);
  u = ParseRedisUrl("redis://:s3cret@redis.internal:6380/2");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "redis.internal");
  EXPECT_EQ(u->port, 6380);
  EXPECT_EQ(u->password, "s3cret");
  EXPECT_EQ(u->user, "");
  EXPECT_EQ(u->db, 2);
  EXPECT_EQ(u->ToString(), "redis://:***@redis.internal:6380/2");  // never the password
  u = ParseRedisUrl("redis://worker:pw@h");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->user, "worker");
  EXPECT_EQ(u->port, 6379);
  u = ParseRedisUrl("redis://sopilot-redis");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "sopilot-redis");
  for (const char* bad : {"http://h:1/0", "rediss://h:6379/0", "unix:///tmp/r.sock", "redis://h:0/0",
                          "redis://h:70000", "redis://h:port/0", "redis://h:6379/x", "redis://h:6379/-1"}) {
    EXPECT_EQ(ParseRedisUrl(bad).status().code(), Status::Code::kInvalidArgument) << bad;
  }
}

class RedisClientTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()) << server_.error(); }
  RedisUrl Url() { return *ParseRedisUrl(server_.url()); }
  testing::TempDir dir_;
  testing::RedisServer server_{dir_.path()};
};

TEST_F(RedisClientTest, CommandsPipelinesAndErrorReplies) {
  RedisClient c(Url(), RedisClientOptions(), nullptr);
  auto r = c.Command({"SET", "k", std::string("a\0b", 3)});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->type, RedisReply::Type::kStatus);
  r = c.Command({"GET", "k"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->str, std::string("a\0b", 3));  // binary safe
  auto p = c.Pipeline({{"RPUSH", "l", "1", "2"}, {"LRANGE", "l", "0", "-1"}, {"GET", "missing"}});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)[0].integer, 2);
  ASSERT_EQ((*p)[1].elements.size(), 2u);
  EXPECT_EQ((*p)[1].elements[1].str, "2");
  EXPECT_TRUE((*p)[2].is_nil());
  r = c.Command({"INCR", "l"});  // WRONGTYPE: an answer, not a failure
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->is_error());
  EXPECT_NE(r->str.find("WRONGTYPE"), std::string::npos);
}

TEST_F(RedisClientTest, EvalLoadsScriptsAndReloadsThemAfterAFlush) {
  RedisClient c(Url(), RedisClientOptions(), nullptr);
  const RedisScript script("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  auto r = c.Eval(script, {"n"}, {"5"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->integer, 5);
  ASSERT_EQ(server_.Cli("script flush"), "OK");  // as after a Redis restart
  r = c.Eval(script, {"n"}, {"2"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->integer, 7);
}

TEST_F(RedisClientTest, OutageIsUnavailableCountedAndOverOnceRedisIsBack) {
  std::atomic<int> errors{0};
  RedisClient c(Url(), RedisClientOptions(), [&](const std::string&) { ++errors; });
  ASSERT_TRUE(c.Command({"SET", "k", "v"}).ok());
  EXPECT_EQ(errors, 0);
  server_.Stop(SIGKILL);
  for (int i = 0; i < 3; ++i) {
    auto r = c.Command({"GET", "k"});
    EXPECT_EQ(r.status().code(), Status::Code::kUnavailable);
    EXPECT_NE(r.status().message().find("redis 127.0.0.1:"), std::string::npos) << r.status().message();
  }
  EXPECT_EQ(errors, 3);  // the pooled connection's failure, then two refused connects
  ASSERT_TRUE(server_.Start()) << server_.error();
  auto r = c.Command({"GET", "k"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->str, "v");  // the AOF kept it through SIGKILL
  EXPECT_EQ(errors, 3);
}

TEST(RedisClientNoServerTest, WrongPasswordIsAConfigurationError) {
  testing::TempDir dir;
  testing::RedisServer server(dir.path());
  ASSERT_TRUE(server.Start()) << server.error();
  ASSERT_EQ(server.Cli("config set requirepass right"), "OK");
  auto url = ParseRedisUrl("redis://:wrong@127.0.0.1:" + std::to_string(server.port()) + "/0");
  ASSERT_TRUE(url.ok());
  RedisClient c(*url, RedisClientOptions(), nullptr);
  auto r = c.Command({"PING"});
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << r.status().ToString();
  url->password = "right";
  RedisClient good(*url, RedisClientOptions(), nullptr);
  r = good.Command({"PING"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->str, "PONG");
}

}  // namespace
}  // namespace sopilot
