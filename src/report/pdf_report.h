// RenderPdfReport: a score report as a PDF (A4, usually one or two pages):
// task, SOP version, trainee, date, verdict and score; the step timeline as
// a picture (a gold lane and a trainee lane); the alignment of each step as
// a small plot; per deviation its reason and a frame from each video at its
// time codes; and on every page a footer with the result's SHA-256 so that a
// filed copy can be checked. Drawn with cairo; thread-safe (no shared state).
#pragma once

#include <string>

#include "base/status.h"
#include "report/report_input.h"

namespace sopilot {

// The PDF's bytes; Internal when cairo fails (out of memory).
Result<std::string> RenderPdfReport(const ReportInput& input);

// PNG bytes of an RGB frame (CV_8UC3), for pages that embed pictures.
Result<std::string> EncodePng(const cv::Mat& rgb);

}  // namespace sopilot
