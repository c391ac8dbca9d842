#include "video/decode_ahead.h"

#include <algorithm>

#include "base/exception_border.h"

namespace sopilot {

DecodeAhead::DecodeAhead(FrameSource source, int depth)
    : source_(std::move(source)), depth_(static_cast<size_t>(std::max(depth, 1))), thread_([this] { Run(); }) {}

DecodeAhead::~DecodeAhead() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void DecodeAhead::Run() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      changed_.wait(lock, [&] { return stopping_ || frames_.size() < depth_; });
      if (stopping_) return;
    }
    Result<FramePtr> next = Status::Internal("not called");
    try {
      next = source_();
    } catch (...) {
      next = StatusFromCurrentException("decoding");
    }
    bool done = true;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!next.ok()) {
        error_ = next.status();
        ended_ = true;
      } else if (*next == nullptr) {
        ended_ = true;
      } else {
        frames_.push_back(std::move(next).value());
        done = false;
      }
    }
    changed_.notify_all();
    if (done) return;
  }
}

Result<FramePtr> DecodeAhead::Next() {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait(lock, [&] { return !frames_.empty() || ended_; });
  if (frames_.empty()) {
    if (!error_.ok()) return error_;
    return FramePtr{};
  }
  FramePtr frame = std::move(frames_.front());
  frames_.pop_front();
  lock.unlock();
  changed_.notify_all();
  return frame;
}

}  // namespace sopilot
