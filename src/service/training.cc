// SopilotService's training side: the training job (a feature adapter per
// task, a new index version built on the side and switched to at once), the
// effective embeddings a score job or a search reads, the nightly status and
// scheduler. See doc/architecture.md, "Training".
#include <chrono>
#include <cstdio>
#include <map>

#include "base/json_text.h"
#include "base/digest.h"
#include "embed/embedding_file.h"
#include "service/nightly_runner.h"
#include "service/sopilot_service.h"
#include "train/nightly_scheduler.h"

namespace sopilot {

namespace {

// Attempts at resolving and reading one consistent version.
constexpr int kResolveAttempts = 3;

// A directory name for a task: readable, and unique through the hash.
std::string TaskDir(const std::string& task_id) {
  std::string out;
  for (char c : task_id) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    out += ok ? c : '_';
    if (out.size() >= 48) break;
  }
  return out + "_" + Sha256Hex(task_id).substr(0, 12);
}

std::string AdapterPath(const std::string& task_id, int64_t version) {
  return "models/adapters/" + TaskDir(task_id) + "/v" + std::to_string(version) + ".adapter";
}

}  // namespace

// ---------------------------------------------------------------- reading one version

Result<EmbeddingSet> SopilotService::LoadEffective(const MetadataStore::EffectiveEmbedding& e,
                                                   bool* version_file_missing) {
  *version_file_missing = false;
  // Raw embeddings: a version without an adapter (a re-embed's) or none.
  if (!config_.feature_adapter_enabled || e.index_version == 0 || e.adapter_path.empty()) {
    auto raw = ReadEmbeddingFile(env_, blobs_.Absolute(e.video.embedding_path));
    // A re-embed may have switched the video to another file and removed
    // this one since it was resolved: resolve again.
    if (raw.status().code() == Status::Code::kNotFound) *version_file_missing = true;
    return raw;
  }
  if (!e.adapted_path.empty()) {
    auto adapted = ReadEmbeddingFile(env_, blobs_.Absolute(e.adapted_path));
    if (adapted.status().code() != Status::Code::kNotFound) return adapted;
  }
  // Not built for this version (ingested after it was), or dropped since:
  // the version's adapter applied to the raw embedding gives the same rows.
  auto adapter = ReadFeatureAdapterFile(env_, blobs_.Absolute(e.adapter_path));
  if (!adapter.ok()) {
    if (adapter.status().code() == Status::Code::kNotFound) *version_file_missing = true;
    return adapter.status();
  }
  SOPILOT_ASSIGN_OR_RETURN(EmbeddingSet raw, ReadEmbeddingFile(env_, blobs_.Absolute(e.video.embedding_path)));
  return AdaptEmbeddingSet(*adapter, raw);
}

Result<SopilotService::ScorePair> SopilotService::LoadScorePair(int64_t gold_id, int64_t trainee_id) {
  SOPILOT_ASSIGN_OR_RETURN(ScoreInputs in, LoadScoreInputs({gold_id}, trainee_id));
  return ScorePair{std::move(in.golds[0]), std::move(in.trainee), std::move(in.gold_sets[0]),
                   std::move(in.trainee_set), in.index_version, in.feature_adapter};
}

