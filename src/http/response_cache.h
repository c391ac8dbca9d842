// ResponseCache: bodies of GET responses that are costly to rebuild and
// cheap to keep: a finished score job (its result never changes) and the
// video listing (kept for a fraction of a second and dropped on every write
// through the API). Bounded; thread-safe.
#pragma once

#include <cstdint>
#include <limits>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "base/env.h"

namespace sopilot {

class ResponseCache {
 public:
  // Time-to-live is measured on `env`'s monotonic clock (tests move it).
  explicit ResponseCache(size_t max_entries = 1024, Env* env = Env::Default())
      : max_entries_(max_entries), env_(env) {}

  std::optional<std::string> Get(const std::string& key);
  // ttl_sec <= 0: kept until evicted or cleared.
  void Put(const std::string& key, std::string body, double ttl_sec);
  // Drops every entry whose key starts with `prefix` ("" drops all).
  void Invalidate(const std::string& prefix);

 private:
  static constexpr uint64_t kImmortal = std::numeric_limits<uint64_t>::max();
  struct Entry {
    std::string body;
    uint64_t expires_us;  // on env_->NowMicros(); kImmortal when kept until evicted
    std::list<std::string>::iterator lru;
  };
  std::mutex mu_;
  size_t max_entries_;
  Env* env_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> lru_;  // most recent first
};

}  // namespace sopilot
