#include "http/http_server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <limits>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <nlohmann/json.hpp>

#include "base/json_text.h"
#include "base/log.h"
#include "base/text.h"
#include "http/header_text.h"

namespace sopilot {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

std::string ChooseRequestId(std::string_view client_value) {
  bool usable = !client_value.empty() && client_value.size() <= 128;
  for (char c : client_value) {
    usable = usable && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == ':' || c == '-');
  }
  if (usable) return std::string(client_value);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  uint64_t bits = 0;
  for (size_t i = 0; i < id.size(); ++i) {
    if (i % 16 == 0) bits = rng();
    id[i] = kHex[bits & 15];
    bits >>= 4;
  }
  return id;
}

namespace {

// The request log's line (see http_server.h).
void LogRequest(const HttpRequest& req, const std::string& route, bool quiet, int status, Clock::time_point since) {
  const LogLevel level = status >= 500 ? LogLevel::kError : quiet ? LogLevel::kDebug : LogLevel::kInfo;
  if (!LogEnabled(level)) return;
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - since).count();
  std::string path = req.path.empty() ? req.target.substr(0, req.target.find('?')) : req.path;
  if (path.size() > 256) path = path.substr(0, 256) + "...";
  Log(level, "request",
      {{"request_id", req.request_id},
       {"method", req.method},
       {"route", route},
       {"path", path},
       {"status", status},
       {"duration_ms", std::round(ms * 10) / 10},
       {"client", req.peer}});
}

}  // namespace

bool CaseInsensitiveLess::operator()(const std::string& a, const std::string& b) const {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) < std::tolower(static_cast<unsigned char>(y));
  });
}

bool HttpRequest::has_query(const std::string& name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return true;
  }
  return false;
}

std::string HttpRequest::query_value(const std::string& name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return v;
  }
  return "";
}

std::string HttpRequest::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

HttpResponse JsonErrorResponse(int status, const std::string& message) {
  HttpResponse res;
  res.status = status;
  res.SetBody(JsonText(nlohmann::json{{"error", message}, {"detail", message}}), "application/json");
  return res;
}

namespace {


// Digits only, at most 19 of them (no overflow).
std::optional<uint64_t> ParseDecimal(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

}  // namespace

ByteRange ParseByteRange(std::string_view header, uint64_t size) {
  ByteRange none;
  std::string_view h = Trim(header);
  size_t eq = h.find('=');
  if (eq == std::string_view::npos || !IEquals(Trim(h.substr(0, eq)), "bytes")) return none;
  std::string_view spec = Trim(h.substr(eq + 1));
  if (spec.find(',') != std::string_view::npos) return none;  // several ranges: the whole file
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return none;
  std::string_view a = Trim(spec.substr(0, dash)), b = Trim(spec.substr(dash + 1));
  ByteRange r;
  r.kind = ByteRange::Kind::kRange;
  if (a.empty()) {  // suffix: the last n bytes
    auto n = ParseDecimal(b);
    if (!n) return none;
    if (*n == 0 || size == 0) return {ByteRange::Kind::kUnsatisfiable, 0, 0};
    r.first = size > *n ? size - *n : 0;
    r.last = size - 1;
    return r;
  }
  auto first = ParseDecimal(a);
  if (!first) return none;
  uint64_t last = std::numeric_limits<uint64_t>::max();
  if (!b.empty()) {
    auto l = ParseDecimal(b);
    if (!l || *l < *first) return none;
    last = *l;
  }
  if (*first >= size) return {ByteRange::Kind::kUnsatisfiable, 0, 0};
  r.first = *first;
  r.last = std::min(last, size - 1);
  return r;
}

namespace {

constexpr size_t kBodyChunk = 64 << 10;

int ToMillis(double seconds) {
  return static_cast<int>(std::clamp(seconds * 1000.0, 1.0, 24.0 * 3600 * 1000));
}
std::chrono::milliseconds Millis(double seconds) { return std::chrono::milliseconds(ToMillis(seconds)); }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX decoded (an invalid escape is kept as it is); '+' is a space in a query.
std::string PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Origin-form ("/path?query") or absolute-form ("http://host/path?query").
bool ParseTarget(std::string_view target, HttpRequest* req) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.size() > scheme.size() && IEquals(target.substr(0, scheme.size()), scheme)) {
      size_t slash = target.find('/', scheme.size());
      target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
      break;
    }
  }
  if (target.empty() || target[0] != '/') return false;
  size_t hash = target.find('#');
  if (hash != std::string_view::npos) target = target.substr(0, hash);
  size_t q = target.find('?');
  req->path = PercentDecode(target.substr(0, q), false);
  if (q == std::string_view::npos) return true;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    req->query.emplace_back(PercentDecode(pair.substr(0, eq), true),
                            eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1), true));
  }
  return true;
}

