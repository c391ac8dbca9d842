// `sopilot audit verify`, driven as a user would on an export signed by the
// library.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "audit/audit_export.h"
#include "base/env.h"
#include "testing/command.h"
#include "testing/temp_dir.h"

namespace sopilot {
namespace {

using testing::CommandResult;
using testing::ShellQuote;

// The key is never inherited from the test's own environment.
CommandResult Sopilot(const std::string& env, const std::string& args) {
  return testing::RunCommand("env -u SOPILOT_AUDIT_SIGNING_KEY " + env + " " + std::string(SOPILOT_BIN) + " " + args);
}

class AuditCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nlohmann::json payload = {
        {"generated_at", "2026-02-08T09:46:02+00:00"},
        {"limit", 20},
        {"item_count", 2},
        {"items",
         {{{"job_id", "job-1"}, {"score", 87.5}, {"requested_by", "token:admin"}, {"task_id", nullptr}},
          {{"job_id", "job-2"}, {"score", 1e-05}, {"requested_by", "basic:alice"}, {"task_id", "caf\xc3\xa9"}}}}};
    text_ = SignAuditExport(payload, "s3cret", "k1").dump(2, ' ', true);
    file_ = dir_.file("audit_export_20260208T094602Z.json");
    ASSERT_TRUE(WriteFileAtomically(Env::Default(), file_, text_).ok());
  }
  testing::TempDir dir_;
  std::string text_, file_;
};

TEST_F(AuditCliTest, SignedExportVerifies) {
  CommandResult r = Sopilot("", "audit verify --key s3cret " + ShellQuote(file_));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j, nlohmann::json({{"file", file_},
                               {"algorithm", "hmac-sha256"},
                               {"key_id", "k1"},
                               {"payload_sha256_match", true},
                               {"signature_match", true},
                               {"key_id_signed", true},
                               {"key_id_match", true},
                               {"verified", true}}));
  // Fields come in the original's order.
  EXPECT_LT(r.out.find("\"file\""), r.out.find("\"algorithm\""));
  EXPECT_LT(r.out.find("\"signature_match\""), r.out.find("\"verified\""));

  // The key from the environment, stripped as the original strips it.
  r = Sopilot("SOPILOT_AUDIT_SIGNING_KEY=" + ShellQuote(" s3cret\n"), "audit verify " + ShellQuote(file_));
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(AuditCliTest, TamperedItemFails) {
  size_t at = text_.find("job-2");
  ASSERT_NE(at, std::string::npos);
  text_[at + 4] = '3';
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), file_, text_).ok());
  CommandResult r = Sopilot("SOPILOT_AUDIT_SIGNING_KEY=s3cret", "audit verify " + ShellQuote(file_));
  EXPECT_EQ(r.exit_code, 1);
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["payload_sha256_match"], false);
  EXPECT_EQ(j["signature_match"], false);
  EXPECT_EQ(j["verified"], false);
  EXPECT_EQ(r.err, "sopilot: error: audit export " + file_ +
                       " failed verification (payload_sha256 and signature mismatch)\n");
}

TEST_F(AuditCliTest, WrongKeyFails) {
  CommandResult r = Sopilot("SOPILOT_AUDIT_SIGNING_KEY=s3cret", "audit verify --key other " + ShellQuote(file_));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(nlohmann::json::parse(r.out)["payload_sha256_match"], true);
  EXPECT_NE(r.err.find("(signature mismatch)"), std::string::npos) << r.err;
}

TEST_F(AuditCliTest, UsageAndFileErrors) {
  CommandResult r = Sopilot("", "audit verify " + ShellQuote(file_));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("SOPILOT_AUDIT_SIGNING_KEY"), std::string::npos) << r.err;
  EXPECT_EQ(Sopilot("SOPILOT_AUDIT_SIGNING_KEY=' '", "audit verify " + ShellQuote(file_)).exit_code, 2);
  EXPECT_EQ(Sopilot("", "audit verify --key s3cret").exit_code, 2);
  EXPECT_EQ(Sopilot("", "audit").exit_code, 2);

  r = Sopilot("", "audit verify --key s3cret " + ShellQuote(dir_.file("missing.json")));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), dir_.file("bad.json"), "{\"items\": []}").ok());
  r = Sopilot("", "audit verify --key s3cret " + ShellQuote(dir_.file("bad.json")));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no signature"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace sopilot
