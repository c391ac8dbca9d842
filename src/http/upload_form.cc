#include "http/upload_form.h"

#include <unistd.h>

#include <filesystem>
#include <system_error>

namespace sopilot {

bool UploadForm::OnPart(const std::string& name, const std::string& filename) {
  current_ = name;
  in_file_ = name == "file";
  if (!in_file_) return true;
  if (saw_file_) return false;  // one file per upload
  saw_file_ = true;
  file_name_ = filename;
  if (!sink_->Open()) {
    write_failed_ = true;
    return false;
  }
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
    if (!sink_->Write(std::string_view(data, len))) {
      write_failed_ = true;
      return false;
    }
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

UploadForm::Verdict UploadForm::Finish(bool read_ok, bool stored_ok) const {
  if (too_large_) {
    return {413, "upload too large: more than " + std::to_string(max_file_bytes_) + " bytes (SOPILOT_UPLOAD_MAX_MB)"};
  }
  if (write_failed_ || !stored_ok) return {507, "cannot store the upload (disk full?)"};
  if (field_too_large_) {
    return {400, "form field '" + current_ + "' is longer than " + std::to_string(kMaxFieldBytes) + " bytes"};
  }
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
  if (out_ != nullptr) std::fclose(out_);
}

bool FileUploadSink::Open() {
  out_ = std::fopen(path_.c_str(), "wb");
  return out_ != nullptr;
}

bool FileUploadSink::Write(std::string_view data) {
  sha_.Update(data);
  return out_ != nullptr && std::fwrite(data.data(), 1, data.size(), out_) == data.size();
}

void FileUploadSink::Drop() {
  if (out_ != nullptr) {
    std::fclose(out_);
    out_ = nullptr;
  }
  Remove();
}

bool FileUploadSink::Close() {
  if (out_ == nullptr) return true;
  bool ok = std::fflush(out_) == 0 && fsync(fileno(out_)) == 0;
  std::fclose(out_);
  out_ = nullptr;
  return ok;
}

void FileUploadSink::Remove() {
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

}  // namespace sopilot
