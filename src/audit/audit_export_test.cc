// Canonical JSON and audit export signatures. Every expected canonical string
// below was produced by CPython 3's json module:
//   json.dumps(obj, ensure_ascii=True, sort_keys=True, separators=(",", ":"))
#include "audit/audit_export.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "base/digest.h"

namespace sopilot {
namespace {

using nlohmann::json;
using namespace std::string_literals;

TEST(CanonicalJsonTest, Scalars) {
  EXPECT_EQ(CanonicalJson(nullptr), "null");
  EXPECT_EQ(CanonicalJson(true), "true");
  EXPECT_EQ(CanonicalJson(false), "false");
  EXPECT_EQ(CanonicalJson(json::array({0, -1, INT64_MAX, INT64_MIN, UINT64_MAX})),
            "[0,-1,9223372036854775807,-9223372036854775808,18446744073709551615]");
  EXPECT_EQ(CanonicalJson(json::array()), "[]");
  EXPECT_EQ(CanonicalJson(json::object()), "{}");
}

TEST(CanonicalJsonTest, StringEscapes) {
  EXPECT_EQ(CanonicalJson("a\"b\\c\nd\re\tf\bg\fh\0i\x1fj\x7fk/l"s),
            R"("a\"b\\c\nd\re\tf\bg\fh\u0000i\u001fj\u007fk/l")");
}

TEST(CanonicalJsonTest, NonAsciiAsLowerCaseEscapesWithSurrogatePairs) {
  // "héllo € 😀 \u2028 \uffff"
  EXPECT_EQ(CanonicalJson("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80 \xe2\x80\xa8 \xef\xbf\xbf"),
            R"("h\u00e9llo \u20ac \ud83d\ude00 \u2028 \uffff")");
}

TEST(CanonicalJsonTest, InvalidUtf8BecomesReplacementCharacter) {
  // A Python str cannot hold these bytes; U+FFFD per bad byte is our choice.
  EXPECT_EQ(CanonicalJson("a\xff" "b\xc3"), R"("a\ufffdb\ufffd")");
  EXPECT_EQ(CanonicalJson("\xc0\xaf"), R"("\ufffd\ufffd")");      // overlong '/'
  EXPECT_EQ(CanonicalJson("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");  // UTF-8 encoded surrogate
}

TEST(CanonicalJsonTest, KeysSortedByCodePointAndNested) {
  json v = {{"z", 1},
            {"a", {{"y", {1, 2.5, nullptr, true, false}}, {"b", "x"}}},
            {"\xc3\xa9", 1},           // é
            {"\xe2\x82\xac", 2},       // €
            {"\xf0\x9f\x98\x80", 3},   // 😀, above the BMP: after U+FF61
            {"\xef\xbd\xa1", 4},       // U+FF61
            {"Z", 5},
            {"", 6}};
  EXPECT_EQ(CanonicalJson(v),
            R"({"":6,"Z":5,"a":{"b":"x","y":[1,2.5,null,true,false]},"z":1,"\u00e9":1,"\u20ac":2,"\uff61":4,"\ud83d\ude00":3})");
}

TEST(CanonicalJsonTest, FloatsAsPythonRepr) {
  struct Case {
    double value;
    const char* python;
  };
  const Case cases[] = {
      {0.1, "0.1"},
      {1.0, "1.0"},
      {1e-05, "1e-05"},
      {0.0001, "0.0001"},
      {123456789012345680.0, "1.2345678901234568e+17"},
      {1e16, "1e+16"},
      {1e15, "1000000000000000.0"},
      {9999999999999998.0, "9999999999999998.0"},
      {-0.0, "-0.0"},
      {0.0, "0.0"},
      {1.5e300, "1.5e+300"},
      {5e-324, "5e-324"},
      {2.2250738585072014e-308, "2.2250738585072014e-308"},
      {1.0 / 3.0, "0.3333333333333333"},
      {100.0, "100.0"},
      {123.456, "123.456"},
      {-2.5e-7, "-2.5e-07"},
      {1e22, "1e+22"},
      {12345678.9, "12345678.9"},
      {87.5, "87.5"},
      {std::numeric_limits<double>::quiet_NaN(), "NaN"},
      {std::numeric_limits<double>::infinity(), "Infinity"},
      {-std::numeric_limits<double>::infinity(), "-Infinity"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(CanonicalJson(json(c.value)), c.python) << c.python;
  }
}

TEST(CanonicalJsonTest, ParsedNumbersKeepTheirKind) {
  // Python's json.loads keeps "3.0" a float and "3" an int, as nlohmann does.
  EXPECT_EQ(CanonicalJson(json::parse(R"([3.0, 3, 1e2, -7, 0.10])")), "[3.0,3,100.0,-7,0.1]");
}

// Written by the Python original's algorithm (audit_service.py, §12):
// json.dumps(doc, ensure_ascii=True, indent=2) with key "s3cret-key".
constexpr const char* kPythonExport = R"({
  "generated_at": "2026-02-08T09:46:02+00:00",
  "limit": 20,
  "item_count": 2,
  "items": [
    {
      "job_id": "6f1c2a7e-0b5e-4c1d-9a55-1f3b2c4d5e6f",
      "job_type": "score",
      "status": "completed",
      "requested_by": "token:admin",
      "subject": "1->42",
      "task_id": null,
      "score": 87.5,
      "created_at": "2026-02-08T09:45:59+00:00",
      "note": "caf\u00e9 \u2713 \ud83d\ude00 \"q\" \\ \n\u007f"
    },
    {
      "job_id": "a",
      "job_type": "ingest",
      "status": "failed",
      "requested_by": "basic:alice",
      "subject": "gold.mp4",
      "task_id": "t\u00f6",
      "score": 1e-05,
      "created_at": "2026-02-08T09:46:01+00:00",
      "ratio": 0.1,
      "big": 1.2345678901234568e+17,
      "whole": 3.0,
      "n": -7
    }
  ],
  "signature": {
    "algorithm": "hmac-sha256",
    "key_id": "local",
    "payload_sha256": "9afbb00acc9a2a73c25064453d20c106b0b4c6a685123679ee265896e514db08",
    "signature_hex": "b5b00586bdf59bc32ea6b0256fdc3b3dd62a005dd4f5d9cd3e75074ed15ade50"
  }
})";

// CanonicalJson of kPythonExport without "signature", from CPython.
constexpr const char* kPythonCanonical =
    R"({"generated_at":"2026-02-08T09:46:02+00:00","item_count":2,"items":[{"created_at":"2026-02-08T09:45:59+00:00",)"
    R"("job_id":"6f1c2a7e-0b5e-4c1d-9a55-1f3b2c4d5e6f","job_type":"score","note":"caf\u00e9 \u2713 \ud83d\ude00 \"q\" \\ \n\u007f",)"
    R"("requested_by":"token:admin","score":87.5,"status":"completed","subject":"1->42","task_id":null},)"
    R"({"big":1.2345678901234568e+17,"created_at":"2026-02-08T09:46:01+00:00","job_id":"a","job_type":"ingest","n":-7,)"
    R"("ratio":0.1,"requested_by":"basic:alice","score":1e-05,"status":"failed","subject":"gold.mp4","task_id":"t\u00f6",)"
    R"("whole":3.0}],"limit":20})";

TEST(AuditExportTest, PythonSignedExportVerifies) {
  json doc = json::parse(kPythonExport);
  doc.erase("signature");
  EXPECT_EQ(CanonicalJson(doc), kPythonCanonical);

  Result<AuditVerification> v = VerifyAuditExport(kPythonExport, "s3cret-key");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->algorithm, "hmac-sha256");
  EXPECT_EQ(v->key_id, "local");
  EXPECT_TRUE(v->payload_sha256_match);
  EXPECT_TRUE(v->signature_match);
  EXPECT_TRUE(v->verified());
  EXPECT_FALSE(v->key_id_signed) << "the original does not sign its key_id";