// A header value as written: no CR or LF can end the line early.
std::string HeaderValue(std::string_view v) {
  std::string out(v);
  for (char& c : out) {
    if (c == '\r' || c == '\n' || c == '\0') c = ' ';
  }
  return out;
}

// The status line and headers of `res`, with a body of `length` bytes.
std::string ResponseHead(const HttpResponse& res, uint64_t length, bool close, bool http10_keep_alive) {
  std::string reason(bhttp::obsolete_reason(bhttp::int_to_status(static_cast<unsigned>(res.status))));
  std::string h = "HTTP/1.1 " + std::to_string(res.status) + " " + reason + "\r\n";
  if (!res.content_type.empty()) h += "Content-Type: " + HeaderValue(res.content_type) + "\r\n";
  for (const auto& [k, v] : res.headers) h += HeaderValue(k) + ": " + HeaderValue(v) + "\r\n";
  h += "Content-Length: " + std::to_string(length) + "\r\n";
  if (close) h += "Connection: close\r\n";
  else if (http10_keep_alive) h += "Connection: keep-alive\r\n";
  h += "\r\n";
  return h;
}

bool IsParseError(const beast::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category();
}

// A socket read and written with blocking calls, each bounded by a timeout:
// poll(2) before recv/send, which never block (the descriptor is Asio's, in
// non-blocking mode or not). Beast's SyncReadStream and SyncWriteStream.
class SyncSocket {
 public:
  SyncSocket(int fd, double timeout_sec) : fd_(fd), timeout_ms_(ToMillis(timeout_sec)) {}

  template <class Buffers>
  size_t read_some(const Buffers& buffers, beast::error_code& ec) {
    std::array<iovec, 16> iov;
    size_t n = Gather(buffers, &iov);
    if (n == 0) {
      ec = {};
      return 0;
    }
    for (;;) {
      msghdr msg{};
      msg.msg_iov = iov.data();
      msg.msg_iovlen = n;
      ssize_t r = ::recvmsg(fd_, &msg, MSG_DONTWAIT);
      if (r > 0) {
        ec = {};
        return static_cast<size_t>(r);
      }
      if (r == 0) {
        ec = net::error::eof;
        return 0;
      }
      if (!Retry(POLLIN, ec)) return 0;
    }
  }
  template <class Buffers>
  size_t read_some(const Buffers& buffers) {
    beast::error_code ec;
    size_t n = read_some(buffers, ec);
    if (ec) throw beast::system_error(ec);
    return n;
  }

  template <class Buffers>
  size_t write_some(const Buffers& buffers, beast::error_code& ec) {
    std::array<iovec, 16> iov;
    size_t n = Gather(buffers, &iov);
    if (n == 0) {
      ec = {};
      return 0;
    }
    for (;;) {
      msghdr msg{};
      msg.msg_iov = iov.data();
      msg.msg_iovlen = n;
      ssize_t r = ::sendmsg(fd_, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (r >= 0) {
        ec = {};
        return static_cast<size_t>(r);
      }
      if (!Retry(POLLOUT, ec)) return 0;
    }
  }
  template <class Buffers>
  size_t write_some(const Buffers& buffers) {
    beast::error_code ec;
    size_t n = write_some(buffers, ec);
    if (ec) throw beast::system_error(ec);
    return n;
  }

 private:
  template <class Buffers>
  static size_t Gather(const Buffers& buffers, std::array<iovec, 16>* iov) {
    size_t n = 0;
    for (auto it = net::buffer_sequence_begin(buffers); it != net::buffer_sequence_end(buffers) && n < iov->size();
         ++it) {
      auto b = *it;
      if (b.size() == 0) continue;
      (*iov)[n++] = iovec{const_cast<void*>(static_cast<const void*>(b.data())), b.size()};
    }
    return n;
  }
  // After a failed recv/send: true to try again (the socket is ready), false
  // with `ec` set (a real error, or nothing happened within the timeout).
  bool Retry(short events, beast::error_code& ec) {
    int err = errno;
    if (err == EINTR) return true;
    if (err != EAGAIN && err != EWOULDBLOCK) {
      ec = beast::error_code(err, beast::system_category());
      return false;
    }
    for (;;) {
      pollfd p{fd_, events, 0};
      int r = ::poll(&p, 1, timeout_ms_);
      if (r > 0) return true;  // ready, or an error the next call reports
      if (r == 0) {
        ec = beast::error::timeout;
        return false;
      }
      if (errno != EINTR) {
        ec = beast::error_code(errno, beast::system_category());
        return false;
      }
    }
  }

  int fd_;
  int timeout_ms_;
};

class Connection;
struct FileBody;

}  // namespace

