// IngestGateway: what the watch folder asks of the service — submit a file
// for ingest under a job id it chose, and look at that job — behind an
// interface so that the folder logic is tested without a service.
#pragma once

#include <string>

#include "base/env.h"
#include "base/status.h"
#include "service/sopilot_service.h"

namespace sopilot::watch {

class IngestGateway {
 public:
  virtual ~IngestGateway() = default;
  // Submits the file at `path` (left in place) for ingest; `request.job_id`
  // is set, so submitting again returns the same job. Errors: InvalidArgument
  // / Unsupported / Corruption are the file's fault (the watcher gives up on
  // it); NotFound: `path` is gone; anything else is worth retrying
  // (Unavailable: the queue or the store is down for now).
  virtual Result<JobRow> Submit(const std::string& path, const UploadRequest& request) = 0;
  // The job as it is now (SopilotService::EnsureQueued: a queued row is put
  // back in the queue); NotFound when it was never written.
  virtual Result<JobRow> EnsureQueued(const std::string& job_id) = 0;
  // The job as it is now; NotFound when absent.
  virtual Result<JobRow> GetJob(const std::string& job_id) = 0;
};

// The gateway to a SopilotService opened on the shared data directory: the
// file is copied (and hashed on the way) to incoming/watch-<job id>.part —
// one name per job, so a copy cut short by a crash is overwritten by the
// next attempt, not left behind — then handed to SubmitUpload, which moves
// it into the content-addressed store. The requester is "watcher:folder".
class ServiceIngestGateway : public IngestGateway {
 public:
  explicit ServiceIngestGateway(SopilotService* service) : service_(service) {}
  Result<JobRow> Submit(const std::string& path, const UploadRequest& request) override;
  Result<JobRow> EnsureQueued(const std::string& job_id) override;
  Result<JobRow> GetJob(const std::string& job_id) override;

 private:
  SopilotService* service_;
};

// Copies `from` to `to` (created or truncated, fsynced) and returns the
// SHA-256 of the bytes copied. NotFound when `from` is missing,
// InvalidArgument when it cannot be read for good (permissions, a
// directory), IOError otherwise.
Result<std::string> CopyAndHash(const std::string& from, const std::string& to);

}  // namespace sopilot::watch
