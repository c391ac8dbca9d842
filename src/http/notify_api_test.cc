// Notifications through the API: per-task webhooks delivered to a real
// receiver on loopback (signed, retried, never holding up a worker), and
// automatic scoring of a task's new trainee videos.
#include <gtest/gtest.h>
#include <httplib.h>

#include "base/digest.h"
#include "http/api_test_fixture.h"
#include "notify/webhook_receiver_test_util.h"

namespace sopilot {
namespace {

class NotifyApiTest : public ApiTest {
 protected:
  // A step of a delivery may wait long: a receiver held unanswered stays on
  // its first attempt however slow the machine (Stop cancels it anyway).
  void SetUp() override {
    ServiceConfig c = DefaultConfig();
    c.webhooks.timeout_sec = 300;
    Start(c);
  }
  httplib::Result PutWebhook(const std::string& task, const Json& body, const char* token = kOperator) {
    return client_->Put(("/tasks/" + task + "/webhook").c_str(), Auth(token), body.dump(), "application/json");
  }
  // Queues a score of a fresh gold/trainee pair of `task` and waits for it.
  Json ScoreOnce(const std::string& task, const std::string& tag) {
    int64_t gold = IngestVideo(MakeProcedure(tag + "-gold.mp4", {0, 1, 3}, 3), task, "gold");
    int64_t trainee = IngestVideo(MakeProcedure(tag + "-trainee.mp4", {0, 3, 1}, 3), task, "trainee");
    auto post = client_->Post("/score", Auth(kOperator),
                              Json{{"gold_video_id", gold}, {"trainee_video_id", trainee}}.dump(), "application/json");
    EXPECT_TRUE(post && post->status == 202) << (post ? post->body : "no response");
    if (!post || post->status != 202) return Json();
    return WaitJob(post->get_header_value("Location"));
  }
  // The score's deliveries once none is pending any more.
  Json SettledDeliveries(const std::string& score_job_id) {
    Json out;
    EXPECT_TRUE(WaitUntil([&] {
      auto r = client_->Get(("/score/" + score_job_id + "/webhooks").c_str(), Auth(kOperator));
      if (!r || r->status != 200) return false;
      out = Json::parse(r->body);
      if (out["items"].empty()) return false;
      for (const Json& d : out["items"]) {
        if (d["status"] == "pending") return false;
      }
      return true;
    })) << out.dump();
    return out;
  }
};

TEST_F(NotifyApiTest, AScoreIsPostedToTheTasksWebhookSignedAndRetriedAfterA500) {
  testing::WebhookReceiver receiver;
  receiver.Answer({500});  // the first attempt fails; the retry succeeds
  auto put = PutWebhook("task-w", {{"url", receiver.url("/sopilot")}, {"secret", "s3cret"}});
  ASSERT_EQ(put->status, 200) << put->body;
  Json hook = Json::parse(put->body);
  EXPECT_EQ(hook["url"], receiver.url("/sopilot"));
  EXPECT_EQ(hook["secret_set"], true);
  EXPECT_EQ(put->body.find("s3cret"), std::string::npos) << "the secret is never shown";
  auto got = client_->Get("/tasks/task-w/webhook", Auth(kOperator));
  ASSERT_EQ(got->status, 200);
  EXPECT_EQ(Json::parse(got->body)["effective_url"], receiver.url("/sopilot"));

  Json score = ScoreOnce("task-w", "w");
  ASSERT_EQ(score["status"], "completed") << score.dump();
  ASSERT_TRUE(receiver.WaitFor(2)) << "the retry after the 500 never came";
  const auto requests = receiver.requests();
  for (const auto& r : requests) {
    EXPECT_EQ(r.path, "/sopilot");
    EXPECT_EQ(r.header("X-SOPilot-Event"), "score.completed");
    EXPECT_EQ(r.header("X-SOPilot-Delivery"), requests[0].header("X-SOPilot-Delivery"));
    EXPECT_EQ(r.body, requests[0].body) << "the same body on every attempt";
    // What a receiver does: HMAC-SHA256 of the raw body with the shared secret.
    EXPECT_TRUE(ConstantTimeEquals(r.header("X-SOPilot-Signature"), "sha256=" + HmacSha256Hex("s3cret", r.body)));
  }
  Json body = Json::parse(requests[0].body);
  EXPECT_EQ(body["event"], "score.completed");
  EXPECT_EQ(body["score_job_id"], score["score_job_id"]);
  EXPECT_EQ(body["task_id"], "task-w");
  EXPECT_EQ(body["gold_video_id"], score["gold_video_id"]);
  EXPECT_EQ(body["trainee_video_id"], score["trainee_video_id"]);
  EXPECT_EQ(body["score"], score["score"]);
  EXPECT_EQ(body["verdict"], score["result"]["verdict"]);
  EXPECT_EQ(body["finished_at"], score["finished_at"]);
  EXPECT_TRUE(body["error_message"].is_null());
  EXPECT_EQ(body["result_url"], "/score/" + score["score_job_id"].get<std::string>());
  // The result URL is the API's: it answers with the same score.
  auto result = client_->Get(body["result_url"].get<std::string>().c_str(), Auth(kViewer));
  ASSERT_EQ(result->status, 200);
  EXPECT_EQ(Json::parse(result->body)["score"], body["score"]);

  Json deliveries = SettledDeliveries(score["score_job_id"]);
  ASSERT_EQ(deliveries["items"].size(), 1u);
  EXPECT_EQ(deliveries["items"][0]["status"], "delivered");
  EXPECT_EQ(deliveries["items"][0]["attempts"], 2);
  EXPECT_EQ(deliveries["items"][0]["last_http_status"], 200);
  // Setting the webhook was audited, without the secret.
  auto trail = client_->Get("/audit/trail?limit=200", Auth(kViewer));
  EXPECT_NE(trail->body.find("task.webhook_set"), std::string::npos);
  EXPECT_EQ(trail->body.find("s3cret"), std::string::npos);
}

TEST_F(NotifyApiTest, AReceiverThatNeverAnswersDoesNotHoldUpTheWorkers) {
  testing::WebhookReceiver receiver;
  receiver.Hold(true);  // takes the request and never answers
  ASSERT_EQ(PutWebhook("task-h", {{"url", receiver.url()}})->status, 200);
  Json first = ScoreOnce("task-h", "h1");
  ASSERT_EQ(first["status"], "completed") << first.dump();
  ASSERT_TRUE(receiver.WaitFor(1));
  // The delivery hangs; jobs go on: two more ingests and another score.
  Json second = ScoreOnce("task-h", "h2");
  EXPECT_EQ(second["status"], "completed") << second.dump();
  auto r = client_->Get(("/score/" + first["score_job_id"].get<std::string>() + "/webhooks").c_str(), Auth(kOperator));
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(Json::parse(r->body)["items"][0]["status"], "pending") << r->body;
  receiver.Hold(false);
  EXPECT_EQ(SettledDeliveries(first["score_job_id"])["items"][0]["status"], "delivered");
}

TEST_F(NotifyApiTest, AMalformedWebhookIsRefusedWith400) {
  for (const Json& body : {Json{{"url", "https://example.com/hook"}}, Json{{"url", "ftp://example.com/"}},
                           Json{{"url", "not a url"}}, Json{{"url", "http://"}}, Json{{"url", "http://h:99999/"}},
                           Json{{"url", "http://user:pw@h/"}}, Json{{"url", 42}}, Json::object(),
                           Json{{"url", "http://h/"}, {"secret", 7}}, Json{{"url", "http://h/"}, {"secret", ""}},
                           Json{{"url", "http://h/"}, {"bogus", 1}}}) {
    auto r = PutWebhook("task-b", body);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << body.dump() << " " << r->body;
    Json err = Json::parse(r->body, nullptr, false);
    EXPECT_TRUE(err.is_object() && err["error"].is_string()) << r->body;
  }
  auto bad_json = client_->Put("/tasks/task-b/webhook", Auth(kOperator), "{not json", "application/json");
  EXPECT_EQ(bad_json->status, 400);
  EXPECT_EQ(PutWebhook("task-b", {{"url", "http://h/"}}, kViewer)->status, 403);
  // Nothing was stored; removing what is not there is 404.
  EXPECT_TRUE(Json::parse(client_->Get("/tasks/task-b/webhook", Auth(kOperator))->body)["url"].is_null());
  EXPECT_EQ(client_->Delete("/tasks/task-b/webhook", Auth(kOperator))->status, 404);
  ASSERT_EQ(PutWebhook("task-b", {{"url", "http://127.0.0.1:9/x"}})->status, 200);
  auto removed = client_->Delete("/tasks/task-b/webhook", Auth(kOperator));
  ASSERT_EQ(removed->status, 200) << removed->body;
  EXPECT_TRUE(Json::parse(removed->body)["url"].is_null());
}

TEST_F(NotifyApiTest, ATaskWithAutoScoreScoresEachNewTraineeVideo) {
  // A task without the setting first: its trainee is not scored.
  ASSERT_GT(IngestVideo(MakeProcedure("m-gold.mp4", {0, 1, 3}, 3), "task-manual", "gold"), 0);
  ASSERT_GT(IngestVideo(MakeProcedure("m-trainee.mp4", {0, 3, 1}, 3), "task-manual", "trainee"), 0);
  auto on = client_->Put("/tasks/task-auto/auto-score", Auth(kOperator), R"({"enabled": true})", "application/json");
  ASSERT_EQ(on->status, 200) << on->body;
  EXPECT_EQ(Json::parse(on->body)["enabled"], true);
  EXPECT_EQ(client_->Put("/tasks/task-auto/auto-score", Auth(kOperator), R"({"enabled": 1})", "application/json")
                ->status,
            400);
  int64_t gold = IngestVideo(MakeProcedure("a-gold.mp4", {0, 1, 3}, 3), "task-auto", "gold");
  int64_t trainee = IngestVideo(MakeProcedure("a-trainee.mp4", {0, 3, 1}, 3), "task-auto", "trainee");
  ASSERT_GT(trainee, 0);
  // The score appears in the task's history without anyone asking for it.
  Json items;
  ASSERT_TRUE(WaitUntil([&] {
    auto r = client_->Get("/scores?task_id=task-auto", Auth(kViewer));
    if (!r || r->status != 200) return false;
    items = Json::parse(r->body)["items"];
    return !items.empty();
  })) << "no automatic score";
  ASSERT_EQ(items.size(), 1u) << items.dump();
  EXPECT_EQ(items[0]["trainee_video_id"], trainee);
  EXPECT_EQ(items[0]["gold_video_id"], gold);
  EXPECT_EQ(items[0]["requested_by"], "system:auto-score");
  // The gold video itself was not scored, and nothing of the other task:
  // its ingests ran (one ingest worker, in order) before these.
  auto manual = client_->Get("/scores?task_id=task-manual", Auth(kViewer));
  EXPECT_TRUE(Json::parse(manual->body)["items"].empty()) << manual->body;
  for (const char* st : {kJobQueued, kJobRunning}) {
    EXPECT_TRUE(service_->store()->JobsWithStatus(JobKind::kScore, st, 100)->empty()) << st;
  }
  auto trail = client_->Get("/audit/trail?limit=200", Auth(kViewer));
  EXPECT_NE(trail->body.find("score.auto_queued"), std::string::npos);
  EXPECT_NE(trail->body.find("task.auto_score_set"), std::string::npos);
}

}  // namespace
}  // namespace sopilot
