#include "notify/webhook_dispatcher.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "base/digest.h"
#include "base/exception_border.h"
#include "base/json_text.h"
#include "base/log.h"
#include "notify/webhook_client.h"

namespace sopilot {

namespace {

constexpr double kMaxBackoffSec = 3600;
// Finished deliveries are kept this long for GET /score/{id}/webhooks.
constexpr double kKeepFinishedSec = 30 * 86400.0;
constexpr double kPruneEverySec = 3600;

std::string HolderPrefix() {
  char host[64] = {0};
  gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(getpid()) + ":webhook";
}

}  // namespace

Status ValidateWebhookOptions(const WebhookOptions& o) {
  std::string errors;
  auto check = [&](bool ok, const std::string& e) {
    if (!ok) errors += (errors.empty() ? "" : "\n") + e;
  };
  if (!o.global_url.empty()) {
    auto url = ParseWebhookUrl(o.global_url);
    check(url.ok(), "SOPILOT_WEBHOOK_URL: " + url.status().message());
  }
  check(o.max_attempts >= 1 && o.max_attempts <= 20, "SOPILOT_WEBHOOK_MAX_ATTEMPTS must be in [1, 20]");
  check(o.backoff_sec >= 0 && o.backoff_sec <= kMaxBackoffSec, "SOPILOT_WEBHOOK_BACKOFF_SEC must be in [0, 3600]");
  check(o.timeout_sec > 0 && o.timeout_sec <= 300, "SOPILOT_WEBHOOK_TIMEOUT_SEC must be in (0, 300]");
  check(o.threads >= 1 && o.threads <= 16, "SOPILOT_WEBHOOK_THREADS must be in [1, 16]");
  check(o.poll_sec > 0 && o.poll_sec <= 60, "the webhook poll interval must be in (0, 60] s");
  if (!errors.empty()) return Status::InvalidArgument(errors);
  return Status::Ok();
}

WebhookDispatcher::WebhookDispatcher(MetadataStore* store, Env* env, WebhookOptions options)
    : store_(store), env_(env), options_(std::move(options)), holder_prefix_(HolderPrefix()) {}

WebhookDispatcher::~WebhookDispatcher() { Stop(); }

void WebhookDispatcher::Start() {
  std::lock_guard<std::mutex> l(mu_);
  if (!threads_.empty()) return;
  stopping_ = false;
  for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this, i] { Loop(i); });
}

void WebhookDispatcher::Stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
    threads.swap(threads_);
  }
  cv_.notify_all();
  for (std::thread& t : threads) t.join();
}

void WebhookDispatcher::Wake() {
  {
    std::lock_guard<std::mutex> l(mu_);
    ++wakes_;
  }
  cv_.notify_all();
}

void WebhookDispatcher::Loop(int index) {
  const std::string holder = holder_prefix_ + ":" + std::to_string(index);
  double last_prune = 0;
  while (!stopping_) {
    uint64_t seen;
    {
      std::lock_guard<std::mutex> l(mu_);
      seen = wakes_;
    }
    bool more = false;
    try {
      auto delivered = DeliverOneDue(holder);
      if (!delivered.ok()) {
        LogWarn("webhook delivery failed (next round after the poll interval)",
                {{"error", delivered.status().message()}, {"poll_sec", options_.poll_sec}});
      } else {
        more = *delivered;
      }
      const double now = env_->NowUnixSeconds();
      if (index == 0 && now - last_prune >= kPruneEverySec) {
        last_prune = now;
        (void)store_->PruneWebhookDeliveries(IsoTimestamp(now - kKeepFinishedSec));  // again next hour
      }
    } catch (...) {
      LogError("webhook delivery failed (next round after the poll interval)",
               {{"error", StatusFromCurrentException("webhook delivery").message()}, {"poll_sec", options_.poll_sec}});
    }
    if (more) continue;  // another may be due at once
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, std::chrono::duration<double>(options_.poll_sec),
                 [&] { return stopping_.load() || wakes_ != seen; });
  }
}

