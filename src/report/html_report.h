// RenderHtmlReport: the score report as one self-contained HTML page (the
// frames inline as PNG data, no external file, script or font): the same
// content as the PDF (pdf_report.h), for a browser or an e-mail.
#pragma once

#include <string>

#include "base/status.h"
#include "report/report_input.h"

namespace sopilot {

Result<std::string> RenderHtmlReport(const ReportInput& input);

// Text made safe inside HTML text and attribute values.
std::string HtmlEscape(const std::string& s);

}  // namespace sopilot