  // Signing the same payload here gives the original's algorithm over the
  // payload plus signed_key_id (which the original's verifier takes as part
  // of the payload, so it verifies our exports too).
  json signed_here = SignAuditExport(doc, "s3cret-key", "local");
  json expected_payload = doc;
  expected_payload["signed_key_id"] = "local";
  const std::string canonical = CanonicalJson(expected_payload);
  EXPECT_EQ(signed_here["signature"]["signature_hex"], HmacSha256Hex("s3cret-key", canonical));
  EXPECT_EQ(signed_here["signature"]["payload_sha256"], Sha256Hex(canonical));
  EXPECT_EQ(signed_here["signature"]["key_id"], "local");
}

json SamplePayload() {
  return {{"generated_at", "2026-02-08T09:46:02+00:00"},
          {"limit", 20},
          {"item_count", 2},
          {"items",
           {{{"job_id", "j1"}, {"score", 87.5}, {"subject", "1->42"}, {"task_id", nullptr}},
            {{"job_id", "j2"}, {"score", 1e-05}, {"subject", "gold \xe2\x9c\x93.mp4"}, {"task_id", "t"}}}}};
}

TEST(AuditExportTest, SignThenVerify) {
  json signed_doc = SignAuditExport(SamplePayload(), "key", "k1");
  const json& sig = signed_doc["signature"];
  EXPECT_EQ(sig["algorithm"], "hmac-sha256");
  EXPECT_EQ(sig["key_id"], "k1");
  EXPECT_EQ(signed_doc["signed_key_id"], "k1");
  json payload = SamplePayload();
  payload["signed_key_id"] = "k1";
  std::string canonical = CanonicalJson(payload);
  EXPECT_EQ(sig["payload_sha256"], Sha256Hex(canonical));
  EXPECT_EQ(sig["signature_hex"], HmacSha256Hex("key", canonical));

  for (int indent : {-1, 2}) {
    Result<AuditVerification> v = VerifyAuditExport(signed_doc.dump(indent, ' ', true), "key");
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_TRUE(v->verified());
    EXPECT_EQ(v->key_id, "k1");
    EXPECT_TRUE(v->key_id_signed);
  }
}

