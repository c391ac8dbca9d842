// SOP definitions, the score history and the task statistics through the
// real server: a supervisor names the steps, marks one critical and lets two
// be done in any order; the scores use it, and the history finds them.
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "base/digest.h"
#include "http/api_test_fixture.h"
#include "testing/command.h"

namespace sopilot {
namespace {

class SopHistoryApiTest : public ApiTest {
 protected:
  Json Get(const std::string& path, const char* token = kViewer, int expect = 200) {
    auto r = client_->Get(path.c_str(), Auth(token));
    EXPECT_TRUE(r) << path;
    if (!r) return Json();
    EXPECT_EQ(r->status, expect) << path << ": " << r->body;
    return Json::parse(r->body, nullptr, false);
  }
  std::pair<int, Json> Put(const std::string& path, const Json& body, const char* token = kOperator) {
    auto r = client_->Put(path.c_str(), Auth(token), body.dump(), "application/json");
    EXPECT_TRUE(r) << path;
    if (!r) return {0, Json()};
    return {r->status, Json::parse(r->body, nullptr, false)};
  }
  Json ScoreAndWait(int64_t gold, int64_t trainee) {
    auto post = client_->Post("/score", Auth(kOperator),
                              Json{{"gold_video_id", gold}, {"trainee_video_id", trainee}}.dump(), "application/json");
    EXPECT_EQ(post->status, 202) << post->body;
    Json done = WaitJob("/score/" + Json::parse(post->body)["score_job_id"].get<std::string>());
    EXPECT_EQ(done["status"], "completed") << done.dump();
    return done;
  }
};

TEST_F(SopHistoryApiTest, AnSopNamesTheStepsAndItsRulesDecideTheVerdicts) {
  const std::string task = "filter-swap";
  int64_t gold = IngestVideo(MakeProcedure("gold.mp4", {0, 1, 3, 5}), task, "gold");
  // Operator A: a correct run, then one that skips the second step;
  // operator B: the second and third steps swapped.
  int64_t correct = IngestVideo(MakeProcedure("correct.mp4", {0, 1, 3, 5}), task, "trainee",
                                {{"operator_id_hash", "op-a"}, {"site_id", "plant-1"}});
  int64_t skipped = IngestVideo(MakeProcedure("skipped.mp4", {0, 3, 5}), task, "trainee",
                                {{"operator_id_hash", "op-a"}, {"site_id", "plant-1"}});
  int64_t swapped = IngestVideo(MakeProcedure("swapped.mp4", {0, 3, 1, 5}), task, "trainee",
                                {{"operator_id_hash", "op-b"}, {"site_id", "plant-2"}});
  ASSERT_GT(gold, 0);
  ASSERT_GT(swapped, 0);
  EXPECT_EQ(Get("/videos/" + std::to_string(correct))["operator_id_hash"], "op-a");

  // No SOP yet: a draft of the steps found in the gold, to edit.
  Json draft = Get("/tasks/" + task + "/sop");
  EXPECT_EQ(draft["version"], 0);
  EXPECT_EQ(draft["draft"], true);
  EXPECT_EQ(draft["gold_video_id"], gold);
  ASSERT_EQ(draft["steps"].size(), 4u) << draft.dump();
  Get("/tasks/no-such-task/sop", kViewer, 404);

  // The supervisor names the steps, marks CLEAN critical and lets CLEAN and
  // SWAP be done in any order. The draft's times are kept.
  Json sop = draft;
  const char* names[] = {"REMOVE", "CLEAN", "SWAP", "CHECK"};
  for (int k = 0; k < 4; ++k) sop["steps"][k]["name"] = names[k];
  sop["steps"][1]["critical"] = true;
  sop["steps"][1]["description"] = "Wipe the housing.";
  sop["steps"][1]["any_order_group"] = sop["steps"][2]["any_order_group"] = "clean-swap";
  auto [status, saved] = Put("/tasks/" + task + "/sop", sop);
  ASSERT_EQ(status, 200) << saved.dump();
  EXPECT_EQ(saved["version"], 1);
  EXPECT_EQ(saved["draft"], false);
  EXPECT_EQ(saved["created_by"], "token:operator");
  EXPECT_EQ(saved["steps"][1]["critical"], true);
  Json tasks = Get("/tasks");
  ASSERT_EQ(tasks["items"].size(), 1u) << tasks.dump();
  EXPECT_EQ(tasks["items"][0], (Json{{"task_id", task}, {"gold_videos", 1}, {"sop_version", 1}}));

  // Bad definitions are refused with the field named; nothing is saved.
  Json typo = sop;
  typo["steps"][0]["critcal"] = true;
  auto [typo_status, typo_error] = Put("/tasks/" + task + "/sop", typo);
  EXPECT_EQ(typo_status, 400);
  EXPECT_NE(typo_error["error"].get<std::string>().find("critcal"), std::string::npos) << typo_error.dump();
  Json late = sop;
  late["steps"][3]["end_sec"] = 500;
  EXPECT_EQ(Put("/tasks/" + task + "/sop", late).first, 400);
  EXPECT_EQ(Put("/tasks/" + task + "/sop", Json{{"gold_video_id", correct}, {"steps", sop["steps"]}}).first, 400)
      << "a trainee video is not a gold";
  EXPECT_EQ(Get("/tasks/" + task + "/sop")["version"], 1);

  // Scores use the SOP: names, the critical rule and the order group.
  Json ok = ScoreAndWait(gold, correct);
  EXPECT_EQ(ok["sop_version"], 1);
  EXPECT_EQ(ok["result"]["sop_version"], 1);
  EXPECT_EQ(ok["result"]["verdict"], "pass");
  EXPECT_EQ(ok["result"]["steps"][1]["name"], "CLEAN");
  EXPECT_EQ(ok["operator_id_hash"], "op-a");

  Json missing = ScoreAndWait(gold, skipped);
  const Json& r = missing["result"];
  ASSERT_EQ(r["deviations"].size(), 1u) << r["deviations"].dump();
  EXPECT_EQ(r["deviations"][0]["type"], "step_missing");
  EXPECT_EQ(r["deviations"][0]["gold_step_name"], "CLEAN");
  EXPECT_EQ(r["deviations"][0]["critical"], true);
  EXPECT_GE(r["score"].get<double>(), 60.0);  // a score that alone would only ask for review...
  EXPECT_EQ(r["verdict"], "fail");             // ...but a critical step was skipped
  EXPECT_NE(r["verdict_reason"].get<std::string>().find("CLEAN"), std::string::npos);

  // Without a gold named, the task's chosen one: the gold its SOP is over.
  auto chosen = client_->Post("/score", Auth(kOperator), Json{{"trainee_video_id", correct}}.dump(), "application/json");
  ASSERT_EQ(chosen->status, 202) << chosen->body;
  EXPECT_EQ(Json::parse(chosen->body)["gold_video_id"], gold);
  EXPECT_EQ(WaitJob("/score/" + Json::parse(chosen->body)["score_job_id"].get<std::string>())["sop_version"], 1);

  Json any_order = ScoreAndWait(gold, swapped);
  EXPECT_EQ(any_order["result"]["deviations"].size(), 0u) << any_order["result"]["deviations"].dump();
  EXPECT_EQ(any_order["result"]["verdict"], "pass");

  // The change is in the audit trail.
  bool audited = false;
  const Json trail = Get("/audit/trail?limit=100");
  for (const Json& e : trail["items"]) {
    if (e["action"] == "sop.saved" && e["subject"] == task) {
      audited = e["detail"]["critical_steps"] == Json{"CLEAN"} && e["detail"]["version"] == 1 &&
                e["detail"]["gold_video_id"] == gold;
    }
  }
  EXPECT_TRUE(audited);

  // History: filters, and pages that neither skip nor repeat.
  Json all = Get("/scores?task_id=" + task);
  ASSERT_EQ(all["items"].size(), 4u);
  EXPECT_TRUE(all["next_cursor"].is_null());
  EXPECT_EQ(all["items"][0]["score_job_id"], any_order["score_job_id"]);  // newest first
  Json fails = Get("/scores?task_id=" + task + "&verdict=fail");
  ASSERT_EQ(fails["items"].size(), 1u);
  EXPECT_EQ(fails["items"][0]["score_job_id"], missing["score_job_id"]);
  EXPECT_EQ(fails["items"][0]["verdict_reason"], r["verdict_reason"]);
  EXPECT_EQ(Get("/scores?operator_id_hash=op-a")["items"].size(), 3u);
  EXPECT_EQ(Get("/scores?site_id=plant-2")["items"].size(), 1u);
  EXPECT_EQ(Get("/scores?since=2000-01-01&until=2000-01-01")["items"].size(), 0u);
  EXPECT_EQ(Get("/scores?since=2000-01-01")["items"].size(), 4u);
  std::set<std::string> paged;
  std::string cursor;
  for (int page = 0; page < 5; ++page) {
    Json p = Get("/scores?task_id=" + task + "&limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor));
    for (const Json& item : p["items"]) EXPECT_TRUE(paged.insert(item["score_job_id"]).second) << "repeated";
    if (p["next_cursor"].is_null()) break;
    cursor = p["next_cursor"];
  }
  EXPECT_EQ(paged.size(), 4u);
  for (const char* bad : {"/scores?verdict=maybe", "/scores?since=yesterday", "/scores?since=2026-13-01",
                          "/scores?cursor=zz", "/scores?limit=0"}) {
    Json e = Get(bad, kViewer, 400);
    EXPECT_TRUE(e.contains("error")) << bad;
  }

  // Statistics: the pass rate, the step most often missed, each operator.
  Json stats = Get("/tasks/" + task + "/stats");
  EXPECT_EQ(stats["scores"], 4);
  EXPECT_NEAR(stats["pass_rate"].get<double>(), 3.0 / 4, 1e-3);
  EXPECT_EQ(stats["verdicts"]["fail"], 1);
  ASSERT_FALSE(stats["most_missed"].empty());
  EXPECT_EQ(stats["most_missed"][0]["name"], "CLEAN");
  ASSERT_EQ(stats["steps"].size(), 4u);
  EXPECT_EQ(stats["steps"][0]["name"], "REMOVE");
  EXPECT_NEAR(stats["steps"][0]["median_duration_ratio"].get<double>(), 1.0, 0.3);
  std::map<std::string, Json> ops;
  for (const Json& o : stats["operators"]) ops[o["operator_id_hash"].get<std::string>()] = o;
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops["op-a"]["scores"], 3);
  EXPECT_NEAR(ops["op-a"]["pass_rate"].get<double>(), 2.0 / 3, 1e-3);
  ASSERT_EQ(ops["op-a"]["trend"].size(), 3u);
  EXPECT_EQ(ops["op-a"]["trend"][0]["score_job_id"], ok["score_job_id"]);  // oldest first
  EXPECT_EQ(ops["op-a"]["trend"][1]["score_job_id"], missing["score_job_id"]);
  EXPECT_EQ(ops["op-b"]["pass_rate"], 1.0);

  // An older version stays readable, and a new one does not change a
  // finished score.
  sop["steps"][1]["critical"] = false;
  ASSERT_EQ(Put("/tasks/" + task + "/sop", sop).first, 200);
  EXPECT_EQ(Get("/tasks/" + task + "/sop?version=1")["steps"][1]["critical"], true);
  EXPECT_EQ(Get("/tasks/" + task + "/sop")["version"], 2);
  EXPECT_EQ(Get("/score/" + missing["score_job_id"].get<std::string>())["result"]["verdict"], "fail");
}

TEST_F(SopHistoryApiTest, AScoreIsFiledAsAPdfWhoseFooterChecksTheResult) {
  const std::string task = "report-task";
  int64_t gold = IngestVideo(MakeProcedure("gold.mp4", {0, 1, 3, 5}), task, "gold");
  int64_t trainee = IngestVideo(MakeProcedure("skipped.mp4", {0, 3, 5}), task, "trainee",
                                {{"operator_id_hash", "op-9"}});
  Json sop = Get("/tasks/" + task + "/sop");
  const char* names[] = {"REMOVE", "CLEAN", "SWAP", "CHECK"};
  ASSERT_EQ(sop["steps"].size(), 4u);
  for (int k = 0; k < 4; ++k) sop["steps"][k]["name"] = names[k];
  ASSERT_EQ(Put("/tasks/" + task + "/sop", sop).first, 200);
  Json done = ScoreAndWait(gold, trainee);
  const std::string id = done["score_job_id"];

  auto pdf = client_->Get(("/score/" + id + "/report.pdf").c_str(), Auth(kViewer));
  ASSERT_EQ(pdf->status, 200) << pdf->body;
  EXPECT_EQ(pdf->get_header_value("Content-Type"), "application/pdf");
  ASSERT_EQ(pdf->body.rfind("%PDF-", 0), 0u);
  auto result_file = client_->Get(("/score/" + id + "/result.json").c_str(), Auth(kViewer));
  ASSERT_EQ(result_file->status, 200);
  EXPECT_EQ(Json::parse(result_file->body)["score"], done["result"]["score"]);
  if (testing::RunCommand("command -v pdftotext").exit_code == 0) {
    const std::string path = dir_.file("filed.pdf");
    std::ofstream(path, std::ios::binary) << pdf->body;
    auto text = testing::RunCommand("pdftotext -layout " + testing::ShellQuote(path) + " -");
    ASSERT_EQ(text.exit_code, 0);
    EXPECT_NE(text.out.find("CLEAN"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("step_missing"), std::string::npos);
    EXPECT_NE(text.out.find("skipped.mp4"), std::string::npos);
    EXPECT_NE(text.out.find("op-9"), std::string::npos);
    // The footer's SHA-256 is the stored result's: a filed copy can be
    // checked against GET /score/{id}/result.json.
    EXPECT_NE(text.out.find(Sha256Hex(result_file->body)), std::string::npos) << text.out;
  }
  auto html = client_->Get(("/score/" + id + "/report.html").c_str(), Auth(kViewer));
  ASSERT_EQ(html->status, 200);
  EXPECT_EQ(html->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(html->body.find("CLEAN"), std::string::npos);
  EXPECT_NE(html->body.find("data:image/png;base64,"), std::string::npos) << "the frames of the deviation";

  // Not a report of something unfinished or unknown.
  EXPECT_EQ(client_->Get("/score/no-such-job/report.pdf", Auth(kViewer))->status, 404);
  EXPECT_EQ(client_->Get(("/score/" + id + "/report.pdf").c_str())->status, 401);
}

TEST_F(SopHistoryApiTest, TheWebPageIsServedFromTheBinaryWithNothingFromElsewhere) {
  auto page = client_->Get("/ui");
  ASSERT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page->body.find("/ui/app.js"), std::string::npos);
  EXPECT_NE(page->get_header_value("Content-Security-Policy").find("default-src 'self'"), std::string::npos);
  for (const char* asset : {"app.js", "app.css"}) {
    auto r = client_->Get((std::string("/ui/") + asset).c_str());
    ASSERT_EQ(r->status, 200) << asset;
    EXPECT_GT(r->body.size(), 1000u) << asset;
    // No CDN, no external font: the page works on a closed network.
    EXPECT_EQ(r->body.find("https://"), std::string::npos) << asset;
    EXPECT_EQ(r->body.find("@import"), std::string::npos) << asset;
  }
  EXPECT_EQ(client_->Get("/ui/app.js")->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(client_->Get("/ui/secrets.txt")->status, 404);
  EXPECT_EQ(client_->Get("/ui/..%2Fsopilot.db")->status, 404);
  EXPECT_EQ(Get("/", kViewer)["ui"], "/ui");
}

// A supervisor who knows the steps but has not timed them in the gold sends
// their names only: they are placed in the gold and saved with the times
// found, which GET then shows and the scores use.
TEST_F(SopHistoryApiTest, StepsNamedWithoutTimesArePlacedInTheGold) {
  const std::string task = "named-only";
  // Steps of 4, 6 and 5 s.
  std::string gold_path = dir_.file("named-gold.mp4");
  testing::MakeProcedureVideo(gold_path, {{testing::DistinctScenes()[0], 4},
                                          {testing::DistinctScenes()[3], 6},
                                          {testing::DistinctScenes()[5], 5}});
  int64_t gold = IngestVideo(gold_path, task, "gold");
  int64_t skipped = IngestVideo(MakeProcedure("named-skipped.mp4", {0, 5}, 5), task, "trainee");
  ASSERT_GT(gold, 0);
  ASSERT_GT(skipped, 0);
  auto [status, saved] = Put("/tasks/" + task + "/sop",
                             Json{{"steps", {{{"name", "open"}}, {{"name", "clean"}, {"critical", true}},
                                             {{"name", "close"}}}}});
  ASSERT_EQ(status, 200) << saved.dump();
  ASSERT_EQ(saved["steps"].size(), 3u);
  EXPECT_EQ(saved["steps"][1]["name"], "clean");
  EXPECT_EQ(saved["steps"][1]["critical"], true);
  EXPECT_EQ(saved["steps"][0]["start_sec"], 0.0);
  // Within half a clip (2 s clips); the found steps of this gold, which
  // look for the sharpest change, are nearer (doc/scoring.md section 2).
  EXPECT_NEAR(saved["steps"][0]["end_sec"].get<double>(), 4.0, 0.25) << saved.dump();
  EXPECT_NEAR(saved["steps"][1]["end_sec"].get<double>(), 10.0, 0.25) << saved.dump();
  EXPECT_EQ(Get("/tasks/" + task + "/sop")["steps"], saved["steps"]);

  Json done = ScoreAndWait(gold, skipped);
  bool clean_missing = false;
  for (const Json& d : done["result"]["deviations"]) {
    clean_missing |= d["type"] == "step_missing" && d["gold_step_name"] == "clean";
  }
  EXPECT_TRUE(clean_missing) << done["result"]["deviations"].dump();
  EXPECT_EQ(done["result"]["verdict"], "fail");  // a critical step left out

  // Times on some steps only are refused, and so are more steps than the
  // gold can hold; nothing is saved.
  auto [mixed, mixed_body] = Put("/tasks/" + task + "/sop",
                                 Json{{"steps", {{{"name", "a"}, {"start_sec", 0}, {"end_sec", 4}}, {{"name", "b"}}}}});
  EXPECT_EQ(mixed, 400) << mixed_body.dump();
  EXPECT_NE(mixed_body["error"].get<std::string>().find("every step or on none"), std::string::npos);
  Json many = Json::array();
  for (int k = 0; k < 20; ++k) many.push_back({{"name", "s" + std::to_string(k)}});
  auto [too_many, too_many_body] = Put("/tasks/" + task + "/sop", Json{{"steps", many}});
  EXPECT_EQ(too_many, 400) << too_many_body.dump();
  EXPECT_NE(too_many_body["error"].get<std::string>().find("too short"), std::string::npos) << too_many_body.dump();
  EXPECT_EQ(Get("/tasks/" + task + "/sop")["version"], 1);
}

}  // namespace
}  // namespace sopilot
