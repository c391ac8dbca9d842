// HttpServer against real sockets on loopback, with a tiny route table:
// clients that send too much, too slowly, too many at once, or ask for
// ranges. Every wait is for a state (a response, a closed connection, a
// count of open connections), with a generous deadline; nothing asserts
// how long anything took.
#include "http/http_server.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <regex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "testing/raw_http.h"
#include "testing/temp_dir.h"

namespace sopilot {
namespace {

using testing::RawConnection;
using testing::RawResponse;

constexpr int64_t kUploadLimit = 1 << 20;

class HttpServerTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (server_) server_->Stop();
  }

  void Start(HttpServerOptions options = {}) {
    file_ = dir_.file("file.bin");
    std::ofstream out(file_, std::ios::binary);
    for (int i = 0; i < 250000; ++i) out.put(static_cast<char>(i * 7 % 251));
    out.close();
    file_bytes_ = testing_bytes();
    server_ = std::make_unique<HttpServer>(options, [this](const HttpRequest& r) { return Route(r); });
    auto port = server_->Bind("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    port_ = *port;
    server_->Start();
  }

  std::string testing_bytes() {
    std::ifstream in(file_, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  HttpDispatch Route(const HttpRequest& r) {
    HttpDispatch d;
    if (r.method == "GET" && r.path == "/health") {
      d.route = "/health";
      d.handler = [](HttpRequest&, HttpResponse& res) { res.SetBody(R"({"status":"ok"})", "application/json"); };
    } else if (r.method == "GET" && r.path == "/file") {
      d.handler = [this](HttpRequest&, HttpResponse& res) {
        res.content_type = "application/octet-stream";
        res.file_path = file_;
      };
    } else if (r.method == "GET" && r.path == "/block") {
      d.handler = [this](HttpRequest&, HttpResponse& res) {
        std::unique_lock<std::mutex> lock(block_mu_);
        ++blocked_;
        block_cv_.notify_all();
        block_cv_.wait(lock, [this] { return released_; });
        res.SetBody("released", "text/plain");
      };
    } else if (r.method == "GET" && r.path == "/throw") {
      d.handler = [](HttpRequest&, HttpResponse&) { throw std::runtime_error("boom"); };
    } else if (r.method == "POST" && r.path == "/echo") {
      if (r.header("Authorization") != "Bearer ok") {
        d.answer = JsonErrorResponse(401, "authentication required");
        return d;
      }
      d.handler = [](HttpRequest& req, HttpResponse& res) {
        res.SetBody("got " + std::to_string(req.body.size()), "text/plain");
      };
    } else if (r.method == "POST" && r.path == "/upload") {
      d.stream_body = true;
      d.max_body_bytes = kUploadLimit;
      d.handler = [this](HttpRequest& req, HttpResponse& res) {
        size_t got = 0;
        in_upload_ = true;
        Status st = req.body_reader->Read([&](std::string_view s) {
          got += s.size();
          return true;
        });
        res.status = st.ok() ? 200 : 400;
        res.SetBody(st.ok() ? "streamed " + std::to_string(got) : st.message(), "text/plain");
      };
    } else {
      d.answer = JsonErrorResponse(404, "no such route: " + r.method + " " + r.path);
      return d;
    }
    d.done = [this](int status) { last_status_ = status; };
    return d;
  }

  std::string Get(const std::string& path) { return "GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n"; }

  testing::TempDir dir_;
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
  std::string file_, file_bytes_;
  std::atomic<int> last_status_{0};
  std::atomic<bool> in_upload_{false};
  std::mutex block_mu_;
  std::condition_variable block_cv_;
  int blocked_ = 0;
  bool released_ = false;
};

// Polls `done` until it holds or a minute passes.
bool WaitUntil(const std::function<bool()>& done, double seconds = 60) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

TEST_F(HttpServerTest, AnswersBeforeReadingABodyItRefuses) {
  Start();
  // 800 MB announced, nothing of it sent: each answer must come before the
  // body (a server that read it first would never answer here).
  struct Case {
    std::string head;
    int status;
  };
  const std::string big = "Content-Length: 800000000\r\n";
  std::vector<Case> cases = {
      {"POST /echo HTTP/1.1\r\nHost: t\r\n" + big + "\r\n", 401},
      {"POST /nowhere HTTP/1.1\r\nHost: t\r\n" + big + "\r\n", 404},
      {"POST /echo HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ok\r\n" + big + "\r\n", 413},
      {"POST /echo HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ok\r\nContent-Length: 70000\r\n\r\n", 413},
      {"POST /upload HTTP/1.1\r\nHost: t\r\n" + big + "\r\n", 413},
  };
  for (const Case& c : cases) {
    RawConnection conn(port_);
    ASSERT_TRUE(conn.connected());
    ASSERT_TRUE(conn.Send(c.head));
    RawResponse r = conn.Read();
    ASSERT_TRUE(r.ok) << c.head;
    EXPECT_EQ(r.status, c.status) << c.head;
    EXPECT_EQ(r.header("connection"), "close") << c.head << ": unread bytes must not be parsed as a request";
    EXPECT_EQ(r.header("content-type"), "application/json");
    // What the client sends after the answer is discarded, then the server closes.
    (void)conn.Send(std::string(1 << 20, 'x'));  // may fail once the server closed: fine
    EXPECT_TRUE(conn.WaitClosed());
  }
  // A refused request without a body keeps its connection.
  RawConnection keep(port_);
  ASSERT_TRUE(keep.Send("POST /nowhere HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n" + Get("/health")));
  RawResponse first = keep.Read();
  EXPECT_EQ(first.status, 404);
  EXPECT_NE(first.body.find("no such route"), std::string::npos);
  EXPECT_EQ(keep.Read().status, 200);
}

TEST_F(HttpServerTest, ChunkedBodiesAreBoundedToo) {
  Start();
  // A chunked body growing past the route's limit: 413, and the connection closes.
  RawConnection conn(port_);
  ASSERT_TRUE(conn.Send("POST /echo HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ok\r\nTransfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk = "4000\r\n" + std::string(0x4000, 'c') + "\r\n";
  for (int i = 0; i < 5; ++i) (void)conn.Send(chunk);  // 80 KiB, past 64 KiB
  RawResponse r = conn.Read();
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(conn.WaitClosed());
  // The same within the limit is read whole.
  RawConnection ok(port_);
  ASSERT_TRUE(ok.Send("POST /echo HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ok\r\nTransfer-Encoding: chunked\r\n\r\n" +
                      chunk + chunk + "0\r\n\r\n"));
  r = ok.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "got 32768");
  // A streamed upload within its limit, in many chunks, and past it.
  RawConnection up(port_);
  std::string body = "POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 32; ++i) body += chunk;
  ASSERT_TRUE(up.Send(body + "0\r\n\r\n"));
  r = up.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "streamed " + std::to_string(32 * 0x4000));
  RawConnection over(port_);
  ASSERT_TRUE(over.Send("POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"));
  for (int i = 0; i < 65; ++i) (void)over.Send(chunk);  // 1 MiB + 16 KiB
  r = over.Read();
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(last_status_, 413) << "the handler's answer is replaced, and counted, as 413";
}

TEST_F(HttpServerTest, AnOverlongRequestLineOrHeaderIsRefusedWithBoundedMemory) {
  Start();
  const bool peak_known = testing::ResetPeakResident();  // else the RSS afterwards stands for the peak
  const int64_t before = testing::ResidentBytes();
  for (std::string start : {std::string("GET /"), std::string("GET /health HTTP/1.1\r\nX-Long: ")}) {
    RawConnection conn(port_);
    ASSERT_TRUE(conn.Send(start + std::string(64 << 10, 'a')));
    RawResponse r = conn.Read();  // answered long before a '\n' comes
    ASSERT_TRUE(r.ok) << start;
    EXPECT_EQ(r.status, 431) << start;
    // A megabyte more without a line end changes nothing.
    (void)conn.Send(std::string(1 << 20, 'a'));
    EXPECT_TRUE(conn.WaitClosed());
  }
  const int64_t peak = peak_known ? testing::PeakResidentBytes() : testing::ResidentBytes();
  EXPECT_LT(peak - before, int64_t{32} << 20) << "the server kept the line";
  // Malformed: 400, and the server still serves.
  RawConnection bad(port_);
  ASSERT_TRUE(bad.Send("NOT A REQUEST\r\n\r\n"));
  RawResponse r = bad.Read();
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(bad.WaitClosed());
  RawConnection good(port_);
  ASSERT_TRUE(good.Send(Get("/health")));
  EXPECT_EQ(good.Read().status, 200);
}

TEST_F(HttpServerTest, SlowClientsHoldNoThreadAndAreClosedAtTheHeaderDeadline) {
  // Few handler threads and no header deadline to speak of: 300 clients
  // that never finish their headers must not keep /health from answering.
  HttpServerOptions options;
  options.handler_threads = 4;
  options.header_timeout_sec = 3600;
  options.max_connections_per_client = 1000;
  Start(options);
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 300; ++i) {
    slow.push_back(std::make_unique<RawConnection>(port_));
    ASSERT_TRUE(slow.back()->connected()) << i;
    ASSERT_TRUE(slow.back()->Send("GET /health HTTP/1.1\r\nHost: t\r\nX-Slow: a"));
  }
  ASSERT_TRUE(WaitUntil([&] { return server_->open_connections() >= 300; })) << server_->open_connections();
  RawConnection probe(port_);
  ASSERT_TRUE(probe.Send(Get("/health")));
  RawResponse r = probe.Read();
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.status, 200);
  EXPECT_GE(server_->open_connections(), 300) << "the slow clients were still connected";
  slow.clear();
  server_->Stop();

  // With a one-second deadline for the whole header section, the server
  // closes each of them: however slowly they trickle bytes, they end.
  options.header_timeout_sec = 1;
  Start(options);
  for (int i = 0; i < 300; ++i) {
    slow.push_back(std::make_unique<RawConnection>(port_));
    ASSERT_TRUE(slow.back()->Send("GET /health HTTP/1.1\r\nX-Slow: a"));
  }
  for (auto& c : slow) EXPECT_TRUE(c->WaitClosed()) << "a connection outlived the header deadline";
  EXPECT_TRUE(WaitUntil([&] { return server_->open_connections() == 0; }));
  RawConnection after(port_);
  ASSERT_TRUE(after.Send(Get("/health")));
  EXPECT_EQ(after.Read().status, 200);
}

TEST_F(HttpServerTest, ConnectionsAreCappedPerClientAndInAll) {
  HttpServerOptions options;
  options.max_connections = 5;
  options.max_connections_per_client = 3;
  Start(options);
  // Loopback has other addresses: 127.0.0.2 and .3 are two other clients.
  std::vector<std::unique_ptr<RawConnection>> a, b;
  for (int i = 0; i < 3; ++i) {
    a.push_back(std::make_unique<RawConnection>(port_, "127.0.0.2"));
    if (!a.back()->connected()) GTEST_SKIP() << "cannot connect from 127.0.0.2";
  }
  ASSERT_TRUE(WaitUntil([&] { return server_->open_connections() == 3; }));
  auto refused = [&](const std::string& from) {
    RawConnection c(port_, from);
    if (!c.Send(Get("/health"))) return true;
    RawResponse r = c.Read();
    if (!r.ok) return true;  // closed without an answer
    EXPECT_NE(r.body.find("too many connections"), std::string::npos) << r.body;
    return r.status == 503;
  };
  EXPECT_TRUE(refused("127.0.0.2")) << "a fourth connection from one client";
  for (int i = 0; i < 2; ++i) b.push_back(std::make_unique<RawConnection>(port_, "127.0.0.3"));
  ASSERT_TRUE(WaitUntil([&] { return server_->open_connections() == 5; }));
  for (auto& c : b) {  // below the caps everything works
    ASSERT_TRUE(c->Send(Get("/health")));
    EXPECT_EQ(c->Read().status, 200);
  }
  EXPECT_TRUE(refused("127.0.0.3")) << "past the global cap, though under the client's";
  EXPECT_TRUE(refused("127.0.0.4")) << "past the global cap";
  a.pop_back();
  ASSERT_TRUE(WaitUntil([&] { return server_->open_connections() == 4; }));
  RawConnection now(port_, "127.0.0.4");
  ASSERT_TRUE(now.Send(Get("/health")));
  EXPECT_EQ(now.Read().status, 200);
}

TEST_F(HttpServerTest, FilesHonourOneRangeAndNeverMore) {
  Start();
  httplib::Client c("127.0.0.1", port_);
  auto full = c.Get("/file");
  ASSERT_TRUE(full);
  EXPECT_EQ(full->status, 200);
  EXPECT_EQ(full->body, file_bytes_);
  EXPECT_EQ(full->get_header_value("Accept-Ranges"), "bytes");

  auto one = c.Get("/file", {{"Range", "bytes=100-199"}});
  EXPECT_EQ(one->status, 206);
  EXPECT_EQ(one->body, file_bytes_.substr(100, 100));
  EXPECT_EQ(one->get_header_value("Content-Range"), "bytes 100-199/250000");
  auto open = c.Get("/file", {{"Range", "bytes=249990-"}});
  EXPECT_EQ(open->status, 206);
  EXPECT_EQ(open->body, file_bytes_.substr(249990));
  auto suffix = c.Get("/file", {{"Range", "bytes=-10"}});
  EXPECT_EQ(suffix->status, 206);
  EXPECT_EQ(suffix->body, file_bytes_.substr(250000 - 10));
  EXPECT_EQ(suffix->get_header_value("Content-Range"), "bytes 249990-249999/250000");
  auto past_end = c.Get("/file", {{"Range", "bytes=249000-999999"}});
  EXPECT_EQ(past_end->status, 206);
  EXPECT_EQ(past_end->body, file_bytes_.substr(249000));

  auto unsatisfiable = c.Get("/file", {{"Range", "bytes=999999999-"}});
  EXPECT_EQ(unsatisfiable->status, 416);
  EXPECT_EQ(unsatisfiable->get_header_value("Content-Range"), "bytes */250000");
  EXPECT_EQ(last_status_, 416);

  // 800 ranges in one header: the whole file once, not 800 pieces of it.
  std::string many = "bytes=0-249999";
  for (int i = 1; i < 800; ++i) many += ",0-249999";
  RawConnection raw(port_);
  ASSERT_TRUE(raw.Send("GET /file HTTP/1.1\r\nHost: t\r\nRange: " + many + "\r\n\r\n"));
  RawResponse r = raw.Read();
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.status, 200);
  EXPECT_LE(r.body.size(), file_bytes_.size());
  EXPECT_EQ(r.header("content-length"), "250000");