Result<SopilotService::ScoreInputs> SopilotService::LoadScoreInputs(const std::vector<int64_t>& gold_ids,
                                                                     int64_t trainee_id) {
  if (gold_ids.empty()) return Status::InvalidArgument("a score needs a gold video");
  std::vector<int64_t> ids = gold_ids;
  ids.push_back(trainee_id);  // last
  Status last;
  std::string last_resolved;
  for (int attempt = 0; attempt < kResolveAttempts; ++attempt) {
    SOPILOT_ASSIGN_OR_RETURN(std::vector<MetadataStore::EffectiveEmbedding> all, store_->ResolveEmbeddings(ids));
    // Resolved as before: the missing file is not a switch under way but
    // really missing.
    std::string resolved = std::to_string(all[0].index_version);
    for (const auto& e : all) resolved += "|" + e.video.embedding_path + "|" + e.adapter_path + "|" + e.adapted_path;
    if (attempt > 0 && resolved == last_resolved) return last;
    last_resolved = resolved;
    ScoreInputs in;
    in.trainee = all.back().video;
    for (const auto& e : all) {
      if (e.video.task_id != in.trainee.task_id) return Status::InvalidArgument("gold and trainee task_id must match");
      if (e.video.embedding_path.empty()) {
        return Status::InvalidArgument("artifacts missing for video: " + std::to_string(e.video.id));
      }
    }
    // One task, one statement: every row carries the same version.
    // The version read: an adapter version read raw (the adapter disabled)
    // is reported as 0, as before re-embedding existed.
    const bool adapter_version = !all[0].adapter_path.empty();
    in.feature_adapter = config_.feature_adapter_enabled && all[0].index_version > 0 && adapter_version;
    in.index_version = adapter_version && !config_.feature_adapter_enabled ? 0 : all[0].index_version;
    bool gone = false;
    std::vector<EmbeddingSet> sets;
    for (const auto& e : all) {
      auto set = LoadEffective(e, &gone);
      if (!set.ok()) {
        last = set.status();
        break;
      }
      sets.push_back(std::move(*set));
    }
    if (sets.size() == all.size()) {
      in.trainee_set = std::move(sets.back());
      sets.pop_back();
      in.gold_sets = std::move(sets);
      for (size_t i = 0; i + 1 < all.size(); ++i) in.golds.push_back(all[i].video);
      return in;
    }
    if (!gone) return last;
    // A later training dropped this version's files meanwhile: again.
  }
  return Status::Unavailable("the index version kept changing while reading it: " + last.message());
}

// ---------------------------------------------------------------- building a version

Result<std::string> SopilotService::WriteAdapted(const VideoRow& video, const EmbeddingSet& raw,
                                                 const FeatureAdapter& adapter, int64_t version) {
  SOPILOT_ASSIGN_OR_RETURN(EmbeddingSet adapted, AdaptEmbeddingSet(adapter, raw));
  // Named by raw file, adapter and version: no file is shared between two
  // versions, so dropping a version never removes a file another uses.
  const std::string rel = "embeddings/" +
                          Sha256Hex(video.embedding_path + "|" + adapter.Fingerprint() + "|v" + std::to_string(version))
                              .substr(0, 32) +
                          ".emb";
  if (!blobs_.Exists(rel)) {
    SOPILOT_ASSIGN_OR_RETURN(std::string bytes, EncodeEmbeddingSet(adapted));
    SOPILOT_RETURN_IF_ERROR(blobs_.Put(rel, bytes));
  }
  return rel;
}

void SopilotService::AdaptNewVideo(int64_t video_id) {
  if (!config_.feature_adapter_enabled) return;
  auto resolved = store_->ResolveEmbeddings({video_id});
  if (!resolved.ok()) return;
  const MetadataStore::EffectiveEmbedding& e = (*resolved)[0];
  if (e.index_version == 0 || e.adapter_path.empty() || !e.adapted_path.empty()) return;
  auto adapter = ReadFeatureAdapterFile(env_, blobs_.Absolute(e.adapter_path));
  auto raw = ReadEmbeddingFile(env_, blobs_.Absolute(e.video.embedding_path));
  if (!adapter.ok() || !raw.ok()) return;
  auto rel = WriteAdapted(e.video, *raw, *adapter, e.index_version);
  if (!rel.ok()) return;
  // Recorded only if that version is still the current one; otherwise the
  // newer version adapts this video (or scoring does, on the fly).
  auto recorded = store_->PutVersionEmbeddingIfCurrent(video_id, e.video.task_id, e.index_version, *rel);
  if (recorded.ok() && !*recorded) {
    (void)RemoveBlobIfUnreferenced(*rel);  // best effort: the start-up check removes orphans
  }
}

