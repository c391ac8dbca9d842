// SopilotService: scores against every gold video of a task, reported
// against the closest one (POST /score with "gold_selection": "closest").
#include "base/json_text.h"
#include "score/closest_gold.h"
#include "service/sopilot_service.h"

namespace sopilot {

const char* GoldSelectionName(GoldSelection selection) {
  switch (selection) {
    case GoldSelection::kNamed: return "named";
    case GoldSelection::kChosen: return "chosen";
    case GoldSelection::kClosest: return "closest";
  }
  return "named";
}

std::optional<GoldSelection> ParseGoldSelection(const std::string& name) {
  for (GoldSelection s : {GoldSelection::kNamed, GoldSelection::kChosen, GoldSelection::kClosest}) {
    if (name == GoldSelectionName(s)) return s;
  }
  return std::nullopt;
}

Result<std::vector<VideoRow>> SopilotService::ClosestGoldCandidates(const VideoRow& trainee) {
  SOPILOT_ASSIGN_OR_RETURN(std::vector<VideoRow> videos, store_->VideosOfTask(trainee.task_id));
  std::vector<VideoRow> golds;
  int other_model = 0;
  for (VideoRow& v : videos) {
    // A gold scored as a trainee is not compared with itself.
    if (v.role != "gold" || v.embedding_path.empty() || v.id == trainee.id) continue;
    // Embeddings of two models are not comparable.
    if (v.embedding_model != trainee.embedding_model) {
      ++other_model;
      continue;
    }
    golds.push_back(std::move(v));
  }
  if (!golds.empty()) return golds;
  if (other_model > 0) {
    return Status::InvalidArgument("task " + trainee.task_id + " has no gold video embedded with " +
                                   trainee.embedding_model + " as trainee video " + std::to_string(trainee.id) +
                                   " is; re-embed the task with one embedder (POST /tasks/{task_id}/reembed)");
  }
  return Status::InvalidArgument("task " + trainee.task_id + " has no ingested gold video to score against");
}

Status SopilotService::RunClosestScore(const JobRow& job) {
  if (!job.trainee_video_id) return Status::NotFound("the trainee video of this score job was deleted");
  auto trainee = store_->GetVideo(*job.trainee_video_id);
  if (!trainee.ok()) {
    return trainee.status().code() == Status::Code::kNotFound
               ? Status::NotFound("the trainee video of this score job was deleted")
               : trainee.status();
  }
  // The golds of the task as it is now (one may have been added or deleted
  // since the submission).
  SOPILOT_ASSIGN_OR_RETURN(std::vector<VideoRow> golds, ClosestGoldCandidates(*trainee));
  std::vector<int64_t> gold_ids;
  for (const VideoRow& g : golds) gold_ids.push_back(g.id);
  // All golds and the trainee from one index version: their scores compare.
  auto loaded = LoadScoreInputs(gold_ids, trainee->id);
  if (!loaded.ok() && loaded.status().code() == Status::Code::kNotFound) {
    // A gold deleted since it was listed: the next attempt lists them again.
    return Status::Unavailable("a gold video of the task went away while the score started: " +
                               loaded.status().message());
  }
  SOPILOT_RETURN_IF_ERROR(loaded.status());
  const ScoreInputs& in = *loaded;

  // The SOP fixed at submission applies to the gold it was written over.
  std::optional<int64_t> sop_gold;
  if (job.sop_version) {
    SOPILOT_ASSIGN_OR_RETURN(SopVersionRow sop, store_->GetSopVersion(job.task_id, *job.sop_version));
    sop_gold = sop.gold_video_id;
  }
  // A tie goes to the gold a score without a choice would use: the SOP's,
  // else the newest (ids only grow).
  int64_t preferred = in.golds.back().id;
  for (const VideoRow& g : in.golds) {
    if (sop_gold && g.id == *sop_gold) preferred = g.id;
  }

  std::vector<GoldCandidate> candidates;
  std::vector<std::optional<int64_t>> sop_versions;
  std::vector<Result<ScoreReport>> reports;
  for (size_t i = 0; i < in.golds.size(); ++i) {
    const int64_t id = in.golds[i].id;
    std::optional<int64_t> sop_version = sop_gold && id == *sop_gold ? job.sop_version : std::nullopt;
    auto report = ScoreAgainstGold(job.task_id, in.gold_sets[i], in.trainee_set, sop_version);
    // A gold this trainee cannot be scored against (too short, say) is
    // reported as such; anything a retry may fix is tried again.
    if (!report.ok() && !IsPermanentJobError(report.status())) return report.status();
    candidates.push_back({id, report.ok() ? std::optional<double>(report->score) : std::nullopt, id == preferred});
    sop_versions.push_back(sop_version);
    reports.push_back(std::move(report));
  }
  const std::vector<size_t> ranked = RankGoldCandidates(candidates);
  nlohmann::json tried = nlohmann::json::array();
  std::string errors;
  for (size_t i : ranked) {
    const auto& report = reports[i];
    tried.push_back({{"gold_video_id", candidates[i].gold_video_id},
                     {"score", report.ok() ? nlohmann::json(report->score) : nlohmann::json(nullptr)},
                     {"verdict", report.ok() ? nlohmann::json(report->verdict) : nlohmann::json(nullptr)},
                     {"sop_version", sop_versions[i] ? nlohmann::json(*sop_versions[i]) : nlohmann::json(nullptr)},
                     {"error", report.ok() ? nlohmann::json(nullptr) : nlohmann::json(report.status().message())}});
    if (!report.ok()) {
      errors += "; gold video " + std::to_string(candidates[i].gold_video_id) + ": " + report.status().message();
    }
  }
  const size_t best = ranked[0];
  if (!reports[best].ok()) {
    return Status::InvalidArgument("no gold video of task " + job.task_id + " could be scored against trainee video " +
                                   std::to_string(in.trainee.id) + errors);
  }
  const ScoreReport& report = *reports[best];
  const VideoRow& gold = in.golds[best];
  nlohmann::json result =
      ScoreResultJson(report, gold, in.trainee, sop_versions[best], job, in.index_version, in.feature_adapter);
  result["gold_candidates"] = tried;
  return CompleteScore(job, report, result, MetadataStore::ScoredGold{gold.id, sop_versions[best]});
}

}  // namespace sopilot
