// The Redis job queue: the reliable-queue pattern with leases, in Lua.
//
// Keys (P = the prefix, K = ingest | score | training):
//   P_K              LIST  ready job ids; LPUSH to enqueue, RPOP to lease (FIFO)
//   P_K:delayed      ZSET  id -> time it may run again (retry backoff)
//   P_K:leased       ZSET  id -> time its lease runs out
//   P_dead           ZSET  id -> time of death, every kind (the kind is in the job)
//   P_dead:counts    HASH  K -> number of dead jobs of kind K
//   P:job:<id>       HASH  kind, state (ready|delayed|leased|dead), attempts,
//                          owner, token, last_error, died_at, ready_at (when
//                          it last became ready: enqueue, end of backoff,
//                          requeue, recovery of an expired lease)
//   P:workers:K      ZSET  worker id -> time its heartbeat runs out
//
// Every change of state is one Lua script, so it is atomic: a job is in
// exactly one of the ready list, the delayed set, the leased set or the dead
// set, and its hash says which. A lease is proven by its token: a worker
// whose lease ran out and was handed to another cannot extend, ack or fail
// the job any more. Leases use Redis's clock (TIME), not the caller's.
//
// With appendonly yes (monitoring/redis.conf) every acknowledged write is in
// the AOF before the reply, so a Redis crash loses no accepted job.
//
// Redis Cluster is not supported: the scripts derive job keys from ids.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>
#include <unistd.h>

#include "queue/job_queue.h"
#include "queue/redis_client.h"
#include "queue/redis_job_replies.h"

namespace sopilot {

namespace {

// The current time on Redis's clock, in seconds.
#define NOW_LUA "local t = redis.call('TIME') local now = tonumber(t[1]) + tonumber(t[2]) / 1e6 "

// KEYS: ready, job, dead, deadcounts. ARGV: id, kind.
const RedisScript kEnqueue(NOW_LUA R"lua(
local job = redis.call('HMGET', KEYS[2], 'state', 'kind')
if job[1] then
  if job[2] ~= ARGV[2] then
    return redis.error_reply('WRONGKIND job ' .. ARGV[1] .. ' is already queued as ' .. tostring(job[2]))
  end
  if job[1] ~= 'dead' then return 0 end
  redis.call('ZREM', KEYS[3], ARGV[1])
  redis.call('HINCRBY', KEYS[4], job[2], -1)
  redis.call('DEL', KEYS[2])
end
redis.call('HSET', KEYS[2], 'kind', ARGV[2], 'state', 'ready', 'attempts', 0, 'ready_at', now)
redis.call('LPUSH', KEYS[1], ARGV[1])
return 1
)lua");

// KEYS: ready, delayed, leased, dead, deadcounts.
// ARGV: job key prefix, kind, owner, lease_sec, max_attempts, token.
// Returns {id, attempt, milliseconds it waited since ready} or nil.
constexpr char kLeaseLua[] = R"lua(
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'WITHSCORES', 'LIMIT', 0, 100)
for i = 1, #due, 2 do
  local id = due[i]
  redis.call('ZREM', KEYS[2], id)
  -- Ready since its backoff ended, not since this lease looked.
  redis.call('HSET', ARGV[1] .. id, 'state', 'ready', 'ready_at', due[i + 1])
  redis.call('LPUSH', KEYS[1], id)
end
local max = tonumber(ARGV[5])
while true do
  local id = redis.call('RPOP', KEYS[1])
  if not id then return false end
  local key = ARGV[1] .. id
  local job = redis.call('HMGET', key, 'attempts', 'state', 'ready_at')
  local attempts = tonumber(job[1])
  -- An id whose job is not 'ready' (cannot happen unless keys were edited
  -- by hand) is dropped rather than leased twice.
  if attempts and job[2] == 'ready' then
    if attempts >= max then
      -- No attempts left (a queue opened with a lower max_attempts): dead.
      redis.call('HSET', key, 'state', 'dead', 'died_at', now)
      if not redis.call('HGET', key, 'last_error') then redis.call('HSET', key, 'last_error', 'no attempts left') end
      redis.call('ZADD', KEYS[4], now, id)
      redis.call('HINCRBY', KEYS[5], ARGV[2], 1)
    else
      attempts = attempts + 1
      redis.call('HSET', key, 'state', 'leased', 'attempts', attempts, 'owner', ARGV[3], 'token', ARGV[6])
      redis.call('ZADD', KEYS[3], now + tonumber(ARGV[4]), id)
      local waited = now - (tonumber(job[3]) or now)
      return {id, attempts, math.floor(math.max(0, waited) * 1000)}
    end
  end
end
)lua";
const RedisScript kLease(std::string(NOW_LUA) + kLeaseLua);