  for (const char* malformed : {"bytes=abc", "bytes=5-1", "lines=0-1", "bytes=--3"}) {
    auto m = c.Get("/file", {{"Range", malformed}});
    EXPECT_EQ(m->status, 200) << malformed;
    EXPECT_EQ(m->body.size(), file_bytes_.size()) << malformed;
  }
}

TEST(ByteRangeTest, ParsesOneRange) {
  using K = ByteRange::Kind;
  EXPECT_EQ(ParseByteRange("", 10).kind, K::kNone);
  ByteRange r = ParseByteRange("bytes=2-4", 10);
  EXPECT_EQ(r.kind, K::kRange);
  EXPECT_EQ(r.first, 2u);
  EXPECT_EQ(r.last, 4u);
  r = ParseByteRange("bytes=-3", 10);
  EXPECT_EQ(r.first, 7u);
  EXPECT_EQ(r.last, 9u);
  r = ParseByteRange("bytes=-30", 10);
  EXPECT_EQ(r.first, 0u);
  EXPECT_EQ(ParseByteRange("bytes=10-", 10).kind, K::kUnsatisfiable);
  EXPECT_EQ(ParseByteRange("bytes=-0", 10).kind, K::kUnsatisfiable);
  EXPECT_EQ(ParseByteRange("bytes=0-", 0).kind, K::kUnsatisfiable);
  EXPECT_EQ(ParseByteRange("bytes=0-1,3-4", 10).kind, K::kNone);
  EXPECT_EQ(ParseByteRange("bytes=99999999999999999999-", 10).kind, K::kNone);
}

