#include "queue/redis_job_replies.h"

#include <algorithm>
#include <charconv>
#include <climits>

namespace sopilot {

namespace {

Status Unexpected(const std::string& what) { return Status::Internal("redis " + what + ": unexpected reply"); }

}  // namespace

Result<RedisReply> CheckRedisReply(RedisReply r, const std::string& what) {
  if (!r.is_error()) return r;
  const std::string& e = r.str;
  if (e.rfind("WRONGKIND ", 0) == 0) return Status::InvalidArgument("queue: " + e.substr(10));
  for (const char* transient : {"LOADING", "BUSY", "MASTERDOWN", "MISCONF", "READONLY", "OOM", "TRYAGAIN"}) {
    if (e.rfind(transient, 0) == 0) return Status::Unavailable("redis " + what + ": " + e);
  }
  return Status::Internal("redis " + what + ": " + e);
}

Result<std::optional<LeasedJob>> ParseLeaseReply(const RedisReply& r, JobKind kind, const std::string& token) {
  if (r.is_nil()) return std::optional<LeasedJob>();
  if (r.type != RedisReply::Type::kArray || r.elements.size() != 3 ||
      r.elements[0].type != RedisReply::Type::kString || r.elements[0].str.empty() ||
      r.elements[1].type != RedisReply::Type::kInteger || r.elements[1].integer < 1 ||
      r.elements[1].integer > INT_MAX || r.elements[2].type != RedisReply::Type::kInteger) {
    return Unexpected("lease");
  }
  // The wait in milliseconds; a clock that stepped back reads as no wait.
  const double waited_sec = static_cast<double>(std::max<int64_t>(0, r.elements[2].integer)) / 1000.0;
  return std::optional<LeasedJob>(
      LeasedJob{r.elements[0].str, kind, static_cast<int>(r.elements[1].integer), token, waited_sec});
}

Result<int64_t> ParseIntegerReply(const RedisReply& r, const std::string& what) {
  if (r.type != RedisReply::Type::kInteger) return Unexpected(what);
  return r.integer;
}

Result<QueueStats> ParseStatsReplies(const std::vector<RedisReply>& r) {
  if (r.size() != 4) return Unexpected("stats");
  for (int i = 0; i < 3; ++i) {
    if (r[i].type != RedisReply::Type::kInteger || r[i].integer < 0) return Unexpected("stats");
  }
  QueueStats s;
  s.retrying = r[1].integer;
  if (__builtin_add_overflow(r[0].integer, r[1].integer, &s.queued)) return Unexpected("stats");
  s.running = r[2].integer;
  if (!r[3].is_nil()) {
    // The dead count (a hash field kept by HINCRBY); a negative count reads
    // as none.
    if (r[3].type != RedisReply::Type::kString) return Unexpected("stats");
    int64_t dead = 0;
    const std::string& text = r[3].str;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), dead);
    if (ec != std::errc() || p != text.data() + text.size()) return Unexpected("stats");
    s.dead = std::max<int64_t>(0, dead);
  }
  return s;
}

Status ParseQueueAgeReply(const RedisReply& r, QueueStats* stats) {
  if (r.type != RedisReply::Type::kArray || r.elements.size() != 2) return Unexpected("queue age");
  for (const RedisReply& e : r.elements) {
    if (e.type != RedisReply::Type::kInteger) return Unexpected("queue age");
  }
  stats->oldest_wait_sec = static_cast<double>(std::max<int64_t>(0, r.elements[0].integer)) / 1000.0;
  stats->busy_workers = std::max<int64_t>(0, r.elements[1].integer);
  return Status::Ok();
}

Result<std::vector<std::string>> ParseDeadJobsReply(const RedisReply& r) {
  if (r.type != RedisReply::Type::kArray) return Unexpected("dead jobs");
  std::vector<std::string> ids;
  ids.reserve(r.elements.size());
  for (const RedisReply& e : r.elements) {
    if (e.type != RedisReply::Type::kString) return Unexpected("dead jobs");
    ids.push_back(e.str);
  }
  return ids;
}

}  // namespace sopilot