Result<nlohmann::json> SopilotService::TrainTask(const std::string& task_id, const JobRow& job,
                                                 const JobContext& context) {
  SOPILOT_ASSIGN_OR_RETURN(std::vector<VideoRow> videos, store_->VideosOfTask(task_id));
  nlohmann::json out = {{"task_id", task_id}};
  // Fit on the task's gold videos.
  AdapterFitter fitter(config_.adapter_std_floor);
  std::vector<int64_t> gold_ids;
  nlohmann::json skipped = nlohmann::json::array();
  for (const VideoRow& v : videos) {
    if (v.role != "gold") continue;
    SOPILOT_ASSIGN_OR_RETURN(EmbeddingSet raw, ReadEmbeddingFile(env_, blobs_.Absolute(v.embedding_path)));
    Status st = fitter.Add(raw);
    if (!st.ok()) {
      skipped.push_back({{"video_id", v.id}, {"reason", st.message()}});
      continue;
    }
    gold_ids.push_back(v.id);
  }
  auto fitted = fitter.Finish();
  if (!fitted.ok()) {
    out["status"] = "skipped";
    out["reason"] = fitted.status().message();
    out["videos_skipped"] = skipped;
    return out;
  }
  FeatureAdapter adapter = std::move(*fitted);

  // A new version, built on the side: nothing reads it until the switch.
  SOPILOT_ASSIGN_OR_RETURN(int64_t version, store_->ReserveIndexVersion(task_id, job.id));
  adapter.task_id = task_id;
  adapter.version = version;
  adapter.source_video_ids = gold_ids;
  adapter.fitted_at = IsoTimestamp(env_->NowUnixSeconds());
  const std::string adapter_rel = AdapterPath(task_id, version);
  SOPILOT_ASSIGN_OR_RETURN(std::string adapter_bytes, EncodeFeatureAdapter(adapter));
  SOPILOT_RETURN_IF_ERROR(blobs_.Put(adapter_rel, adapter_bytes));
  SOPILOT_RETURN_IF_ERROR(store_->SetIndexVersionAdapter(task_id, version, adapter_rel));

  int refreshed = 0;
  int64_t clips = 0;
  auto adapt_into = [&](const VideoRow& v, bool only_if_current) -> Status {
    if (context.ShouldStop()) return Status::Unavailable("training stopped (timeout or shutdown)");
    SOPILOT_ASSIGN_OR_RETURN(EmbeddingSet raw, ReadEmbeddingFile(env_, blobs_.Absolute(v.embedding_path)));
    if (raw.model != adapter.model || raw.vectors.cols != adapter.dim()) {
      skipped.push_back({{"video_id", v.id},
                         {"reason", "embedded with " + raw.model + " (" + std::to_string(raw.vectors.cols) +
                                        " dims), the adapter with " + adapter.model}});
      return Status::Ok();
    }
    SOPILOT_ASSIGN_OR_RETURN(std::string rel, WriteAdapted(v, raw, adapter, version));
    if (only_if_current) {
      SOPILOT_ASSIGN_OR_RETURN(bool recorded, store_->PutVersionEmbeddingIfCurrent(v.id, task_id, version, rel));
      if (!recorded) return Status::Ok();
    } else {
      SOPILOT_RETURN_IF_ERROR(store_->PutVersionEmbedding(v.id, task_id, version, rel));
    }
    ++refreshed;
    clips += raw.vectors.rows;
    return Status::Ok();
  };
  for (const VideoRow& v : videos) SOPILOT_RETURN_IF_ERROR(adapt_into(v, false));

  // The switch: one transaction. A score job resolves either the old
  // version or this one, whole.
  SOPILOT_ASSIGN_OR_RETURN(MetadataStore::VersionSwitch sw, store_->SwitchIndexVersion(task_id, version));
  if (sw.switched) {
    // Videos ingested while this version was being built.
    SOPILOT_ASSIGN_OR_RETURN(std::vector<VideoRow> late, store_->VideosMissingFromVersion(task_id, version));
    for (const VideoRow& v : late) SOPILOT_RETURN_IF_ERROR(adapt_into(v, true));
  }
  SOPILOT_ASSIGN_OR_RETURN(std::vector<std::string> unused, store_->DropOldIndexVersions(task_id, kKeepPreviousIndexVersions));
  for (const std::string& f : unused) (void)blobs_.Remove(f);  // best effort, as above

  out["status"] = "completed";
  out["old_index_version"] = sw.previous;
  out["new_index_version"] = version;
  out["switched"] = sw.switched;  // false: a newer version was current already
  out["adapter_path"] = blobs_.Absolute(adapter_rel);
  out["adapter_fingerprint"] = adapter.Fingerprint();
  out["gold_video_ids"] = gold_ids;
  out["videos_used"] = adapter.videos;
  out["clips_used"] = adapter.clips;
  out["embedding_dim"] = adapter.dim();
  out["embedding_model"] = adapter.AdaptedModel();
  out["videos_refreshed"] = refreshed;
  out["clips_indexed"] = clips;
  out["videos_skipped"] = skipped;
  out["files_removed"] = unused.size();
  return out;
}

