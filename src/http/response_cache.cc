#include "http/response_cache.h"

namespace sopilot {

std::optional<std::string> ResponseCache::Get(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  if (it->second.expires_us != kImmortal && env_->NowMicros() >= it->second.expires_us) {
    lru_.erase(it->second.lru);
    entries_.erase(it);
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return it->second.body;
}

void ResponseCache::Put(const std::string& key, std::string body, double ttl_sec) {
  std::lock_guard<std::mutex> l(mu_);
  const uint64_t expires = ttl_sec > 0 ? env_->NowMicros() + static_cast<uint64_t>(ttl_sec * 1e6) : kImmortal;
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    it->second.body = std::move(body);
    it->second.expires_us = expires;
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return;
  }
  lru_.push_front(key);
  entries_[key] = Entry{std::move(body), expires, lru_.begin()};
  while (entries_.size() > max_entries_) {
    entries_.erase(lru_.back());
    lru_.pop_back();
  }
}

void ResponseCache::Invalidate(const std::string& prefix) {
  std::lock_guard<std::mutex> l(mu_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->first.compare(0, prefix.size(), prefix) == 0) {
      lru_.erase(it->second.lru);
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace sopilot
