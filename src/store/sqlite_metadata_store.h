// SqliteMetadataStore: the MetadataStore in one SQLite file, the embedded
// default (store/metadata_store.h states the contract).
//
// The database is opened with WAL, a busy timeout and foreign keys on. One
// connection per store, serialised by a mutex; several processes may share
// the file (WAL). A write that meets a lock retries until the busy timeout
// (5 s) and then fails with IOError("database is locked"). Damage met by any
// statement (SQLITE_CORRUPT) is Corruption naming the file, and makes Ping
// fail from then on.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "store/metadata_store.h"

struct sqlite3;

namespace sopilot {

class SqliteMetadataStore final : public MetadataStore {
 public:
  // Opens (creating if needed) and migrates the file `path`.
  static Result<std::unique_ptr<SqliteMetadataStore>> Open(const std::string& path, Env* env);
  ~SqliteMetadataStore() override;

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
  SqliteMetadataStore(sqlite3* db, Env* env, std::string path);
  Status Migrate();  // called by Open, before the store is shared
  std::string Now();

  sqlite3* db_;
  Env* env_;
  std::string path_;
  std::mutex mu_;
  int schema_version_ = 0;  // set by Migrate
  std::atomic<bool> corrupt_{false};  // a statement met SQLITE_CORRUPT / SQLITE_NOTADB
};

}  // namespace sopilot