// Everything the server owns; HttpServer::Impl is this (a private name the
// connections cannot spell).
class ServerCore {
 public:
  ServerCore(HttpServerOptions options, HttpRouter router)
      : options(std::move(options)), router(std::move(router)), work(net::make_work_guard(ioc)), accept_retry(ioc) {}

  void Submit(std::shared_ptr<Connection> c);
  void Accept();
  void OnAccept(beast::error_code ec, tcp::socket socket);
  void RunIo();
  struct HandlerThread;
  void RunHandlers(HandlerThread* self);
  // Admission: counts the connection in, or says why not.
  bool Admit(const std::string& peer, std::string* why);
  void Release(const std::string& peer);

  const HttpServerOptions options;
  const HttpRouter router;
  std::atomic<bool> stopping{false};

  // Connections (all of them) and admission counts.
  std::mutex mu;
  std::unordered_set<Connection*> live;
  int admitted = 0, refusing = 0;
  std::unordered_map<std::string, int> per_client;

  // The handler pool. Handlers may block (SQLite, disk, Redis) or only
  // compute; the pool serves both without running hundreds of threads at
  // once on two cores (each switch between them costs; with 256 threads woken
  // in turn, throughput halved). So: at most `max_running` handlers are
  // woken directly (the thread idle last first: its stack and caches are
  // warm); past that, work waits in the queue, which running threads take
  // from as they finish. When work is queued and no handler has finished for
  // `kStall` (the running ones are blocked, not computing), the watcher wakes
  // another idle thread for it, one per `kStall`, up to `handler_threads`.
  struct HandlerThread {
    std::condition_variable cv;
    std::shared_ptr<Connection> task;  // handed over directly while idle
  };
  struct Queued {
    std::shared_ptr<Connection> connection;
    Clock::time_point since;
  };
  static constexpr std::chrono::milliseconds kStall{5};
  std::mutex pool_mu;
  std::condition_variable watcher_cv;
  std::deque<Queued> pool_queue;
  std::vector<HandlerThread*> idle;  // a stack: the last one idle first
  std::vector<std::unique_ptr<HandlerThread>> handler_state;
  int running = 0;  // handlers with a task
  Clock::time_point last_progress;  // a handler finished or took queued work
  int max_running = 4;
  bool pool_stop = false;
  std::thread watcher;
  void Hand(HandlerThread* t, std::shared_ptr<Connection> c);  // pool_mu held
  void Watch();
  std::vector<std::thread> handlers;

  std::mutex state_mu;
  bool started = false, stopped = false;
  std::vector<std::thread> io;

  // Asio last: destroying the io_context destroys the handlers still queued,
  // and with them connections, whose destructors use the members above.
  net::io_context ioc;
  net::executor_work_guard<net::io_context::executor_type> work;
  std::optional<tcp::acceptor> acceptor;
  net::steady_timer accept_retry;
};

class HttpServer::Impl : public ServerCore {
 public:
  using ServerCore::ServerCore;
};

