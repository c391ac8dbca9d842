// FolderWatcher on real files with a fake service, a fake clock and a fake
// open-writer probe: completeness, task and role, receipts, failures,
// retries, and every restart point of the take-submit-file sequence.
#include "watch/folder_watcher.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "base/digest.h"
#include "testing/temp_dir.h"
#include "testing/text.h"

namespace sopilot::watch {
namespace {

using testing::SeriesValue;
using testing::Slurp;

namespace fs = std::filesystem;
using Json = nlohmann::json;

class FakeClockEnv : public EnvWrapper {
 public:
  FakeClockEnv() : EnvWrapper(Env::Default()) {}
  uint64_t NowMicros() override { return micros_; }
  double NowUnixSeconds() override { return 1770543961.0 + micros_ / 1e6; }
  void Advance(double sec) { micros_ += static_cast<uint64_t>(sec * 1e6); }
  // Intent removals fail (to leave the state of a crash before that step).
  bool fail_intent_removal = false;
  Status RemoveFile(const std::string& path) override {
    if (fail_intent_removal && path.find("/.processing/") != std::string::npos &&
        path.size() > 5 && path.compare(path.size() - 5, 5, ".json") == 0) {
      return Status::IOError("injected");
    }
    return EnvWrapper::RemoveFile(path);
  }

 private:
  uint64_t micros_ = 1000000000;
};

// The service side: jobs by id; Submit makes a queued job (or returns the
// one with that id, as SopilotService does).
class FakeGateway : public IngestGateway {
 public:
  Result<JobRow> Submit(const std::string& path, const UploadRequest& request) override {
    submissions.push_back(request);
    if (!submit_error.ok() && !row_written_on_error) return submit_error;
    if (!fs::exists(path)) return Status::NotFound(path + ": no such file");
    auto it = jobs.find(request.job_id);
    if (it != jobs.end()) return it->second;
    JobRow j;
    j.id = request.job_id;
    j.status = kJobQueued;
    j.task_id = request.task_id;
    j.role = request.role;
    j.file_name = request.file_name;
    j.file_path = "raw/" + Sha256Hex(Slurp(path)) + ".mp4";
    j.queued_at = "2026-02-08T09:46:01+00:00";
    jobs[j.id] = j;
    contents.push_back(Slurp(path));
    if (!submit_error.ok()) return submit_error;  // the row stays queued, as SopilotService leaves it
    return j;
  }
  Result<JobRow> EnsureQueued(const std::string& id) override {
    ++ensure_calls;
    // The queue is still down: a queued row cannot be enqueued.
    if (row_written_on_error && !submit_error.ok() && jobs.count(id)) return submit_error;
    return GetJob(id);
  }
  Result<JobRow> GetJob(const std::string& id) override {
    if (!get_error.ok()) return get_error;
    auto it = jobs.find(id);
    if (it == jobs.end()) return Status::NotFound("ingest job not found");
    return it->second;
  }
  void Complete(const std::string& id, int64_t video) {
    jobs[id].status = kJobCompleted;
    jobs[id].video_id = video;
    jobs[id].finished_at = "2026-02-08T09:46:09+00:00";
  }
  void Fail(const std::string& id, const std::string& why) {
    jobs[id].status = kJobFailed;
    jobs[id].error_message = why;
  }
  std::string OnlyJob() const {
    EXPECT_EQ(jobs.size(), 1u);
    return jobs.empty() ? "" : jobs.begin()->first;
  }

  std::map<std::string, JobRow> jobs;
  std::vector<UploadRequest> submissions;
  std::vector<std::string> contents;
  int ensure_calls = 0;
  Status submit_error, get_error;
  bool row_written_on_error = false;  // Submit writes the row, then fails (the queue refused it)
};

class FakeProbe : public OpenWriterProbe {
 public:
  std::set<FileId> OpenForWriting(const std::set<FileId>& files) override {
    ++calls;
    std::set<FileId> out;
    for (const FileId& f : files) {
      if (open.count(f)) out.insert(f);
    }
    return out;
  }
  std::set<FileId> open;
  int calls = 0;
};

FileId IdOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(stat(path.c_str(), &st), 0);
  return {st.st_dev, st.st_ino};
}

class FolderWatcherTest : public ::testing::Test {
 protected:
  FolderWatcherTest() {
    options_.dir = dir_.file("in");
    options_.settle_sec = 2;
    options_.job_poll_sec = 0.5;
  }

