// HttpServer: an HTTP/1.1 server on Boost.Asio and Boost.Beast, built so that
// a client without credentials cannot make it spend memory or threads.
//
// Threads. A few io threads (HttpServerOptions::io_threads) accept
// connections and read each request's line and headers asynchronously: a
// connection that has not sent complete headers holds no thread, only its
// socket and a buffer of at most `header_limit` bytes (plus one read), and is
// closed when the whole header section has not arrived within
// `header_timeout_sec` (from its first byte on a kept-alive connection, which
// may idle `keep_alive_timeout_sec` before that). Once the headers are in,
// the connection is handed to one of `handler_threads` handler threads
// (handlers block on SQLite, disk and Redis; io threads never run them).
// A few of them run at once (twice the cores, at least 4); more are woken
// only when queued work sees no handler finish for 5 ms (the running ones
// are blocked), so hundreds of threads never compete for two cores. The
// handler thread asks the router what to do (route matching, then
// authentication and role from the headers), reads the body under the
// route's limit, runs the handler and writes the response with synchronous
// calls on the socket, each bounded by `io_timeout_sec` (poll(2) before every
// recv/send: Asio's own synchronous calls have no timeout), and then hands
// the socket back to the io threads for the next request on the connection.
// While a handler thread owns a connection no asynchronous operation is
// pending on it, so the socket is never used by two threads at once.
//
// Bodies. Nothing of a body is read before the router has answered. A
// router's answer (401, 403, 404) and a Content-Length over the route's
// limit (413) are sent without reading the body, with `Connection: close`
// when a body was announced; the server then stops sending and discards what
// the client still sends for at most `linger_sec` (on the io threads, in a
// fixed 4 KiB buffer) before closing, so that the client, still sending,
// reads the answer instead of a reset. A chunked body that grows past the
// limit is answered 413 the same way, whatever the handler answered.
// `Expect: 100-continue` is answered once the request may send its body.
//
// Limits. At most `max_connections` connections at once and at most
// `max_connections_per_client` from one client address; past either, the
// connection is answered 503 (JSON) on the io threads and closed. A request
// line and headers longer than `header_limit` are answered 431, a malformed
// request 400, then the connection is closed.
//
// Responses. Headers and a small body go out in one write; TCP_NODELAY is set
// on every accepted socket. A file response (HttpResponse::file_path) is
// streamed from disk in 64 KiB pieces, never read whole, with
// `Accept-Ranges: bytes` and one byte range honoured (ParseByteRange).
//
// The request log. Every request handled (and every one refused on the io
// threads) is one line of the operational log (base/log.h) once its answer
// is written: request id, method, route template (HttpDispatch::route; none
// when no route matched), path (never the query, which may carry anything),
// status, duration_ms (from its complete headers to the end of its answer)
// and client. Every answer carries `X-Request-Id`: the client's, when it
// sent a usable one (ChooseRequestId), else a new random one. No header
// value other than X-Request-Id is logged (Authorization never is).
//
// Errors. Asio and Beast failures are caught where they arise and end the
// connection they concern; a handler that throws is answered 500 with
// {"error": "internal error: ..."}; nothing escapes a thread. Every error the
// server writes itself is JSON {"error": ..., "detail": ...}.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace sopilot {

struct CaseInsensitiveLess {
  bool operator()(const std::string& a, const std::string& b) const;
};
using HttpHeaders = std::map<std::string, std::string, CaseInsensitiveLess>;

// A streaming route's body, read by its handler (HttpRequest::body_reader).
class HttpBodyReader {
 public:
  virtual ~HttpBodyReader() = default;
  // Reads the rest of the body, handing it to `sink` in pieces of at most
  // 64 KiB; `sink` returns false to stop reading. OK once the whole body was
  // read (or `sink` stopped); an error when the connection failed or timed
  // out, the framing was malformed, or the body passed the route's limit
  // (the server then answers 413 whatever the handler answers).
  [[nodiscard]] virtual Status Read(const std::function<bool(std::string_view)>& sink) = 0;
};

