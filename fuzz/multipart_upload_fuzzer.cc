// A multipart upload as the server receives it once the headers are in: the
// boundary from the Content-Type (MultipartBoundary), the body through our
// streaming MultipartParser (http/multipart_parser.h) in pieces, into
// UploadForm (http/upload_form.h) with a sink in memory, as ApiServer's
// upload handler does.
//
// Input: byte 0 sets the size of the pieces the body arrives in (0: the
// whole body at once; else 1..255 bytes, so that boundaries and part headers
// are split across pieces), then the Content-Type header's value up to the
// first '\n', then the body. The seed corpus of the cpp-httplib harness this
// replaced has the same layout.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/multipart_parser.h"
#include "http/upload_form.h"

namespace {

class MemorySink : public sopilot::UploadSink {
 public:
  sopilot::Status Open() override {
    open_ = true;
    return sopilot::Status::Ok();
  }
  sopilot::Status Write(std::string_view data) override {
    if (!open_) __builtin_trap();  // bytes of the file before its part began
    bytes_ += data.size();
    return sopilot::Status::Ok();
  }
  void Drop() override { open_ = false; }
  size_t bytes() const { return bytes_; }

 private:
  bool open_ = false;
  size_t bytes_ = 0;
};

constexpr int64_t kMaxFileBytes = 64 << 10;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t nl = in.find('\n');
  if (nl == std::string_view::npos) return 0;
  std::string_view content_type = in.substr(0, nl);
  std::string_view body = in.substr(nl + 1);
  auto boundary = sopilot::MultipartBoundary(content_type);
  if (!boundary.ok()) return 0;
  if (boundary->empty() || boundary->size() > 70) __builtin_trap();

  MemorySink sink;
  sopilot::UploadForm form(kMaxFileBytes, &sink);
  size_t delivered = 0;
  sopilot::MultipartParser parser(
      *boundary, [&](const std::string& name, const std::string& filename) { return form.OnPart(name, filename); },
      [&](const char* bytes, size_t len) {
        if (len == 0) __builtin_trap();  // the parser never hands over nothing
        delivered += len;
        return form.OnData(bytes, len);
      });
  const size_t piece = data[0] == 0 ? body.size() + 1 : data[0];
  bool fed = true;
  for (size_t at = 0; at < body.size() && fed; at += piece) fed = parser.Feed(body.substr(at, piece));
  if (parser.complete() && !parser.error().empty()) __builtin_trap();
  if (!fed && parser.error().empty()) __builtin_trap();  // a stop always says why
  if (delivered > body.size()) __builtin_trap();        // never more part bytes than the body has

  sopilot::UploadForm::Verdict v = form.Finish(fed && parser.complete(), sopilot::Status::Ok());
  if (v.ok()) {
    sopilot::UploadRequest u = form.Request("");
    if (form.file_bytes() <= 0 || form.file_bytes() > kMaxFileBytes) __builtin_trap();
    if (static_cast<size_t>(form.file_bytes()) != sink.bytes()) __builtin_trap();
    if (u.task_id.size() > sopilot::UploadForm::kMaxFieldBytes) __builtin_trap();
  }
  return 0;
}