TEST_F(HttpServerTest, KeepAlivePipeliningAndNoDelay) {
  Start();
  RawConnection conn(port_);
  ASSERT_TRUE(conn.Send(Get("/health")));
  RawResponse first = conn.Read();
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.header("connection"), "");
  ASSERT_TRUE(conn.Send(Get("/health")));
  EXPECT_EQ(conn.Read().status, 200) << "a second request on the same connection";
  // Two requests in one write: two answers, in order.
  ASSERT_TRUE(conn.Send(Get("/nowhere") + Get("/health")));
  EXPECT_EQ(conn.Read().status, 404);
  EXPECT_EQ(conn.Read().status, 200);

  // The server's side of this connection (local port = the server's) has
  // TCP_NODELAY: small answers are not held back by Nagle's algorithm.
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    int fd = std::atoi(entry.path().filename().c_str());
    sockaddr_in local{};
    socklen_t len = sizeof local;
    int listening = 0;
    socklen_t llen = sizeof listening;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0 || local.sin_family != AF_INET) continue;
    if (ntohs(local.sin_port) != port_) continue;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &llen) != 0 || listening) continue;
    int nodelay = 0;
    socklen_t nlen = sizeof nodelay;
    ASSERT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &nlen), 0);
    EXPECT_NE(nodelay, 0) << "accepted socket " << fd;
    ++checked;
  }
  EXPECT_GE(checked, 1);

  // HTTP/1.0 and Connection: close end the connection after the answer.
  RawConnection once(port_);
  ASSERT_TRUE(once.Send("GET /health HTTP/1.0\r\n\r\n"));
  EXPECT_EQ(once.Read().status, 200);
  EXPECT_TRUE(once.WaitClosed());
}