// The original signed the payload only: its key_id could be swapped freely.
// Ours signs it inside the payload, so a swapped key_id does not verify.
TEST(AuditExportTest, SwappedKeyIdDoesNotVerify) {
  json doc = SignAuditExport(SamplePayload(), "key", "k1");
  doc["signature"]["key_id"] = "k2";
  Result<AuditVerification> v = VerifyAuditExport(doc.dump(), "key");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->payload_sha256_match);
  EXPECT_TRUE(v->signature_match);
  EXPECT_FALSE(v->key_id_match);
  EXPECT_FALSE(v->verified());
  doc["signature"].erase("key_id");
  EXPECT_FALSE(VerifyAuditExport(doc.dump(), "key")->verified());
}

// A repeated key: the signed value and another one side by side. JSON
// readers differ in which they keep, so the file is refused, not verified.
TEST(AuditExportTest, RepeatedKeyIsRefused) {
  json doc = SignAuditExport(SamplePayload(), "key", "k1");
  std::string text = doc.dump();
  const std::string item_count = "\"item_count\":";
  size_t at = text.find(item_count);
  ASSERT_NE(at, std::string::npos) << text;
  std::string forged = text.substr(0, at) + item_count + "999," + text.substr(at);
  Result<AuditVerification> v = VerifyAuditExport(forged, "key");
  ASSERT_FALSE(v.ok()) << forged;
  EXPECT_EQ(v.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(v.status().message().find("repeats the key \"item_count\""), std::string::npos) << v.status().ToString();
  // The same key name in two different objects is fine.
  EXPECT_TRUE(VerifyAuditExport(text, "key")->verified());
}

TEST(AuditExportTest, ResigningReplacesAnOldSignature) {
  json once = SignAuditExport(SamplePayload(), "key", "k1");
  json twice = SignAuditExport(once, "key", "k1");
  EXPECT_EQ(once, twice);
}

TEST(AuditExportTest, TamperedItemFailsTheDigestAndTheSignature) {
  json doc = SignAuditExport(SamplePayload(), "key", "k1");
  doc["items"][1]["score"] = 1e-04;
  Result<AuditVerification> v = VerifyAuditExport(doc.dump(2), "key");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_FALSE(v->payload_sha256_match);
  EXPECT_FALSE(v->signature_match);
  EXPECT_FALSE(v->verified());
}

TEST(AuditExportTest, ForgedDigestStillFailsTheSignature) {
  json doc = SignAuditExport(SamplePayload(), "key", "k1");
  doc["items"][0]["subject"] = "1->43";
  json unsigned_doc = doc;
  unsigned_doc.erase("signature");
  doc["signature"]["payload_sha256"] = Sha256Hex(CanonicalJson(unsigned_doc));
  Result<AuditVerification> v = VerifyAuditExport(doc.dump(), "key");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->payload_sha256_match);
  EXPECT_FALSE(v->signature_match);
  EXPECT_FALSE(v->verified());
}

TEST(AuditExportTest, WrongKeyFailsOnlyTheSignature) {
  json doc = SignAuditExport(SamplePayload(), "key", "k1");
  Result<AuditVerification> v = VerifyAuditExport(doc.dump(), "other-key");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->payload_sha256_match);
  EXPECT_FALSE(v->signature_match);
  EXPECT_FALSE(v->verified());
}

TEST(AuditExportTest, UnknownAlgorithmDoesNotVerify) {
  json doc = SignAuditExport(SamplePayload(), "key", "k1");
  doc["signature"]["algorithm"] = "none";
  Result<AuditVerification> v = VerifyAuditExport(doc.dump(), "key");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->algorithm, "none");
  EXPECT_FALSE(v->signature_match);
}

TEST(AuditExportTest, BadSignatureFieldsDoNotVerify) {
  json doc = SignAuditExport(SamplePayload(), "key", "k1");
  doc["signature"]["signature_hex"] = 42;
  doc["signature"].erase("payload_sha256");
  Result<AuditVerification> v = VerifyAuditExport(doc.dump(), "key");
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->payload_sha256_match);
  EXPECT_FALSE(v->signature_match);
}

TEST(AuditExportTest, MissingSignatureOrNotJsonIsAnError) {
  Result<AuditVerification> v = VerifyAuditExport(SamplePayload().dump(), "key");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(v.status().message().find("no signature"), std::string::npos);

  json doc = SamplePayload();
  doc["signature"] = "abc";
  EXPECT_FALSE(VerifyAuditExport(doc.dump(), "key").ok());

  v = VerifyAuditExport("{\"items\": [", "key");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("not JSON"), std::string::npos);
  EXPECT_FALSE(VerifyAuditExport("", "key").ok());
  EXPECT_FALSE(VerifyAuditExport("[1, 2]", "key").ok());
  EXPECT_FALSE(VerifyAuditExport(std::string(100000, '[') + std::string(100000, ']'), "key").ok());
}

}  // namespace
}  // namespace sopilot