  std::unique_ptr<FolderWatcher> NewWatcher() {
    auto w = std::make_unique<FolderWatcher>(options_, &gateway_, &probe_, &env_,
                                             [this](const std::string& line) { log_ += line + "\n"; });
    Status st = w->Start();
    EXPECT_TRUE(st.ok()) << st.ToString();
    return w;
  }

  // Writes a file under the watched directory (parents created).
  std::string Put(const std::string& rel, const std::string& content = "not really a video") {
    std::string path = options_.dir + "/" + rel;
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  std::vector<std::string> Files(const std::string& sub) {
    std::vector<std::string> out;
    std::error_code ec;
    for (auto& e : fs::directory_iterator(options_.dir + "/" + sub, ec)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

  Json ReadJson(const std::string& rel) { return Json::parse(Slurp(options_.dir + "/" + rel)); }

  // Ticks `n` times, `step` seconds apart.
  void Run(FolderWatcher* w, int n, double step = 0.5) {
    for (int i = 0; i < n; ++i) {
      w->Tick();
      env_.Advance(step);
    }
  }

  testing::TempDir dir_;
  WatchOptions options_;
  FakeClockEnv env_;
  FakeGateway gateway_;
  FakeProbe probe_;
  std::string log_;
};

TEST_F(FolderWatcherTest, TakesACompleteFileOnceAndFilesItWithAReceipt) {
  auto w = NewWatcher();
  Put("filter/gold/a.mp4", "gold video bytes");
  w->Scan("", {});
  w->Tick();
  EXPECT_TRUE(gateway_.submissions.empty()) << "not settled yet";
  env_.Advance(1.9);
  w->Tick();
  EXPECT_TRUE(gateway_.submissions.empty()) << "not settled yet";
  env_.Advance(0.2);
  w->Tick();
  ASSERT_EQ(gateway_.submissions.size(), 1u) << log_;
  const UploadRequest& r = gateway_.submissions[0];
  EXPECT_EQ(r.task_id, "filter");
  EXPECT_EQ(r.role, "gold");
  EXPECT_EQ(r.file_name, "a.mp4");
  EXPECT_EQ(gateway_.contents[0], "gold video bytes");
  EXPECT_FALSE(fs::exists(options_.dir + "/filter/gold/a.mp4"));
  // In .processing with its intent while the job runs.
  auto processing = Files(".processing");
  ASSERT_EQ(processing.size(), 2u);
  const std::string tag = processing[0];
  EXPECT_EQ(processing[1], tag + ".json");
  EXPECT_TRUE(std::regex_match(tag, std::regex("20260208T[0-9]{6}Z_[0-9a-f]{8}_a\\.mp4"))) << tag;
  Json intent = ReadJson(".processing/" + tag + ".json");
  EXPECT_EQ(intent["source"], "filter/gold/a.mp4");
  EXPECT_EQ(intent["ingest_job_id"], r.job_id);
  EXPECT_EQ(intent["task_id"], "filter");

  Run(w.get(), 4);
  EXPECT_EQ(gateway_.submissions.size(), 1u);
  EXPECT_TRUE(Files(".processed").empty());
  gateway_.Complete(r.job_id, 7);
  Run(w.get(), 2);
  EXPECT_TRUE(Files(".processing").empty());
  EXPECT_EQ(Files(".processed"), (std::vector<std::string>{tag, tag + ".json"}));
  Json receipt = ReadJson(".processed/" + tag + ".json");
  EXPECT_EQ(receipt["status"], "completed");
  EXPECT_EQ(receipt["source"], "filter/gold/a.mp4");
  EXPECT_EQ(receipt["task_id"], "filter");
  EXPECT_EQ(receipt["role"], "gold");
  EXPECT_EQ(receipt["ingest_job_id"], r.job_id);
  EXPECT_EQ(receipt["video_id"], 7);
  EXPECT_EQ(receipt["sha256"], Sha256Hex("gold video bytes"));
  EXPECT_EQ(receipt["queued_at"], "2026-02-08T09:46:01+00:00");
  EXPECT_EQ(receipt["finished_at"], "2026-02-08T09:46:09+00:00");
  EXPECT_EQ(Slurp(options_.dir + "/.processed/" + tag), "gold video bytes");
  EXPECT_FALSE(w->busy());
  // Nothing more happens.
  w->Scan("", {});
  Run(w.get(), 10);
  EXPECT_EQ(gateway_.submissions.size(), 1u);
  EXPECT_NE(log_.find("filter/gold/a.mp4: ingested: video 7"), std::string::npos) << log_;
}

TEST_F(FolderWatcherTest, AFileBeingWrittenWaitsForItsCloseAndForStability) {
  auto w = NewWatcher();
  const std::string path = Put("filter/a.mp4", "half");
  w->FileWritten("filter/a.mp4");
  Run(w.get(), 10);  // 5 s, far past the settle time
  EXPECT_TRUE(gateway_.submissions.empty()) << "no close seen";
  EXPECT_NE(log_.find("its writer has not closed it"), std::string::npos) << log_;
  // A scan does not make it closed.
  w->Scan("", {});
  Run(w.get(), 4);
  EXPECT_TRUE(gateway_.submissions.empty());
  // The writer finishes: the file changed, so it must settle again.
  std::ofstream(path, std::ios::app) << " and the rest";
  w->FileClosed("filter/a.mp4");
  Run(w.get(), 3, 0.5);  // 1.0 s after the change at most
  EXPECT_TRUE(gateway_.submissions.empty()) << "changed less than 2 s ago";
  Run(w.get(), 4, 0.5);
  ASSERT_EQ(gateway_.submissions.size(), 1u);
  EXPECT_EQ(gateway_.contents[0], "half and the rest");
}

TEST_F(FolderWatcherTest, AFileNeverClosedIsTakenWhenUnchangedForLongAndNoWriterIsSeen) {
  // A hard link made into the folder: created, never closed after writing.
  auto w = NewWatcher();
  const std::string path = Put("filter/a.mp4");
  probe_.open.insert(IdOf(path));
  w->FileWritten("filter/a.mp4");
  Run(w.get(), 118);  // 59 s
  EXPECT_TRUE(gateway_.submissions.empty());
  Run(w.get(), 10);
  EXPECT_TRUE(gateway_.submissions.empty()) << "a writer is seen";
  EXPECT_NE(log_.find("no close seen but unchanged for 60 s"), std::string::npos) << log_;
  probe_.open.clear();
  Run(w.get(), 3);
  EXPECT_EQ(gateway_.submissions.size(), 1u);
}

TEST_F(FolderWatcherTest, OneWatcherPerDirectory) {
  auto w = NewWatcher();
  FolderWatcher second(options_, &gateway_, &probe_, &env_, [](const std::string&) {});
  Status st = second.Start();
  EXPECT_EQ(st.code(), Status::Code::kUnavailable) << st.ToString();
  w.reset();
  FolderWatcher third(options_, &gateway_, &probe_, &env_, [](const std::string&) {});
  EXPECT_TRUE(third.Start().ok());
}

TEST_F(FolderWatcherTest, AFileOpenForWritingIsNotTaken) {
  auto w = NewWatcher();
  const std::string path = Put("filter/a.mp4");
  probe_.open.insert(IdOf(path));
  w->FileClosed("filter/a.mp4");
  Run(w.get(), 12);
  EXPECT_TRUE(gateway_.submissions.empty());
  EXPECT_NE(log_.find("still has it open for writing"), std::string::npos) << log_;
  EXPECT_LE(probe_.calls, 5) << "the probe runs at most once a second per file";
  probe_.open.clear();
  Run(w.get(), 3);
  EXPECT_EQ(gateway_.submissions.size(), 1u);
}

TEST_F(FolderWatcherTest, EmptyHiddenAndOtherFilesAreLeftAlone) {
  auto w = NewWatcher();
  Put("filter/empty.mp4", "");
  Put("filter/notes.txt");
  Put("filter/.a.mp4.partial");
  Put("filter/.hidden/gold/a.mp4");
  Put("filter/a.mp4.part");
  w->Scan("", {});
  w->Scan("", {});
  w->FileClosed("filter/.a.mp4.partial");
  w->FileClosed("filter/notes.txt");
  Run(w.get(), 10);
  EXPECT_TRUE(gateway_.submissions.empty());
  EXPECT_TRUE(fs::exists(options_.dir + "/filter/empty.mp4"));
  EXPECT_TRUE(fs::exists(options_.dir + "/filter/notes.txt"));
  EXPECT_TRUE(Files(".failed").empty());
  // Each ignored file is logged once.
  size_t first = log_.find("filter/notes.txt: ignored");
  ASSERT_NE(first, std::string::npos) << log_;
  EXPECT_EQ(log_.find("filter/notes.txt: ignored", first + 1), std::string::npos) << log_;
}

TEST_F(FolderWatcherTest, RoleFromTheNameAndTaskFromTheOptions) {
  options_.rules.default_task = "filter";
  auto w = NewWatcher();
  Put("cam1_gold.mp4");
  Put("cam2_trainee.mkv");
  Put("cam3.webm");
  w->Scan("", {});
  Run(w.get(), 6);
  ASSERT_EQ(gateway_.submissions.size(), 3u) << log_;
  // Taken in path order.
  EXPECT_EQ(gateway_.submissions[0].role, "gold");
  EXPECT_EQ(gateway_.submissions[1].role, "trainee");
  EXPECT_EQ(gateway_.submissions[2].role, "trainee");
  for (const auto& s : gateway_.submissions) EXPECT_EQ(s.task_id, "filter");
}

TEST_F(FolderWatcherTest, NoTaskGoesToFailedWithTheReason) {
  auto w = NewWatcher();
  Put("lost_gold.mp4", "bytes");
  w->Scan("", {});
  Run(w.get(), 6);
  EXPECT_TRUE(gateway_.submissions.empty());
  auto failed = Files(".failed");
  ASSERT_EQ(failed.size(), 2u) << log_;
  const std::string tag = failed[0];
  EXPECT_EQ(failed[1], tag + ".error.json");
  Json e = ReadJson(".failed/" + tag + ".error.json");
  EXPECT_EQ(e["status"], "failed");
  EXPECT_EQ(e["source"], "lost_gold.mp4");
  EXPECT_NE(e["error"].get<std::string>().find("cannot tell the task"), std::string::npos);
  EXPECT_TRUE(e.contains("failed_at"));
  EXPECT_FALSE(e.contains("ingest_job_id")) << "nothing was submitted";
  EXPECT_EQ(Slurp(options_.dir + "/.failed/" + tag), "bytes");
  EXPECT_TRUE(Files(".processing").empty());
}

TEST_F(FolderWatcherTest, AFailedIngestGoesToFailedWithTheJobsError) {
  auto w = NewWatcher();
  Put("filter/trainee/x.mp4");
  w->Scan("", {});
  Run(w.get(), 6);
  std::string id = gateway_.OnlyJob();
  gateway_.Fail(id, "unable to open video: x.mp4: Invalid data found when processing input");
  Run(w.get(), 2);
  auto failed = Files(".failed");
  ASSERT_EQ(failed.size(), 2u) << log_;
  Json e = ReadJson(".failed/" + failed[0] + ".error.json");
  EXPECT_EQ(e["error"], "unable to open video: x.mp4: Invalid data found when processing input");
  EXPECT_EQ(e["ingest_job_id"], id);
  EXPECT_EQ(e["task_id"], "filter");
  EXPECT_EQ(e["role"], "trainee");
  EXPECT_TRUE(Files(".processing").empty());
}

TEST_F(FolderWatcherTest, ASubmissionRefusedForTheFilesSakeGoesToFailed) {
  auto w = NewWatcher();
  Put("filter/x.mp4");
  gateway_.submit_error = Status::InvalidArgument("task_id is longer than 200 characters");
  w->Scan("", {});
  Run(w.get(), 6);
  auto failed = Files(".failed");
  ASSERT_EQ(failed.size(), 2u) << log_;
  EXPECT_EQ(ReadJson(".failed/" + failed[0] + ".error.json")["error"], "task_id is longer than 200 characters");
}

TEST_F(FolderWatcherTest, AnUnavailableQueueKeepsTheFileAndRetriesWithTheSameJobId) {
  auto w = NewWatcher();
  Put("filter/x.mp4");
  gateway_.submit_error = Status::Unavailable("the job queue is unavailable: redis down");
  w->Scan("", {});
  Run(w.get(), 120);  // one minute
  EXPECT_TRUE(Files(".failed").empty());
  EXPECT_EQ(Files(".processing").size(), 2u);
  const size_t attempts = gateway_.submissions.size();
  EXPECT_GE(attempts, 4u);
  EXPECT_LE(attempts, 10u) << "backoff";
  for (const auto& s : gateway_.submissions) EXPECT_EQ(s.job_id, gateway_.submissions[0].job_id);
  // The problem is logged once, not at every attempt.
  size_t first = log_.find("redis down");
  ASSERT_NE(first, std::string::npos);
  EXPECT_EQ(log_.find("redis down", first + 1), std::string::npos) << log_;
  gateway_.submit_error = Status::Ok();
  Run(w.get(), 70);
  ASSERT_EQ(gateway_.jobs.size(), 1u);
  gateway_.Complete(gateway_.OnlyJob(), 1);
  Run(w.get(), 2);
  EXPECT_EQ(Files(".processed").size(), 2u) << log_;
}

TEST_F(FolderWatcherTest, WhenOnlyTheQueueRefusedTheJobTheRetryDoesNotCopyAgain) {
  auto w = NewWatcher();
  Put("filter/x.mp4");
  gateway_.submit_error = Status::Unavailable("the job queue is unavailable: down");
  gateway_.row_written_on_error = true;
  w->Scan("", {});
  Run(w.get(), 20);
  EXPECT_EQ(gateway_.submissions.size(), 1u) << "later attempts find the row and only enqueue it";
  EXPECT_GE(gateway_.ensure_calls, 3);
  EXPECT_TRUE(Files(".failed").empty());
  gateway_.submit_error = Status::Ok();  // the queue is back
  gateway_.Complete(gateway_.OnlyJob(), 4);
  Run(w.get(), 70);
  EXPECT_EQ(Files(".processed").size(), 2u) << log_;
}

TEST_F(FolderWatcherTest, AStoreErrorWhileFollowingIsRetried) {
  auto w = NewWatcher();
  Put("filter/x.mp4");
  w->Scan("", {});
  Run(w.get(), 6);
  gateway_.get_error = Status::IOError("database is locked");
  gateway_.Complete(gateway_.OnlyJob(), 3);
  Run(w.get(), 10);
  EXPECT_TRUE(Files(".processed").empty());
  gateway_.get_error = Status::Ok();
  Run(w.get(), 70);
  EXPECT_EQ(Files(".processed").size(), 2u) << log_;
  EXPECT_EQ(gateway_.submissions.size(), 1u);
}

TEST_F(FolderWatcherTest, RemovedOrMovedAwayBeforeTakenIsForgotten) {
  auto w = NewWatcher();
  const std::string path = Put("filter/x.mp4");
  w->FileClosed("filter/x.mp4");
  Run(w.get(), 2);
  fs::remove(path);
  w->FileRemoved("filter/x.mp4");
  Run(w.get(), 10);
  EXPECT_TRUE(gateway_.submissions.empty());
  EXPECT_FALSE(w->busy());
  // A directory moved away takes its files with it.
  Put("other/gold/y.mp4");
  w->Scan("", {});
  fs::rename(options_.dir + "/other", dir_.file("elsewhere"));
  w->FileRemoved("other");
  Run(w.get(), 10);
  EXPECT_TRUE(gateway_.submissions.empty());
}

TEST_F(FolderWatcherTest, LostEventsMakeUnclosedFilesDependOnStabilityAlone) {
  auto w = NewWatcher();
  Put("filter/x.mp4");
  w->FileWritten("filter/x.mp4");
  Run(w.get(), 8);
  EXPECT_TRUE(gateway_.submissions.empty());
  w->EventsLost();
  Run(w.get(), 2);
  EXPECT_EQ(gateway_.submissions.size(), 1u);
}

TEST_F(FolderWatcherTest, ScanReportsDirectoriesButNotHiddenOnes) {
  auto w = NewWatcher();
  Put("a/gold/x.mp4");
  Put("b/y.mp4");
  std::vector<std::string> dirs;
  w->Scan("", [&](const std::string& d) { dirs.push_back(d); });
  std::sort(dirs.begin(), dirs.end());
  EXPECT_EQ(dirs, (std::vector<std::string>{"", "a", "a/gold", "b"}));
  dirs.clear();
  w->Scan("a", [&](const std::string& d) { dirs.push_back(d); });
  EXPECT_EQ(dirs, (std::vector<std::string>{"a", "a/gold"}));
}

// ---- restarts: a new watcher over what the last one left on disk.

TEST_F(FolderWatcherTest, RestartAfterTakingBeforeSubmittingSubmitsWithTheSameId) {
  gateway_.submit_error = Status::Unavailable("queue down");
  std::string id;
  {
    auto w = NewWatcher();
    Put("filter/x.mp4");
    w->Scan("", {});
    Run(w.get(), 6);
    ASSERT_FALSE(gateway_.submissions.empty());
    id = gateway_.submissions[0].job_id;
  }  // the process dies with the file in .processing
  gateway_.submit_error = Status::Ok();
  gateway_.submissions.clear();
  auto w = NewWatcher();
  w->Scan("", {});
  Run(w.get(), 2);
  ASSERT_EQ(gateway_.submissions.size(), 1u) << log_;
  EXPECT_EQ(gateway_.submissions[0].job_id, id);
  EXPECT_EQ(gateway_.submissions[0].task_id, "filter");
  gateway_.Complete(id, 5);
  Run(w.get(), 2);
  EXPECT_EQ(Files(".processed").size(), 2u);
  EXPECT_TRUE(Files(".processing").empty());
}

TEST_F(FolderWatcherTest, RestartAfterSubmittingFollowsTheJobWithoutSubmittingAgain) {
  {
    auto w = NewWatcher();
    Put("filter/x.mp4");
    w->Scan("", {});
    Run(w.get(), 6);
    ASSERT_EQ(gateway_.jobs.size(), 1u);
  }
  auto w = NewWatcher();
  w->Scan("", {});
  Run(w.get(), 2);
  EXPECT_EQ(gateway_.ensure_calls, 1) << "the job is put back in the queue if its row says queued";
  EXPECT_EQ(gateway_.submissions.size(), 1u);
  gateway_.Complete(gateway_.OnlyJob(), 9);
  Run(w.get(), 2);
  auto processed = Files(".processed");
  ASSERT_EQ(processed.size(), 2u) << log_;
  EXPECT_EQ(ReadJson(".processed/" + processed[1])["video_id"], 9);
  EXPECT_NE(log_.find("resuming"), std::string::npos);
}

TEST_F(FolderWatcherTest, RestartWithAJobThatEndedMeanwhileFilesItAtOnce) {
  {
    auto w = NewWatcher();
    Put("filter/x.mp4");
    w->Scan("", {});
    Run(w.get(), 6);
  }
  gateway_.Fail(gateway_.OnlyJob(), "no decodable clip produced from video");
  auto w = NewWatcher();
  w->Tick();
  auto failed = Files(".failed");
  ASSERT_EQ(failed.size(), 2u) << log_;
  EXPECT_EQ(ReadJson(".failed/" + failed[0] + ".error.json")["error"], "no decodable clip produced from video");
}

TEST_F(FolderWatcherTest, AStaleIntentIsDroppedAndTheFileTakenAfresh) {
  // The last run wrote its intent and died before moving the file.
  Put("filter/x.mp4");
  fs::create_directories(options_.dir + "/.processing");
  std::ofstream(options_.dir + "/.processing/20260101T000000Z_deadbeef_x.mp4.json")
      << Json({{"tag", "20260101T000000Z_deadbeef_x.mp4"}, {"source", "filter/x.mp4"}, {"task_id", "filter"},
               {"role", "trainee"}, {"ingest_job_id", "old-id"}, {"claimed_at", "x"}})
             .dump();
  std::ofstream(options_.dir + "/.processing/20260101T000000Z_deadbeef_x.mp4.json.tmp.123") << "{";
  auto w = NewWatcher();
  EXPECT_TRUE(Files(".processing").empty()) << "stale intent and temporary file removed";
  w->Scan("", {});
  Run(w.get(), 6);
  ASSERT_EQ(gateway_.submissions.size(), 1u);
  EXPECT_NE(gateway_.submissions[0].job_id, "old-id");
  EXPECT_EQ(gateway_.ensure_calls, 0);
}

TEST_F(FolderWatcherTest, RestartAfterFilingOnlyRemovesTheIntent) {
  env_.fail_intent_removal = true;  // dies just before removing the intent
  {
    auto w = NewWatcher();
    Put("filter/x.mp4");
    w->Scan("", {});
    Run(w.get(), 6);
    gateway_.Complete(gateway_.OnlyJob(), 2);
    Run(w.get(), 2);
    ASSERT_EQ(Files(".processed").size(), 2u);
    ASSERT_EQ(Files(".processing").size(), 1u) << "the intent";
  }
  env_.fail_intent_removal = false;
  auto w = NewWatcher();
  w->Scan("", {});
  Run(w.get(), 6);
  EXPECT_TRUE(Files(".processing").empty());
  EXPECT_EQ(Files(".processed").size(), 2u);
  EXPECT_EQ(gateway_.submissions.size(), 1u);
  EXPECT_EQ(gateway_.ensure_calls, 0);
}

TEST_F(FolderWatcherTest, AnUnreadableIntentSendsItsFileToFailed) {
  fs::create_directories(options_.dir + "/.processing");
  std::ofstream(options_.dir + "/.processing/T_x.mp4") << "video";
  std::ofstream(options_.dir + "/.processing/T_x.mp4.json") << "garbage";
  auto w = NewWatcher();
  EXPECT_TRUE(Files(".processing").empty());
  EXPECT_EQ(Files(".failed"), (std::vector<std::string>{"T_x.mp4", "T_x.mp4.error.json"}));
  EXPECT_NE(ReadJson(".failed/T_x.mp4.error.json")["error"].get<std::string>().find("unreadable intent"),
            std::string::npos);
}

TEST_F(FolderWatcherTest, AFileGoneFromProcessingWithoutAJobIsDropped) {
  gateway_.submit_error = Status::Unavailable("queue down");
  {
    auto w = NewWatcher();
    Put("filter/x.mp4");
    w->Scan("", {});
    Run(w.get(), 6);
  }
  for (const std::string& f : Files(".processing")) {
    if (f.find(".json") == std::string::npos) fs::remove(options_.dir + "/.processing/" + f);
  }
  gateway_.submit_error = Status::Ok();
  auto w = NewWatcher();
  Run(w.get(), 4);
  EXPECT_TRUE(Files(".processing").empty()) << log_;
  EXPECT_TRUE(gateway_.jobs.empty());
  EXPECT_FALSE(w->busy());
}

}  // namespace
}  // namespace sopilot::watch
