// SopilotService::SubmitUpload with a caller-chosen job id: submitting again
// never makes a second job (the watch folder relies on it across restarts).
#include "service/sopilot_service.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/digest.h"
#include "testing/temp_dir.h"

namespace sopilot {
namespace {

namespace fs = std::filesystem;

class SubmitUploadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServiceConfig config;
    config.data_dir = dir_.file("data");
    auto s = SopilotService::Open(config, Env::Default());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    service_ = std::move(*s);
  }

  // A file under incoming/ holding `content`, as an upload leaves it.
  std::string Incoming(const std::string& content) {
    std::string path = service_->blobs().NewIncomingPath();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  Result<JobRow> Submit(const std::string& content, const std::string& job_id, const std::string& task = "t1") {
    UploadRequest r;
    r.task_id = task;
    r.role = "gold";
    r.file_name = "a.mp4";
    r.job_id = job_id;
    return service_->SubmitUpload(Incoming(content), Sha256Hex(content), r, "watcher:folder");
  }

  size_t IncomingFiles() {
    size_t n = 0;
    for (auto& e : fs::directory_iterator(dir_.file("data/incoming"))) n += e.is_regular_file();
    return n;
  }

  testing::TempDir dir_;
  std::unique_ptr<SopilotService> service_;
};

TEST_F(SubmitUploadTest, WithoutAnIdEachSubmissionIsANewJob) {
  auto a = Submit("same bytes", "");
  auto b = Submit("same bytes", "");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->id, b->id);
  EXPECT_EQ(a->id.size(), 36u);
}

TEST_F(SubmitUploadTest, ChosenIdIsUsedAndASecondSubmissionReturnsTheFirstJob) {
  auto a = Submit("video one", "watch-0001");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->id, "watch-0001");
  EXPECT_EQ(a->status, kJobQueued);
  EXPECT_EQ(a->requested_by, "watcher:folder");
  // Submitting again — even other bytes or another task — returns that job.
  auto b = Submit("video one, copied again", "watch-0001", "t2");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->id, "watch-0001");
  EXPECT_EQ(b->task_id, "t1");
  EXPECT_EQ(b->file_path, a->file_path);
  EXPECT_EQ(IncomingFiles(), 0u) << "the duplicate upload was dropped";
  auto counts = service_->store()->JobStatusCounts(JobKind::kIngest);
  ASSERT_TRUE(counts.ok());
  int64_t total = 0;
  for (auto& [status, n] : *counts) total += n;
  EXPECT_EQ(total, 1);
  auto stats = service_->queue()->Stats(JobKind::kIngest);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->queued, 1);
}

TEST_F(SubmitUploadTest, EnsureQueuedPutsAQueuedRowBackInTheQueue) {
  // A submitter that died between writing the row and enqueuing it.
  JobRow row;
  row.id = "orphan-row";
  row.kind = JobKind::kIngest;
  row.task_id = "t1";
  row.role = "trainee";
  row.file_name = "a.mp4";
  row.file_path = "raw/x.mp4";
  ASSERT_TRUE(service_->store()->InsertJob(row).ok());
  EXPECT_EQ(service_->queue()->Stats(JobKind::kIngest)->queued, 0);
  auto job = service_->EnsureQueued("orphan-row");
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(service_->queue()->Stats(JobKind::kIngest)->queued, 1);
  // Again: a no-op.
  ASSERT_TRUE(service_->EnsureQueued("orphan-row").ok());
  EXPECT_EQ(service_->queue()->Stats(JobKind::kIngest)->queued, 1);
  EXPECT_EQ(service_->EnsureQueued("no-such-job").status().code(), Status::Code::kNotFound);
}

TEST_F(SubmitUploadTest, BadOrForeignIdsAreRefused) {
  auto bad = Submit("x", "../../etc");
  EXPECT_EQ(bad.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(Submit("x", std::string(65, 'a')).status().code(), Status::Code::kInvalidArgument);
  auto training = service_->SubmitTraining("manual", "admin");
  ASSERT_TRUE(training.ok());
  auto clash = Submit("x", training->id);
  EXPECT_EQ(clash.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(clash.status().message().find("training"), std::string::npos) << clash.status().message();
  EXPECT_EQ(IncomingFiles(), 0u);
}

}  // namespace
}  // namespace sopilot
