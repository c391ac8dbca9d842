// `sopilot backup` of a running `sopilot serve` and `sopilot restore` into a
// fresh data directory, through the real binary: the restored service
// answers with what the first one had stored. (The backup of a store that is
// being written meanwhile is store/sqlite_backup_test.cc's.)
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "testing/command.h"
#include "testing/server_process.h"
#include "testing/temp_dir.h"

namespace sopilot {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

TEST(BackupCommandTest, BacksUpARunningServiceAndRestoresIntoAnotherDataDirectory) {
  testing::TempDir dir;
  testing::ServerProcess server(SOPILOT_BIN, {"serve", "--port", "0", "--data-dir", dir.file("data")}, {},
                                dir.file("log"));
  int port = server.Start();
  ASSERT_GT(port, 0) << server.Log();
  {
    httplib::Client c("127.0.0.1", port);
    auto put = c.Put("/tasks/press-fit/auto-score", R"({"enabled": true})", "application/json");
    ASSERT_TRUE(put);
    ASSERT_EQ(put->status, 200) << put->body;
  }
  const std::string out = dir.file("backup.sqlite");
  auto backup = testing::RunCommand(std::string(SOPILOT_BIN) + " backup --data-dir " +
                                    testing::ShellQuote(dir.file("data")) + " " + testing::ShellQuote(out));
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  EXPECT_NE(backup.out.find("quick_check ok"), std::string::npos) << backup.out;
  server.Kill(SIGTERM);
  EXPECT_EQ(server.Wait(), 0);

  const std::string restored_dir = dir.file("restored");
  fs::create_directories(restored_dir);
  auto restore = testing::RunCommand(std::string(SOPILOT_BIN) + " restore --data-dir " +
                                     testing::ShellQuote(restored_dir) + " " + testing::ShellQuote(out));
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  testing::ServerProcess again(SOPILOT_BIN, {"serve", "--port", "0", "--data-dir", restored_dir}, {},
                               dir.file("log2"));
  port = again.Start();
  ASSERT_GT(port, 0) << again.Log();
  httplib::Client c("127.0.0.1", port);
  auto got = c.Get("/tasks/press-fit/auto-score");
  ASSERT_TRUE(got);
  ASSERT_EQ(got->status, 200) << got->body;
  EXPECT_EQ(Json::parse(got->body)["enabled"], true) << got->body;
  again.Kill(SIGTERM);
  EXPECT_EQ(again.Wait(), 0);
}

TEST(BackupCommandTest, AMissingStoreIsAnErrorAndWritesNothing) {
  testing::TempDir dir;
  auto r = testing::RunCommand(std::string(SOPILOT_BIN) + " backup --data-dir " + testing::ShellQuote(dir.file("none")) +
                               " " + testing::ShellQuote(dir.file("b.sqlite")));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("sopilot: error: ", 0), 0u) << r.err;
  EXPECT_FALSE(fs::exists(dir.file("b.sqlite")));
}

}  // namespace
}  // namespace sopilot
