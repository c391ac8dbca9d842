// SopilotService: a task's own settings — its webhook and automatic scoring
// of new trainee videos — and the webhook deliveries of a score.
#include <cstdio>

#include "base/log.h"
#include "base/json_text.h"
#include "base/text.h"
#include "notify/webhook_client.h"
#include "service/sopilot_service.h"

namespace sopilot {

namespace {

constexpr size_t kMaxSecret = 256;

nlohmann::json OrNull(const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); }

}  // namespace

Result<nlohmann::json> SopilotService::GetTaskWebhook(const std::string& task_id) {
  SOPILOT_ASSIGN_OR_RETURN(TaskSettingsRow t, store_->GetTaskSettings(task_id));
  const std::string& effective = t.webhook_url.empty() ? config_.webhooks.global_url : t.webhook_url;
  const bool signed_ = !t.webhook_secret.empty() || !config_.webhooks.global_secret.empty();
  return nlohmann::json{{"task_id", task_id},
                        {"url", OrNull(t.webhook_url)},
                        {"secret_set", !t.webhook_secret.empty()},
                        {"effective_url", OrNull(effective)},
                        {"signed", !effective.empty() && signed_},
                        {"updated_by", OrNull(t.updated_by)},
                        {"updated_at", OrNull(t.updated_at)}};
}

Result<nlohmann::json> SopilotService::PutTaskWebhook(const std::string& task_id, const nlohmann::json& body,
                                                      const std::string& actor) {
  if (!body.is_object()) return Status::InvalidArgument("body must be a JSON object");
  if (!body.contains("url") || !body["url"].is_string()) {
    return Status::InvalidArgument("url is required (an http:// URL)");
  }
  const std::string url = body["url"].get<std::string>();
  SOPILOT_RETURN_IF_ERROR(ParseWebhookUrl(url).status());
  std::string secret;
  if (body.contains("secret") && !body["secret"].is_null()) {
    if (!body["secret"].is_string()) return Status::InvalidArgument("secret must be a string");
    secret = body["secret"].get<std::string>();
    if (secret.empty() || secret.size() > kMaxSecret) {
      return Status::InvalidArgument("secret must be 1-" + std::to_string(kMaxSecret) + " characters");
    }
    for (char c : secret) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        return Status::InvalidArgument("secret must not contain control characters");
      }
    }
  }
  for (const auto& [key, value] : body.items()) {
    if (key != "url" && key != "secret") return Status::InvalidArgument("unknown field '" + Printable(key) + "'");
  }
  // The secret is never written to the audit log.
  SOPILOT_RETURN_IF_ERROR(store_->PutTaskWebhook(
      task_id, url, secret, actor,
      AuditRecord{actor, "task.webhook_set", JsonText(nlohmann::json({{"url", url}, {"secret_set", !secret.empty()}}))}));
  return GetTaskWebhook(task_id);
}

Status SopilotService::DeleteTaskWebhook(const std::string& task_id, const std::string& actor) {
  SOPILOT_RETURN_IF_ERROR(store_->ClearTaskWebhook(task_id, actor, AuditRecord{actor, "task.webhook_removed", "{}"}));
  return Status::Ok();
}

Result<nlohmann::json> SopilotService::GetTaskAutoScore(const std::string& task_id) {
  SOPILOT_ASSIGN_OR_RETURN(TaskSettingsRow t, store_->GetTaskSettings(task_id));
  return nlohmann::json{{"task_id", task_id},
                        {"enabled", t.auto_score},
                        {"updated_by", OrNull(t.updated_by)},
                        {"updated_at", OrNull(t.updated_at)}};
}

Result<nlohmann::json> SopilotService::PutTaskAutoScore(const std::string& task_id, const nlohmann::json& body,
                                                        const std::string& actor) {
  if (!body.is_object() || !body.contains("enabled") || !body["enabled"].is_boolean()) {
    return Status::InvalidArgument("body must be {\"enabled\": true|false}");
  }
  const bool on = body["enabled"].get<bool>();
  SOPILOT_RETURN_IF_ERROR(store_->SetTaskAutoScore(
      task_id, on, actor, AuditRecord{actor, "task.auto_score_set", JsonText(nlohmann::json({{"enabled", on}}))}));
  return GetTaskAutoScore(task_id);
}

Result<nlohmann::json> SopilotService::ScoreWebhookDeliveries(const std::string& score_job_id) {
  SOPILOT_ASSIGN_OR_RETURN(JobRow job, GetJob(JobKind::kScore, score_job_id));
  SOPILOT_ASSIGN_OR_RETURN(std::vector<WebhookDeliveryRow> rows, store_->ListWebhookDeliveries(job.id, 100));
  nlohmann::json items = nlohmann::json::array();
  for (const WebhookDeliveryRow& d : rows) {
    items.push_back({{"delivery_id", d.delivery_id},
                     {"event", d.event},
                     {"status", d.status},
                     {"attempts", d.attempts},
                     {"url", OrNull(d.url)},
                     {"last_http_status", d.last_http_status ? nlohmann::json(*d.last_http_status) : nullptr},
                     {"last_error", OrNull(d.last_error)},
                     {"next_attempt_at", d.status == "pending" && d.next_attempt_at > 0
                                             ? nlohmann::json(IsoTimestamp(d.next_attempt_at))
                                             : nlohmann::json(nullptr)},
                     {"created_at", OrNull(d.created_at)},
                     {"finished_at", OrNull(d.finished_at)}});
  }
  return nlohmann::json{{"score_job_id", job.id}, {"items", items}};
}

void SopilotService::StartWebhookDelivery() { webhooks_->Start(); }
void SopilotService::StopWebhookDelivery() { webhooks_->Stop(); }

void SopilotService::AutoScore(const JobRow& ingest_job, int64_t video_id) {
  auto settings = store_->GetTaskSettings(ingest_job.task_id);
  if (!settings.ok()) {
    LogError("auto-score setting unreadable: video not scored",
             {{"task_id", ingest_job.task_id}, {"video_id", video_id}, {"error", settings.status().message()}});
    return;
  }
  if (!settings->auto_score) return;
  const std::string actor = "system:auto-score";
  Result<JobRow> job = SubmitScore(ScoreRequest{video_id, GoldSelection::kChosen}, actor);
  if (!job.ok()) {
    Audit(actor, "score.auto_skipped", ingest_job.id,
          JsonText(nlohmann::json({{"trainee_video_id", video_id}, {"reason", job.status().message()}})));
    return;
  }
  Audit(actor, "score.auto_queued", ingest_job.id,
        JsonText(nlohmann::json({{"trainee_video_id", video_id}, {"gold_video_id", job->gold_video_id.value_or(0)},
                                 {"score_job_id", job->id}})));
}

}  // namespace sopilot
