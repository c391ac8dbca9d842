#include "http/upload_form.h"

#include <gtest/gtest.h>

#include <string>

namespace sopilot {
namespace {

class MemorySink : public UploadSink {
 public:
  Status Open() override {
    ++opens;
    return open_ok ? Status::Ok() : Status::NoSpace("incoming/x: no space left on device");
  }
  Status Write(std::string_view data) override {
    bytes.append(data);
    return write_ok ? Status::Ok() : Status::IOError("incoming/x: input/output error");
  }
  void Drop() override {
    dropped = true;
    bytes.clear();
  }
  bool open_ok = true, write_ok = true, dropped = false;
  int opens = 0;
  std::string bytes;
};

TEST(UploadFormTest, KeepsFieldsAndStreamsTheFile) {
  MemorySink sink;
  UploadForm form(100, &sink);
  EXPECT_TRUE(form.OnPart("task_id", ""));
  EXPECT_TRUE(form.OnData("task-", 5));
  EXPECT_TRUE(form.OnData("a", 1));
  EXPECT_TRUE(form.OnPart("file", "gold.mp4"));
  EXPECT_TRUE(form.OnData("abc", 3));
  EXPECT_TRUE(form.OnData("def", 3));
  EXPECT_TRUE(form.OnPart("site_id", ""));
  EXPECT_TRUE(form.OnData("s1", 2));
  EXPECT_TRUE(form.Finish(true, Status::Ok()).ok());
  EXPECT_EQ(sink.bytes, "abcdef");
  EXPECT_EQ(form.file_bytes(), 6);
  UploadRequest u = form.Request("");
  EXPECT_EQ(u.task_id, "task-a");
  EXPECT_EQ(u.role, "trainee");
  EXPECT_EQ(u.site_id, "s1");
  EXPECT_EQ(u.file_name, "gold.mp4");
  EXPECT_EQ(form.Request("gold").role, "gold");
}

// A field given twice is refused, not joined: task_id=ab and task_id=cd once
// became the task "abcd".
TEST(UploadFormTest, ARepeatedFieldIsRefused) {
  MemorySink sink;
  UploadForm form(100, &sink);
  EXPECT_TRUE(form.OnPart("task_id", ""));
  EXPECT_TRUE(form.OnData("ab", 2));
  EXPECT_FALSE(form.OnPart("task_id", ""));
  UploadForm::Verdict v = form.Finish(false, Status::Ok());
  EXPECT_EQ(v.http_status, 400);
  EXPECT_EQ(v.message, "form field 'task_id' is given more than once");
}

TEST(UploadFormTest, RefusesWhatTheServerRefuses) {
  {
    MemorySink sink;
    UploadForm form(100, &sink);
    EXPECT_TRUE(form.OnPart("file", "a"));
    EXPECT_TRUE(form.OnData("x", 1));
    EXPECT_FALSE(form.OnPart("file", "b")) << "one file per upload";
    EXPECT_EQ(form.Finish(false, Status::Ok()).http_status, 400);
  }
  {
    MemorySink sink;
    UploadForm form(4, &sink);
    EXPECT_TRUE(form.OnPart("file", "a"));
    EXPECT_TRUE(form.OnData("abc", 3));
    EXPECT_TRUE(form.OnData("de", 2)) << "the rest is read and dropped";
    EXPECT_TRUE(sink.dropped);
    EXPECT_TRUE(form.OnData("fgh", 3));
    EXPECT_EQ(form.Finish(true, Status::Ok()).http_status, 413);
  }
  {
    MemorySink sink;
    UploadForm form(100, &sink);
    EXPECT_TRUE(form.OnPart("task_id", ""));
    std::string big(UploadForm::kMaxFieldBytes, 'x');
    EXPECT_TRUE(form.OnData(big.data(), big.size()));
    EXPECT_FALSE(form.OnData("y", 1));
    UploadForm::Verdict v = form.Finish(false, Status::Ok());
    EXPECT_EQ(v.http_status, 400);
    EXPECT_NE(v.message.find("'task_id' is longer than 4096 bytes"), std::string::npos) << v.message;
  }
  {
    MemorySink sink;
    sink.open_ok = false;
    UploadForm form(100, &sink);
    // Read on (and dropped) so that the client hears the answer.
    MemorySink failing;
    failing.write_ok = false;
    UploadForm write_fails(100, &failing);
    EXPECT_TRUE(write_fails.OnPart("file", "a"));
    EXPECT_TRUE(write_fails.OnData("x", 1));
    EXPECT_TRUE(failing.dropped) << "the space is given back at once";
    EXPECT_TRUE(write_fails.OnData("y", 1));
    EXPECT_EQ(failing.bytes, "") << "nothing written after the failure";
    EXPECT_EQ(write_fails.Finish(true, Status::Ok()).http_status, 500);
    EXPECT_TRUE(form.OnPart("file", "a"));
    EXPECT_TRUE(form.OnData("x", 1));
    EXPECT_EQ(form.Finish(true, Status::Ok()).http_status, 507);
  }
  {
    MemorySink sink;
    UploadForm form(100, &sink);
    EXPECT_TRUE(form.OnPart("file", "a"));
    EXPECT_TRUE(form.OnData("x", 1));
    EXPECT_EQ(form.Finish(true, Status::NoSpace("incoming/x: no space left on device")).http_status, 507)
        << "not synced to disk";
    EXPECT_EQ(form.Finish(true, Status::IOError("incoming/x: input/output error")).http_status, 500);
  }
  {
    MemorySink sink;
    UploadForm form(100, &sink);
    EXPECT_TRUE(form.OnPart("task_id", ""));
    EXPECT_EQ(form.Finish(true, Status::Ok()).message, "file is required (a multipart field named 'file')");
    EXPECT_TRUE(form.OnPart("file", "a"));
    EXPECT_EQ(form.Finish(true, Status::Ok()).message, "empty upload");
  }
}

}  // namespace
}  // namespace sopilot
