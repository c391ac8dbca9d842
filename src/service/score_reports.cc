// SopilotService: a completed score as a PDF or an HTML report, with frames
// from the stored uploads.
#include "base/digest.h"
#include "report/html_report.h"
#include "report/pdf_report.h"
#include "report/report_frames.h"
#include "report/report_input.h"
#include "service/sopilot_service.h"

namespace sopilot {

namespace {

constexpr uint64_t kMaxResultFile = 256u << 20;
constexpr int kReportFrameSide = 320;

std::string Label(const Result<VideoRow>& v, const std::optional<int64_t>& id) {
  if (!id) return "(video deleted)";
  if (!v.ok()) return "video " + std::to_string(*id) + " (deleted)";
  return v->file_name + " (video " + std::to_string(v->id) + ")";
}

}  // namespace

Result<JobRow> SopilotService::CompletedScoreJob(const std::string& score_job_id) {
  SOPILOT_ASSIGN_OR_RETURN(JobRow job, GetJob(JobKind::kScore, score_job_id));
  if (job.status != kJobCompleted || job.result_path.empty()) {
    return Status::InvalidArgument("score job " + score_job_id + " is " + job.status +
                                   "; its result and reports exist once it is completed");
  }
  return job;
}

Result<std::string> SopilotService::ScoreResultPath(const std::string& score_job_id) {
  SOPILOT_ASSIGN_OR_RETURN(JobRow job, CompletedScoreJob(score_job_id));
  return blobs_.Absolute(job.result_path);
}

Result<ReportInput> SopilotService::GatherReport(const std::string& score_job_id) {
  SOPILOT_ASSIGN_OR_RETURN(JobRow job, CompletedScoreJob(score_job_id));
  SOPILOT_ASSIGN_OR_RETURN(std::string text, blobs_.Get(job.result_path, kMaxResultFile));
  ReportInput in;
  in.result = nlohmann::json::parse(text, nullptr, false);
  if (in.result.is_discarded()) return Status::Corruption("score result file is not JSON: " + job.result_path);
  in.result_sha256 = Sha256Hex(text);
  in.task_id = job.task_id;
  in.operator_id_hash = job.operator_id_hash;
  in.site_id = job.site_id;
  in.camera_id = job.camera_id;
  in.scored_at = job.finished_at;
  in.score_job_id = job.id;
  in.sop_version = job.sop_version;

  Result<VideoRow> gold = job.gold_video_id ? store_->GetVideo(*job.gold_video_id)
                                            : Result<VideoRow>(Status::NotFound("deleted"));
  Result<VideoRow> trainee = job.trainee_video_id ? store_->GetVideo(*job.trainee_video_id)
                                                  : Result<VideoRow>(Status::NotFound("deleted"));
  in.gold_label = Label(gold, job.gold_video_id);
  // Scored against each of the task's golds: the report names the closest
  // and says so (the result file lists them all).
  if (const auto c = in.result.find("gold_candidates"); c != in.result.end() && c->is_array()) {
    in.gold_label += ", the closest of " + std::to_string(c->size()) + " gold videos";
  }
  in.trainee_label = Label(trainee, job.trainee_video_id);

  // One decode of each video for all the moments; a video gone or
  // unreadable leaves its pictures out (the report says so), never the report.
  auto path_of = [this](const Result<VideoRow>& v) {
    return v.ok() && blobs_.Exists(v->file_path) ? blobs_.Absolute(v->file_path) : std::string();
  };
  // Best effort: pictures not taken are drawn as "not available".
  (void)AddDeviationFrames(&in, path_of(gold), path_of(trainee), kReportFrameSide);
  return in;
}

Result<std::string> SopilotService::ScoreReportPdf(const std::string& score_job_id) {
  SOPILOT_ASSIGN_OR_RETURN(ReportInput in, GatherReport(score_job_id));
  return RenderPdfReport(in);
}

Result<std::string> SopilotService::ScoreReportHtml(const std::string& score_job_id) {
  SOPILOT_ASSIGN_OR_RETURN(ReportInput in, GatherReport(score_job_id));
  return RenderHtmlReport(in);
}

}  // namespace sopilot
