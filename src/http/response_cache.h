// ResponseCache: bodies of GET responses that are costly to rebuild and
// cheap to keep: a finished score job (its result never changes) and the
// video listing (kept for a fraction of a second and dropped on every write
// through the API). Bounded; thread-safe.
#pragma once

#include <chrono>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace sopilot {

class ResponseCache {
 public:
  explicit ResponseCache(size_t max_entries = 1024) : max_entries_(max_entries) {}

  std::optional<std::string> Get(const std::string& key);
  // ttl_sec <= 0: kept until evicted or cleared.
  void Put(const std::string& key, std::string body, double ttl_sec);
  // Drops every entry whose key starts with `prefix` ("" drops all).
  void Invalidate(const std::string& prefix);

 private:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    std::string body;
    Clock::time_point expires;  // max() when immortal
    std::list<std::string>::iterator lru;
  };
  std::mutex mu_;
  size_t max_entries_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> lru_;  // most recent first
};

}  // namespace sopilot
