#include "base/text.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/json_text.h"

namespace sopilot {
namespace {

TEST(TextTest, Utf8Validity) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));  // é € 😀
  EXPECT_FALSE(IsValidUtf8("bad\xFF"));
  EXPECT_FALSE(IsValidUtf8("caf\xE9.mp4"));          // Latin-1 é
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));             // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));         // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));         // a surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));     // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));             // truncated
  EXPECT_FALSE(IsValidUtf8("\x80"));                 // a lone continuation
}

TEST(TextTest, PrintableEscapesBadBytesAndControls) {
  EXPECT_EQ(Printable("caf\xE9.mp4"), "caf\\xE9.mp4");
  EXPECT_EQ(Printable("a\nb\x7f"), "a\\x0Ab\\x7F");
  EXPECT_EQ(Printable("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(Printable("\xC2\x85"), "\\xC2\\x85");  // C1 control NEL
  EXPECT_TRUE(IsValidUtf8(Printable("\xFF\xFE\xE2\x82")));
}

TEST(TextTest, CheckTextFieldNamesTheFieldAndTheProblem) {
  EXPECT_TRUE(CheckTextField("task_id", "assembly-7 caf\xC3\xA9", 200).ok());
  Status bad = CheckTextField("task_id", "bad\xFF", 200);
  EXPECT_EQ(bad.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(bad.message(), "task_id is not valid UTF-8 ('bad\\xFF')");
  EXPECT_TRUE(IsValidUtf8(bad.message()));
  Status control = CheckTextField("site_id", "a\tb", 200);
  EXPECT_EQ(control.message(), "site_id contains a control character ('a\\x09b')");
  Status long_one = CheckTextField("camera_id", std::string(201, 'x'), 200);
  EXPECT_EQ(long_one.message(), "camera_id is longer than 200 bytes");
}

TEST(TextTest, JsonTextReplacesWhatDumpWouldThrowOn) {
  nlohmann::json j = {{"task_id", "bad\xFF"}};
  EXPECT_THROW((void)j.dump(), nlohmann::json::type_error);
  EXPECT_EQ(JsonText(j), "{\"task_id\":\"bad\xEF\xBF\xBD\"}");
  EXPECT_EQ(JsonText(j, -1, true), "{\"task_id\":\"bad\\ufffd\"}");
  nlohmann::ordered_json o = {{"b", 1}, {"a", "x"}};
  EXPECT_EQ(JsonText(o, 2), "{\n  \"b\": 1,\n  \"a\": \"x\"\n}");
}

}  // namespace
}  // namespace sopilot
