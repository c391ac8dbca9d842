#include "report/html_report.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>

#include "base/time_code.h"
#include "report/pdf_report.h"
#include "report/report_model.h"

namespace sopilot {

namespace {

std::string Base64(const std::string& in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) | uint8_t(in[i + 2]);
    for (int k = 3; k >= 0; --k) out.push_back(kAlphabet[(v >> (6 * k)) & 63]);
  }
  if (i < in.size()) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    if (i + 1 < in.size()) v |= uint32_t(uint8_t(in[i + 1])) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::string Css(const Rgb& c) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", int(c.r * 255 + 0.5), int(c.g * 255 + 0.5), int(c.b * 255 + 0.5));
  return buf;
}

std::string Num(double v, const char* fmt = "%.1f") {
  char buf[32];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string Picture(const cv::Mat& rgb, const std::string& alt) {
  if (rgb.empty()) return "<div class=\"nopic\">" + HtmlEscape(alt) + "</div>";
  auto png = EncodePng(rgb);
  if (!png.ok()) return "<div class=\"nopic\">" + HtmlEscape(alt) + "</div>";
  return "<img alt=\"" + HtmlEscape(alt) + "\" src=\"data:image/png;base64," + Base64(*png) + "\">";
}

// The two lanes as SVG, in a 1000 x 90 box.
std::string TimelineSvg(const ReportModel& m) {
  const double total = std::max({m.gold_duration, m.trainee_duration, 1.0});
  auto X = [&](double t) { return Num(80 + 910 * t / total); };
  std::string svg = "<svg class=\"timeline\" viewBox=\"0 0 1000 90\" role=\"img\" aria-label=\"Step timeline: gold "
                    "lane above, trainee lane below\">";
  for (int lane = 0; lane < 2; ++lane) {
    const bool gold = lane == 0;
    const std::string y = gold ? "10" : "45";
    svg += "<text x=\"0\" y=\"" + std::string(gold ? "28" : "63") + "\">" + (gold ? "gold" : "trainee") + "</text>";
    svg += "<rect x=\"80\" y=\"" + y + "\" width=\"910\" height=\"28\" fill=\"#f2f2f2\"/>";
    for (const ReportSpan& s : gold ? m.gold_idle : m.idle) {
      svg += "<rect x=\"" + X(s.start) + "\" y=\"" + y + "\" width=\"" + Num(910 * (s.end - s.start) / total) +
             "\" height=\"28\" fill=\"#d9d9d9\"><title>idle " + TimeSpanCode(s.start, s.end) +
             (gold ? " (no step)" : "") + "</title></rect>";
    }
    if (!gold) {
      for (const ReportSpan& s : m.extra) {
        svg += "<rect x=\"" + X(s.start) + "\" y=\"67\" width=\"" + Num(910 * (s.end - s.start) / total) +
               "\" height=\"6\" fill=\"#d42e2e\"><title>unexplained " + TimeCode(s.start) + "-" +
               TimeCode(s.end) + "</title></rect>";
      }
    }
    for (const ReportStep& s : m.steps) {
      const auto& span = gold ? s.gold : s.trainee;
      if (!span) continue;
      const std::string status = gold ? (s.status == "missing" || s.status == "skipped" ? s.status : "ok") : s.status;
      svg += "<rect x=\"" + X(span->start) + "\" y=\"" + y + "\" width=\"" +
             Num(std::max(0.5, 910 * (span->end - span->start) / total - 1)) + "\" height=\"28\" fill=\"" +
             Css(StatusColour(status)) + "\"><title>" + HtmlEscape(std::to_string(s.index + 1) + " " + s.name) + ": " +
             StatusWords(s.status) + " (" + TimeSpanCode(span->start, span->end) +
             ")</title></rect>";
      svg += "<text class=\"n\" x=\"" + Num(80 + 910 * (0.5 * (span->start + span->end)) / total) + "\" y=\"" +
             std::string(gold ? "29" : "64") + "\">" + std::to_string(s.index + 1) + "</text>";
    }
  }
  svg += "</svg>";
  return svg;
}

}  // namespace

std::string HtmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

