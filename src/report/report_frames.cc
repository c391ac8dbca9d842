#include "report/report_frames.h"

#include <vector>

#include "video/frame_grabber.h"

namespace sopilot {

Status AddDeviationFrames(ReportInput* in, const std::string& gold_video_path, const std::string& trainee_video_path,
                          int max_side) {
  const std::vector<FrameMoments> moments = DeviationMoments(in->result);
  in->frames.resize(moments.size());
  for (const bool gold : {true, false}) {
    const std::string& path = gold ? gold_video_path : trainee_video_path;
    if (path.empty()) continue;
    std::vector<double> times;
    std::vector<size_t> which;
    for (size_t i = 0; i < moments.size(); ++i) {
      const std::optional<double>& t = gold ? moments[i].gold : moments[i].trainee;
      if (!t) continue;
      times.push_back(*t);
      which.push_back(i);
    }
    if (times.empty()) continue;
    SOPILOT_ASSIGN_OR_RETURN(std::vector<cv::Mat> frames, FramesAt(path, times, max_side));
    for (size_t k = 0; k < which.size(); ++k) {
      (gold ? in->frames[which[k]].gold : in->frames[which[k]].trainee) = frames[k];
    }
  }
  return Status::Ok();
}

}  // namespace sopilot
