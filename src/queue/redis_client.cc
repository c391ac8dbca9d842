#include "queue/redis_client.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <charconv>

namespace sopilot {

namespace {

timeval ToTimeval(double sec) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(sec);
  tv.tv_usec = static_cast<suseconds_t>((sec - static_cast<double>(tv.tv_sec)) * 1e6);
  return tv;
}

RedisReply Convert(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(Convert(r->element[i]));
      break;
    default:
      out.type = RedisReply::Type::kNil;
  }
  return out;
}

bool ParseInt(const std::string& s, int* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

Result<std::vector<RedisReply>> ParseRedisReplies(std::string_view resp) {
  std::unique_ptr<redisReader, void (*)(redisReader*)> reader(redisReaderCreate(), redisReaderFree);
  if (reader == nullptr) return Status::Internal("redis: cannot allocate a reply reader");
  if (redisReaderFeed(reader.get(), resp.data(), resp.size()) != REDIS_OK) {
    return Status::InvalidArgument(std::string("redis reply: ") + reader->errstr);
  }
  std::vector<RedisReply> replies;
  for (;;) {
    void* raw = nullptr;
    if (redisReaderGetReply(reader.get(), &raw) != REDIS_OK) {
      return Status::InvalidArgument(std::string("redis reply: ") + reader->errstr);
    }
    if (raw == nullptr) return replies;  // no complete reply left
    replies.push_back(Convert(static_cast<redisReply*>(raw)));
    freeReplyObject(raw);
  }
}

std::string RedisUrl::ToString() const {
  std::string s = "redis://";
  if (!password.empty()) s += (user.empty() ? "" : user) + ":***@";
  return s + host + ":" + std::to_string(port) + "/" + std::to_string(db);
}

Result<RedisUrl> ParseRedisUrl(const std::string& url) {
  const std::string scheme = "redis://";
  if (url.rfind(scheme, 0) != 0) {
    return Status::InvalidArgument("redis URL must start with redis:// (rediss:// and unix sockets are not supported): " +
                                   url);
  }
  RedisUrl out;
  std::string rest = url.substr(scheme.size());
  size_t at = rest.rfind('@');
  if (at != std::string::npos) {
    std::string cred = rest.substr(0, at);
    rest = rest.substr(at + 1);
    size_t colon = cred.find(':');
    if (colon == std::string::npos) {
      out.password = cred;  // redis://password@host, as redis-py accepts
    } else {
      out.user = cred.substr(0, colon);
      out.password = cred.substr(colon + 1);
    }
  }
  size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  if (slash != std::string::npos) {
    std::string db = rest.substr(slash + 1);
    if (!db.empty() && (!ParseInt(db, &out.db) || out.db < 0)) {
      return Status::InvalidArgument("redis URL: database must be a number >= 0: " + url);
    }
  }
  size_t colon = hostport.rfind(':');
  if (colon != std::string::npos && hostport.find(']') == std::string::npos) {
    std::string port = hostport.substr(colon + 1);
    if (!ParseInt(port, &out.port) || out.port < 1 || out.port > 65535) {
      return Status::InvalidArgument("redis URL: port must be in [1, 65535]: " + url);
    }
    hostport = hostport.substr(0, colon);
  }
  if (!hostport.empty()) out.host = hostport;
  return out;
}

struct RedisClient::Connection {
  redisContext* ctx = nullptr;
  ~Connection() {
    if (ctx) redisFree(ctx);
  }
};

RedisClient::RedisClient(RedisUrl url, RedisClientOptions options, ErrorCallback on_connection_error)
    : url_(std::move(url)), options_(options), on_error_(std::move(on_connection_error)) {}

RedisClient::~RedisClient() = default;

Status RedisClient::Failed(const std::string& what) {
  if (on_error_) on_error_(what);
  return Status::Unavailable("redis " + url_.host + ":" + std::to_string(url_.port) + ": " + what);
}

Result<std::unique_ptr<RedisClient::Connection>> RedisClient::Take() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
  }
  auto c = std::make_unique<Connection>();
  c->ctx = redisConnectWithTimeout(url_.host.c_str(), url_.port, ToTimeval(options_.connect_timeout_sec));
  if (c->ctx == nullptr) return Failed("cannot allocate a connection");
  if (c->ctx->err) return Failed(std::string("connect: ") + c->ctx->errstr);
  redisSetTimeout(c->ctx, ToTimeval(options_.command_timeout_sec));
  redisEnableKeepAlive(c->ctx);
  auto setup = [&](std::vector<std::string> argv) -> Status {
    std::vector<const char*> a;
    std::vector<size_t> l;
    for (const auto& s : argv) {
      a.push_back(s.data());
      l.push_back(s.size());
    }
    auto* r = static_cast<redisReply*>(redisCommandArgv(c->ctx, static_cast<int>(a.size()), a.data(), l.data()));
    if (r == nullptr) return Failed(std::string(argv[0]) + ": " + c->ctx->errstr);
    std::string err = r->type == REDIS_REPLY_ERROR ? std::string(r->str, r->len) : "";
    freeReplyObject(r);
    // A wrong password or database is configuration, not an outage.
    if (!err.empty()) return Status::InvalidArgument("redis " + argv[0] + ": " + err);
    return Status::Ok();
  };
  if (!url_.password.empty()) {
    std::vector<std::string> auth = {"AUTH"};
    if (!url_.user.empty()) auth.push_back(url_.user);
    auth.push_back(url_.password);
    SOPILOT_RETURN_IF_ERROR(setup(auth));
  }
  if (url_.db != 0) SOPILOT_RETURN_IF_ERROR(setup({"SELECT", std::to_string(url_.db)}));
  return c;
}