// Ack of one job and lease of the next in one round trip (a worker's loop).
// KEYS, ARGV: as kLease, then KEYS[6] the done job's leased set, KEYS[7]
// its hash, ARGV[7] its id, ARGV[8] its token. A lost lease is not acked
// (as kAck) and does not stop the lease.
const RedisScript kAckAndLease(R"lua(
local done = redis.call('HMGET', KEYS[7], 'token', 'state')
if done[1] == ARGV[8] and done[2] == 'leased' then
  redis.call('ZREM', KEYS[6], ARGV[7])
  redis.call('DEL', KEYS[7])
end
)lua" NOW_LUA + std::string(kLeaseLua));

// KEYS: leased, job. ARGV: id, token, lease_sec. 1, or 0 when the lease is lost.
const RedisScript kExtend(R"lua(
local job = redis.call('HMGET', KEYS[2], 'token', 'state')
if job[1] ~= ARGV[2] or job[2] ~= 'leased' then return 0 end
)lua" NOW_LUA R"lua(
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
return 1
)lua");

// KEYS: leased, job. ARGV: id, token. 1, or 0 when the lease is lost.
const RedisScript kAck(R"lua(
local job = redis.call('HMGET', KEYS[2], 'token', 'state')
if job[1] ~= ARGV[2] or job[2] ~= 'leased' then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return 1
)lua");

// KEYS: leased, delayed, dead, deadcounts, job.
// ARGV: id, token, error, max_attempts, retry delay, kind.
// 1 = retry after the delay, 0 = dead, -1 = lease lost.
const RedisScript kFail(R"lua(
local job = redis.call('HMGET', KEYS[5], 'token', 'state')
if job[1] ~= ARGV[2] or job[2] ~= 'leased' then return -1 end
)lua" NOW_LUA R"lua(
local attempts = tonumber(redis.call('HGET', KEYS[5], 'attempts'))
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[5], 'token', 'owner')
redis.call('HSET', KEYS[5], 'last_error', ARGV[3])
if attempts < tonumber(ARGV[4]) then
  redis.call('HSET', KEYS[5], 'state', 'delayed')
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[5]), ARGV[1])
  return 1
end
redis.call('HSET', KEYS[5], 'state', 'dead', 'died_at', now)
redis.call('ZADD', KEYS[3], now, ARGV[1])
redis.call('HINCRBY', KEYS[4], ARGV[6], 1)
return 0
)lua");

// KEYS: leased, ready, dead, deadcounts. ARGV: job key prefix, max_attempts, kind.
// Expired leases go back to the front of the ready list (or die when that
// was the last attempt: the job may be what kills its workers).
const RedisScript kRecover(NOW_LUA R"lua(
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 1000)
local max = tonumber(ARGV[2])
for _, id in ipairs(expired) do
  local key = ARGV[1] .. id
  redis.call('ZREM', KEYS[1], id)
  if redis.call('HGET', key, 'state') == 'leased' then
    local attempts = tonumber(redis.call('HGET', key, 'attempts') or '0')
    local owner = redis.call('HGET', key, 'owner') or '?'
    redis.call('HDEL', key, 'token', 'owner')
    redis.call('HSET', key, 'last_error', 'lease of ' .. owner .. ' expired on attempt ' .. attempts)
    if attempts >= max then
      redis.call('HSET', key, 'state', 'dead', 'died_at', now)
      redis.call('ZADD', KEYS[3], now, id)
      redis.call('HINCRBY', KEYS[4], ARGV[3], 1)
    else
      redis.call('HSET', key, 'state', 'ready', 'ready_at', now)
      redis.call('RPUSH', KEYS[2], id)
    end
  end