// ---------------------------------------------------------------- the job

Status SopilotService::RunTraining(const JobRow& job, const JobContext& context) {
  if (job.trigger == kReembedTrigger) return RunReembed(job, context);
  const auto started = std::chrono::steady_clock::now();
  SOPILOT_ASSIGN_OR_RETURN(std::string since, store_->LastCompletedTrainingFinishedAt());
  SOPILOT_ASSIGN_OR_RETURN(int64_t new_videos, store_->CountVideosCreatedAfter(since));
  nlohmann::json summary = {{"mode", "builtin_feature_adapter"},
                            {"trigger", job.trigger},
                            {"since", since.empty() ? nlohmann::json(nullptr) : nlohmann::json(since)},
                            {"new_videos", new_videos},
                            {"threshold", config_.nightly_min_new_videos},
                            {"std_floor", config_.adapter_std_floor}};
  std::string reason;
  if (job.trigger == "nightly" && new_videos < config_.nightly_min_new_videos) {
    reason = "not enough new videos";
  } else if (!config_.feature_adapter_enabled) {
    reason = "the feature adapter is disabled (SOPILOT_ENABLE_FEATURE_ADAPTER=0)";
  }
  nlohmann::json tasks = nlohmann::json::array();
  nlohmann::json adapter_paths = nlohmann::json::object();
  nlohmann::json old_versions = nlohmann::json::object(), new_versions = nlohmann::json::object();
  nlohmann::json touched = nlohmann::json::array();
  int64_t videos_used = 0, clips_used = 0, videos_refreshed = 0, clips_indexed = 0, dim = 0;
  if (reason.empty()) {
    SOPILOT_ASSIGN_OR_RETURN(auto task_golds, store_->TaskGoldCounts());
    for (const auto& [task_id, golds] : task_golds) {
      if (golds == 0) {
        tasks.push_back({{"task_id", task_id}, {"status", "skipped"}, {"reason", "no gold video"}});
        continue;
      }
      SOPILOT_ASSIGN_OR_RETURN(nlohmann::json t, TrainTask(task_id, job, context));
      if (t["status"] == "completed") {
        adapter_paths[task_id] = t["adapter_path"];
        old_versions[task_id] = t["old_index_version"];
        new_versions[task_id] = t["new_index_version"];
        touched.push_back(task_id);
        videos_used += t["videos_used"].get<int64_t>();
        clips_used += t["clips_used"].get<int64_t>();
        videos_refreshed += t["videos_refreshed"].get<int64_t>();
        clips_indexed += t["clips_indexed"].get<int64_t>();
        dim = t["embedding_dim"].get<int64_t>();
      }
      tasks.push_back(std::move(t));
    }
    if (touched.empty()) {
      reason = task_golds.empty() ? "no videos available for adaptation" : "no task has a gold video to fit on";
      for (const auto& t : tasks) {
        if (t.contains("reason") && t["reason"] != "no gold video") reason = "no task could be fitted";
      }
    }
  }
  const bool completed = reason.empty();
  summary["status"] = completed ? kJobCompleted : kJobSkipped;
  if (!completed) summary["reason"] = reason;
  summary["tasks"] = tasks;
  if (completed) {
    summary["adapter_path"] = adapter_paths;
    summary["videos_used"] = videos_used;
    summary["clips_used"] = clips_used;
    summary["embedding_dim"] = dim;
    summary["reindex"] = {{"old_index_version", old_versions},
                          {"new_index_version", new_versions},
                          {"videos_refreshed", videos_refreshed},
                          {"clips_indexed", clips_indexed},
                          {"tasks_touched", touched}};
  }
  summary["duration_sec"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const std::string rel = "reports/training_" + job.id + ".json";
  SOPILOT_RETURN_IF_ERROR(blobs_.Put(rel, JsonText(summary, 2)));
  const std::string status = completed ? kJobCompleted : kJobSkipped;
  nlohmann::json audit = {{"status", status}, {"trigger", job.trigger}};
  if (!completed) audit["reason"] = reason;
  else audit["new_index_version"] = new_versions;
  SOPILOT_RETURN_IF_ERROR(store_->CompleteTrainingJob(
      job.id, status, rel, JsonText(summary),
      AuditRecord{"system", completed ? "job.completed" : "job.skipped", JsonText(audit)}));
  CountJobState(job, status);
  return Status::Ok();
}

// ---------------------------------------------------------------- nightly

Result<nlohmann::json> SopilotService::NightlyStatus() {
  const double now = env_->NowUnixSeconds();
  SOPILOT_ASSIGN_OR_RETURN(std::string since, store_->LastCompletedTrainingFinishedAt());
  SOPILOT_ASSIGN_OR_RETURN(int64_t new_videos, store_->CountVideosCreatedAfter(since));
  SOPILOT_ASSIGN_OR_RETURN(MetadataStore::LeaseRow lease, store_->GetLease(kNightlyLeaseName));
  const bool lease_live = !lease.holder.empty() && lease.expires_at > now;
  nlohmann::json out = {
      {"enabled", config_.nightly_enabled},
      {"next_run_local", config_.nightly_enabled
                             ? nlohmann::json(LocalIsoTime(NextNightlyRun(now, config_.nightly_hour_local)))
                             : nlohmann::json(nullptr)},
      {"hour_local", config_.nightly_hour_local},
      {"min_new_videos", config_.nightly_min_new_videos},
      {"check_sec", config_.nightly_check_sec},
      {"feature_adapter_enabled", config_.feature_adapter_enabled},
      {"new_videos", new_videos},
      {"last_training_finished_at", since.empty() ? nlohmann::json(nullptr) : nlohmann::json(since)},
      {"scheduler_holder", lease_live ? nlohmann::json(lease.holder) : nlohmann::json(nullptr)},
      {"this_process_schedules", nightly_ != nullptr && nightly_->leader()},
      {"scheduler_checks", nightly_ != nullptr ? nightly_->checks() : 0},
  };
  return out;
}

void SopilotService::StartNightlyScheduler() {
  if (!config_.nightly_enabled || nightly_) return;
  nightly_ = std::make_unique<NightlyRunner>(this);
  nightly_->Start();
}

void SopilotService::StopNightlyScheduler() {
  if (nightly_) nightly_->Stop();
}

}  // namespace sopilot
