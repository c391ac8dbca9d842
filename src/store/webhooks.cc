// SqliteMetadataStore: per-task settings (webhook, automatic scoring) and the
// webhook outbox. Rows of the outbox are written by the trigger
// jobs_score_ended (migration 5), in the transaction that ends a score job.
#include <sqlite3.h>

#include <algorithm>

#include "store/sqlite_audit.h"
#include "store/sqlite_metadata_store.h"
#include "store/sqlite_statement.h"
#include "store/store_rows.h"

namespace sopilot {

using namespace store_detail;  // the statement helpers of this store


Result<TaskSettingsRow> SqliteMetadataStore::GetTaskSettings(const std::string& task_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  SOPILOT_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(conn, "SELECT webhook_url, webhook_secret, auto_score, updated_by, updated_at "
                                  "FROM task_settings WHERE task_id = ?1"));
  s.Bind(1, task_id);
  SOPILOT_ASSIGN_OR_RETURN(bool row, s.Step());
  TaskSettingsRow r;
  r.task_id = task_id;
  if (!row) return r;
  r.webhook_url = s.Text(0);
  r.webhook_secret = s.Text(1);
  r.auto_score = s.Int(2) != 0;
  r.updated_by = s.Text(3);
  r.updated_at = s.Text(4);
  return r;
}

Status SqliteMetadataStore::PutTaskWebhook(const std::string& task_id, const std::string& url, const std::string& secret,
                                           const std::string& actor, const std::optional<AuditRecord>& audit) {
  if (task_id.empty()) return Status::InvalidArgument("task_id is empty");
  if (url.empty()) return Status::InvalidArgument("webhook url is empty");
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  const std::string now = Now();
  return InTransaction(conn, [&]() -> Status {
    SOPILOT_ASSIGN_OR_RETURN(
        Stmt s, Stmt::Prepare(conn, "INSERT INTO task_settings (task_id, webhook_url, webhook_secret, updated_by, "
                                    "updated_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(task_id) DO UPDATE SET "
                                    "webhook_url = ?2, webhook_secret = ?3, updated_by = ?4, updated_at = ?5"));
    s.Bind(1, task_id).Bind(2, url).BindOpt(3, secret).Bind(4, actor).Bind(5, now);
    SOPILOT_RETURN_IF_ERROR(s.Run());
    return InsertAuditRecord(conn, now, task_id, audit, std::nullopt);
  });
}

Status SqliteMetadataStore::ClearTaskWebhook(const std::string& task_id, const std::string& actor,
                                             const std::optional<AuditRecord>& audit) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  const std::string now = Now();
  return InTransaction(conn, [&]() -> Status {
    SOPILOT_ASSIGN_OR_RETURN(
        Stmt s, Stmt::Prepare(conn, "UPDATE task_settings SET webhook_url = NULL, webhook_secret = NULL, "
                                    "updated_by = ?2, updated_at = ?3 WHERE task_id = ?1 AND webhook_url IS NOT NULL"));
    s.Bind(1, task_id).Bind(2, actor).Bind(3, now);
    SOPILOT_RETURN_IF_ERROR(s.Run());
    if (sqlite3_changes(db_) == 0) return Status::NotFound("task " + task_id + " has no webhook");
    return InsertAuditRecord(conn, now, task_id, audit, std::nullopt);
  });
}

Status SqliteMetadataStore::SetTaskAutoScore(const std::string& task_id, bool on, const std::string& actor,
                                             const std::optional<AuditRecord>& audit) {
  if (task_id.empty()) return Status::InvalidArgument("task_id is empty");
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  const std::string now = Now();
  return InTransaction(conn, [&]() -> Status {
    SOPILOT_ASSIGN_OR_RETURN(
        Stmt s, Stmt::Prepare(conn, "INSERT INTO task_settings (task_id, auto_score, updated_by, updated_at) "
                                    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(task_id) DO UPDATE SET "
                                    "auto_score = ?2, updated_by = ?3, updated_at = ?4"));
    s.Bind(1, task_id).Bind(2, on ? 1 : 0).Bind(3, actor).Bind(4, now);
    SOPILOT_RETURN_IF_ERROR(s.Run());
    return InsertAuditRecord(conn, now, task_id, audit, std::nullopt);
  });
}