end
return #expired
)lua");

// KEYS: dead, deadcounts. ARGV: job key prefix, max age in seconds.
// Dead jobs are kept a week (the job rows in SQLite keep their history).
const RedisScript kTrimDead(NOW_LUA R"lua(
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]), 'LIMIT', 0, 1000)
for _, id in ipairs(old) do
  local kind = redis.call('HGET', ARGV[1] .. id, 'kind')
  if kind then redis.call('HINCRBY', KEYS[2], kind, -1) end
  redis.call('DEL', ARGV[1] .. id)
  redis.call('ZREM', KEYS[1], id)
end
return #old
)lua");

// KEYS: dead. ARGV: job key prefix, kind, limit. Oldest death first.
const RedisScript kDeadJobs(R"lua(
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local out = {}
for _, id in ipairs(ids) do
  if redis.call('HGET', ARGV[1] .. id, 'kind') == ARGV[2] then
    out[#out + 1] = id
    if #out >= tonumber(ARGV[3]) then break end
  end
end
return out
)lua");

// KEYS: dead, deadcounts, job, ready. ARGV: id, kind. 1, or 0 when not dead.
const RedisScript kRequeue(NOW_LUA R"lua(
if redis.call('HGET', KEYS[3], 'kind') ~= ARGV[2] or redis.call('HGET', KEYS[3], 'state') ~= 'dead' then
  return 0
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HINCRBY', KEYS[2], ARGV[2], -1)
redis.call('HSET', KEYS[3], 'state', 'ready', 'attempts', 0, 'ready_at', now)
redis.call('HDEL', KEYS[3], 'last_error', 'died_at')
redis.call('LPUSH', KEYS[4], ARGV[1])
return 1
)lua");

// KEYS: one workers set per kind served. ARGV: worker id, ttl_sec.
const RedisScript kHeartbeat(NOW_LUA R"lua(
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + tonumber(ARGV[2]), ARGV[1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
end
return 1
)lua");

// KEYS: the workers set of one kind. Workers whose heartbeat has not run out.
const RedisScript kActiveWorkers(NOW_LUA R"lua(
return redis.call('ZCOUNT', KEYS[1], now, '+inf')
)lua");

// KEYS: ready, delayed, leased. ARGV: job key prefix.
// {milliseconds the oldest runnable job has waited, distinct lease owners}.
// The list is FIFO from its right end except for recovered leases, which are
// pushed there too; the 16 jobs next to run hold the oldest but in
// pathological cases (more than 15 recoveries queued ahead of it).
const RedisScript kQueueAge(NOW_LUA R"lua(
local oldest = now
for _, id in ipairs(redis.call('LRANGE', KEYS[1], -16, -1)) do
  local at = tonumber(redis.call('HGET', ARGV[1] .. id, 'ready_at'))
  if at and at < oldest then oldest = at end
end
-- A backoff that has ended but whose job no lease has moved yet.
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'WITHSCORES', 'LIMIT', 0, 1)
if due[2] and tonumber(due[2]) < oldest then oldest = tonumber(due[2]) end
local owners, busy = {}, 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[3], 0, 999)) do
  local owner = redis.call('HGET', ARGV[1] .. id, 'owner')
  if owner and not owners[owner] then owners[owner] = true busy = busy + 1 end
end
return {math.floor((now - oldest) * 1000), busy}
)lua");

#undef NOW_LUA

constexpr double kDeadTtlSec = 7 * 24 * 3600;

// 128 random bits as hex, from a generator per thread seeded by the kernel
// (std::random_device per token cost a system call each).
std::string NewLeaseToken() {
  thread_local std::mt19937_64 gen = [] {
    std::random_device rd;
    std::seed_seq seed{rd(), rd(), rd(), rd(), static_cast<unsigned>(getpid())};
    return std::mt19937_64(seed);
  }();
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx", static_cast<unsigned long long>(gen()),
                static_cast<unsigned long long>(gen()));
  return std::string(buf, 32);
}