struct HttpRequest {
  std::string method;  // as sent: GET, POST, DELETE, HEAD, ...
  std::string target;  // as sent: path and query
  std::string path;    // percent-decoded, without the query
  std::vector<std::pair<std::string, std::string>> query;  // decoded ('+' is a space), in order
  HttpHeaders headers;  // one value per name (the first)
  std::string peer;     // the client's address
  std::string request_id;  // X-Request-Id, as echoed in the answer (ChooseRequestId)
  bool has_body = false;                  // Content-Length > 0, or chunked
  std::optional<uint64_t> content_length;  // when sent
  std::string body;                       // buffered routes: the whole body
  HttpBodyReader* body_reader = nullptr;  // streaming routes

  bool has_query(const std::string& name) const;
  // The first value of `name`; "" when absent.
  std::string query_value(const std::string& name) const;
  // The header's value; "" when absent.
  std::string header(const std::string& name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type/-Length, Connection
  // When set, the body is this file, streamed from disk (Range applies).
  std::string file_path;

  void SetBody(std::string text, std::string type) {
    body = std::move(text);
    content_type = std::move(type);
  }
};

// {"error": message, "detail": message} with `status`.
HttpResponse JsonErrorResponse(int status, const std::string& message);

// What the server does with a request whose headers are in (HttpRouter).
struct HttpDispatch {
  static constexpr int64_t kSmallBodyBytes = 64 << 10;
  // Set: the answer, sent at once; the body is not read.
  std::optional<HttpResponse> answer;
  // Otherwise: the largest body accepted (413 past it), whether the handler
  // reads it itself (body_reader) or gets it whole (body), and the handler.
  int64_t max_body_bytes = kSmallBodyBytes;
  bool stream_body = false;
  std::function<void(HttpRequest&, HttpResponse&)> handler;
  // Called once with the status sent (or about to be), after the handler
  // returned or the server refused the request; not for `answer`s.
  std::function<void(int status)> done;
  // For the request log: the route template ("/videos/{video_id}"; empty when
  // none matched), and whether the line goes out at debug rather than info
  // (probes and scrapes, which would otherwise fill the log).
  std::string route;
  bool quiet = false;
};

// The client's X-Request-Id when it is 1 to 128 characters of
// [A-Za-z0-9._:-] (anything else could forge log lines or fill them), else a
// new random id of 32 hex digits.
std::string ChooseRequestId(std::string_view client_value);

// Decides from the request's line and headers (no body yet). Runs on a
// handler thread; must not throw (a throw is answered 500).
using HttpRouter = std::function<HttpDispatch(const HttpRequest&)>;

struct HttpServerOptions {
  int io_threads = 2;
  int handler_threads = 16;
  double header_timeout_sec = 10;      // the whole request line and headers
  double keep_alive_timeout_sec = 30;  // idle between requests
  double io_timeout_sec = 60;          // each read or write of a body or response
  double linger_sec = 5;               // discarding an unread body after the answer
  size_t header_limit = 16 << 10;
  int max_connections = 1024;
  int max_connections_per_client = 512;
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpRouter router);
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Listens on host:port (port 0 picks a free port); returns the port.
  [[nodiscard]] Result<int> Bind(const std::string& host, int port);
  // Starts the io and handler threads and returns; once per server.
  void Start();
  // Stops accepting, ends every connection (a handler running finishes; its
  // socket is shut down) and joins the threads. Any thread, any time, twice.
  void Stop();

  // Connections open now (admitted ones; for tests and metrics).
  int open_connections() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// A Range header against a representation of `size` bytes (RFC 9110 14.2).
struct ByteRange {
  enum class Kind { kNone, kRange, kUnsatisfiable } kind = Kind::kNone;
  uint64_t first = 0, last = 0;  // inclusive, kRange only
};
// One range "bytes=a-b", "bytes=a-" or "bytes=-n" gives kRange (b clamped to
// size-1); a start past the end (or "-0", or any range of an empty file) is
// kUnsatisfiable (416); several ranges and anything malformed give kNone:
// the whole file, 200, as RFC 9110 allows (never several ranges, which would
// let one request multiply the bytes sent).
ByteRange ParseByteRange(std::string_view header, uint64_t size);

}  // namespace sopilot