namespace {

// One connection. Its asynchronous life (header reads, answers written on
// the io threads, lingering) runs on its strand; between OnHeader and the
// post back, exactly one handler thread owns it and no asynchronous
// operation is pending (`in_handler`, under the server's mutex).
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(ServerCore* server, tcp::socket socket, std::string peer, bool admitted)
      : server_(server), fd_(socket.native_handle()), stream_(std::move(socket)), peer_(std::move(peer)),
        admitted_(admitted) {
    std::lock_guard<std::mutex> lock(server_->mu);
    server_->live.insert(this);
    if (!admitted_) ++server_->refusing;
  }
  ~Connection() {
    std::lock_guard<std::mutex> lock(server_->mu);
    server_->live.erase(this);
    if (admitted_) {
      --server_->admitted;
      auto it = server_->per_client.find(peer_);
      if (it != server_->per_client.end() && --it->second <= 0) server_->per_client.erase(it);
    } else {
      --server_->refusing;
    }
  }

  int fd() const { return fd_; }
  bool in_handler = false;  // under server_->mu

  // io: the first request.
  void Start() {
    net::dispatch(stream_.get_executor(), beast::bind_front_handler(&Connection::ReadHeader, shared_from_this()));
  }
  // io: answers `status` without reading anything, and closes.
  void Refuse(int status, const std::string& message) {
    net::dispatch(stream_.get_executor(),
                  [self = shared_from_this(), status, message]() { self->AnswerAsync(status, message); });
  }
  // A handler thread: the request whose headers are in.
  void Handle();

 private:
  class BodyReader;

  // io: a kept-alive connection waits for its next request.
  void WaitForRequest() {
    if (server_->stopping) return;
    if (buffer_.size() > 0) return ReadHeader();  // pipelined
    stream_.expires_after(Millis(server_->options.keep_alive_timeout_sec));
    stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, size_t n) {
      if (ec) return;  // closed, reset or idle too long: the connection ends
      self->buffer_.commit(n);
      self->ReadHeader();
    });
  }

  // io: the request line and headers, within the header deadline.
  void ReadHeader() {
    if (server_->stopping) return;
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_->options.header_limit));
    // The route's limit is set once the route is known; the Content-Length
    // is compared with it before any body byte is read.
    parser_->body_limit(std::numeric_limits<uint64_t>::max());
    stream_.expires_after(Millis(server_->options.header_timeout_sec));
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             beast::bind_front_handler(&Connection::OnHeader, shared_from_this()));
  }

  void OnHeader(beast::error_code ec, size_t) {
    stream_.expires_never();
    headers_at_ = Clock::now();
    if (!ec) return server_->Submit(shared_from_this());
    if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
      return AnswerAsync(
          431, "request line and headers longer than " + std::to_string(server_->options.header_limit) + " bytes");
    }
    if (IsParseError(ec) && ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
      return AnswerAsync(400, "malformed request: " + ec.message());
    }
    // Timed out, closed or reset: the connection ends (no thread was held).
  }

  // io: writes `res` and closes (lingering). Logged: the request was
  // refused before any handler saw it (431, 400, 503).
  void AnswerAsync(int status, const std::string& message) {
    HttpResponse res = JsonErrorResponse(status, message);
    const std::string request_id = ChooseRequestId("");
    res.headers.emplace_back("X-Request-Id", request_id);
    LogWarn("request refused", {{"request_id", request_id}, {"status", status}, {"client", peer_},
                                {"error", message}});
    out_ = ResponseHead(res, res.body.size(), true, false) + res.body;
    stream_.expires_after(Millis(server_->options.linger_sec));
    net::async_write(stream_, net::buffer(out_), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (!ec) self->Linger();
    });
  }

  // io: no more sending; what the client still sends is discarded until it
  // closes or `linger_sec` passes, then the connection ends. Without this,
  // closing with unread bytes sends a reset that can destroy the answer
  // before the client reads it.
  void Linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(Millis(server_->options.linger_sec));
    Discard();
  }
  void Discard() {
    stream_.async_read_some(net::buffer(discard_), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (!ec) self->Discard();
    });
  }

  // A handler thread gives the connection back to its strand.
  void Continue(bool keep_alive) {
    {
      std::lock_guard<std::mutex> lock(server_->mu);
      in_handler = false;
    }
    if (keep_alive) {
      net::post(stream_.get_executor(), beast::bind_front_handler(&Connection::WaitForRequest, shared_from_this()));
    } else {
      net::post(stream_.get_executor(), beast::bind_front_handler(&Connection::Linger, shared_from_this()));
    }
  }

  bool Respond(const HttpRequest& req, const HttpResponse& res, const FileBody& file, bool keep_alive,
               bool http10);

  ServerCore* const server_;
  const int fd_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::buffer_body>> parser_;
  const std::string peer_;
  const bool admitted_;
  std::string out_;
  std::array<char, 4096> discard_;
  Clock::time_point headers_at_ = Clock::now();  // when the current request's headers were complete
};