Result<std::string> RenderHtmlReport(const ReportInput& in) {
  const ReportModel m = ReadReportModel(in.result);
  std::string h;
  h += "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
       "content=\"width=device-width, initial-scale=1\"><title>SOPilot score report: " +
       HtmlEscape(in.task_id) + "</title><style>"
       "body{font-family:system-ui,sans-serif;max-width:60rem;margin:1.5rem auto;padding:0 1rem;color:#1a1a1a}"
       "table.meta td{padding:.1rem .8rem .1rem 0}table.meta td:first-child{font-weight:600}"
       ".verdict{display:inline-block;color:#fff;padding:.6rem 1rem;border-radius:.3rem;font-size:1.4rem;font-weight:700}"
       ".timeline{width:100%;height:auto}.timeline text{font-size:13px}.timeline text.n{fill:#fff;font-size:11px;"
       "text-anchor:middle;font-weight:700}"
       ".dev{display:flex;gap:1rem;border-top:1px solid #ddd;padding:.6rem 0;flex-wrap:wrap}.dev .text{flex:1 1 20rem}"
       ".dev figure{margin:0}.dev img,.nopic{width:14rem;height:7.9rem;object-fit:contain;background:#eee}"
       ".nopic{display:flex;align-items:center;justify-content:center;color:#666;font-size:.8rem;text-align:center}"
       ".critical,.verdict-reason{color:#b00}footer{margin-top:2rem;color:#555;font-size:.8rem;word-break:break-all}"
       "</style></head><body>";
  h += "<h1>SOPilot score report</h1><table class=\"meta\">";
  auto row = [&](const std::string& k, const std::string& v) {
    h += "<tr><td>" + HtmlEscape(k) + "</td><td>" + HtmlEscape(v.empty() ? "-" : v) + "</td></tr>";
  };
  row("Task", in.task_id);
  row("SOP", in.sop_version ? "version " + std::to_string(*in.sop_version) : "steps found in the gold video");
  row("Trainee", in.trainee_label);
  row("Gold", in.gold_label);
  row("Operator", in.operator_id_hash);
  row("Site / camera", (in.site_id.empty() ? "-" : in.site_id) + " / " + (in.camera_id.empty() ? "-" : in.camera_id));
  row("Scored", in.scored_at);
  if (!in.score_job_id.empty()) row("Score job", in.score_job_id);
  h += "</table><p><span class=\"verdict\" style=\"background:" + Css(VerdictColour(m.verdict)) + "\">" +
       Num(m.score) + " &middot; " + HtmlEscape(m.verdict) + "</span></p>";
  if (!m.verdict_reason.empty()) h += "<p class=\"verdict-reason\"><strong>Verdict:</strong> " + HtmlEscape(m.verdict_reason) + "</p>";
  h += "<h2>Step timeline</h2>" + TimelineSvg(m) + "<ol>";
  for (const ReportStep& s : m.steps) {
    h += "<li>" + HtmlEscape(s.name) + (s.critical ? " <strong class=\"critical\">(critical)</strong>" : "") +
         (s.optional ? " (optional)" : "") + " &mdash; " + HtmlEscape(StatusWords(s.status)) + "</li>";
  }
  h += "</ol><h2>" + (m.deviations.empty() ? std::string("No deviations")
                                          : "Deviations (" + std::to_string(m.deviations.size()) + ")") + "</h2>";
  for (size_t i = 0; i < m.deviations.size() && i < kReportMaxDeviations; ++i) {
    const ReportDeviation& d = m.deviations[i];
    std::string title = d.type;
    if (!d.step_name.empty()) title += ": \"" + d.step_name + "\"";
    if (!d.other_step_name.empty()) title += " and \"" + d.other_step_name + "\"";
    const ReportFrames none;
    const ReportFrames& f = i < in.frames.size() ? in.frames[i] : none;
    h += "<section class=\"dev\"><div class=\"text\"><h3" + std::string(d.critical ? " class=\"critical\"" : "") + ">" +
         std::to_string(i + 1) + ". " + HtmlEscape(title) + (d.critical ? " (critical step)" : "") + "</h3><p>gold " +
         (d.gold ? TimeSpanCode(d.gold->start, d.gold->end) : "-") + " &middot; trainee " +
         (d.trainee ? TimeSpanCode(d.trainee->start, d.trainee->end) : "-") + " &middot; " +
         HtmlEscape(d.severity) + ", &minus;" + Num(d.penalty) + " points</p><p>" + HtmlEscape(d.reason) +
         "</p></div><figure>" + Picture(f.gold, d.gold ? "gold video not available" : "no gold time") +
         "<figcaption>gold</figcaption></figure><figure>" +
         Picture(f.trainee, d.trainee ? "trainee video not available" : "not seen in the trainee video") +
         "<figcaption>trainee</figcaption></figure></section>";
  }
  if (m.deviations.size() > kReportMaxDeviations) {
    h += "<p>&hellip; and " + std::to_string(m.deviations.size() - kReportMaxDeviations) +
         " more deviations, listed in the result JSON.</p>";
  }
  h += "<footer>Result SHA-256 " + HtmlEscape(in.result_sha256.empty() ? "-" : in.result_sha256) +
       (in.score_job_id.empty() ? "" : " (GET /score/" + HtmlEscape(in.score_job_id) + ")") + "</footer></body></html>";
  return h;
}

}  // namespace sopilot
