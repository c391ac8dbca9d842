// RedisClient: a small, thread-safe Redis client on hiredis's blocking API.
//
// Commands are sent on pooled connections: a thread takes an idle
// connection (or opens one), runs its command and gives the connection
// back, so threads do not wait on each other's round trips. A connection
// that fails (refused, reset, timed out, protocol error) is closed, never
// reused, and the failure is reported to `on_connection_error` (the service
// counts it in sopilot_redis_connection_errors_total); the caller gets
// Unavailable and the next command opens a fresh connection. Nothing is
// retried here: whether a command may be repeated is the caller's business.
//
// A Redis error reply (WRONGTYPE, a script's error) is not a connection
// failure: it comes back as a Reply of type kError.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace sopilot {

// A parsed redis:// URL: redis://[[user]:password@]host[:port][/db].
struct RedisUrl {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string user, password;  // AUTH [user] password when password is set
  int db = 0;
  std::string ToString() const;  // the URL without the password
};
// InvalidArgument for anything else (rediss:// and unix:// included: the
// Debian hiredis has no TLS).
Result<RedisUrl> ParseRedisUrl(const std::string& url);

// A reply, copied out of hiredis so its types stay in redis_client.cc.
struct RedisReply {
  enum class Type { kNil, kInteger, kString, kStatus, kError, kArray };
  Type type = Type::kNil;
  int64_t integer = 0;
  std::string str;                  // kString, kStatus, kError
  std::vector<RedisReply> elements; // kArray

  bool is_nil() const { return type == Type::kNil; }
  bool is_error() const { return type == Type::kError; }
};

// The replies in `resp`, bytes of the Redis protocol as a server sends them,
// read by hiredis's reader and converted as a connection's replies are.
// InvalidArgument on a protocol error; an incomplete last reply is left out.
// For tests and the fuzzer: it is the conversion every command goes through.
Result<std::vector<RedisReply>> ParseRedisReplies(std::string_view resp);

// A Lua script for EVALSHA. Its SHA1 is learnt from SCRIPT LOAD the first
// time it runs and kept here (it is the same on every server), so a call
// costs one round trip and no text.
class RedisScript {
 public:
  explicit RedisScript(std::string text) : text_(std::move(text)) {}
  const std::string& text() const { return text_; }

 private:
  friend class RedisClient;
  std::string text_;
  mutable std::mutex mu_;
  mutable std::string sha_;  // empty until loaded
};

struct RedisClientOptions {
  double connect_timeout_sec = 2;
  // Bounds every command; a command slower than this is a failure (the
  // connection is dropped, since its reply may still arrive later).
  double command_timeout_sec = 5;
  int max_idle_connections = 16;
};

class RedisClient {
 public:
  using ErrorCallback = std::function<void(const std::string& what)>;
  RedisClient(RedisUrl url, RedisClientOptions options, ErrorCallback on_connection_error);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Runs one command (argv[0] is its name). Unavailable when Redis cannot be
  // reached or the connection fails mid-command.
  Result<RedisReply> Command(const std::vector<std::string>& argv);
  // Sends several commands in one round trip (a pipeline) on one connection;
  // replies in order.
  Result<std::vector<RedisReply>> Pipeline(const std::vector<std::vector<std::string>>& commands);

  // EVALSHA of `script`, loading it (SCRIPT LOAD) the first time and again
  // after a NOSCRIPT reply (Redis restarted without the script cache).
  Result<RedisReply> Eval(const RedisScript& script, const std::vector<std::string>& keys,
                          const std::vector<std::string>& args);

  const RedisUrl& url() const { return url_; }

 private:
  struct Connection;
  Result<std::unique_ptr<Connection>> Take();
  void Give(std::unique_ptr<Connection> c);
  Status Failed(const std::string& what);

  const RedisUrl url_;
  const RedisClientOptions options_;
  const ErrorCallback on_error_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

}  // namespace sopilot
