// UploadForm: the fields of a multipart upload (POST /videos, POST /gold) as
// MultipartParser (http/multipart_parser.h) hands them over while the body
// streams in.
// The 'file' part streams to an UploadSink (one file per upload, at most
// `max_file_bytes`); every other field is kept in memory, 4096 bytes at most
// each and kMaxFields of them.
// Once the body is read, Finish() gives the answer the client gets for a
// refused upload (413, 507, 400 and why), and Request() the upload's fields.
//
// Nothing here touches the network; FileUploadSink is the server's sink (to
// disk, hashed on the way), and the fuzzer and tests give it memory.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "base/digest.h"
#include "base/env.h"
#include "base/status.h"
#include "service/sopilot_service.h"

namespace sopilot {

class UploadSink {
 public:
  virtual ~UploadSink() = default;
  // The file part starts; an error when it cannot be stored.
  virtual Status Open() = 0;
  // An error when the bytes cannot be stored (NoSpace for a full disk).
  virtual Status Write(std::string_view data) = 0;
  // The upload is refused (past its limit, or a write failed): what was
  // written is thrown away now, giving the space back (the rest of the body
  // is still read, and dropped, so the client hears 413 or 507).
  virtual void Drop() = 0;
};

class UploadForm {
 public:
  static constexpr size_t kMaxFieldBytes = 4096;
  static constexpr size_t kMaxFields = 32;

  UploadForm(int64_t max_file_bytes, UploadSink* sink) : max_file_bytes_(max_file_bytes), sink_(sink) {}

  // MultipartParser's PartHandler (a part starts) and DataHandler (a part's
  // bytes). False stops the parse.
  bool OnPart(const std::string& name, const std::string& filename);
  bool OnData(const char* data, size_t len);

  struct Verdict {
    int http_status = 200;  // 200: accepted; otherwise the error to answer
    std::string message;
    bool ok() const { return http_status == 200; }
  };
  // `read_ok`: the whole body was read and parsed; `stored`: whether the sink
  // kept the file (flushed and synced). A full disk is 507, another storage
  // error 500.
  Verdict Finish(bool read_ok, const Status& stored) const;

  // The upload's fields; a non-empty `forced_role` (POST /gold) replaces the
  // form's role, which defaults to trainee.
  UploadRequest Request(const std::string& forced_role) const;
  int64_t file_bytes() const { return total_; }

 private:
  const int64_t max_file_bytes_;
  UploadSink* const sink_;
  std::map<std::string, std::string> fields_;
  std::string current_, file_name_;
  bool in_file_ = false, saw_file_ = false, too_large_ = false, field_too_large_ = false,
       too_many_fields_ = false, repeated_field_ = false;
  Status store_status_;  // the sink's first error
  int64_t total_ = 0;
};

// The server's sink: the file at `path` written through `env` (so that a
// full disk is NoSpace) in 1 MiB writes, SHA-256 of the bytes on the way.
class FileUploadSink : public UploadSink {
 public:
  FileUploadSink(Env* env, std::string path) : env_(env), path_(std::move(path)) {}
  ~FileUploadSink() override;
  Status Open() override;
  Status Write(std::string_view data) override;
  void Drop() override;
  // Writes what is buffered, syncs and closes; OK when nothing was open.
  Status Close();
  // Removes the file (a refused upload).
  void Remove();
  std::string Sha256Hex() { return sha_.FinishHex(); }

 private:
  static constexpr size_t kWriteChunk = 1 << 20;
  Env* const env_;
  const std::string path_;
  std::unique_ptr<WritableFile> out_;
  std::string pending_;
  Sha256Stream sha_;
};

}  // namespace sopilot
