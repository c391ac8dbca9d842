// AddDeviationFrames: the pictures of a report, taken from the two videos at
// each deviation's moments (report_input.h, DeviationMoments), with one
// decode of each file (video/frame_grabber.h).
#pragma once

#include <string>

#include "base/status.h"
#include "report/report_input.h"

namespace sopilot {

// Fills in->frames (one entry per deviation shown). An empty path (no video
// at hand: an embedding file, a deleted upload) leaves that side's pictures
// out; a file that cannot be decoded fails, as FramesAt does, with the other
// side's pictures already taken.
Status AddDeviationFrames(ReportInput* in, const std::string& gold_video_path, const std::string& trainee_video_path,
                          int max_side = 320);

}  // namespace sopilot
