// PgMetadataStore: the MetadataStore in a PostgreSQL database
// (`SOPILOT_DATABASE_URL=postgresql://...`; store/metadata_store.h states
// the contract). Several API and worker processes, on several hosts, may
// share one database.
//
// How the contract is kept without SQLite's one writer: a job's state
// changes are UPDATEs guarded in their WHERE clause (PostgreSQL re-checks
// the guard on the newest row version), leases and slots are one INSERT ...
// ON CONFLICT statement, the webhook claim takes its row with FOR UPDATE
// SKIP LOCKED, and writers that read before they write (version numbers, a
// task's index switch, a blob's last reference) take a transaction-scoped
// advisory lock on what they decide about. The audit log and SOP versions
// refuse UPDATE and DELETE in triggers; the webhook outbox rows are written
// by a PL/pgSQL trigger, as in SQLite. Timestamps are stored as the same
// ISO text as SQLite's, so the API's output does not depend on the backend.
//
// Each call runs on a connection of the store's pool (store/pg_session_pool.h:
// opened as calls overlap, up to `max_sessions`), so a call waiting for a
// lock holds up only itself. A statement waits at most `lock_timeout_ms`
// (5 s) for a lock, then fails with IOError("database is locked"). A lost
// connection fails the call with Unavailable and the server's message; the
// next call on it connects again. The store never throws.
#pragma once

#include <memory>
#include <string>

#include "store/metadata_store.h"
#include "store/pg_session_pool.h"

namespace sopilot {

using store_detail::PgPoolOptions;

class PgMetadataStore final : public MetadataStore {
 public:
  // Connects to `url` (libpq's URL form; the database must exist) and
  // migrates it. Unavailable when the server cannot be reached;
  // InvalidArgument for options out of range.
  static Result<std::unique_ptr<PgMetadataStore>> Open(const std::string& url, Env* env,
                                                       PgPoolOptions options = PgPoolOptions());
  ~PgMetadataStore() override;