std::string WebhookDispatcher::Payload(const JobRow& job, const std::string& event, const std::string& delivery_id) {
  using OJson = nlohmann::ordered_json;
  auto opt = [](const auto& v) { return v ? OJson(*v) : OJson(nullptr); };
  auto text = [](const std::string& s) { return s.empty() ? OJson(nullptr) : OJson(s); };
  nlohmann::json summary = nlohmann::json::parse(job.result_json.empty() ? "{}" : job.result_json, nullptr, false);
  if (!summary.is_object()) summary = nlohmann::json::object();
  OJson body;
  body["event"] = event;
  body["delivery_id"] = delivery_id;
  body["score_job_id"] = job.id;
  body["status"] = job.status;
  body["task_id"] = text(job.task_id);
  body["gold_video_id"] = opt(job.gold_video_id);
  body["trainee_video_id"] = opt(job.trainee_video_id);
  body["score"] = opt(job.score);
  body["verdict"] = summary.contains("verdict") ? OJson(summary["verdict"]) : OJson(nullptr);
  body["deviations"] = summary.contains("deviations") ? OJson(summary["deviations"]) : OJson(nullptr);
  body["sop_version"] = opt(job.sop_version);
  body["operator_id_hash"] = text(job.operator_id_hash);
  body["site_id"] = text(job.site_id);
  body["camera_id"] = text(job.camera_id);
  body["error_message"] = text(job.error_message);
  body["finished_at"] = text(job.finished_at);
  body["result_url"] = "/score/" + job.id;
  body["report_url"] = job.status == kJobCompleted ? OJson("/score/" + job.id + "/report.pdf") : OJson(nullptr);
  return JsonText(body);
}

Result<bool> WebhookDispatcher::DeliverOneDue() { return DeliverOneDue(holder_prefix_ + ":direct"); }

Result<bool> WebhookDispatcher::DeliverOneDue(const std::string& holder) {
  const double now = env_->NowUnixSeconds();
  // Long enough for every step of one request to time out.
  const double lease = options_.timeout_sec * 4 + 30;
  SOPILOT_ASSIGN_OR_RETURN(std::optional<WebhookDeliveryRow> claimed,
                           store_->ClaimWebhookDelivery(holder, now, lease));
  if (!claimed) return false;
  const WebhookDeliveryRow& d = *claimed;
  MetadataStore::WebhookOutcome out;
  out.payload = d.payload;
  auto record = [&]() -> Result<bool> {
    Status st = store_->RecordWebhookAttempt(d.seq, holder, out);
    // A lost lease: the holder that has it now records its own outcome.
    if (!st.ok() && st.code() != Status::Code::kInvalidArgument) return st;
    return true;
  };
  SOPILOT_ASSIGN_OR_RETURN(JobRow job, store_->GetJob(d.job_id));
  SOPILOT_ASSIGN_OR_RETURN(TaskSettingsRow task, store_->GetTaskSettings(job.task_id));
  out.url = task.webhook_url.empty() ? options_.global_url : task.webhook_url;
  const std::string secret = task.webhook_secret.empty() ? options_.global_secret : task.webhook_secret;
  if (out.url.empty()) {
    out.status = "skipped";
    out.error = "no webhook URL (neither the task's nor SOPILOT_WEBHOOK_URL)";
    return record();
  }
  if (out.payload.empty()) out.payload = Payload(job, d.event, d.delivery_id);
  auto url = ParseWebhookUrl(out.url);
  auto post = [&]() -> Result<WebhookResponse> {
    if (!url.ok()) return url.status();
    std::vector<std::pair<std::string, std::string>> headers = {
        {"User-Agent", "SOPilot-Webhook/1"},
        {"X-SOPilot-Event", d.event},
        {"X-SOPilot-Delivery", d.delivery_id},
        {"X-SOPilot-Attempt", std::to_string(d.attempts)},
    };
    if (!secret.empty()) headers.push_back({"X-SOPilot-Signature", "sha256=" + HmacSha256Hex(secret, out.payload)});
    return PostWebhook(*url, headers, out.payload, options_.timeout_sec, [this] { return stopping_.load(); });
  };
  Result<WebhookResponse> response = post();
  if (response.ok()) out.http_status = response->http_status;
  if (response.ok() && response->http_status >= 200 && response->http_status <= 299) {
    out.status = "delivered";
    return record();
  }
  out.error = response.ok() ? "the receiver answered HTTP " + std::to_string(response->http_status)
                            : response.status().message();
  if (stopping_ && !response.ok()) {
    // Cancelled by a stop, not the receiver's failure: due again at once
    // (the next start, or another process).
    out.status = "pending";
    out.next_attempt_at = now;
    return record();
  }
  if (d.attempts >= options_.max_attempts || !url.ok()) {
    out.status = "failed";
    out.error += " (gave up after " + std::to_string(d.attempts) + " attempts)";
    return record();
  }
  out.status = "pending";
  out.next_attempt_at =
      env_->NowUnixSeconds() + std::min(kMaxBackoffSec, options_.backoff_sec * std::pow(2.0, d.attempts - 1));
  return record();
}

}  // namespace sopilot
