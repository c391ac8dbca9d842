// A multipart upload as the server receives it: cpp-httplib's request
// parser and its streaming multipart parser (through the ContentReader of a
// POST route, as ApiServer registers POST /videos), feeding our UploadForm
// (http/upload_form.h) with a sink in memory.
//
// Input: byte 0 caps each read of the in-memory socket (0: no cap; else
// 1..255 bytes, so that boundaries and headers are split across reads), then
// the Content-Type header's value up to the first '\n', then the body.
// httplib itself is the Debian build (libcpp-httplib.so, not instrumented):
// coverage guides through our handler only, but ASan and the harness's
// checks see what the parser hands over.
#include <httplib.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/upload_form.h"

namespace {

class MemoryStream : public httplib::Stream {
 public:
  MemoryStream(std::string_view in, size_t cap) : in_(in), cap_(cap) {}
  bool is_readable() const override { return true; }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override {
    size_t n = std::min(size, in_.size() - pos_);
    if (cap_ > 0) n = std::min(n, cap_);
    std::memcpy(ptr, in_.data() + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char*, size_t size) override { return static_cast<ssize_t>(size); }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 40000;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 8000;
  }
  socket_t socket() const override { return INVALID_SOCKET; }

 private:
  std::string_view in_;
  size_t cap_;
  size_t pos_ = 0;
};

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

 private:
  bool open_ = false;
  size_t bytes_ = 0;
};

constexpr int64_t kMaxFileBytes = 64 << 10;

// The server with the upload route; process_request is protected.
class UploadServer : public httplib::Server {
 public:
  UploadServer() {
    set_payload_max_length(static_cast<size_t>(kMaxFileBytes) + (64 << 10));
    Post("/videos", [](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
      if (!req.is_multipart_form_data()) {
        res.status = 400;
        return;
      }
      MemorySink sink;
      sopilot::UploadForm form(kMaxFileBytes, &sink);
      bool read_ok = reader([&](const httplib::MultipartFormData& part) { return form.OnPart(part.name, part.filename); },
                            [&](const char* data, size_t len) { return form.OnData(data, len); });
      sopilot::UploadForm::Verdict v = form.Finish(read_ok, sopilot::Status::Ok());
      if (v.ok()) {
        sopilot::UploadRequest u = form.Request("");
        if (form.file_bytes() <= 0 || form.file_bytes() > kMaxFileBytes) __builtin_trap();
        if (u.task_id.size() > sopilot::UploadForm::kMaxFieldBytes) __builtin_trap();
        res.status = 200;
      } else {
        res.status = v.http_status;
      }
    });
  }
  bool Handle(std::string_view request, size_t cap) {
    MemoryStream stream(request, cap);
    bool closed = false;
    return process_request(stream, true, closed, nullptr);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static UploadServer* server = new UploadServer();  // one for the process, as the service has
  if (size < 1) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t nl = in.find('\n');
  if (nl == std::string_view::npos) return 0;
  std::string content_type(in.substr(0, nl));
  for (char& c : content_type) {
    if (c == '\r' || c == '\0') c = ' ';
  }
  std::string_view body = in.substr(nl + 1);
  std::string request = "POST /videos HTTP/1.1\r\nHost: localhost\r\nContent-Type: " + content_type +
                        "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  request.append(body);
  (void)server->Handle(request, data[0]);
  return 0;
}
