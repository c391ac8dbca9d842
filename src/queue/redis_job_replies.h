// What the Redis queue's scripts and commands answer, turned into the
// queue's structures. Pure functions of the replies, so that tests and the
// fuzzer can hand them anything a server (or a corrupted stream) could send;
// a reply of an unexpected shape is Internal, never a made-up job.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "queue/job_queue.h"
#include "queue/redis_client.h"

namespace sopilot {

// Error replies: a script's own refusal (WRONGKIND) is the caller's mistake
// (InvalidArgument); a server that is loading its data, out of memory
// (noeviction) or read-only is an outage (Unavailable); anything else is a
// bug (Internal). Other replies pass through.
Result<RedisReply> CheckRedisReply(RedisReply reply, const std::string& what);

// The lease scripts' answer: nil (no job) or {id, attempt, waited_ms}, with
// a non-empty id and an attempt >= 1.
Result<std::optional<LeasedJob>> ParseLeaseReply(const RedisReply& reply, JobKind kind, const std::string& token);

// An integer reply (the scripts' 1 / 0 / -1, counts).
Result<int64_t> ParseIntegerReply(const RedisReply& reply, const std::string& what);

// Stats' pipeline: LLEN ready, ZCARD delayed, ZCARD leased, HGET dead count.
Result<QueueStats> ParseStatsReplies(const std::vector<RedisReply>& replies);

// The queue-age script's {oldest_wait_ms, busy_workers}, into `stats`.
Status ParseQueueAgeReply(const RedisReply& reply, QueueStats* stats);

// The dead-jobs script's array of ids.
Result<std::vector<std::string>> ParseDeadJobsReply(const RedisReply& reply);

}  // namespace sopilot
