// The score report as a person sees it: the PDF read back with poppler's
// pdftotext (the words are there) and pdftoppm (the pictures render), the
// HTML page's content, and the frames a report shows taken from a real
// video at the right moments.
#include <cairo.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/digest.h"
#include "report/html_report.h"
#include "report/pdf_report.h"
#include "report/report_input.h"
#include "score/report_json.h"
#include "score/scene_embeddings_test_util.h"
#include "score/sop_evaluator.h"
#include "testing/command.h"
#include "testing/temp_dir.h"
#include "testing/test_videos.h"
#include "video/frame_grabber.h"

namespace sopilot {
namespace {

EmbeddingSet Video(const std::vector<int>& scenes, const std::vector<double>& seconds, int seed = 1,
                   const std::string& model = "heuristic-v1") {
  return testing::SceneEmbeddings(scenes, seconds, seed, model);
}

// A scored result with named steps: CLEAN (critical) left out.
ReportInput CriticalStepLeftOut() {
  std::vector<StepSpec> steps;
  const char* names[] = {"REMOVE", "CLEAN", "SWAP", "CHECK"};
  for (int k = 0; k < 4; ++k) steps.push_back({names[k], {6.0 * k, 6.0 * (k + 1)}, {}});
  steps[1].rules.critical = true;
  auto report = EvaluateSop(Video({0, 1, 2, 3}, {6, 6, 6, 6}, 1), Video({0, 2, 3, 3}, {6, 6, 6, 8}, 2),
                            ScoreOptions{}, &steps);
  EXPECT_TRUE(report.ok());
  ReportInput in;
  in.result = ScoreReportToJson(*report);
  in.result_sha256 = Sha256Hex(in.result.dump(2));
  in.task_id = "filter-swap";
  in.gold_label = "gold.mp4 (video 1)";
  in.trainee_label = "trainee-7.mp4 (video 9)";
  in.operator_id_hash = "op-7f3a";
  in.scored_at = "2026-12-02T10:00:00+00:00";
  in.sop_version = 3;
  for (size_t i = 0; i < DeviationMoments(in.result).size(); ++i) {
    ReportFrames f;
    f.gold = cv::Mat(90, 160, CV_8UC3, cv::Scalar(20, 200, 40));  // green, in R, G, B
    f.trainee = cv::Mat(90, 160, CV_8UC3, cv::Scalar(30, 60, 220));  // blue
    in.frames.push_back(f);
  }
  return in;
}

bool HaveTool(const char* tool) {
  return testing::RunCommand(std::string("command -v ") + tool).exit_code == 0;
}

TEST(PdfReportTest, SaysWhatWasScoredAndShowsEachDeviationWithItsPictures) {
  if (!HaveTool("pdftotext") || !HaveTool("pdftoppm")) {
    GTEST_SKIP() << "poppler-utils (pdftotext, pdftoppm) is not installed; scripts/install-deps.sh installs it";
  }
  ReportInput in = CriticalStepLeftOut();
  ASSERT_FALSE(in.result["deviations"].empty());
  auto pdf = RenderPdfReport(in);
  ASSERT_TRUE(pdf.ok()) << pdf.status().ToString();
  ASSERT_EQ(pdf->rfind("%PDF-", 0), 0u);
  testing::TempDir dir;
  const std::string path = dir.file("report.pdf");
  std::ofstream(path, std::ios::binary) << *pdf;

  auto text = testing::RunCommand("pdftotext -layout " + testing::ShellQuote(path) + " -");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  for (const std::string& expected :
       {std::string("filter-swap"), std::string("version 3"), std::string("trainee-7.mp4"), std::string("op-7f3a"),
        std::string("FAIL"), std::string("critical step \"CLEAN\""), std::string("step_missing"),
        std::string("REMOVE"), std::string("CHECK"), in.result_sha256}) {
    EXPECT_NE(text.out.find(expected), std::string::npos) << "not in the PDF: " << expected << "\n" << text.out;
  }
  const std::string reason = in.result["deviations"][0]["reason"].get<std::string>().substr(0, 30);
  EXPECT_NE(text.out.find(reason), std::string::npos) << reason;
  auto info = testing::RunCommand("pdfinfo " + testing::ShellQuote(path));
  const size_t at = info.out.find("Pages:");
  ASSERT_NE(at, std::string::npos) << info.out;
  EXPECT_EQ(std::stoi(info.out.substr(at + 6)), 1) << "a typical score fits one page";

  // Rendered, the page shows the verdict's red, the gold frame's green and
  // the trainee frame's blue.
  auto png = testing::RunCommand("pdftoppm -png -r 40 -singlefile " + testing::ShellQuote(path) + " " +
                                 testing::ShellQuote(dir.file("page")));
  ASSERT_EQ(png.exit_code, 0) << png.err;
  cairo_surface_t* page = cairo_image_surface_create_from_png(dir.file("page.png").c_str());
  ASSERT_EQ(cairo_surface_status(page), CAIRO_STATUS_SUCCESS);
  const int w = cairo_image_surface_get_width(page), h = cairo_image_surface_get_height(page);
  const int stride = cairo_image_surface_get_stride(page);
  const unsigned char* data = cairo_image_surface_get_data(page);
  int red = 0, green = 0, blue = 0;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      uint32_t px = *reinterpret_cast<const uint32_t*>(data + y * stride + 4 * x);
      int r = (px >> 16) & 255, g = (px >> 8) & 255, b = px & 255;
      red += r > 180 && g < 80 && b < 80;
      green += g > 160 && r < 60 && b < 90;
      blue += b > 180 && r < 70 && g < 100;
    }
  }
  cairo_surface_destroy(page);
  EXPECT_GT(red, 100);
  EXPECT_GT(green, 50);
  EXPECT_GT(blue, 50);
}

