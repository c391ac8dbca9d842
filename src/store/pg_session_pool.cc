#include "store/pg_session_pool.h"

#include <algorithm>
#include <utility>

namespace sopilot::store_detail {

PgSessionPool::PgSessionPool(std::string url, PgPoolOptions options)
    : url_(std::move(url)), options_(options) {}

PgSessionPool::Lease::~Lease() {
  if (session_) pool_->GiveBack(std::move(session_));
}

Result<PgSessionPool::Lease> PgSessionPool::Acquire() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    returned_.wait(lock, [&] { return !idle_.empty() || open_ < std::max(1, options_.max_sessions); });
    if (!idle_.empty()) {
      std::unique_ptr<PgSession> session = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(session));
    }
    ++open_;  // this slot is ours while we connect, outside the lock
  }
  auto session = std::make_unique<PgSession>();
  session->set_lock_waits(options_.lock_waits);
  Status st = session->Connect(url_, options_.lock_timeout_ms);
  if (!st.ok()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      --open_;
    }
    returned_.notify_one();
    return st;
  }
  return Lease(this, std::move(session));
}

int PgSessionPool::open_sessions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_;
}

void PgSessionPool::GiveBack(std::unique_ptr<PgSession> session) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(std::move(session));
  }
  returned_.notify_one();
}

}  // namespace sopilot::store_detail