// Reads the body through the connection's parser, on a handler thread.
class Connection::BodyReader : public HttpBodyReader {
 public:
  BodyReader(Connection* c, SyncSocket* socket, int64_t limit) : c_(c), socket_(socket), limit_(limit) {}

  Status Read(const std::function<bool(std::string_view)>& sink) override {
    if (!error_.ok()) return error_;
    auto& parser = *c_->parser_;
    std::vector<char> buf(kBodyChunk);
    while (!parser.is_done()) {
      auto& body = parser.get().body();
      body.data = buf.data();
      body.size = buf.size();
      beast::error_code ec;
      bhttp::read(*socket_, c_->buffer_, parser, ec);
      if (ec == bhttp::error::need_buffer) ec = {};
      size_t got = buf.size() - body.size;
      if (got > 0 && !sink(std::string_view(buf.data(), got))) return Status::Ok();
      if (!ec) continue;
      if (ec == bhttp::error::body_limit) {
        too_large_ = true;
        error_ = Status::InvalidArgument("request body larger than " + std::to_string(limit_) + " bytes");
      } else if (IsParseError(ec) && ec != bhttp::error::partial_message && ec != bhttp::error::end_of_stream) {
        error_ = Status::InvalidArgument("malformed request body: " + ec.message());
      } else {
        broken_ = true;
        error_ = Status::IOError(ec == beast::error::timeout
                                     ? "the client sent nothing for too long: the body was cut off"
                                     : "the connection ended before the body did: " + ec.message());
      }
      return error_;
    }
    return Status::Ok();
  }

  bool too_large() const { return too_large_; }
  bool broken() const { return broken_; }

 private:
  Connection* c_;
  SyncSocket* socket_;
  int64_t limit_;
  Status error_;
  bool too_large_ = false, broken_ = false;
};

HttpResponse TooLarge(int64_t limit) {
  return JsonErrorResponse(413, "request body too large: more than " + std::to_string(limit) +
                                    " bytes for this route");
}

// A file response's body: the open file and the bytes to send.
struct FileBody {
  int fd = -1;
  uint64_t first = 0, length = 0;
  ~FileBody() {
    if (fd >= 0) ::close(fd);
  }
};

