#include "watch/ingest_gateway.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "base/digest.h"

namespace sopilot::watch {

namespace {

Status OpenError(const std::string& path, int err) {
  std::string msg = path + ": cannot open: " + std::strerror(err);
  if (err == ENOENT) return Status::NotFound(msg);
  if (err == EACCES || err == EPERM || err == EISDIR || err == ELOOP) return Status::InvalidArgument(msg);
  return Status::IOError(msg);
}

}  // namespace

Result<std::string> CopyAndHash(const std::string& from, const std::string& to) {
  int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return OpenError(from, errno);
  int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) {
    int err = errno;
    ::close(in);
    return Status::IOError(to + ": cannot create: " + std::strerror(err));
  }
  Sha256Stream sha;
  std::vector<char> buf(1 << 20);
  Status st;
  for (;;) {
    ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      st = (errno == EISDIR ? Status::InvalidArgument(from + ": is a directory")
                            : Status::IOError(from + ": read failed: " + std::strerror(errno)));
      break;
    }
    if (n == 0) break;
    sha.Update(std::string_view(buf.data(), static_cast<size_t>(n)));
    for (ssize_t done = 0; done < n;) {
      ssize_t w = ::write(out, buf.data() + done, static_cast<size_t>(n - done));
      if (w < 0) {
        if (errno == EINTR) continue;
        st = Status::IOError(to + ": write failed: " + std::strerror(errno));
        break;
      }
      done += w;
    }
    if (!st.ok()) break;
  }
  if (st.ok() && ::fsync(out) != 0) st = Status::IOError(to + ": fsync failed: " + std::strerror(errno));
  ::close(in);
  if (::close(out) != 0 && st.ok()) st = Status::IOError(to + ": close failed: " + std::strerror(errno));
  if (!st.ok()) {
    std::error_code ec;
    std::filesystem::remove(to, ec);
    return st;
  }
  return sha.FinishHex();
}

Result<JobRow> ServiceIngestGateway::Submit(const std::string& path, const UploadRequest& request) {
  if (request.job_id.empty()) return Status::InvalidArgument("the watch folder submits with a job id");
  const std::string incoming = service_->blobs().Absolute("incoming/watch-" + request.job_id + ".part");
  SOPILOT_ASSIGN_OR_RETURN(std::string sha, CopyAndHash(path, incoming));
  auto job = service_->SubmitUpload(incoming, sha, request, "watcher:folder");
  if (!job.ok() && job.status().code() == Status::Code::kNotFound) {
    // Our copy left incoming/ before SubmitUpload took it: `sopilot serve`
    // starting up removes what it takes for half-received uploads.
    return Status::Unavailable("the copy in incoming/ was removed before it was submitted (" +
                               job.status().message() + ")");
  }
  return job;
}

Result<JobRow> ServiceIngestGateway::EnsureQueued(const std::string& job_id) {
  return service_->EnsureQueued(job_id);
}

Result<JobRow> ServiceIngestGateway::GetJob(const std::string& job_id) {
  return service_->GetJob(JobKind::kIngest, job_id);
}

}  // namespace sopilot::watch
