// The dispatcher against a real store and a real receiver on loopback, one
// round at a time on the test's thread, with a clock the test moves.
#include "notify/webhook_dispatcher.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/digest.h"
#include "notify/webhook_receiver_test_util.h"
#include "testing/fake_clock_env.h"
#include "testing/temp_dir.h"

namespace sopilot {
namespace {

using Json = nlohmann::json;

class WebhookDispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = MetadataStore::Open(dir_.file("sopilot.db"), &env_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  // A score job of `task` that ends `status` (completed with 87.5 and a
  // verdict, or failed with an error): the trigger writes its event.
  std::string EndScore(const std::string& task, const std::string& status) {
    int64_t ids[2];
    for (int i = 0; i < 2; ++i) {
      VideoRow v;
      v.task_id = task;
      v.role = i == 0 ? "gold" : "trainee";
      v.file_name = "v.mp4";
      v.file_path = "raw/" + NewUuid4() + ".mp4";
      v.content_sha256 = std::string(64, 'a');
      auto id = store_->InsertVideo(v, {});
      EXPECT_TRUE(id.ok()) << id.status().ToString();
      ids[i] = id.ok() ? *id : 0;
    }
    JobRow job;
    job.id = NewUuid4();
    job.kind = JobKind::kScore;
    job.task_id = task;
    job.gold_video_id = ids[0];
    job.trainee_video_id = ids[1];
    last_gold_ = ids[0];
    last_trainee_ = ids[1];
    job.operator_id_hash = "op-1";
    Status inserted = store_->InsertJob(job);
    EXPECT_TRUE(inserted.ok()) << inserted.ToString();
    EXPECT_TRUE(store_->SetJobStatus(job.id, kJobRunning).ok());
    if (status == kJobCompleted) {
      EXPECT_TRUE(store_->CompleteScoreJob(job.id, 87.5, "reports/x.json",
                                           R"({"verdict": "needs_review", "deviations": 1})").ok());
    } else {
      EXPECT_TRUE(store_->SetJobStatus(job.id, status, "insufficient clip coverage").ok());
    }
    return job.id;
  }
  WebhookOptions Options(const std::string& url) {
    WebhookOptions o;
    o.global_url = url;
    o.global_secret = "global-secret";
    o.max_attempts = 3;
    o.backoff_sec = 10;
    o.timeout_sec = 30;
    return o;
  }
  WebhookDeliveryRow Only(const std::string& job_id) {
    auto rows = store_->ListWebhookDeliveries(job_id, 10);
    EXPECT_TRUE(rows.ok());
    EXPECT_EQ(rows->size(), 1u);
    return rows->empty() ? WebhookDeliveryRow() : rows->front();
  }

  int64_t last_gold_ = 0, last_trainee_ = 0;
  testing::TempDir dir_;
  testing::FakeClockEnv env_;
  std::unique_ptr<MetadataStore> store_;
};

TEST_F(WebhookDispatcherTest, AnEndedScoreIsPostedSignedWithItsFields) {
  testing::WebhookReceiver receiver;
  WebhookDispatcher d(store_.get(), &env_, Options(receiver.url()));
  const std::string job = EndScore("task-a", kJobCompleted);
  auto round = d.DeliverOneDue();
  ASSERT_TRUE(round.ok()) << round.status().ToString();
  EXPECT_TRUE(*round);
  ASSERT_EQ(receiver.requests().size(), 1u);
  const testing::ReceivedWebhook got = receiver.requests()[0];
  EXPECT_EQ(got.path, "/hook");
  EXPECT_EQ(got.header("Content-Type"), "application/json");
  EXPECT_EQ(got.header("X-SOPilot-Event"), "score.completed");
  EXPECT_EQ(got.header("X-SOPilot-Signature"), "sha256=" + HmacSha256Hex("global-secret", got.body));
  Json body = Json::parse(got.body);
  EXPECT_EQ(body["event"], "score.completed");
  EXPECT_EQ(body["score_job_id"], job);
  EXPECT_EQ(body["delivery_id"], got.header("X-SOPilot-Delivery"));
  EXPECT_EQ(body["delivery_id"].get<std::string>().size(), 32u);
  EXPECT_EQ(body["task_id"], "task-a");
  EXPECT_EQ(body["gold_video_id"], last_gold_);
  EXPECT_EQ(body["trainee_video_id"], last_trainee_);
  EXPECT_EQ(body["score"], 87.5);
  EXPECT_EQ(body["verdict"], "needs_review");
  EXPECT_EQ(body["status"], "completed");
  EXPECT_TRUE(body["error_message"].is_null());
  EXPECT_EQ(body["finished_at"], "2026-02-08T09:45:59+00:00");
  EXPECT_EQ(body["result_url"], "/score/" + job);
  EXPECT_EQ(body["operator_id_hash"], "op-1");
  WebhookDeliveryRow row = Only(job);
  EXPECT_EQ(row.status, "delivered");
  EXPECT_EQ(row.attempts, 1);
  EXPECT_EQ(row.last_http_status, 200);
  // Nothing else is due.
  EXPECT_FALSE(*d.DeliverOneDue());
}

TEST_F(WebhookDispatcherTest, AFailedScoreIsScoreFailedWithItsError) {
  testing::WebhookReceiver receiver;
  WebhookDispatcher d(store_.get(), &env_, Options(receiver.url()));
  const std::string failed = EndScore("task-a", kJobFailed);
  const std::string dead = EndScore("task-a", kJobDead);
  EXPECT_TRUE(*d.DeliverOneDue());
  EXPECT_TRUE(*d.DeliverOneDue());
  ASSERT_EQ(receiver.requests().size(), 2u);
  for (const auto& got : receiver.requests()) {
    Json body = Json::parse(got.body);
    EXPECT_EQ(got.header("X-SOPilot-Event"), "score.failed");
    EXPECT_EQ(body["event"], "score.failed");
    EXPECT_EQ(body["error_message"], "insufficient clip coverage");
    EXPECT_TRUE(body["score"].is_null());
    EXPECT_TRUE(body["score_job_id"] == failed || body["score_job_id"] == dead);
  }
}

TEST_F(WebhookDispatcherTest, RetriesWithBackoffOnTheClockUntilA2xx) {
  testing::WebhookReceiver receiver;
  receiver.Answer({500, 503});
  WebhookDispatcher d(store_.get(), &env_, Options(receiver.url()));
  const std::string job = EndScore("task-a", kJobCompleted);
  const double t0 = env_.now;
  EXPECT_TRUE(*d.DeliverOneDue());
  WebhookDeliveryRow row = Only(job);
  EXPECT_EQ(row.status, "pending");
  EXPECT_EQ(row.attempts, 1);
  EXPECT_EQ(row.last_http_status, 500);
  EXPECT_NE(row.last_error.find("HTTP 500"), std::string::npos) << row.last_error;
  EXPECT_DOUBLE_EQ(row.next_attempt_at, t0 + 10);
  // Not due before its time.
  env_.Advance(9.5);
  EXPECT_FALSE(*d.DeliverOneDue());
  EXPECT_EQ(receiver.requests().size(), 1u);
  env_.Advance(0.5);
  EXPECT_TRUE(*d.DeliverOneDue());
  row = Only(job);
  EXPECT_EQ(row.attempts, 2);
  EXPECT_DOUBLE_EQ(row.next_attempt_at, t0 + 10 + 20);  // doubled
  env_.Advance(20);
  EXPECT_TRUE(*d.DeliverOneDue());
  ASSERT_EQ(receiver.requests().size(), 3u);
  row = Only(job);
  EXPECT_EQ(row.status, "delivered");
  EXPECT_EQ(row.attempts, 3);
  // Every attempt carried the same delivery id and the same signed body.
  for (const auto& got : receiver.requests()) {
    EXPECT_EQ(got.header("X-SOPilot-Delivery"), row.delivery_id);
    EXPECT_EQ(got.body, receiver.requests()[0].body);
    EXPECT_EQ(got.header("X-SOPilot-Signature"), "sha256=" + HmacSha256Hex("global-secret", got.body));
  }
}

TEST_F(WebhookDispatcherTest, GivesUpAfterMaxAttempts) {
  testing::WebhookReceiver receiver;
  receiver.Answer({500, 500, 500, 500});
  WebhookDispatcher d(store_.get(), &env_, Options(receiver.url()));
  const std::string job = EndScore("task-a", kJobCompleted);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(*d.DeliverOneDue());
    env_.Advance(3600);
  }
  EXPECT_FALSE(*d.DeliverOneDue());
  WebhookDeliveryRow row = Only(job);
  EXPECT_EQ(row.status, "failed");
  EXPECT_EQ(row.attempts, 3);
  EXPECT_NE(row.last_error.find("gave up after 3 attempts"), std::string::npos) << row.last_error;
  EXPECT_EQ(receiver.requests().size(), 3u);
}

TEST_F(WebhookDispatcherTest, TheTasksWebhookAndSecretWinOverTheGlobalOnes) {
  testing::WebhookReceiver global, own;
  ASSERT_TRUE(store_->PutTaskWebhook("task-own", own.url("/own"), "task-secret", "tester").ok());
  WebhookDispatcher d(store_.get(), &env_, Options(global.url()));
  EndScore("task-own", kJobCompleted);
  EndScore("task-other", kJobCompleted);
  EXPECT_TRUE(*d.DeliverOneDue());
  EXPECT_TRUE(*d.DeliverOneDue());
  ASSERT_EQ(own.requests().size(), 1u);
  ASSERT_EQ(global.requests().size(), 1u);
  EXPECT_EQ(own.requests()[0].path, "/own");
  EXPECT_EQ(own.requests()[0].header("X-SOPilot-Signature"),
            "sha256=" + HmacSha256Hex("task-secret", own.requests()[0].body));
  EXPECT_EQ(Json::parse(global.requests()[0].body)["task_id"], "task-other");
}

TEST_F(WebhookDispatcherTest, WithoutAnyUrlTheDeliveryIsSkippedAndWithoutASecretUnsigned) {
  WebhookOptions none = Options("");
  none.global_secret = "";
  WebhookDispatcher d(store_.get(), &env_, none);
  const std::string job = EndScore("task-a", kJobCompleted);
  EXPECT_TRUE(*d.DeliverOneDue());
  EXPECT_EQ(Only(job).status, "skipped");
  testing::WebhookReceiver receiver;
  ASSERT_TRUE(store_->PutTaskWebhook("task-b", receiver.url(), "", "tester").ok());
  EndScore("task-b", kJobCompleted);
  EXPECT_TRUE(*d.DeliverOneDue());
  ASSERT_EQ(receiver.requests().size(), 1u);
  EXPECT_EQ(receiver.requests()[0].header("X-SOPilot-Signature"), "");
}

TEST_F(WebhookDispatcherTest, OnlyAnEndedScoreMakesAnEvent) {
  // Queued, running, retried (back to queued), ingest and training jobs:
  // no event; a status set twice: one event.
  JobRow ingest;
  ingest.id = NewUuid4();
  ingest.kind = JobKind::kIngest;
  ingest.task_id = "t";
  ingest.file_path = "raw/x.mp4";
  ASSERT_TRUE(store_->InsertJob(ingest).ok());
  ASSERT_TRUE(store_->SetJobStatus(ingest.id, kJobFailed, "bad").ok());
  JobRow score;
  score.id = NewUuid4();
  score.kind = JobKind::kScore;
  score.task_id = "t";
  ASSERT_TRUE(store_->InsertJob(score).ok());
  ASSERT_TRUE(store_->SetJobStatus(score.id, kJobRunning).ok());
  ASSERT_TRUE(store_->SetJobStatus(score.id, kJobQueued).ok());
  EXPECT_TRUE(store_->ListWebhookDeliveries("", 10)->empty());
  ASSERT_TRUE(store_->SetJobStatus(score.id, kJobFailed, "x").ok());
  ASSERT_TRUE(store_->SetJobStatus(score.id, kJobFailed, "x").ok());
  EXPECT_EQ(store_->ListWebhookDeliveries("", 10)->size(), 1u);
}

TEST_F(WebhookDispatcherTest, AnInvalidGlobalConfigurationIsRefused) {
  WebhookOptions o;
  EXPECT_TRUE(ValidateWebhookOptions(o).ok());
  o.global_url = "https://example.com/";
  o.max_attempts = 0;
  Status st = ValidateWebhookOptions(o);
  EXPECT_NE(st.message().find("SOPILOT_WEBHOOK_URL"), std::string::npos);
  EXPECT_NE(st.message().find("SOPILOT_WEBHOOK_MAX_ATTEMPTS"), std::string::npos);
}

}  // namespace
}  // namespace sopilot
