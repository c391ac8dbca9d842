// Several gold videos per task through the real server: a score against
// the closest gold tries every gold of the task and says which one it
// reported against; bad requests are 400s that say why.
#include <string>

#include "http/api_test_fixture.h"

namespace sopilot {
namespace {

class GoldSelectionApiTest : public ApiTest {
 protected:
  std::pair<int, Json> PostScore(const Json& body) {
    auto r = client_->Post("/score", Auth(kOperator), body.dump(), "application/json");
    EXPECT_TRUE(r);
    if (!r) return {0, Json()};
    return {r->status, Json::parse(r->body, nullptr, false)};
  }
  Json ScoreAndWait(const Json& body) {
    auto [status, queued] = PostScore(body);
    EXPECT_EQ(status, 202) << queued.dump();
    if (status != 202) return Json();
    Json done = WaitJob("/score/" + queued["score_job_id"].get<std::string>());
    EXPECT_EQ(done["status"], "completed") << done.dump();
    return done;
  }
};

TEST_F(GoldSelectionApiTest, TheClosestOfTheTasksGoldsIsReportedAndNamed) {
  const std::string task = "two-golds";
  // Two golds of one task that show different work, and a trainee that does
  // what the second shows (a little slower).
  const int64_t gold_a = IngestVideo(MakeProcedure("gold-a.mp4", {0, 1, 3, 5}), task, "gold");
  const int64_t gold_b = IngestVideo(MakeProcedure("gold-b.mp4", {2, 4, 6, 7}), task, "gold");
  const int64_t trainee = IngestVideo(MakeProcedure("trainee.mp4", {2, 4, 6, 7}, 4.5), task, "trainee");
  ASSERT_GT(gold_a, 0);
  ASSERT_LT(gold_a, gold_b);
  ASSERT_GT(trainee, 0);

  // The task's SOP is written over the first gold: the chosen gold is that one.
  Json steps = Json::array();
  for (int k = 0; k < 4; ++k) steps.push_back({{"name", "A" + std::to_string(k + 1)}, {"start_sec", 4 * k},
                                               {"end_sec", 4 * (k + 1)}});
  auto put = client_->Put(("/tasks/" + task + "/sop").c_str(), Auth(kOperator),
                          Json{{"gold_video_id", gold_a}, {"steps", steps}}.dump(), "application/json");
  ASSERT_EQ(put->status, 200) << put->body;

  // Queued: no gold yet, and the job says how it will pick one.
  auto [status, queued] = PostScore({{"trainee_video_id", trainee}, {"gold_selection", "closest"}});
  ASSERT_EQ(status, 202) << queued.dump();
  EXPECT_TRUE(queued["gold_video_id"].is_null()) << queued.dump();
  EXPECT_EQ(queued["gold_selection"], "closest");
  const std::string id = queued["score_job_id"];
  Json closest = WaitJob("/score/" + id);
  ASSERT_EQ(closest["status"], "completed") << closest.dump();

  // Reported against the second gold, which the trainee copies.
  EXPECT_EQ(closest["gold_video_id"], gold_b) << closest.dump();
  EXPECT_EQ(closest["gold_selection"], "closest");
  const Json& result = closest["result"];
  EXPECT_EQ(result["gold_video_id"], gold_b);
  EXPECT_EQ(result["gold_selection"], "closest");
  EXPECT_EQ(result["score"], closest["score"]);
  // The SOP is the first gold's: not used against the second.
  EXPECT_TRUE(closest["sop_version"].is_null()) << closest.dump();
  EXPECT_TRUE(result["sop_version"].is_null());
  // Every gold tried, closest first, each with its score.
  const Json& tried = result["gold_candidates"];
  ASSERT_EQ(tried.size(), 2u) << result.dump();
  EXPECT_EQ(tried[0]["gold_video_id"], gold_b);
  EXPECT_EQ(tried[0]["score"], result["score"]);
  EXPECT_EQ(tried[0]["verdict"], result["verdict"]);
  EXPECT_TRUE(tried[0]["sop_version"].is_null());
  EXPECT_TRUE(tried[0]["error"].is_null());
  EXPECT_EQ(tried[1]["gold_video_id"], gold_a);
  EXPECT_EQ(tried[1]["sop_version"], 1) << "the SOP applies to the gold it was written over";
  ASSERT_TRUE(tried[1]["score"].is_number()) << tried.dump();
  EXPECT_GT(tried[0]["score"].get<double>(), tried[1]["score"].get<double>());
  EXPECT_EQ(result["verdict"], "pass");
  // The stored result file says the same.
  auto file = client_->Get(("/score/" + id + "/result.json").c_str(), Auth(kViewer));
  ASSERT_EQ(file->status, 200);
  EXPECT_EQ(Json::parse(file->body)["gold_candidates"], tried);
  // The report names the gold it is against and that it was the closest.
  auto html = client_->Get(("/score/" + id + "/report.html").c_str(), Auth(kViewer));
  ASSERT_EQ(html->status, 200);
  EXPECT_NE(html->body.find("gold-b.mp4 (video " + std::to_string(gold_b) + "), the closest of 2 gold videos"),
            std::string::npos);
  // The history lists it under the gold it settled on.
  auto history = client_->Get(("/scores?task_id=" + task).c_str(), Auth(kViewer));
  ASSERT_EQ(history->status, 200);
  Json items = Json::parse(history->body)["items"];
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["gold_video_id"], gold_b);

