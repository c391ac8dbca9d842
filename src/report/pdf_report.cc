#include "report/pdf_report.h"

#include <cairo-pdf.h>
#include <cairo.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>

#include "base/time_code.h"
#include "report/report_model.h"

namespace sopilot {

namespace {

constexpr double kPageW = 595.28, kPageH = 841.89;  // A4 in points
constexpr double kMargin = 40;
constexpr double kBottom = kPageH - 48;  // above the footer
constexpr const char* kFont = "DejaVu Sans";

cairo_status_t AppendToString(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

// An RGB frame as a cairo surface (owned by the caller).
cairo_surface_t* SurfaceOf(const cv::Mat& rgb) {
  if (rgb.empty() || rgb.type() != CV_8UC3) return nullptr;
  cairo_surface_t* s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, rgb.cols, rgb.rows);
  if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(s);
    return nullptr;
  }
  cairo_surface_flush(s);
  unsigned char* data = cairo_image_surface_get_data(s);
  const int stride = cairo_image_surface_get_stride(s);
  for (int y = 0; y < rgb.rows; ++y) {
    const unsigned char* src = rgb.ptr<unsigned char>(y);
    auto* dst = reinterpret_cast<uint32_t*>(data + y * stride);
    for (int x = 0; x < rgb.cols; ++x) {
      dst[x] = (0xFFu << 24) | (uint32_t{src[3 * x]} << 16) | (uint32_t{src[3 * x + 1]} << 8) | src[3 * x + 2];
    }
  }
  cairo_surface_mark_dirty(s);
  return s;
}

// Page drawing: text, wrapped text, boxes and pictures, with a cursor.
class Pages {
 public:
  explicit Pages(cairo_t* cr, std::string footer) : cr_(cr), footer_(std::move(footer)) {}

  void Colour(const Rgb& c) { cairo_set_source_rgb(cr_, c.r, c.g, c.b); }
  void Grey(double v) { cairo_set_source_rgb(cr_, v, v, v); }

  void Font(double size, bool bold = false) {
    cairo_select_font_face(cr_, kFont, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr_, size);
  }
  double Width(const std::string& s) {
    cairo_text_extents_t e;
    cairo_text_extents(cr_, s.c_str(), &e);
    return e.x_advance;
  }
  // `s` shortened with "..." to fit `width` at the current font (whole UTF-8
  // characters are dropped, never half of one).
  std::string Fit(std::string s, double width) {
    if (Width(s) <= width) return s;
    while (!s.empty() && Width(s + "...") > width) {
      // One whole character: its continuation bytes, then its first byte.
      while (!s.empty()) {
        const unsigned char c = static_cast<unsigned char>(s.back());
        s.pop_back();
        if ((c & 0xC0) != 0x80) break;
      }
    }
    return s + "...";
  }
  void Text(double x, double y, const std::string& s) {
    cairo_move_to(cr_, x, y);
    cairo_show_text(cr_, s.c_str());
  }
  // Words wrapped to `width`; returns the height used. Line breaks are kept.
  double Wrapped(double x, double y, double width, double size, const std::string& s, bool draw = true) {
    const double line = size * 1.3;
    double used = 0;
    std::string current;
    auto flush = [&] {
      if (draw) Text(x, y + used + size, current);
      used += line;
      current.clear();
    };
    size_t i = 0;
    while (i <= s.size()) {
      size_t j = s.find_first_of(" \n", i);
      if (j == std::string::npos) j = s.size();
      std::string word = s.substr(i, j - i);
      if (word.empty()) {
        if (j < s.size() && s[j] == '\n') flush();
        i = j + 1;
        continue;
      }
      std::string candidate = current.empty() ? word : current + " " + word;
      if (!current.empty() && Width(candidate) > width) {
        flush();
        current = word;
      } else {
        current = candidate;
      }
      if (j < s.size() && s[j] == '\n') flush();
      i = j + 1;
    }
    if (!current.empty()) flush();
    return used;
  }
  void Box(double x, double y, double w, double h, bool fill = true) {
    cairo_rectangle(cr_, x, y, w, h);
    if (fill) {
      cairo_fill(cr_);
    } else {
      cairo_set_line_width(cr_, 0.8);
      cairo_stroke(cr_);
    }
  }
  void Line(double x0, double y0, double x1, double y1, double width, bool dashed = false) {
    const double dash[] = {3, 3};
    cairo_set_dash(cr_, dashed ? dash : nullptr, dashed ? 2 : 0, 0);
    cairo_set_line_width(cr_, width);
    cairo_move_to(cr_, x0, y0);
    cairo_line_to(cr_, x1, y1);
    cairo_stroke(cr_);
    cairo_set_dash(cr_, nullptr, 0, 0);
  }
  // The frame scaled into the box, keeping its shape; a grey box with a
  // note when there is none.
  void Picture(const cv::Mat& rgb, double x, double y, double w, double h, const std::string& missing_note) {
    cairo_surface_t* s = SurfaceOf(rgb);
    if (s == nullptr) {
      Grey(0.92);
      Box(x, y, w, h);
      Grey(0.45);
      Font(7);
      Wrapped(x + 4, y + h / 2 - 8, w - 8, 7, missing_note);
      return;
    }
    const double scale = std::min(w / rgb.cols, h / rgb.rows);
    const double dw = rgb.cols * scale, dh = rgb.rows * scale;
    cairo_save(cr_);
    cairo_translate(cr_, x + (w - dw) / 2, y + (h - dh) / 2);
    cairo_scale(cr_, scale, scale);
    cairo_set_source_surface(cr_, s, 0, 0);
    cairo_paint(cr_);
    cairo_restore(cr_);
    cairo_surface_destroy(s);
  }

