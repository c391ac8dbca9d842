// The SOP versions and the score history of the metadata store, on a real
// SQLite file and on a real PostgreSQL server.
#include <atomic>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "store/metadata_store.h"
#include "store/store_backend_test_util.h"
#include "testing/fake_clock_env.h"
#include "testing/temp_dir.h"

namespace sopilot {
namespace {


class ScoreHistoryTest : public testing::StoreBackendTest {
 protected:
  // A completed score job finished at the clock's time.
  std::string Score(const std::string& task, const std::string& op, const std::string& site, double score,
                    const std::string& verdict) {
    JobRow j;
    j.id = NewUuid4();
    j.kind = JobKind::kScore;
    j.task_id = task;
    j.operator_id_hash = op;
    j.site_id = site;
    EXPECT_TRUE(store_->InsertJob(j).ok());
    EXPECT_TRUE(store_->SetJobStatus(j.id, kJobRunning).ok());
    EXPECT_TRUE(store_->CompleteScoreJob(j.id, score, "reports/" + j.id + ".json",
                                         nlohmann::json{{"verdict", verdict}, {"deviations", 0}}.dump())
                    .ok());
    return j.id;
  }
};
INSTANTIATE_TEST_SUITE_P(Backends, ScoreHistoryTest,
                         ::testing::Values(testing::StoreBackend::kSqlite, testing::StoreBackend::kPostgres),
                         testing::StoreBackendName);

TEST_P(ScoreHistoryTest, SopVersionsCountUpPerTaskAndAreNeverRewritten) {
  EXPECT_EQ(store_->GetSopVersion("t", 0).status().code(), Status::Code::kNotFound);
  auto v1 = store_->AppendSopVersion("t", std::nullopt, R"({"steps": [1]})", "token:operator");
  auto v2 = store_->AppendSopVersion("t", std::nullopt, R"({"steps": [2]})", "token:admin");
  auto other = store_->AppendSopVersion("u", std::nullopt, R"({"steps": [3]})", "token:operator");
  ASSERT_TRUE(v1.ok() && v2.ok() && other.ok());
  EXPECT_EQ(*v1, 1);
  EXPECT_EQ(*v2, 2);
  EXPECT_EQ(*other, 1);
  auto latest = store_->GetSopVersion("t", 0);
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->version, 2);
  EXPECT_EQ(latest->definition_json, R"({"steps": [2]})");
  EXPECT_EQ(latest->created_by, "token:admin");
  EXPECT_EQ(store_->GetSopVersion("t", 1)->definition_json, R"({"steps": [1]})");
  EXPECT_EQ(store_->GetSopVersion("t", 3).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(store_->AppendSopVersion("t", std::nullopt, "[1]", "x").status().code(),
            Status::Code::kInvalidArgument);

  // Nobody rewrites a version, even with the file in hand.
  std::string err;
  EXPECT_FALSE(Raw().Exec("UPDATE sop_versions SET definition_json = '{}' WHERE task_id = 't'", &err));
  EXPECT_NE(err.find("never rewritten"), std::string::npos) << err;
  EXPECT_EQ(store_->GetSopVersion("t", 1)->definition_json, R"({"steps": [1]})");
}

// Two stores (two connections, as two processes would have) saving at once.
TEST_P(ScoreHistoryTest, ConcurrentSavesGetDistinctVersions) {
  auto other = OpenStore();
  ASSERT_NE(other, nullptr);
  std::vector<std::thread> threads;
  std::atomic<int> failed{0};
  std::vector<int64_t> got(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto v = (i % 2 ? other : store_)->AppendSopVersion("t", std::nullopt, "{}", "x");
      if (v.ok()) got[i] = *v; else ++failed;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(std::set<int64_t>(got.begin(), got.end()).size(), 8u);
}

TEST_P(ScoreHistoryTest, FiltersAndPagesWithoutGapsOrRepeats) {
  std::vector<std::string> ids;
  // Three scores in one second (the order they were queued in breaks the
  // tie), then later ones.
  for (int i = 0; i < 3; ++i) ids.push_back(Score("t", "op-a", "s1", 95, "pass"));
  env_.now = env_.now + 3600;
  ids.push_back(Score("t", "op-b", "s1", 40, "fail"));
  ids.push_back(Score("u", "op-a", "s2", 70, "needs_review"));
  env_.now = env_.now + 86400;
  ids.push_back(Score("t", "op-a", "s2", 91, "pass"));
  // A job that is not completed is not history.
  JobRow queued;
  queued.id = NewUuid4();
  queued.kind = JobKind::kScore;
  queued.task_id = "t";
  ASSERT_TRUE(store_->InsertJob(queued).ok());

  ScoreQuery all;
  auto page = store_->ListScores(all);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->scores.size(), 6u);
  EXPECT_FALSE(page->more);
  EXPECT_EQ(page->scores.front().id, ids.back());  // newest first
  // Within one second, the one queued last first.
  EXPECT_EQ(page->scores[3].id, ids[2]);
  EXPECT_EQ(page->scores[5].id, ids[0]);

  auto count = [&](ScoreQuery q) { return store_->ListScores(q)->scores.size(); };
  ScoreQuery q;
  q.task_id = "t";
  EXPECT_EQ(count(q), 5u);
  q.operator_id_hash = "op-a";
  EXPECT_EQ(count(q), 4u);
  q.verdict = "pass";
  EXPECT_EQ(count(q), 4u);
  q.site_id = "s2";
  EXPECT_EQ(count(q), 1u);
  ScoreQuery fails;
  fails.verdict = "fail";
  ASSERT_EQ(store_->ListScores(fails)->scores.size(), 1u);
  EXPECT_EQ(store_->ListScores(fails)->scores[0].id, ids[3]);
  ScoreQuery day;
  day.finished_from = IsoTimestamp(1770543959.0 + 3600);
  day.finished_before = IsoTimestamp(1770543959.0 + 86400);
  EXPECT_EQ(count(day), 2u);  // the two an hour later; the bound is inclusive

  // Pages of two: every score once, in order.
  ScoreQuery paged;
  paged.limit = 2;
  std::vector<std::string> seen;
  for (int pages = 0; pages < 10; ++pages) {
    auto p = store_->ListScores(paged);
    ASSERT_TRUE(p.ok());
    for (const JobRow& j : p->scores) seen.push_back(j.id);
    if (!p->more) break;
    paged.after_finished_at = p->scores.back().finished_at;
    paged.after_seq = p->seqs.back();
  }
  std::vector<std::string> expected;
  for (const JobRow& j : page->scores) expected.push_back(j.id);
  EXPECT_EQ(seen, expected);
}

}  // namespace
}  // namespace sopilot