  // Without a selection, the task's chosen gold as before: the SOP's.
  Json chosen = ScoreAndWait({{"trainee_video_id", trainee}});
  EXPECT_EQ(chosen["gold_video_id"], gold_a);
  EXPECT_EQ(chosen["gold_selection"], "chosen");
  EXPECT_EQ(chosen["sop_version"], 1);
  EXPECT_FALSE(chosen["result"].contains("gold_candidates"));
  EXPECT_EQ(chosen["score"], tried[1]["score"]) << "the same score the closest run gave that gold";
  Json explicit_chosen = ScoreAndWait({{"trainee_video_id", trainee}, {"gold_selection", "chosen"}});
  EXPECT_EQ(explicit_chosen["gold_video_id"], gold_a);
  Json named = ScoreAndWait({{"trainee_video_id", trainee}, {"gold_video_id", gold_b}});
  EXPECT_EQ(named["gold_selection"], "named");
  EXPECT_EQ(named["score"], tried[0]["score"]);
}

TEST_F(GoldSelectionApiTest, BadSelectionsAreRefusedWithTheReason) {
  const std::string task = "one-gold";
  const int64_t gold = IngestVideo(MakeProcedure("gold.mp4", {0, 1, 3}), task, "gold");
  const int64_t trainee = IngestVideo(MakeProcedure("trainee.mp4", {0, 1, 3}), task, "trainee");
  const int64_t lonely = IngestVideo(MakeProcedure("lonely.mp4", {0, 1, 3}), "no-gold-task", "trainee");
  ASSERT_GT(gold, 0);
  ASSERT_GT(trainee, 0);
  ASSERT_GT(lonely, 0);
  auto refused = [&](const Json& body, int expect, const std::string& says) {
    auto [status, error] = PostScore(body);
    EXPECT_EQ(status, expect) << body.dump() << ": " << error.dump();
    ASSERT_TRUE(error.is_object() && error["error"].is_string()) << error.dump();
    EXPECT_NE(error["error"].get<std::string>().find(says), std::string::npos) << error.dump();
  };
  for (const Json& value : {Json("all"), Json("bogus"), Json("named"), Json(""), Json(2), Json(nullptr)}) {
    refused({{"trainee_video_id", trainee}, {"gold_selection", value}}, 400, "gold_selection must be");
  }
  refused({{"trainee_video_id", trainee}, {"gold_video_id", gold}, {"gold_selection", "closest"}}, 400, "not both");
  refused({{"trainee_video_id", trainee}, {"gold_video_id", gold}, {"gold_selection", "chosen"}}, 400, "not both");
  // A task without a gold: the same answer as without a selection.
  refused({{"trainee_video_id", lonely}, {"gold_selection", "closest"}}, 400, "no ingested gold video");
  refused({{"trainee_video_id", lonely}}, 400, "no ingested gold video");
  refused({{"trainee_video_id", 4242}, {"gold_selection", "closest"}}, 404, "video not found");
  refused({{"gold_selection", "closest"}}, 400, "trainee_video_id is required");
  // None of them queued a job.
  auto queue = client_->Get("/ops/queue", Auth(kAdmin));
  ASSERT_EQ(queue->status, 200);
  EXPECT_FALSE(Json::parse(queue->body)["jobs"]["score"].contains("queued")) << queue->body;
  EXPECT_EQ(Json::parse(queue->body)["jobs"]["score"]["total"], 0) << queue->body;

  // A gold scored as a trainee is not compared with itself: with no other
  // gold, there is nothing to score against.
  refused({{"trainee_video_id", gold}, {"gold_selection", "closest"}}, 400, "no ingested gold video");
  // One gold: the closest is that one.
  Json one = ScoreAndWait({{"trainee_video_id", trainee}, {"gold_selection", "closest"}});
  EXPECT_EQ(one["gold_video_id"], gold);
  ASSERT_EQ(one["result"]["gold_candidates"].size(), 1u);
}

}  // namespace
}  // namespace sopilot