void RedisClient::Give(std::unique_ptr<Connection> c) {
  std::lock_guard<std::mutex> lock(mu_);
  if (static_cast<int>(idle_.size()) < options_.max_idle_connections) idle_.push_back(std::move(c));
}

Result<std::vector<RedisReply>> RedisClient::Pipeline(const std::vector<std::vector<std::string>>& commands) {
  SOPILOT_ASSIGN_OR_RETURN(std::unique_ptr<Connection> c, Take());
  for (const auto& argv : commands) {
    std::vector<const char*> a;
    std::vector<size_t> l;
    for (const auto& s : argv) {
      a.push_back(s.data());
      l.push_back(s.size());
    }
    if (redisAppendCommandArgv(c->ctx, static_cast<int>(a.size()), a.data(), l.data()) != REDIS_OK) {
      return Failed(std::string("send: ") + c->ctx->errstr);
    }
  }
  std::vector<RedisReply> replies;
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(c->ctx, &raw) != REDIS_OK || raw == nullptr) {
      return Failed(std::string(commands[i][0]) + ": " + (c->ctx->errstr[0] ? c->ctx->errstr : "no reply"));
    }
    replies.push_back(Convert(static_cast<redisReply*>(raw)));
    freeReplyObject(raw);
  }
  Give(std::move(c));
  return replies;
}

Result<RedisReply> RedisClient::Command(const std::vector<std::string>& argv) {
  SOPILOT_ASSIGN_OR_RETURN(std::vector<RedisReply> replies, Pipeline({argv}));
  return std::move(replies[0]);
}

Result<RedisReply> RedisClient::Eval(const RedisScript& script, const std::vector<std::string>& keys,
                                     const std::vector<std::string>& args) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::string sha;
    {
      std::lock_guard<std::mutex> lock(script.mu_);
      sha = script.sha_;
    }
    if (sha.empty()) {
      SOPILOT_ASSIGN_OR_RETURN(RedisReply loaded, Command({"SCRIPT", "LOAD", script.text()}));
      if (loaded.type != RedisReply::Type::kString) {
        return Status::Internal("redis SCRIPT LOAD: " + (loaded.is_error() ? loaded.str : "unexpected reply"));
      }
      sha = loaded.str;
      std::lock_guard<std::mutex> lock(script.mu_);
      script.sha_ = sha;
    }
    std::vector<std::string> argv;
    argv.reserve(3 + keys.size() + args.size());
    argv.push_back("EVALSHA");
    argv.push_back(sha);
    argv.push_back(std::to_string(keys.size()));
    argv.insert(argv.end(), keys.begin(), keys.end());
    argv.insert(argv.end(), args.begin(), args.end());
    SOPILOT_ASSIGN_OR_RETURN(RedisReply reply, Command(argv));
    if (reply.is_error() && reply.str.rfind("NOSCRIPT", 0) == 0) {
      // Redis restarted (or SCRIPT FLUSH): load it again.
      std::lock_guard<std::mutex> lock(script.mu_);
      script.sha_.clear();
      continue;
    }
    return reply;
  }
  return Status::Internal("redis: the script cache keeps losing the script");
}

}  // namespace sopilot