TEST_F(HttpServerTest, AThrowingHandlerIsAnswered500AndTheServerGoesOn) {
  Start();
  httplib::Client c("127.0.0.1", port_);
  auto r = c.Get("/throw");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_NE(r->body.find("internal error: boom"), std::string::npos);
  EXPECT_EQ(last_status_, 500);
  EXPECT_EQ(c.Get("/health")->status, 200);
  // Expect: 100-continue is answered once the body may come.
  RawConnection conn(port_);
  ASSERT_TRUE(conn.Send("POST /echo HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ok\r\nContent-Length: 5\r\n"
                        "Expect: 100-continue\r\n\r\n"));
  EXPECT_EQ(conn.Read().status, 100);
  ASSERT_TRUE(conn.Send("hello"));
  RawResponse echo = conn.Read();
  EXPECT_EQ(echo.status, 200);
  EXPECT_EQ(echo.body, "got 5");
}

TEST_F(HttpServerTest, HandlersThatBlockDoNotStarveTheOthers) {
  // More blocked handlers than the pool runs at once on these cores: the
  // pool wakes further threads for queued work once nothing progresses, up
  // to handler_threads, so every blocked request gets a thread and /health
  // still answers.
  HttpServerOptions options;
  options.handler_threads = 24;
  Start(options);
  std::vector<std::unique_ptr<RawConnection>> blocked;
  for (int i = 0; i < 12; ++i) {
    blocked.push_back(std::make_unique<RawConnection>(port_));
    ASSERT_TRUE(blocked.back()->Send(Get("/block")));
  }
  {
    std::unique_lock<std::mutex> lock(block_mu_);
    EXPECT_TRUE(block_cv_.wait_for(lock, std::chrono::seconds(60), [this] { return blocked_ == 12; })) << blocked_;
  }
  RawConnection probe(port_);
  ASSERT_TRUE(probe.Send(Get("/health")));
  EXPECT_EQ(probe.Read().status, 200);
  {
    std::lock_guard<std::mutex> lock(block_mu_);
    released_ = true;
  }
  block_cv_.notify_all();
  for (auto& c : blocked) EXPECT_EQ(c->Read().body, "released");
}