// Opens the file of `res` and applies the request's Range: 200 or 206 with
// `file` open, or `res` becomes the error (404, 416).
void PrepareFile(const HttpRequest& req, HttpResponse* res, FileBody* file) {
  file->fd = ::open(res->file_path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (file->fd < 0 || ::fstat(file->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    *res = JsonErrorResponse(404, "file missing on disk");
    return;
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  file->length = size;
  res->headers.emplace_back("Accept-Ranges", "bytes");
  const std::string header = req.header("Range");
  if (header.empty() || res->status != 200) return;
  ByteRange range = ParseByteRange(header, size);
  if (range.kind == ByteRange::Kind::kUnsatisfiable) {
    *res = JsonErrorResponse(416, "range not satisfiable: the file has " + std::to_string(size) + " bytes");
    res->headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
  } else if (range.kind == ByteRange::Kind::kRange) {
    res->status = 206;
    file->first = range.first;
    file->length = range.last - range.first + 1;
    res->headers.emplace_back("Content-Range", "bytes " + std::to_string(range.first) + "-" +
                                                   std::to_string(range.last) + "/" + std::to_string(size));
  }
}

void Connection::Handle() {
  auto& msg = parser_->get();
  HttpRequest req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  for (const auto& field : msg) req.headers.emplace(std::string(field.name_string()), std::string(field.value()));
  req.peer = peer_;
  if (auto n = parser_->content_length()) req.content_length = *n;
  req.has_body = !parser_->is_done();
  const bool keep_alive = parser_->keep_alive();
  const bool http10 = msg.version() == 10;
  SyncSocket socket(fd_, server_->options.io_timeout_sec);

  req.request_id = ChooseRequestId(req.header("X-Request-Id"));

  HttpResponse res;
  bool body_unread = req.has_body, broken = false;
  std::function<void(int)> done;
  std::string route;
  bool quiet = false;
  if (!ParseTarget(req.target, &req)) {
    res = JsonErrorResponse(400, "malformed request target: " + Printable(req.target));
  } else {
    HttpDispatch d;
    try {
      d = server_->router(req);
    } catch (const std::exception& e) {
      d.answer = JsonErrorResponse(500, std::string("internal error: ") + Printable(e.what()));
    } catch (...) {
      d.answer = JsonErrorResponse(500, "internal error");
    }
    done = std::move(d.done);
    route = std::move(d.route);
    quiet = d.quiet;
    if (d.answer) {
      res = std::move(*d.answer);
    } else if (req.content_length && *req.content_length > static_cast<uint64_t>(d.max_body_bytes)) {
      res = TooLarge(d.max_body_bytes);
    } else {
      parser_->body_limit(static_cast<uint64_t>(d.max_body_bytes));
      BodyReader reader(this, &socket, d.max_body_bytes);
      Status read;
      if (req.has_body && IEquals(req.header("Expect"), "100-continue")) {
        static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        beast::error_code ec;
        net::write(socket, net::buffer(kContinue), ec);
        if (ec) {
          broken = true;
          read = Status::IOError("the client went away before its body");
          res = JsonErrorResponse(400, read.message());  // counted so; never sent
        }
      }
      if (read.ok() && !d.stream_body && req.has_body) {
        read = reader.Read([&](std::string_view s) {
          req.body.append(s);
          return true;
        });
        if (read.ok()) body_unread = false;
        if (reader.too_large()) res = TooLarge(d.max_body_bytes);
        else if (!read.ok()) res = JsonErrorResponse(400, read.message());
        broken = broken || reader.broken();
      }
      if (d.stream_body) req.body_reader = &reader;
      if (read.ok()) {
        try {
          d.handler(req, res);
        } catch (const std::exception& e) {
          res = JsonErrorResponse(500, std::string("internal error: ") + Printable(e.what()));
        } catch (...) {
          res = JsonErrorResponse(500, "internal error");
        }
        if (d.stream_body) {
          body_unread = !parser_->is_done();
          if (reader.too_large()) res = TooLarge(d.max_body_bytes);
          broken = broken || reader.broken();
        }
      }
    }
  }
  FileBody file;
  if (!res.file_path.empty()) PrepareFile(req, &res, &file);
  if (done) {
    try {
      done(res.status);
    } catch (...) {
    }
  }
  res.headers.emplace_back("X-Request-Id", req.request_id);
  const bool close = !keep_alive || body_unread || server_->stopping;
  const bool sent = !broken && Respond(req, res, file, !close, http10);
  LogRequest(req, route, quiet, res.status, headers_at_);
  if (!sent) {
    // The client is gone or stalled: the connection ends here.
    std::lock_guard<std::mutex> lock(server_->mu);
    in_handler = false;
    return;
  }
  Continue(!close);
}

// Writes `res`: its head and a string body in one write, or its head and the
// file's bytes in 64 KiB pieces. False when the client could not be written to.
bool Connection::Respond(const HttpRequest& req, const HttpResponse& res, const FileBody& file, bool keep_alive,
                         bool http10) {
  SyncSocket socket(fd_, server_->options.io_timeout_sec);
  const bool head_only = req.method == "HEAD";
  const bool is_file = !res.file_path.empty() && file.fd >= 0;
  const uint64_t length = is_file ? file.length : res.body.size();
  const std::string head = ResponseHead(res, length, !keep_alive, http10 && keep_alive);
  beast::error_code ec;
  if (!is_file || head_only) {
    std::array<net::const_buffer, 2> parts = {net::buffer(head),
                                              head_only || is_file ? net::const_buffer() : net::buffer(res.body)};
    net::write(socket, parts, ec);
    return !ec;
  }
  std::vector<char> buf(kBodyChunk);
  uint64_t offset = file.first, left = file.length;
  bool head_sent = false;
  while (!head_sent || left > 0) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(left, buf.size()));
    ssize_t got = 0;
    if (want > 0) {
      got = ::pread(file.fd, buf.data(), want, static_cast<off_t>(offset));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return false;  // the file shrank or failed: a short body, and the connection ends
    }
    std::array<net::const_buffer, 2> parts = {head_sent ? net::const_buffer() : net::buffer(head),
                                              net::buffer(buf.data(), static_cast<size_t>(got))};
    net::write(socket, parts, ec);
    if (ec) return false;
    head_sent = true;
    offset += static_cast<uint64_t>(got);
    left -= static_cast<uint64_t>(got);
  }
  return true;
}

}  // namespace