  // The cursor; a block that does not fit starts a new page.
  double y = kMargin;
  void Need(double height) {
    if (y + height <= kBottom) return;
    NextPage();
  }
  void NextPage() {
    Footer();
    cairo_show_page(cr_);
    ++page_;
    y = kMargin;
  }
  void Finish() {
    Footer();
    cairo_show_page(cr_);
  }

 private:
  void Footer() {
    Grey(0.4);
    Font(7);
    Text(kMargin, kPageH - 30, footer_);
    std::string page = "page " + std::to_string(page_);
    Text(kPageW - kMargin - Width(page), kPageH - 20, page);
  }

  cairo_t* cr_;
  std::string footer_;
  int page_ = 1;
};

std::string Fixed(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string SpanText(const std::optional<ReportSpan>& s) {
  return s ? TimeSpanCode(s->start, s->end) : "-";
}

void DrawHeader(Pages& p, const ReportInput& in, const ReportModel& m) {
  p.Grey(0.1);
  p.Font(18, true);
  p.Text(kMargin, p.y + 18, "SOPilot score report");
  p.y += 30;
  p.Font(9);
  p.Grey(0.2);
  std::vector<std::pair<std::string, std::string>> rows = {
      {"Task", in.task_id.empty() ? "-" : in.task_id},
      {"SOP", in.sop_version ? "version " + std::to_string(*in.sop_version) : "steps found in the gold video"},
      {"Trainee", in.trainee_label},
      {"Gold", in.gold_label},
      {"Operator", in.operator_id_hash.empty() ? "-" : in.operator_id_hash},
      {"Site / camera", (in.site_id.empty() ? "-" : in.site_id) + " / " + (in.camera_id.empty() ? "-" : in.camera_id)},
      {"Scored", in.scored_at.empty() ? "-" : in.scored_at}};
  if (!in.score_job_id.empty()) rows.push_back({"Score job", in.score_job_id});
  const double top = p.y;
  for (const auto& [k, v] : rows) {
    p.Font(9, true);
    p.Text(kMargin, p.y + 9, k);
    p.Font(9);
    p.Text(kMargin + 80, p.y + 9, p.Fit(v, kPageW - 2 * kMargin - 80 - 170 - 10));
    p.y += 13;
  }
  // The verdict, large, on the right.
  const double bx = kPageW - kMargin - 170, bw = 170, bh = 70;
  p.Colour(VerdictColour(m.verdict));
  p.Box(bx, top, bw, bh);
  p.Grey(1.0);
  p.Font(26, true);
  p.Text(bx + 12, top + 32, Fixed("%.1f", m.score));
  p.Font(14, true);
  std::string verdict = m.verdict;
  std::transform(verdict.begin(), verdict.end(), verdict.begin(), [](unsigned char c) {
    return c == '_' ? ' ' : static_cast<char>(std::toupper(c));
  });
  p.Text(bx + 12, top + 56, verdict);
  p.y = std::max(p.y, top + bh) + 6;
  if (!m.verdict_reason.empty()) {
    p.Colour({0.7, 0.1, 0.1});
    p.Font(10, true);
    p.y += p.Wrapped(kMargin, p.y, kPageW - 2 * kMargin, 10, "Verdict " + m.verdict + ": " + m.verdict_reason);
  }
  p.y += 6;
}

void DrawTimeline(Pages& p, const ReportModel& m) {
  const double total = std::max({m.gold_duration, m.trainee_duration, 1.0});
  const double x0 = kMargin + 50, width = kPageW - kMargin - x0, lane = 22;
  p.Need(lane * 2 + 70);
  p.Grey(0.1);
  p.Font(11, true);
  p.Text(kMargin, p.y + 11, "Step timeline");
  p.y += 18;
  auto X = [&](double t) { return x0 + width * t / total; };
  for (int lane_index = 0; lane_index < 2; ++lane_index) {
    const bool gold = lane_index == 0;
    const double ly = p.y + lane_index * (lane + 6);
    p.Grey(0.2);
    p.Font(8, true);
    p.Text(kMargin, ly + 14, gold ? "gold" : "trainee");
    p.Grey(0.95);
    p.Box(x0, ly, width, lane);
    for (const ReportSpan& s : gold ? m.gold_idle : m.idle) {
      p.Grey(0.85);
      p.Box(X(s.start), ly, std::max(0.5, X(s.end) - X(s.start)), lane);
    }
    if (!gold) {
      for (const ReportSpan& s : m.extra) {
        p.Colour({0.83, 0.18, 0.18});
        p.Box(X(s.start), ly + lane - 5, std::max(0.5, X(s.end) - X(s.start)), 5);
      }
    }
    for (const ReportStep& s : m.steps) {
      const std::optional<ReportSpan>& span = gold ? s.gold : s.trainee;
      if (!span) continue;
      const double a = X(span->start), b = X(span->end);
      p.Colour(StatusColour(gold ? (s.status == "missing" || s.status == "skipped" ? s.status : "ok") : s.status));
      p.Box(a + 0.5, ly + 1, std::max(0.5, b - a - 1), lane - 2);
      std::string label = std::to_string(s.index + 1);
      p.Grey(1.0);
      p.Font(7, true);
      if (p.Width(label) + 2 < b - a) p.Text(a + (b - a - p.Width(label)) / 2, ly + lane / 2 + 3, label);
    }
  }
  p.y += 2 * lane + 8;
  // Time axis.
  p.Grey(0.35);
  p.Font(7);
  const double steps[] = {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600};
  double tick = steps[0];
  for (double s : steps) {
    tick = s;
    if (total / s <= 10) break;
  }
  for (double t = 0; t <= total + 1e-9; t += tick) {
    p.Line(X(t), p.y, X(t), p.y + 3, 0.5);
    p.Text(X(t) - 8, p.y + 11, TimeCode(t));
  }
  p.y += 18;
  // Legend: the step names, and the colours.
  p.Font(8);
  p.Grey(0.15);
  std::string names;
  for (const ReportStep& s : m.steps) {
    if (!names.empty()) names += "   ";
    names += std::to_string(s.index + 1) + " " + s.name + (s.critical ? " (critical)" : "") +
             (s.optional ? " (optional)" : "");
  }
  p.y += p.Wrapped(kMargin, p.y, kPageW - 2 * kMargin, 8, names);
  double lx = kMargin;
  for (const char* status : {"ok", "deviation", "over_time", "out_of_order", "missing", "skipped"}) {
    p.Colour(StatusColour(status));
    p.Box(lx, p.y + 3, 8, 8);
    p.Grey(0.25);
    p.Font(7);
    p.Text(lx + 11, p.y + 10, StatusWords(status));
    lx += 16 + p.Width(StatusWords(status)) + 8;
  }
  p.Colour({0.83, 0.18, 0.18});
  p.Box(lx, p.y + 8, 8, 3);
  p.Grey(0.25);
  p.Text(lx + 11, p.y + 10, "unexplained time");
  p.y += 20;
}

// Gold time against trainee time, a segment per step done: a steady pace is
// a diagonal, a slow step is steep, a step done out of order jumps back.
void DrawAlignment(Pages& p, const ReportModel& m, double x, double y, double size) {
  const double gd = std::max(m.gold_duration, 1.0), td = std::max(m.trainee_duration, 1.0);
  p.Grey(0.97);
  p.Box(x, y, size, size);
  p.Grey(0.6);
  p.Box(x, y, size, size, false);
  p.Grey(0.7);
  const double diag = std::min(gd, td);
  p.Line(x, y + size, x + size * diag / gd, y + size - size * diag / td, 0.6, true);
  for (const ReportStep& s : m.steps) {
    if (!s.gold || !s.trainee) continue;
    p.Colour(StatusColour(s.status));
    p.Line(x + size * s.gold->start / gd, y + size - size * s.trainee->start / td, x + size * s.gold->end / gd,
           y + size - size * s.trainee->end / td, 2.2);
  }
  p.Grey(0.3);
  p.Font(7);
  p.Text(x, y + size + 10, "gold time ->");
  p.Text(x - 2, y - 4, "trainee time");
}

void DrawDeviations(Pages& p, const ReportInput& in, const ReportModel& m) {
  p.Need(40);
  p.Grey(0.1);
  p.Font(11, true);
  p.Text(kMargin, p.y + 11, m.deviations.empty() ? "No deviations" : "Deviations (" + std::to_string(m.deviations.size()) + ")");
  p.y += 20;
  const double pic_w = 112, pic_h = 63, text_w = kPageW - 2 * kMargin - 2 * pic_w - 20;
  for (size_t i = 0; i < m.deviations.size() && i < kReportMaxDeviations; ++i) {
    const ReportDeviation& d = m.deviations[i];
    std::string title = std::to_string(i + 1) + ". " + d.type;
    if (!d.step_name.empty()) title += ": \"" + d.step_name + "\"";
    if (!d.other_step_name.empty()) title += " and \"" + d.other_step_name + "\"";
    if (d.critical) title += "  (critical step)";
    std::string times = "gold " + SpanText(d.gold) + "   trainee " + SpanText(d.trainee) + "   " + d.severity +
                        Fixed(", -%.1f points", d.penalty);
    p.Font(8);
    const double reason_h = p.Wrapped(0, 0, text_w, 8, d.reason, false);
    const double block = std::max(28 + reason_h, pic_h + 14) + 10;
    p.Need(block);
    const double top = p.y;
    p.Colour(d.critical ? Rgb{0.83, 0.18, 0.18} : Rgb{0.1, 0.1, 0.1});
    p.Font(9, true);
    p.Wrapped(kMargin, top, text_w, 9, title);
    p.Grey(0.3);
    p.Font(7.5);
    p.Text(kMargin, top + 22, times);
    p.Grey(0.1);
    p.Font(8);
    p.Wrapped(kMargin, top + 26, text_w, 8, d.reason);
    const ReportFrames none;
    const ReportFrames& f = i < in.frames.size() ? in.frames[i] : none;
    const double gx = kPageW - kMargin - 2 * pic_w - 8, tx = kPageW - kMargin - pic_w;
    p.Picture(f.gold, gx, top, pic_w, pic_h, d.gold ? "gold video not available" : "no gold time");
    p.Picture(f.trainee, tx, top, pic_w, pic_h,
              d.trainee ? "trainee video not available" : "not seen in the trainee video");
    p.Grey(0.35);
    p.Font(7);
    p.Text(gx, top + pic_h + 9, d.gold ? "gold at " + TimeCode(0.5 * (d.gold->start + d.gold->end)) : "gold");
    p.Text(tx, top + pic_h + 9,
           d.trainee ? "trainee at " + TimeCode(0.5 * (d.trainee->start + d.trainee->end)) : "trainee");
    p.y = top + block;
    p.Grey(0.85);
    p.Line(kMargin, p.y - 5, kPageW - kMargin, p.y - 5, 0.4);
  }
  if (m.deviations.size() > kReportMaxDeviations) {
    p.Need(14);
    p.Grey(0.2);
    p.Font(8);
    p.Text(kMargin, p.y + 8,
           "... and " + std::to_string(m.deviations.size() - kReportMaxDeviations) +
               " more deviations, listed in the result JSON");
    p.y += 14;
  }
}

}  // namespace

Result<std::string> RenderPdfReport(const ReportInput& in) {
  const ReportModel m = ReadReportModel(in.result);
  std::string bytes;
  cairo_surface_t* surface = cairo_pdf_surface_create_for_stream(AppendToString, &bytes, kPageW, kPageH);
  if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(surface);
    return Status::Internal("cannot create the PDF surface");
  }
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, ("SOPilot score report " + in.task_id).c_str());
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "SOPilot");
  cairo_t* cr = cairo_create(surface);
  {
    Pages p(cr, "Result SHA-256 " + (in.result_sha256.empty() ? std::string("-") : in.result_sha256) +
                    (in.score_job_id.empty() ? "" : "  (GET /score/" + in.score_job_id + ")"));
    DrawHeader(p, in, m);
    DrawTimeline(p, m);
    // The alignment plot beside a short reading guide.
    const double size = 120;
    p.Need(size + 30);
    p.Grey(0.1);
    p.Font(11, true);
    p.Text(kMargin, p.y + 11, "Alignment");
    DrawAlignment(p, m, kMargin + 10, p.y + 26, size);
    p.Grey(0.25);
    p.Font(8);
    p.Wrapped(kMargin + size + 40, p.y + 26, kPageW - 2 * kMargin - size - 40, 8,
              "Each line is a step: where it lies in the gold video (across) and in the trainee video (up). "
              "A steady pace follows the dashed diagonal; a steep line is a slow step; a line below the "
              "one before it was done out of order; a step not done has no line.");
    p.y += size + 44;
    DrawDeviations(p, in, m);
    p.Finish();
  }
  const cairo_status_t status = cairo_status(cr);
  cairo_destroy(cr);
  cairo_surface_finish(surface);
  const cairo_status_t finished = cairo_surface_status(surface);
  cairo_surface_destroy(surface);
  if (status != CAIRO_STATUS_SUCCESS || finished != CAIRO_STATUS_SUCCESS) {
    return Status::Internal(std::string("drawing the PDF report failed: ") +
                            cairo_status_to_string(status != CAIRO_STATUS_SUCCESS ? status : finished));
  }
  return bytes;
}

Result<std::string> EncodePng(const cv::Mat& rgb) {
  cairo_surface_t* s = SurfaceOf(rgb);
  if (s == nullptr) return Status::InvalidArgument("not an RGB picture");
  std::string bytes;
  const cairo_status_t st = cairo_surface_write_to_png_stream(s, AppendToString, &bytes);
  cairo_surface_destroy(s);
  if (st != CAIRO_STATUS_SUCCESS) return Status::Internal(std::string("PNG: ") + cairo_status_to_string(st));
  return bytes;
}

}  // namespace sopilot
