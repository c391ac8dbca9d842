#include "http/upload_form.h"

#include <unistd.h>

#include <filesystem>
#include <system_error>

namespace sopilot {

bool UploadForm::OnPart(const std::string& name, const std::string& filename) {
  current_ = name;
  in_file_ = name == "file";
  if (!in_file_) {
    if (fields_.count(name) == 0 && fields_.size() >= kMaxFields) {
      too_many_fields_ = true;
      return false;
    }
    // A field given twice would be joined ("ab" + "cd" = "abcd"): refused.
    if (!fields_.emplace(name, std::string()).second) {
      repeated_field_ = true;
      return false;
    }
    return true;
  }
  if (saw_file_) return false;  // one file per upload
  saw_file_ = true;
  file_name_ = filename;
  // A file that cannot be opened is answered like a failed write: the body
  // is read and dropped so that the client hears why.
  store_status_ = sink_->Open();
  return true;
}

bool UploadForm::OnData(const char* data, size_t len) {
  if (in_file_) {
    total_ += static_cast<int64_t>(len);
    if (total_ > max_file_bytes_) {
      // Keep reading (and dropping) the rest, bounded by the server's
      // payload limit, so the client gets its 413 instead of a reset
      // connection.
      if (!too_large_) sink_->Drop();
      too_large_ = true;
      return true;
    }
    if (!store_status_.ok()) return true;  // dropped: the answer is 507 or 500
    store_status_ = sink_->Write(std::string_view(data, len));
    if (!store_status_.ok()) sink_->Drop();  // give the space back now, not after the body
    return true;
  }
  std::string& f = fields_[current_];
  if (f.size() + len > kMaxFieldBytes) {
    field_too_large_ = true;
    return false;
  }
  f.append(data, len);
  return true;
}

UploadForm::Verdict UploadForm::Finish(bool read_ok, const Status& stored) const {
  if (too_large_) {
    return {413, "upload too large: more than " + std::to_string(max_file_bytes_) + " bytes (SOPILOT_UPLOAD_MAX_MB)"};
  }
  const Status& store = store_status_.ok() ? stored : store_status_;
  if (store.code() == Status::Code::kNoSpace) {
    return {507, "not enough disk space to store the upload: nothing was stored; free space on the data volume and "
                 "upload again"};
  }
  if (!store.ok()) return {500, "cannot store the upload: " + store.message()};
  if (repeated_field_) return {400, "form field '" + current_ + "' is given more than once"};
  if (field_too_large_) {
    return {400, "form field '" + current_ + "' is longer than " + std::to_string(kMaxFieldBytes) + " bytes"};
  }
  if (too_many_fields_) return {400, "more than " + std::to_string(kMaxFields) + " form fields"};
  if (!read_ok) return {400, "the upload was cut off or malformed"};
  if (!saw_file_) return {400, "file is required (a multipart field named 'file')"};
  if (total_ == 0) return {400, "empty upload"};
  return {};
}

UploadRequest UploadForm::Request(const std::string& forced_role) const {
  auto field = [this](const char* name, const char* fallback) {
    auto it = fields_.find(name);
    return it == fields_.end() ? std::string(fallback) : it->second;
  };
  UploadRequest u;
  u.task_id = field("task_id", "");
  u.role = forced_role.empty() ? field("role", "trainee") : forced_role;
  u.site_id = field("site_id", "");
  u.camera_id = field("camera_id", "");
  u.operator_id_hash = field("operator_id_hash", "");
  u.file_name = file_name_;
  return u;
}

FileUploadSink::~FileUploadSink() {
  // An upload abandoned half-way (an exception, a dropped request) leaves
  // no file behind; an accepted one was closed and handed to the service.
  if (out_) {
    out_.reset();
    Remove();
  }
}

Status FileUploadSink::Open() {
  auto file = env_->NewWritableFile(path_);
  if (!file.ok()) return file.status();
  out_ = std::move(*file);
  return Status::Ok();
}

Status FileUploadSink::Write(std::string_view data) {
  if (!out_) return Status::IOError(path_ + ": not open");
  sha_.Update(data);
  pending_.append(data);
  if (pending_.size() < kWriteChunk) return Status::Ok();
  Status st = out_->Append(pending_);
  pending_.clear();
  return st;
}

void FileUploadSink::Drop() {
  out_.reset();
  pending_.clear();
  Remove();
}

Status FileUploadSink::Close() {
  if (!out_) return Status::Ok();
  Status st = pending_.empty() ? Status::Ok() : out_->Append(pending_);
  pending_.clear();
  if (st.ok()) st = out_->Sync();
  Status closed = out_->Close();
  if (st.ok()) st = closed;
  out_.reset();
  return st;
}

void FileUploadSink::Remove() {
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

}  // namespace sopilot