TEST_F(HttpServerTest, StopEndsAHandlerWaitingForABody) {
  Start();
  RawConnection conn(port_);
  ASSERT_TRUE(conn.Send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\nsome"));
  ASSERT_TRUE(WaitUntil([&] { return in_upload_.load(); }));
  server_->Stop();  // returns: the handler's read ends with the shut-down socket
  EXPECT_TRUE(conn.WaitClosed());
}

TEST(RequestIdTest, EchoesAUsableIdAndMakesOneOtherwise) {
  EXPECT_EQ(ChooseRequestId("abc-123_x.y:z"), "abc-123_x.y:z");
  const std::regex fresh("[0-9a-f]{32}");
  for (const std::string& bad : {std::string(), std::string("has space"), std::string("new\nline"),
                                std::string("{\"json\":1}"), std::string(129, 'a')}) {
    const std::string id = ChooseRequestId(bad);
    EXPECT_TRUE(std::regex_match(id, fresh)) << id;
  }
  EXPECT_NE(ChooseRequestId(""), ChooseRequestId(""));
}

// One log line per request, once its answer is written: id, method, route,
// path (without the query), status, duration; credentials never.
TEST_F(HttpServerTest, LogsEachRequestWithItsIdAndNeverItsCredentials) {
  LogCapture capture({LogLevel::kInfo, LogFormat::kJson});
  Start();
  RawConnection conn(port_);
  ASSERT_TRUE(conn.Send("GET /health?token=querysecret HTTP/1.1\r\nHost: t\r\nX-Request-Id: r-1\r\n"
                        "Authorization: Bearer headersecret\r\n\r\n"));
  RawResponse res = conn.Read();
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.header("x-request-id"), "r-1");
  RawConnection refused(port_);
  ASSERT_TRUE(refused.Send("GET /health HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(20000, 'x') + "\r\n\r\n"));
  EXPECT_EQ(refused.Read().status, 431);
  nlohmann::json request, refusal;
  ASSERT_TRUE(WaitUntil([&] {
    for (const std::string& line : capture.Lines()) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded()) continue;
      if (j["msg"] == "request") request = j;
      if (j["msg"] == "request refused") refusal = j;
    }
    return !request.is_null() && !refusal.is_null();
  }));
  EXPECT_EQ(request["request_id"], "r-1");
  EXPECT_EQ(request["method"], "GET");
  EXPECT_EQ(request["route"], "/health");
  EXPECT_EQ(request["path"], "/health");
  EXPECT_EQ(request["status"], 200);
  EXPECT_TRUE(request["duration_ms"].is_number());
  EXPECT_EQ(request["client"], "127.0.0.1");
  EXPECT_EQ(refusal["status"], 431);
  EXPECT_EQ(refusal["level"], "warn");
  for (const std::string& line : capture.Lines()) {
    EXPECT_EQ(line.find("secret"), std::string::npos) << line;
  }
}

}  // namespace
}  // namespace sopilot
