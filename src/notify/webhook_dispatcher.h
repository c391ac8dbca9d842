// WebhookDispatcher: sends the webhook outbox (store/webhooks.cc) to the
// receivers, on threads of its own.
//
// Why a durable outbox rather than an in-memory queue: a score job ends in
// whichever process runs it (`sopilot serve`, or a `sopilot worker` on
// another host), and an API process may end one too (the reconciler buries
// a job whose worker died). The database writes the event (a trigger) in
// the transaction that ends the job, so the event exists exactly when the
// end does, whatever process or code path wrote it, and survives restarts;
// any process's dispatcher may send it. A worker thread does nothing for a
// webhook but that row and a Wake(): a receiver that is slow, down or never
// answers costs the dispatcher's threads, never a worker's.
//
// Delivery is at least once: a delivery is leased (store) while it is sent,
// so two processes never send it at the same time, but a process that dies
// after the receiver took it and before recording that sends it again after
// the lease. Receivers deduplicate by X-SOPilot-Delivery (the same on every
// attempt, with the same body).
//
// Each attempt: the target is resolved now (the task's webhook, else the
// global SOPILOT_WEBHOOK_URL; neither: the delivery is `skipped`); the body
// is built at the first attempt from the job's row and kept; the request
// carries X-SOPilot-Event, X-SOPilot-Delivery and, when a secret is set (the
// task's, else SOPILOT_WEBHOOK_SECRET), X-SOPilot-Signature: sha256=<hex
// HMAC-SHA256 of the raw body>. A 2xx is delivered. Anything else (another
// status, a refused connection, a timeout) is retried after backoff_sec,
// doubling (at most an hour), until max_attempts attempts were made; then
// the delivery is `failed` and stays listed. Due times are on the Env's
// clock (NowUnixSeconds), so tests move time instead of sleeping.
//
// Threads: Start() runs `threads` delivery threads; each takes one due
// delivery at a time, and waits poll_sec (or a Wake()) when none is due.
// Stop() cancels requests in flight (within about 100 ms) and joins. Every
// method is thread-safe. No exception leaves a thread: a failed round is
// logged and the thread carries on.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/env.h"
#include "base/status.h"
#include "store/metadata_store.h"

namespace sopilot {

struct WebhookOptions {
  std::string global_url;     // SOPILOT_WEBHOOK_URL ("" = none: only tasks' own webhooks)
  std::string global_secret;  // SOPILOT_WEBHOOK_SECRET ("" = unsigned unless the task has one)
  int max_attempts = 5;       // SOPILOT_WEBHOOK_MAX_ATTEMPTS (1-20)
  double backoff_sec = 10;    // SOPILOT_WEBHOOK_BACKOFF_SEC: 10, 20, 40, 80 s... (at most 3600)
  double timeout_sec = 10;    // SOPILOT_WEBHOOK_TIMEOUT_SEC: each of resolve, connect, send, receive
  int threads = 2;            // SOPILOT_WEBHOOK_THREADS (1-16)
  double poll_sec = 1;        // how often the outbox is checked for rows other processes wrote
};

// Checks the options (ranges, a parsable global URL); every problem listed.
Status ValidateWebhookOptions(const WebhookOptions& options);

class WebhookDispatcher {
 public:
  // `store` and `env` outlive the dispatcher.
  WebhookDispatcher(MetadataStore* store, Env* env, WebhookOptions options);
  ~WebhookDispatcher();
  WebhookDispatcher(const WebhookDispatcher&) = delete;
  WebhookDispatcher& operator=(const WebhookDispatcher&) = delete;

  void Start();
  void Stop();
  // A delivery may be due now (a score ended in this process).
  void Wake();

  // One round on the calling thread: takes one due delivery, attempts it and
  // records the outcome. False when none was due. (The threads call it; a
  // test without threads calls it directly.)
  Result<bool> DeliverOneDue();

  // The body of a delivery of `event` for `job` (exposed for tests).
  static std::string Payload(const JobRow& job, const std::string& event, const std::string& delivery_id);

 private:
  Result<bool> DeliverOneDue(const std::string& holder);
  void Loop(int index);

  MetadataStore* store_;
  Env* env_;
  const WebhookOptions options_;
  const std::string holder_prefix_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t wakes_ = 0;  // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace sopilot