// ---- ServerCore

bool ServerCore::Admit(const std::string& peer, std::string* why) {
  std::lock_guard<std::mutex> lock(mu);
  if (admitted >= options.max_connections) {
    *why = "the server has too many connections open (" + std::to_string(options.max_connections) +
           ", SOPILOT_HTTP_MAX_CONNECTIONS); try again later";
    return false;
  }
  auto it = per_client.find(peer);
  int n = it == per_client.end() ? 0 : it->second;
  if (n >= options.max_connections_per_client) {
    *why = "too many connections from " + peer + " (" + std::to_string(options.max_connections_per_client) +
           ", SOPILOT_HTTP_MAX_CONNECTIONS_PER_CLIENT); try again later";
    return false;
  }
  per_client[peer] = n + 1;
  ++admitted;
  return true;
}

void ServerCore::Accept() {
  acceptor->async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void ServerCore::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (stopping || ec == net::error::operation_aborted) return;
  if (ec) {
    // Out of descriptors, or a connection that died in the queue: accept
    // again a little later rather than in a tight loop.
    accept_retry.expires_after(std::chrono::milliseconds(50));
    accept_retry.async_wait([this](beast::error_code wait_ec) {
      if (!wait_ec && !stopping) Accept();
    });
    return;
  }
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  auto endpoint = socket.remote_endpoint(ignored);
  std::string peer = ignored ? std::string("unknown") : endpoint.address().to_string();
  std::string why;
  if (Admit(peer, &why)) {
    std::make_shared<Connection>(this, std::move(socket), peer, true)->Start();
  } else {
    bool answer;
    {
      std::lock_guard<std::mutex> lock(mu);
      answer = refusing < options.max_connections;  // answering refusals is bounded too
    }
    if (answer) std::make_shared<Connection>(this, std::move(socket), peer, false)->Refuse(503, why);
    // else: the socket closes here, unanswered
  }
  Accept();
}

void ServerCore::Submit(std::shared_ptr<Connection> c) {
  {
    std::lock_guard<std::mutex> lock(mu);
    c->in_handler = true;
  }
  std::lock_guard<std::mutex> lock(pool_mu);
  if (pool_stop) return;
  if (idle.empty() || running >= max_running) {
    pool_queue.push_back({std::move(c), Clock::now()});
    watcher_cv.notify_one();
    return;
  }
  HandlerThread* t = idle.back();
  idle.pop_back();
  Hand(t, std::move(c));
}

void ServerCore::Hand(HandlerThread* t, std::shared_ptr<Connection> c) {
  ++running;
  t->task = std::move(c);
  t->cv.notify_one();
}

void ServerCore::Watch() {
  std::unique_lock<std::mutex> lock(pool_mu);
  while (!pool_stop) {
    if (pool_queue.empty()) {
      watcher_cv.wait(lock);
      continue;
    }
    auto stalled_at = std::max(last_progress, pool_queue.front().since) + kStall;
    if (Clock::now() < stalled_at || idle.empty()) {
      watcher_cv.wait_until(lock, std::max(stalled_at, Clock::now() + kStall / 5));
      continue;
    }
    HandlerThread* t = idle.back();
    idle.pop_back();
    Hand(t, std::move(pool_queue.front().connection));
    pool_queue.pop_front();
    last_progress = Clock::now();
  }
}

void ServerCore::RunHandlers(HandlerThread* self) {
  for (;;) {
    std::shared_ptr<Connection> c;
    {
      std::unique_lock<std::mutex> lock(pool_mu);
      if (self->task) {
        c = std::move(self->task);
      } else if (!pool_queue.empty()) {
        c = std::move(pool_queue.front().connection);
        pool_queue.pop_front();
        ++running;
        last_progress = Clock::now();
      } else {
        idle.push_back(self);
        self->cv.wait(lock, [&] { return pool_stop || self->task != nullptr; });
        if (pool_stop) return;
        c = std::move(self->task);
      }
      if (pool_stop) return;
    }
    try {
      c->Handle();
    } catch (const std::exception& e) {
      LogError("http: a request failed", {{"error", e.what()}});
    } catch (...) {
    }
    c.reset();  // unless Handle gave it back to the io threads, the connection ends here
    std::lock_guard<std::mutex> lock(pool_mu);
    --running;
    last_progress = Clock::now();
  }
}

