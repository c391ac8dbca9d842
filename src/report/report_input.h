// ReportInput: what a score report shows, gathered by its caller (the
// service for GET /score/{id}/report.pdf, the CLI for `score --report`):
// the result JSON, who and what was scored, and a frame of each video at
// each deviation. The renderers (pdf_report.h, html_report.h) only draw it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

namespace sopilot {

// At most this many deviations get a block with pictures; the rest are
// counted in one line (a report stays a page or two).
inline constexpr size_t kReportMaxDeviations = 12;

struct ReportFrames {
  cv::Mat gold, trainee;  // RGB (CV_8UC3); empty when the video is not at hand
};

struct ReportInput {
  nlohmann::json result;      // the score result (score/report_json.h plus the service's fields)
  std::string result_sha256;  // of the result as stored or printed: a filed copy is checked against it
  std::string task_id;
  std::string gold_label, trainee_label;  // "gold.mp4 (video 1)"
  std::string operator_id_hash, site_id, camera_id;
  std::string scored_at;     // when the score finished
  std::string score_job_id;  // "" outside the service
  std::optional<int64_t> sop_version;
  std::vector<ReportFrames> frames;  // per deviation of result["deviations"], in order (may be shorter)
};

// The moments a deviation's pictures show: the middle of its gold time and
// of its trainee time (absent where the deviation has none: a missing step
// has no trainee time). One entry per deviation, at most
// kReportMaxDeviations.
struct FrameMoments {
  std::optional<double> gold, trainee;
};
std::vector<FrameMoments> DeviationMoments(const nlohmann::json& result);

}  // namespace sopilot
