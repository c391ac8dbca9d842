// Redis replies as our client receives them: RESP bytes through hiredis's
// reader and our conversion into RedisReply (ParseRedisReplies), then every
// parser the Redis queue applies to a script's or command's reply
// (queue/redis_job_replies.h).
//
// hiredis 0.14 (Debian) allocates an array of the announced length before
// its elements arrive ("*2000000000\r\n" asks calloc for 16 GB) and has no
// limit to set; a Redis server we connect to is trusted not to, so inputs
// announcing arrays or strings over 1 MiB (or negative lengths other than
// the nil -1) are skipped here rather than reported as hiredis's OOM.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "queue/redis_client.h"
#include "queue/redis_job_replies.h"

namespace {

bool AnnouncesHugeLength(std::string_view in) {
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '*' && in[i] != '$') continue;
    size_t j = i + 1;
    bool negative = j < in.size() && in[j] == '-';
    if (negative) ++j;
    size_t digits = 0;
    uint64_t v = 0;
    while (j < in.size() && std::isdigit(static_cast<unsigned char>(in[j]))) {
      if (++digits > 9) return true;
      v = v * 10 + static_cast<uint64_t>(in[j] - '0');
      ++j;
    }
    if (negative ? (digits > 0 && v != 1) : v > (1u << 20)) return true;
  }
  return false;
}

void Exercise(const sopilot::RedisReply& r) {
  (void)sopilot::CheckRedisReply(r, "fuzz");
  (void)sopilot::ParseLeaseReply(r, sopilot::JobKind::kScore, "token");
  (void)sopilot::ParseIntegerReply(r, "fuzz");
  (void)sopilot::ParseDeadJobsReply(r);
  sopilot::QueueStats stats;
  (void)sopilot::ParseQueueAgeReply(r, &stats);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (AnnouncesHugeLength(in)) return 0;
  auto replies = sopilot::ParseRedisReplies(in);
  if (!replies.ok()) return 0;
  for (const sopilot::RedisReply& r : *replies) {
    Exercise(r);
    for (const sopilot::RedisReply& e : r.elements) Exercise(e);
  }
  // Stats reads a pipeline of four replies.
  for (size_t i = 0; i + 4 <= replies->size(); i += 4) {
    std::vector<sopilot::RedisReply> four(replies->begin() + i, replies->begin() + i + 4);
    (void)sopilot::ParseStatsReplies(four);
  }
  return 0;
}
