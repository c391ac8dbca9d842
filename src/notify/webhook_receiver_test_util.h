// A webhook receiver for tests: a real HTTP server (cpp-httplib) on a
// loopback port that records every request and answers with the statuses
// the test queued (200 once they run out), or holds requests unanswered
// until released.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sopilot::testing {

struct ReceivedWebhook {
  std::string path, body;
  std::map<std::string, std::string> headers;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

class WebhookReceiver {
 public:
  WebhookReceiver() {
    server_.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      ReceivedWebhook got{req.path, req.body, {}};
      for (const auto& [k, v] : req.headers) got.headers[k] = v;
      int status = 200;
      {
        std::unique_lock<std::mutex> l(mu_);
        requests_.push_back(got);
        cv_.notify_all();
        if (!statuses_.empty()) {
          status = statuses_.front();
          statuses_.pop_front();
        }
        // Held: never answered until released (or the server stops).
        cv_.wait(l, [&] { return !hold_ || stopping_; });
      }
      res.status = status;
      res.set_content("{}", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~WebhookReceiver() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    server_.stop();
    thread_.join();
  }
  std::string url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  // The next requests get these statuses, in order.
  void Answer(std::vector<int> statuses) {
    std::lock_guard<std::mutex> l(mu_);
    statuses_.insert(statuses_.end(), statuses.begin(), statuses.end());
  }
  void Hold(bool on) {
    {
      std::lock_guard<std::mutex> l(mu_);
      hold_ = on;
    }
    cv_.notify_all();
  }
  std::vector<ReceivedWebhook> requests() {
    std::lock_guard<std::mutex> l(mu_);
    return requests_;
  }
  // Waits (state, generous deadline) until `n` requests have arrived.
  bool WaitFor(size_t n, double seconds = 60) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, std::chrono::duration<double>(seconds), [&] { return requests_.size() >= n; });
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<ReceivedWebhook> requests_;
  std::deque<int> statuses_;
  bool hold_ = false;
  bool stopping_ = false;
};

}  // namespace sopilot::testing