TEST(PdfReportTest, ManyDeviationsStayReadableOnAFewPages) {
  if (!HaveTool("pdfinfo")) GTEST_SKIP() << "poppler-utils is not installed";
  ReportInput in = CriticalStepLeftOut();
  nlohmann::json many = in.result["deviations"][0];
  for (int i = 0; i < 40; ++i) in.result["deviations"].push_back(many);
  auto pdf = RenderPdfReport(in);
  ASSERT_TRUE(pdf.ok());
  testing::TempDir dir;
  std::ofstream(dir.file("r.pdf"), std::ios::binary) << *pdf;
  auto info = testing::RunCommand("pdfinfo " + testing::ShellQuote(dir.file("r.pdf")));
  auto text = testing::RunCommand("pdftotext " + testing::ShellQuote(dir.file("r.pdf")) + " -");
  EXPECT_NE(text.out.find("more deviations"), std::string::npos);
  const size_t at = info.out.find("Pages:");
  ASSERT_NE(at, std::string::npos);
  const int pages = std::stoi(info.out.substr(at + 6));
  EXPECT_GE(pages, 2);
  EXPECT_LE(pages, 4);
}

TEST(PdfReportTest, AResultWithoutFieldsStillRenders) {
  ReportInput in;
  in.result = nlohmann::json::object();
  auto pdf = RenderPdfReport(in);
  ASSERT_TRUE(pdf.ok());
  EXPECT_EQ(pdf->rfind("%PDF-", 0), 0u);
  in.result = nlohmann::json{{"steps", "not a list"}, {"deviations", {1, 2, nullptr}}, {"score", "x"}};
  EXPECT_TRUE(RenderPdfReport(in).ok());
  EXPECT_TRUE(RenderHtmlReport(in).ok());
}

TEST(HtmlReportTest, OnePageWithEverythingInsideAndTextEscaped) {
  ReportInput in = CriticalStepLeftOut();
  in.trainee_label = "<script>alert(1)</script>.mp4";
  auto html = RenderHtmlReport(in);
  ASSERT_TRUE(html.ok());
  EXPECT_EQ(html->find("<script>"), std::string::npos) << "a file name must not become markup";
  EXPECT_NE(html->find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(html->find("critical step &quot;CLEAN&quot;"), std::string::npos);
  EXPECT_NE(html->find("data:image/png;base64,iVBORw0KGgo"), std::string::npos);  // the frames, inline
  EXPECT_NE(html->find(in.result_sha256), std::string::npos);
  EXPECT_EQ(html->find("http://"), std::string::npos) << "nothing is fetched from elsewhere";
  EXPECT_EQ(html->find("https://"), std::string::npos);
}

TEST(HtmlReportTest, TheGoldsTimeOfNoStepIsDrawnOnItsLane) {
  // The user's timed steps leave out the gold's first 4 s and last 2 s.
  std::vector<StepSpec> steps;
  for (int k = 0; k < 3; ++k) steps.push_back({"step " + std::to_string(k + 1), {4.0 + 6 * k, 10.0 + 6 * k}, {}});
  const EmbeddingSet gold = Video({4, 0, 1, 2, 4}, {4, 6, 6, 6, 2}, 1);
  auto report = EvaluateSop(gold, Video({0, 1, 2}, {6, 6, 6}, 2), ScoreOptions{}, &steps);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ReportInput in;
  in.result = ScoreReportToJson(*report);
  ASSERT_EQ(in.result["gold_idle"].size(), 2u) << in.result.dump(1);
  EXPECT_EQ(in.result["gold_idle"][0]["kind"], "lead_in");
  EXPECT_EQ(in.result["gold_idle"][0]["gold_time"]["end_sec"], 4.0);
  EXPECT_EQ(in.result["gold_idle"][1]["kind"], "tail");
  EXPECT_EQ(in.result["gold_idle"][1]["gold_time"]["start_sec"], 22.0);
  auto html = RenderHtmlReport(in);
  ASSERT_TRUE(html.ok());
  EXPECT_NE(html->find("idle 0:00.0-0:04.0 (no step)</title>"), std::string::npos) << *html;
  EXPECT_NE(html->find("(no step)</title>", html->find("idle 0:00.0-0:04.0 (no step)") + 1), std::string::npos);
}

TEST(FrameGrabberTest, TakesTheFrameOfEachMoment) {
  testing::TempDir dir;
  const std::string path = dir.file("v.mp4");
  testing::MakeProcedureVideo(path, {{"color=c=red", 2}, {"color=c=blue", 2}});
  auto frames = FramesAt(path, {0.5, 3.0, 99.0}, 160);
  ASSERT_TRUE(frames.ok()) << frames.status().ToString();
  ASSERT_EQ(frames->size(), 3u);
  for (const cv::Mat& f : *frames) {
    ASSERT_FALSE(f.empty());
    EXPECT_LE(std::max(f.cols, f.rows), 160);
  }
  cv::Vec3b early = (*frames)[0].at<cv::Vec3b>(10, 10), late = (*frames)[1].at<cv::Vec3b>(10, 10);
  EXPECT_GT(early[0], 150);  // red (R, G, B order)
  EXPECT_LT(early[2], 100);
  EXPECT_GT(late[2], 150);  // blue
  EXPECT_LT(late[0], 100);
  cv::Vec3b past_end = (*frames)[2].at<cv::Vec3b>(10, 10);
  EXPECT_GT(past_end[2], 150);  // past the end: the last frame
  EXPECT_FALSE(FramesAt(dir.file("missing.mp4"), {1.0}, 160).ok());
}

}  // namespace
}  // namespace sopilot
