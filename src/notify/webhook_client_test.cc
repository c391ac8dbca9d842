// The webhook URL check and the POST against a real receiver on loopback.
#include "notify/webhook_client.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace sopilot {
namespace {

TEST(WebhookUrlTest, AcceptsHttpUrls) {
  auto u = ParseWebhookUrl("http://hooks.example.com/sopilot/events?x=1");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->host, "hooks.example.com");
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->target, "/sopilot/events?x=1");
  EXPECT_EQ(u->host_header, "hooks.example.com");
  u = ParseWebhookUrl("HTTP://127.0.0.1:8080");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->target, "/");
  EXPECT_EQ(u->host_header, "127.0.0.1:8080");
  u = ParseWebhookUrl("http://[::1]:9000/h");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->host_header, "[::1]:9000");
}

TEST(WebhookUrlTest, RefusesWhatIsNotAPlainHttpUrl) {
  for (const char* bad : {"", "https://example.com/", "ftp://example.com/", "example.com/hook", "http://",
                          "http:///path", "http://user:pw@example.com/", "http://example.com/a#frag",
                          "http://exa mple.com/", "http://example.com/\n", "http://example.com:0/",
                          "http://example.com:65536/", "http://example.com:80x/", "http://example.com:/",
                          "http://exa$mple.com/", "http://[::1/", "http://..example/", "javascript:alert(1)"}) {
    auto u = ParseWebhookUrl(bad);
    EXPECT_FALSE(u.ok()) << bad;
    if (!u.ok()) {
      EXPECT_EQ(u.status().code(), Status::Code::kInvalidArgument) << bad;
    }
  }
  EXPECT_NE(ParseWebhookUrl("https://x/").status().message().find("https is not supported"), std::string::npos);
  EXPECT_FALSE(ParseWebhookUrl("http://x/" + std::string(3000, 'a')).ok());
}

class Receiver {
 public:
  explicit Receiver(int status) {
    server_.Post("/hook", [this, status](const httplib::Request& req, httplib::Response& res) {
      body_ = req.body;
      event_ = req.get_header_value("X-SOPilot-Event");
      res.status = status;
      res.set_content("{}", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  httplib::Server server_;
  std::string body_, event_;
  int port_ = 0;
  std::thread thread_;
};

TEST(PostWebhookTest, PostsTheBodyAndReturnsTheStatus) {
  for (int status : {200, 204, 500}) {
    Receiver r(status);
    auto url = ParseWebhookUrl("http://127.0.0.1:" + std::to_string(r.port()) + "/hook");
    ASSERT_TRUE(url.ok());
    auto res = PostWebhook(*url, {{"X-SOPilot-Event", "score.completed"}}, R"({"a":1})", 60, [] { return false; });
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    EXPECT_EQ(res->http_status, status);
    EXPECT_EQ(r.body_, R"({"a":1})");
    EXPECT_EQ(r.event_, "score.completed");
  }
}

TEST(PostWebhookTest, ARefusedConnectionIsUnavailable) {
  int port;
  {
    Receiver gone(200);
    port = gone.port();
  }
  auto url = ParseWebhookUrl("http://127.0.0.1:" + std::to_string(port) + "/hook");
  auto res = PostWebhook(*url, {}, "{}", 60, [] { return false; });
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(res.status().message().find("connect"), std::string::npos) << res.status().message();
}

TEST(PostWebhookTest, AReceiverThatNeverAnswersTimesOutOrIsCancelled) {
  // A listening socket that never accepts: the connection completes (the
  // kernel's backlog) and the answer never comes.
  httplib::Server silent;
  std::atomic<bool> release{false};
  silent.Post("/hook", [&](const httplib::Request&, httplib::Response& res) {
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    res.status = 200;
  });
  int port = silent.bind_to_any_port("127.0.0.1");
  std::thread t([&] { silent.listen_after_bind(); });
  while (!silent.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto url = ParseWebhookUrl("http://127.0.0.1:" + std::to_string(port) + "/hook");
  // A short timeout: the receive step times out.
  auto res = PostWebhook(*url, {}, "{}", 0.3, [] { return false; });
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.status().message().find("receive"), std::string::npos) << res.status().message();
  // A long timeout, cancelled by the caller.
  std::atomic<bool> cancel{false};
  std::thread canceller([&] { cancel = true; });
  res = PostWebhook(*url, {}, "{}", 600, [&] { return cancel.load(); });
  canceller.join();
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.status().message().find("cancelled"), std::string::npos) << res.status().message();
  release = true;
  silent.stop();
  t.join();
}

}  // namespace
}  // namespace sopilot