Result<std::optional<WebhookDeliveryRow>> SqliteMetadataStore::ClaimWebhookDelivery(const std::string& holder, double now,
                                                                              double lease_sec) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  std::optional<WebhookDeliveryRow> out;
  // Choosing the row and leasing it in one write transaction: another
  // process that chooses at the same time waits, then sees the lease.
  Status st = InTransaction(conn, [&]() -> Status {
    SOPILOT_ASSIGN_OR_RETURN(
        Stmt pick, Stmt::Prepare(conn, "SELECT seq FROM webhook_deliveries WHERE status = 'pending' AND "
                                       "next_attempt_at <= ?1 AND (lease_until IS NULL OR lease_until <= ?1) "
                                       "ORDER BY next_attempt_at, seq LIMIT 1"));
    pick.Bind(1, now);
    SOPILOT_ASSIGN_OR_RETURN(bool row, pick.Step());
    if (!row) return Status::Ok();
    const int64_t seq = pick.Int(0);
    SOPILOT_ASSIGN_OR_RETURN(
        Stmt take, Stmt::Prepare(conn, "UPDATE webhook_deliveries SET lease_holder = ?2, lease_until = ?3, "
                                       "attempts = attempts + 1 WHERE seq = ?1"));
    take.Bind(1, seq).Bind(2, holder).Bind(3, now + lease_sec);
    SOPILOT_RETURN_IF_ERROR(take.Run());
    SOPILOT_ASSIGN_OR_RETURN(
        Stmt read, Stmt::Prepare(conn, (std::string("SELECT ") + kDeliveryColumns +
                                        " FROM webhook_deliveries WHERE seq = ?1").c_str()));
    read.Bind(1, seq);
    SOPILOT_ASSIGN_OR_RETURN(bool again, read.Step());
    if (again) out = ReadDelivery(read);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Status SqliteMetadataStore::RecordWebhookAttempt(int64_t seq, const std::string& holder, const WebhookOutcome& o) {
  if (!KnownDeliveryStatus(o.status)) return Status::InvalidArgument("unknown delivery status '" + o.status + "'");
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  SOPILOT_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(conn, "UPDATE webhook_deliveries SET status = ?3, url = COALESCE(?4, url), "
                                  "payload = COALESCE(payload, ?5), last_http_status = ?6, last_error = ?7, "
                                  "next_attempt_at = ?8, lease_holder = NULL, lease_until = NULL, "
                                  "finished_at = CASE WHEN ?3 = 'pending' THEN NULL ELSE ?9 END "
                                  "WHERE seq = ?1 AND lease_holder = ?2 AND status = 'pending'"));
  s.Bind(1, seq).Bind(2, holder).Bind(3, o.status).BindOpt(4, o.url).BindOpt(5, o.payload).BindOpt(6, o.http_status)
      .BindOpt(7, o.error).Bind(8, o.next_attempt_at).Bind(9, Now());
  SOPILOT_RETURN_IF_ERROR(s.Run());
  if (sqlite3_changes(db_) == 0) {
    return Status::InvalidArgument("webhook delivery " + std::to_string(seq) + " is no longer leased by " + holder);
  }
  return Status::Ok();
}

Result<std::vector<WebhookDeliveryRow>> SqliteMetadataStore::ListWebhookDeliveries(const std::string& job_id, int limit) {
  limit = std::max(1, std::min(limit, 10000));
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  SOPILOT_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(conn, (std::string("SELECT ") + kDeliveryColumns +
                                   " FROM webhook_deliveries WHERE (?1 = '' OR job_id = ?1) ORDER BY seq DESC LIMIT ?2")
                                      .c_str()));
  s.Bind(1, job_id).Bind(2, limit);
  std::vector<WebhookDeliveryRow> out;
  for (;;) {
    SOPILOT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(ReadDelivery(s));
  }
  return out;
}

Result<int64_t> SqliteMetadataStore::PruneWebhookDeliveries(const std::string& before) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  SOPILOT_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(conn, "DELETE FROM webhook_deliveries WHERE status != 'pending' AND finished_at < ?1"));
  s.Bind(1, before);
  SOPILOT_RETURN_IF_ERROR(s.Run());
  return static_cast<int64_t>(sqlite3_changes(db_));
}

}  // namespace sopilot