  const char* backend() const override;
  int schema_version() const override;
  Status Ping() override;
  Status QuickCheck() override;
  Status BackgroundQuickCheck() override;
  Result<int64_t> InsertVideo(const VideoRow& video, const std::vector<ClipRow>& clips) override;
  Result<VideoRow> GetVideo(int64_t id) override;
  Result<std::vector<VideoRow>> ListVideos(const std::string& task_id, int limit) override;
  Result<std::vector<ClipRow>> GetClips(int64_t video_id) override;
  Result<std::vector<VideoRow>> VideosOfTask(const std::string& task_id) override;
  Result<int64_t> TotalClips() override;
  Status DeleteVideo(int64_t id, const std::optional<AuditRecord>& audit = std::nullopt) override;
  Result<bool> PathInUse(const std::string& relative_path) override;
  Result<bool> RemoveIfUnreferenced(const std::string& relative_path, const std::function<Status()>& remove) override;
  Result<std::vector<std::string>> AllReferencedPaths() override;
  Status InsertJob(const JobRow& job, const std::optional<AuditRecord>& audit = std::nullopt) override;
  Status InsertJobPlacing(const JobRow& job, const std::function<Status()>& place,
                          const std::optional<AuditRecord>& audit = std::nullopt) override;
  Result<JobRow> GetJob(const std::string& id) override;
  Status SetJobStatus(const std::string& id, const std::string& status, const std::string& error_message = "",
                      const std::optional<AuditRecord>& audit = std::nullopt) override;
  Status ReviveDeadJob(const std::string& id, const std::optional<AuditRecord>& audit = std::nullopt) override;
  Status CompleteIngestJob(const std::string& id, int64_t video_id, const std::string& result_json) override;
  Result<int64_t> CompleteIngestJobWithVideo(const std::string& id, const VideoRow& video, const std::vector<ClipRow>& clips, const std::string& result_json, const std::optional<std::string>& task_embedder = std::nullopt, const std::optional<AuditRecord>& audit = std::nullopt) override;
  Status CompleteScoreJob(const std::string& id, double score, const std::string& result_path,
                          const std::string& result_json, const std::optional<ScoredGold>& gold,
                          const std::optional<AuditRecord>& audit = std::nullopt) override;
  using MetadataStore::CompleteScoreJob;
  Status CompleteTrainingJob(const std::string& id, const std::string& status, const std::string& summary_path, const std::string& result_json, const std::optional<AuditRecord>& audit = std::nullopt) override;
  Result<std::vector<JobRow>> JobsWithStatus(JobKind kind, const std::string& status, int limit) override;
  Result<std::vector<std::pair<std::string, int64_t>>> JobStatusCounts(JobKind kind) override;
  Status AppendAudit(const std::string& actor, const std::string& action, const std::string& subject, const std::string& detail_json) override;
  Result<std::vector<AuditEntry>> AuditTrail(int limit) override;
  Result<int64_t> AppendSopVersion(const std::string& task_id, std::optional<int64_t> gold_video_id,
                                   const std::string& definition_json, const std::string& created_by,
                                   const std::optional<AuditRecord>& audit = std::nullopt) override;
  Result<SopVersionRow> GetSopVersion(const std::string& task_id, int64_t version) override;
  Result<TaskSettingsRow> GetTaskSettings(const std::string& task_id) override;
  Status PutTaskWebhook(const std::string& task_id, const std::string& url, const std::string& secret,
                        const std::string& actor, const std::optional<AuditRecord>& audit = std::nullopt) override;
  Status ClearTaskWebhook(const std::string& task_id, const std::string& actor,
                          const std::optional<AuditRecord>& audit = std::nullopt) override;
  Status SetTaskAutoScore(const std::string& task_id, bool on, const std::string& actor,
                          const std::optional<AuditRecord>& audit = std::nullopt) override;
  Result<std::optional<WebhookDeliveryRow>> ClaimWebhookDelivery(const std::string& holder, double now, double lease_sec) override;
  Status RecordWebhookAttempt(int64_t seq, const std::string& holder, const WebhookOutcome& outcome) override;
  Result<std::vector<WebhookDeliveryRow>> ListWebhookDeliveries(const std::string& job_id, int limit) override;
  Result<int64_t> PruneWebhookDeliveries(const std::string& before) override;
  Result<ScorePage> ListScores(const ScoreQuery& query) override;
  Result<std::vector<std::pair<std::string, int>>> TaskGoldCounts() override;
  Result<int64_t> ReserveIndexVersion(const std::string& task_id, const std::string& training_job_id) override;
  Status SetIndexVersionAdapter(const std::string& task_id, int64_t version, const std::string& adapter_path) override;
  Status PutVersionEmbedding(int64_t video_id, const std::string& task_id, int64_t version, const std::string& embedding_path) override;
  Result<bool> PutVersionEmbeddingIfCurrent(int64_t video_id, const std::string& task_id, int64_t version, const std::string& embedding_path) override;
  Result<VersionSwitch> SwitchIndexVersion(const std::string& task_id, int64_t version) override;
  Result<int64_t> CurrentIndexVersion(const std::string& task_id) override;
  Result<std::vector<VideoRow>> VideosMissingFromVersion(const std::string& task_id, int64_t version) override;
  Result<std::vector<std::string>> DropOldIndexVersions(const std::string& task_id, int keep_previous) override;
  Result<std::string> TaskEmbedder(const std::string& task_id) override;
  Result<int64_t> IndexVersionOfJob(const std::string& task_id, const std::string& job_id) override;
  Result<EmbedderSwitch> SwitchTaskEmbedder(const std::string& task_id, int64_t version, const std::string& embedder,
                                            const std::vector<ReembeddedVideo>& videos,
                                            const std::optional<AuditRecord>& audit = std::nullopt) override;
  Result<std::vector<std::string>> VersionPathsOfVideo(int64_t video_id) override;
  Result<std::vector<EffectiveEmbedding>> ResolveEmbeddings(const std::vector<int64_t>& video_ids) override;
  Result<std::vector<EffectiveEmbedding>> ResolveTaskEmbeddings(const std::string& task_id) override;
  Result<int64_t> CountVideosCreatedAfter(const std::string& since) override;
  Result<std::string> LastCompletedTrainingFinishedAt() override;
  Result<bool> AcquireLease(const std::string& name, const std::string& holder, double now, double ttl) override;
  Status ReleaseLease(const std::string& name, const std::string& holder) override;
  Result<LeaseRow> GetLease(const std::string& name) override;
  Result<bool> ClaimSchedulerSlot(const std::string& slot, const std::string& holder) override;
  Status RunExclusively(const std::string& name, const std::function<Status()>& body) override;

 private:
  PgMetadataStore(Env* env, std::string url, PgPoolOptions options);
  Status Migrate();  // called by Open, before the store is shared
  std::string Now();

  Env* env_;
  store_detail::PgSessionPool pool_;
  int schema_version_ = 0;  // set by Migrate
};

}  // namespace sopilot
