#include "http/upload_form.h"

#include <gtest/gtest.h>

#include <string>

namespace sopilot {
namespace {

class MemorySink : public UploadSink {
 public:
  bool Open() override {
    ++opens;
    return open_ok;
  }
  bool Write(std::string_view data) override {
    bytes.append(data);
    return write_ok;
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
  EXPECT_TRUE(form.Finish(true, true).ok());
  EXPECT_EQ(sink.bytes, "abcdef");
  EXPECT_EQ(form.file_bytes(), 6);
  UploadRequest u = form.Request("");
  EXPECT_EQ(u.task_id, "task-a");
  EXPECT_EQ(u.role, "trainee");
  EXPECT_EQ(u.site_id, "s1");
  EXPECT_EQ(u.file_name, "gold.mp4");
  EXPECT_EQ(form.Request("gold").role, "gold");
}

TEST(UploadFormTest, RefusesWhatTheServerRefuses) {
  {
    MemorySink sink;
    UploadForm form(100, &sink);
    EXPECT_TRUE(form.OnPart("file", "a"));
    EXPECT_TRUE(form.OnData("x", 1));
    EXPECT_FALSE(form.OnPart("file", "b")) << "one file per upload";
    EXPECT_EQ(form.Finish(false, true).http_status, 400);
  }
  {
    MemorySink sink;
    UploadForm form(4, &sink);
    EXPECT_TRUE(form.OnPart("file", "a"));
    EXPECT_TRUE(form.OnData("abc", 3));
    EXPECT_TRUE(form.OnData("de", 2)) << "the rest is read and dropped";
    EXPECT_TRUE(sink.dropped);
    EXPECT_TRUE(form.OnData("fgh", 3));
    EXPECT_EQ(form.Finish(true, true).http_status, 413);
  }
  {
    MemorySink sink;
    UploadForm form(100, &sink);
    EXPECT_TRUE(form.OnPart("task_id", ""));
    std::string big(UploadForm::kMaxFieldBytes, 'x');
    EXPECT_TRUE(form.OnData(big.data(), big.size()));
    EXPECT_FALSE(form.OnData("y", 1));
    UploadForm::Verdict v = form.Finish(false, true);
    EXPECT_EQ(v.http_status, 400);
    EXPECT_NE(v.message.find("'task_id' is longer than 4096 bytes"), std::string::npos) << v.message;
  }
  {
    MemorySink sink;
    sink.open_ok = false;
    UploadForm form(100, &sink);
    EXPECT_FALSE(form.OnPart("file", "a"));
    EXPECT_EQ(form.Finish(false, true).http_status, 507);
  }
  {
    MemorySink sink;
    UploadForm form(100, &sink);
    EXPECT_TRUE(form.OnPart("file", "a"));
    EXPECT_TRUE(form.OnData("x", 1));
    EXPECT_EQ(form.Finish(true, false).http_status, 507) << "not synced to disk";
  }
  {
    MemorySink sink;
    UploadForm form(100, &sink);
    EXPECT_TRUE(form.OnPart("task_id", ""));
    EXPECT_EQ(form.Finish(true, true).message, "file is required (a multipart field named 'file')");
    EXPECT_TRUE(form.OnPart("file", "a"));
    EXPECT_EQ(form.Finish(true, true).message, "empty upload");
  }
}

}  // namespace
}  // namespace sopilot