class RedisJobQueue : public JobQueue {
 public:
  RedisJobQueue(RedisUrl url, std::string prefix, const QueueOptions& options,
                std::function<void(const std::string&)> on_error)
      : client_(std::move(url), RedisClientOptions(), std::move(on_error)),
        prefix_(std::move(prefix)),
        options_(options) {}

  std::string backend() const override { return "redis"; }
  std::string QueueName(JobKind kind) const override { return prefix_ + "_" + JobKindName(kind); }

  Status Enqueue(JobKind kind, const std::string& job_id) override {
    if (job_id.empty()) return Status::InvalidArgument("queue: empty job id");
    return Run(kEnqueue, {Ready(kind), JobKey(job_id), Dead(), DeadCounts()}, {job_id, JobKindName(kind)}, "enqueue")
        .status();
  }

  Result<std::optional<LeasedJob>> Lease(const std::vector<JobKind>& kinds, const std::string& worker_id,
                                         double lease_sec, double wait_sec) override {
    if (kinds.empty()) return Status::InvalidArgument("queue: lease of no job kinds");
    if (!(lease_sec > 0)) return Status::InvalidArgument("queue: lease time must be positive");
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                              std::chrono::duration<double>(std::max(0.0, wait_sec)));
    // Nothing signals a waiting worker across processes, so an empty queue
    // is polled, a little less often each time (5 ms up to 100 ms): a busy
    // queue is never slowed, an idle one costs a few commands a second.
    auto pause = std::chrono::milliseconds(5);
    for (;;) {
      for (JobKind kind : kinds) {
        std::string token = NewLeaseToken();
        SOPILOT_ASSIGN_OR_RETURN(
            RedisReply r, Run(kLease, {Ready(kind), Delayed(kind), Leased(kind), Dead(), DeadCounts()},
                              {JobPrefix(), JobKindName(kind), worker_id, Num(lease_sec),
                               std::to_string(options_.max_attempts), token},
                              "lease"));
        SOPILOT_ASSIGN_OR_RETURN(std::optional<LeasedJob> job, ParseLeaseReply(r, kind, token));
        if (job) return job;
      }
      auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return std::optional<LeasedJob>();
      std::this_thread::sleep_until(std::min(deadline, now + pause));
      pause = std::min(pause * 2, std::chrono::milliseconds(100));
    }
  }

  Result<std::optional<LeasedJob>> AckAndLease(const LeasedJob& done, const std::vector<JobKind>& kinds,
                                               const std::string& worker_id, double lease_sec) override {
    if (kinds.empty()) return Status::InvalidArgument("queue: lease of no job kinds");
    if (!(lease_sec > 0)) return Status::InvalidArgument("queue: lease time must be positive");
    const JobKind first = kinds[0];
    std::string token = NewLeaseToken();
    SOPILOT_ASSIGN_OR_RETURN(
        RedisReply r, Run(kAckAndLease,
                          {Ready(first), Delayed(first), Leased(first), Dead(), DeadCounts(), Leased(done.kind),
                           JobKey(done.job_id)},
                          {JobPrefix(), JobKindName(first), worker_id, Num(lease_sec),
                           std::to_string(options_.max_attempts), token, done.job_id, done.lease_token},
                          "ack and lease"));
    SOPILOT_ASSIGN_OR_RETURN(std::optional<LeasedJob> job, ParseLeaseReply(r, first, token));
    if (job || kinds.size() == 1) return job;
    return Lease(std::vector<JobKind>(kinds.begin() + 1, kinds.end()), worker_id, lease_sec, 0);
  }

  Status Extend(const LeasedJob& job, double lease_sec) override {
    if (!(lease_sec > 0)) return Status::InvalidArgument("queue: lease time must be positive");
    SOPILOT_ASSIGN_OR_RETURN(RedisReply r, Run(kExtend, {Leased(job.kind), JobKey(job.job_id)},
                                               {job.job_id, job.lease_token, Num(lease_sec)}, "extend"));
    SOPILOT_ASSIGN_OR_RETURN(int64_t extended, ParseIntegerReply(r, "extend"));
    return extended == 1 ? Status::Ok() : LeaseLost(job);
  }

  Status Ack(const LeasedJob& job) override {
    SOPILOT_ASSIGN_OR_RETURN(RedisReply r,
                             Run(kAck, {Leased(job.kind), JobKey(job.job_id)}, {job.job_id, job.lease_token}, "ack"));
    SOPILOT_ASSIGN_OR_RETURN(int64_t acked, ParseIntegerReply(r, "ack"));
    return acked == 1 ? Status::Ok() : LeaseLost(job);
  }

  Result<bool> Fail(const LeasedJob& job, const std::string& error) override {
    return FailWithin(job, error, options_.max_attempts);
  }

  Status Bury(const LeasedJob& job, const std::string& error) override {
    return FailWithin(job, error, /*max_attempts=*/0).status();
  }

  // Fail() with `max_attempts` in place of the queue's: 0 buries the job.
  Result<bool> FailWithin(const LeasedJob& job, const std::string& error, int max_attempts) {
    SOPILOT_ASSIGN_OR_RETURN(
        RedisReply r,
        Run(kFail, {Leased(job.kind), Delayed(job.kind), Dead(), DeadCounts(), JobKey(job.job_id)},
            {job.job_id, job.lease_token, error, std::to_string(max_attempts),
             Num(RetryDelaySeconds(options_, job.attempt)), JobKindName(job.kind)},
            "fail"));
    SOPILOT_ASSIGN_OR_RETURN(int64_t outcome, ParseIntegerReply(r, "fail"));
    if (outcome < 0) return LeaseLost(job);
    return outcome == 1;
  }

  Result<ExpiredLeases> RecoverExpired() override {
    ExpiredLeases expired;
    for (JobKind kind : kAllJobKinds) {
      SOPILOT_ASSIGN_OR_RETURN(RedisReply r,
                               Run(kRecover, {Leased(kind), Ready(kind), Dead(), DeadCounts()},
                                   {JobPrefix(), std::to_string(options_.max_attempts), JobKindName(kind)}, "recover"));
      SOPILOT_ASSIGN_OR_RETURN(int64_t recovered, ParseIntegerReply(r, "recover"));
      const int n = static_cast<int>(std::clamp<int64_t>(recovered, 0, 1000));
      expired.by_kind[static_cast<int>(kind)] = n;
      expired.total += n;
    }
    SOPILOT_RETURN_IF_ERROR(Run(kTrimDead, {Dead(), DeadCounts()}, {JobPrefix(), Num(kDeadTtlSec)}, "trim dead").status());
    return expired;
  }

  Status Heartbeat(const std::string& worker_id, const std::vector<JobKind>& kinds, double ttl_sec) override {
    if (kinds.empty()) return Status::Ok();
    std::vector<std::string> keys;
    for (JobKind k : kinds) keys.push_back(Workers(k));
    return Run(kHeartbeat, keys, {worker_id, Num(ttl_sec)}, "heartbeat").status();
  }

  Status RemoveWorker(const std::string& worker_id) override {
    std::vector<std::vector<std::string>> cmds;
    for (JobKind k : kAllJobKinds) cmds.push_back({"ZREM", Workers(k), worker_id});
    return client_.Pipeline(cmds).status();
  }

  Result<int64_t> ActiveWorkers(JobKind kind) override {
    SOPILOT_ASSIGN_OR_RETURN(RedisReply r, Run(kActiveWorkers, {Workers(kind)}, {}, "active workers"));
    return ParseIntegerReply(r, "active workers");
  }

  Status Ping() override {
    SOPILOT_ASSIGN_OR_RETURN(RedisReply r, client_.Command({"PING"}));
    return CheckRedisReply(r, "ping").status();
  }

  Result<QueueStats> Stats(JobKind kind) override {
    SOPILOT_ASSIGN_OR_RETURN(std::vector<RedisReply> r,
                             client_.Pipeline({{"LLEN", Ready(kind)},
                                               {"ZCARD", Delayed(kind)},
                                               {"ZCARD", Leased(kind)},
                                               {"HGET", DeadCounts(), JobKindName(kind)}}));
    for (const RedisReply& x : r) SOPILOT_RETURN_IF_ERROR(CheckRedisReply(x, "stats").status());
    SOPILOT_ASSIGN_OR_RETURN(QueueStats stats, ParseStatsReplies(r));
    SOPILOT_ASSIGN_OR_RETURN(RedisReply age, Run(kQueueAge, {Ready(kind), Delayed(kind), Leased(kind)}, {JobPrefix()},
                                                 "queue age"));
    SOPILOT_RETURN_IF_ERROR(ParseQueueAgeReply(age, &stats));
    return stats;
  }

  Result<std::vector<std::string>> DeadJobs(JobKind kind, int limit) override {
    SOPILOT_ASSIGN_OR_RETURN(
        RedisReply r,
        Run(kDeadJobs, {Dead()}, {JobPrefix(), JobKindName(kind), std::to_string(std::clamp(limit, 1, 10000))},
            "dead jobs"));
    return ParseDeadJobsReply(r);
  }

  Status Requeue(JobKind kind, const std::string& job_id) override {
    SOPILOT_ASSIGN_OR_RETURN(RedisReply r, Run(kRequeue, {Dead(), DeadCounts(), JobKey(job_id), Ready(kind)},
                                               {job_id, JobKindName(kind)}, "requeue"));
    SOPILOT_ASSIGN_OR_RETURN(int64_t requeued, ParseIntegerReply(r, "requeue"));
    if (requeued != 1) return Status::NotFound("queue: no dead " + std::string(JobKindName(kind)) + " job " + job_id);
    return Status::Ok();
  }

 private:
  std::string Ready(JobKind k) const { return prefix_ + "_" + JobKindName(k); }
  std::string Delayed(JobKind k) const { return Ready(k) + ":delayed"; }
  std::string Leased(JobKind k) const { return Ready(k) + ":leased"; }
  std::string Workers(JobKind k) const { return prefix_ + ":workers:" + JobKindName(k); }
  std::string Dead() const { return prefix_ + "_dead"; }
  std::string DeadCounts() const { return prefix_ + "_dead:counts"; }
  std::string JobPrefix() const { return prefix_ + ":job:"; }
  std::string JobKey(const std::string& id) const { return JobPrefix() + id; }
  static std::string Num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6f", v);
    return buf;
  }

  static Status LeaseLost(const LeasedJob& job) {
    return Status::NotFound("queue: job " + job.job_id + ": lease lost (expired and handed out again, or done)");
  }

  Result<RedisReply> Run(const RedisScript& script, const std::vector<std::string>& keys,
                         const std::vector<std::string>& args, const std::string& what) {
    SOPILOT_ASSIGN_OR_RETURN(RedisReply r, client_.Eval(script, keys, args));
    return CheckRedisReply(std::move(r), what);
  }

  RedisClient client_;
  const std::string prefix_;
  const QueueOptions options_;
};

}  // namespace

Result<std::unique_ptr<JobQueue>> OpenRedisJobQueue(const std::string& url, const std::string& prefix,
                                                    const QueueOptions& options,
                                                    std::function<void(const std::string&)> on_connection_error) {
  if (options.max_attempts < 1) return Status::InvalidArgument("queue: max_attempts must be at least 1");
  if (prefix.empty()) return Status::InvalidArgument("queue: the Redis key prefix must not be empty");
  SOPILOT_ASSIGN_OR_RETURN(RedisUrl parsed, ParseRedisUrl(url));
  return std::unique_ptr<JobQueue>(
      std::make_unique<RedisJobQueue>(std::move(parsed), prefix, options, std::move(on_connection_error)));
}

}  // namespace sopilot