void ServerCore::RunIo() {
  for (;;) {
    try {
      ioc.run();
      return;
    } catch (const std::exception& e) {
      LogError("http: an io thread failed", {{"error", e.what()}});
    } catch (...) {
    }
  }
}

// ---- HttpServer

HttpServer::HttpServer(HttpServerOptions options, HttpRouter router)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(router))) {}

HttpServer::~HttpServer() { Stop(); }

Result<int> HttpServer::Bind(const std::string& host, int port) {
  beast::error_code ec;
  net::ip::address address = net::ip::make_address(host, ec);
  if (ec) {
    tcp::resolver resolver(impl_->ioc);
    auto found = resolver.resolve(host, std::to_string(port), ec);
    if (ec || found.empty()) return Status::IOError("cannot resolve " + host + ": " + ec.message());
    address = found.begin()->endpoint().address();
  }
  tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  auto& acceptor = impl_->acceptor.emplace(impl_->ioc);
  auto fail = [&](const char* what) {
    acceptor.close(ec);
    impl_->acceptor.reset();
    return Status::IOError("cannot listen on " + host + ":" + std::to_string(port) + " (" + what +
                           (port != 0 ? "; address in use?" : "") + ")");
  };
  if (acceptor.open(endpoint.protocol(), ec)) return fail("open");
  if (acceptor.set_option(net::socket_base::reuse_address(true), ec)) return fail("reuse_address");
  if (acceptor.bind(endpoint, ec)) return fail("bind");
  if (acceptor.listen(net::socket_base::max_listen_connections, ec)) return fail("listen");
  auto local = acceptor.local_endpoint(ec);
  if (ec) return fail("local address");
  return static_cast<int>(local.port());
}

void HttpServer::Start() {
  Impl& s = *impl_;
  std::lock_guard<std::mutex> lock(s.state_mu);
  if (s.started || s.stopped || !s.acceptor) return;
  s.started = true;
  s.max_running = std::min(std::max(1, s.options.handler_threads),
                           std::max(4, 2 * static_cast<int>(std::thread::hardware_concurrency())));
  for (int i = 0; i < std::max(1, s.options.handler_threads); ++i) {
    ServerCore::HandlerThread* t = s.handler_state.emplace_back(std::make_unique<ServerCore::HandlerThread>()).get();
    s.handlers.emplace_back([&s, t] { s.RunHandlers(t); });
  }
  s.watcher = std::thread([&s] { s.Watch(); });
  s.Accept();
  for (int i = 0; i < std::max(1, s.options.io_threads); ++i) s.io.emplace_back([&s] { s.RunIo(); });
}

void HttpServer::Stop() {
  Impl& s = *impl_;
  std::lock_guard<std::mutex> lock(s.state_mu);
  if (s.stopped) return;
  s.stopped = true;
  s.stopping = true;
  {
    // Handler threads waiting on a client wake up: their socket is shut
    // down (it is theirs alone, so its descriptor is still its own).
    std::lock_guard<std::mutex> live_lock(s.mu);
    for (Connection* c : s.live) {
      if (c->in_handler) ::shutdown(c->fd(), SHUT_RDWR);
    }
  }
  s.work.reset();
  s.ioc.stop();
  for (auto& t : s.io) t.join();
  s.io.clear();
  beast::error_code ignored;
  if (s.acceptor) s.acceptor->close(ignored);
  s.accept_retry.cancel();
  std::deque<ServerCore::Queued> queued;
  {
    std::lock_guard<std::mutex> pool_lock(s.pool_mu);
    s.pool_stop = true;
    queued.swap(s.pool_queue);
    for (auto& t : s.handler_state) t->cv.notify_one();
    s.watcher_cv.notify_all();
  }
  if (s.watcher.joinable()) s.watcher.join();
  for (auto& t : s.handlers) t.join();
  s.handlers.clear();
  queued.clear();
  for (auto& t : s.handler_state) t->task.reset();
}

int HttpServer::open_connections() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->admitted;
}

}  // namespace sopilot
