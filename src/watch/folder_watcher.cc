#include "watch/folder_watcher.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <cstdio>
#include <cmath>
#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/json_text.h"
#include "store/metadata_store.h"  // IsoTimestamp, NewUuid4

namespace sopilot::watch {

namespace fs = std::filesystem;
// Insertion order: the receipts keep the original's field order.
using Json = nlohmann::ordered_json;

namespace {

constexpr uint64_t kSecond = 1000000;
constexpr double kMaxRetrySec = 30;

std::string BaseName(const std::string& rel) {
  size_t slash = rel.find_last_of('/');
  return slash == std::string::npos ? rel : rel.substr(slash + 1);
}

std::string Dump(const Json& j) { return JsonText(j, 2, true) + "\n"; }

bool PermanentForFile(const Status& st) {
  switch (st.code()) {
    case Status::Code::kInvalidArgument:
    case Status::Code::kUnsupported:
    case Status::Code::kCorruption:
      return true;
    default:
      return false;
  }
}

bool Terminal(const std::string& status) {
  return status == kJobCompleted || status == kJobFailed || status == kJobDead || status == kJobSkipped;
}

// The sha256 of an ingested file: its store path is raw/<sha256>.<ext>.
std::string ShaOfStorePath(const std::string& file_path) {
  std::string stem = fs::path(file_path).stem().string();
  return stem.size() == 64 ? stem : "";
}

}  // namespace

FolderWatcher::FolderWatcher(WatchOptions options, IngestGateway* gateway, OpenWriterProbe* probe, Env* env,
                             LogFn log)
    : options_(std::move(options)), gateway_(gateway), probe_(probe), env_(env), log_(std::move(log)) {
  while (options_.dir.size() > 1 && options_.dir.back() == '/') options_.dir.pop_back();
}

FolderWatcher::~FolderWatcher() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Status FolderWatcher::Start() {
  for (const char* sub : {"", "/.processing", "/.processed", "/.failed"}) {
    std::error_code ec;
    fs::create_directories(options_.dir + sub, ec);
    if (ec) return Status::IOError(options_.dir + sub + ": cannot create directory: " + ec.message());
  }
  // Two watchers on one directory would both take files and resume each
  // other's intents.
  const std::string lock = options_.dir + "/.watch.lock";
  lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) return Status::IOError(lock + ": cannot open: " + std::strerror(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(lock_fd_);
    lock_fd_ = -1;
    if (err == EWOULDBLOCK) return Status::Unavailable("another sopilot watch is running on " + options_.dir);
    return Status::IOError(lock + ": cannot lock: " + std::strerror(err));
  }
  // Temporary files of atomic writes a crash interrupted.
  for (const char* sub : {"/.processing", "/.processed", "/.failed"}) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(options_.dir + sub, ec)) {
      if (e.path().filename().string().find(".tmp.") != std::string::npos) {
        (void)env_->RemoveFile(e.path().string());  // best effort: tried again at the next start
      }
    }
  }
  std::error_code ec;
  std::vector<std::string> intents, files;
  for (const auto& e : fs::directory_iterator(options_.dir + "/.processing", ec)) {
    std::string name = e.path().filename().string();
    if (name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0) intents.push_back(name.substr(0, name.size() - 5));
    else files.push_back(name);
  }
  if (ec) return Status::IOError(options_.dir + "/.processing: cannot list: " + ec.message());
  std::sort(intents.begin(), intents.end());
  for (const std::string& tag : intents) ResumeIntent(tag);
  for (const std::string& f : files) {
    if (std::find(intents.begin(), intents.end(), f) == intents.end()) {
      Log(".processing/" + f, "has no intent file (not taken by this watcher); left alone");
    }
  }
  return Status::Ok();
}

void FolderWatcher::ResumeIntent(const std::string& tag) {
  const std::string intent_path = Processing(tag + ".json");
  auto text = env_->ReadFile(intent_path, 1 << 20);
  Json j = text.ok() ? Json::parse(*text, nullptr, false) : Json();
  const bool in_processing = env_->FileExists(Processing(tag));
  Claim c;
  c.tag = tag;
  // A field of the intent, "" when absent or not a string (json's value()
  // would throw on a damaged file).
  auto field = [&j](const char* key) -> std::string {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : "";
  };
  if (j.is_object() && field("source") != "" && field("ingest_job_id") != "") {
    c.source = field("source");
    c.task_id = field("task_id");
    c.role = field("role");
    c.job_id = field("ingest_job_id");
    c.claimed_at = field("claimed_at");
    c.error = field("error");
  } else {
    c.source = ".processing/" + tag;
    c.error = "unreadable intent file .processing/" + tag + ".json" +
              (text.ok() ? "" : " (" + text.status().message() + ")");
    Log(c.source, c.error);
    if (FinishFailed(&c, c.error)) return;
    claims_[tag] = c;  // retried by Tick
    return;
  }
  const bool done_before = env_->FileExists(options_.dir + "/.processed/" + tag) ||
                           env_->FileExists(options_.dir + "/.failed/" + tag);
  if (!in_processing && done_before) {
    // A stale intent left behind is removed again at the next start.
    (void)env_->RemoveFile(intent_path);
    Log(c.source, "was filed away as " + tag + " before the restart; intent removed");
    return;
  }
  if (!in_processing && env_->FileExists(Abs(c.source))) {
    // Crashed between writing the intent and moving the file: nothing was
    // submitted under this intent. The file is taken afresh.
    (void)env_->RemoveFile(intent_path);
    Log(c.source, "was not taken before the restart (stale intent " + tag + " removed)");
    return;
  }
  if (!c.error.empty()) {
    if (!FinishFailed(&c, c.error)) claims_[tag] = c;
    return;
  }
  c.stage = Stage::kCheck;
  c.due = 0;
  c.seq = next_seq_++;
  Log(c.source, "resuming " + tag + " (ingest job " + c.job_id + ")" +
                    (in_processing ? "" : "; the file is no longer in .processing/"));
  claims_[tag] = c;
}

void FolderWatcher::Track(const std::string& rel, bool closed, const char* how) {
  auto [it, inserted] = tracked_.try_emplace(rel);
  if (inserted) {
    it->second.closed = closed;
    it->second.stable_since = env_->NowMicros();
    Log(rel, std::string(how) + "; waiting until it is complete");
  } else if (!closed) {
    it->second.closed = false;
  } else {
    it->second.closed = true;
  }
}

void FolderWatcher::FileWritten(const std::string& rel) {
  if (IsHiddenPath(rel) || !HasVideoExtension(BaseName(rel))) return;
  Track(rel, false, "new file being written");
}

void FolderWatcher::FileClosed(const std::string& rel) {
  if (IsHiddenPath(rel) || !HasVideoExtension(BaseName(rel))) return;
  Track(rel, true, "new file");
}

void FolderWatcher::FileRemoved(const std::string& rel) {
  const std::string prefix = rel + "/";
  for (auto it = tracked_.begin(); it != tracked_.end();) {
    if (it->first == rel || it->first.compare(0, prefix.size(), prefix) == 0) {
      Log(it->first, "removed or moved away before it was taken");
      it = tracked_.erase(it);
    } else {
      ++it;
    }
  }
}

void FolderWatcher::EventsLost() {
  // A close may have been lost: from now on only stability and the
  // open-writer check decide.
  for (auto& [rel, t] : tracked_) t.closed = true;
}

void FolderWatcher::Scan(const std::string& subdir, const std::function<void(const std::string&)>& on_dir) {
  const fs::path root(options_.dir);
  const fs::path start = subdir.empty() ? root : root / subdir;
  std::error_code ec;
  if (!subdir.empty() && IsHiddenPath(subdir)) return;
  if (on_dir) on_dir(subdir);
  fs::recursive_directory_iterator it(start, fs::directory_options::skip_permission_denied, ec), end;
  if (ec) {
    log_(start.string() + ": cannot list: " + ec.message());
    return;
  }
  std::vector<std::string> found;
  for (; it != end; it.increment(ec)) {
    if (ec) {
      log_(start.string() + ": cannot list: " + ec.message());
      break;
    }
    std::string name = it->path().filename().string();
    std::string rel = it->path().lexically_relative(root).generic_string();
    std::error_code type_ec;
    fs::file_status st = it->symlink_status(type_ec);
    if (type_ec) continue;
    if (fs::is_directory(st)) {
      if (name[0] == '.') {
        it.disable_recursion_pending();
        continue;
      }
      if (on_dir) on_dir(rel);
      continue;
    }
    if (name[0] == '.' || !fs::is_regular_file(st)) continue;
    if (!HasVideoExtension(name)) {
      if (ignored_.insert(rel).second) Log(rel, "ignored: not a video file (extensions .mp4 .mov .m4v .avi .mkv .webm)");
      continue;
    }
    found.push_back(rel);
  }
  for (const std::string& rel : found) {
    if (!tracked_.count(rel)) Track(rel, true, "found");
  }
}

void FolderWatcher::Tick() {
  const uint64_t now = env_->NowMicros();
  const uint64_t settle = static_cast<uint64_t>(std::llround(options_.settle_sec * kSecond));
  const uint64_t no_close = std::max<uint64_t>(60 * kSecond, 10 * settle);
  std::vector<std::string> ready;
  for (auto it = tracked_.begin(); it != tracked_.end();) {
    const std::string& rel = it->first;
    Tracked& t = it->second;
    struct stat st;
    if (::lstat(Abs(rel).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      it = tracked_.erase(it);  // gone (moved away or deleted): nothing to take
      continue;
    }
    int64_t mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    if (!t.have_stat || t.size != static_cast<uint64_t>(st.st_size) || t.mtime_ns != mtime_ns ||
        t.dev != st.st_dev || t.ino != st.st_ino) {
      t.have_stat = true;
      t.size = static_cast<uint64_t>(st.st_size);
      t.mtime_ns = mtime_ns;
      t.dev = st.st_dev;
      t.ino = st.st_ino;
      t.stable_since = now;
      t.unclaimable = false;
    }
    if (t.unclaimable || t.size == 0 || now - t.stable_since < settle) {
      ++it;
      continue;
    }
    if (!t.closed) {
      if (now - t.stable_since < no_close) {
        if (t.waiting != "open") {
          t.waiting = "open";
          char secs[32];
          std::snprintf(secs, sizeof secs, "%g", options_.settle_sec);
          Log(rel, std::string("unchanged for ") + secs + " s but its writer has not closed it; waiting");
        }
        ++it;
        continue;
      }
      // Created but never closed after writing (a hard link), and unchanged
      // for long: the open-writer check decides.
      t.closed = true;
      Log(rel, "no close seen but unchanged for " + std::to_string(no_close / kSecond) + " s; taking it unless a "
               "process has it open for writing");
    }
    if (now >= t.next_probe) ready.push_back(rel);
    ++it;
  }
  if (!ready.empty()) {
    std::set<FileId> ids;
    for (const std::string& rel : ready) ids.insert({tracked_[rel].dev, tracked_[rel].ino});
    std::set<FileId> writers = probe_->OpenForWriting(ids);
    for (const std::string& rel : ready) {
      Tracked& t = tracked_[rel];
      if (writers.count({t.dev, t.ino})) {
        t.next_probe = now + kSecond;
        if (t.waiting != "writer") {
          t.waiting = "writer";
          Log(rel, "a process still has it open for writing; waiting");
        }
        continue;
      }
      TakeFile(rel, &t);
    }
  }
  std::vector<std::pair<uint64_t, std::string>> due;
  for (const auto& [tag, c] : claims_) {
    if (c.due <= now) due.emplace_back(c.seq, tag);
  }
  std::sort(due.begin(), due.end());
  for (const auto& [seq, tag] : due) {
    auto it = claims_.find(tag);
    if (it != claims_.end()) Advance(&it->second);
  }
}

void FolderWatcher::TakeFile(const std::string& rel, Tracked* t) {
  Claim c;
  c.source = rel;
  c.tag = MakeTag(env_->NowUnixSeconds(), NewUuid4().substr(0, 8), BaseName(rel));
  c.job_id = NewUuid4();
  c.claimed_at = IsoTimestamp(env_->NowUnixSeconds());
  auto place = PlaceFile(rel, options_.rules);
  if (place.ok()) {
    c.task_id = place->task_id;
    c.role = place->role;
  } else {
    c.error = place.status().message();
  }
  Json intent = {{"tag", c.tag}, {"source", c.source}, {"task_id", c.task_id}, {"role", c.role},
                 {"ingest_job_id", c.job_id}, {"claimed_at", c.claimed_at}};
  if (!c.error.empty()) intent["error"] = c.error;
  const std::string intent_path = Processing(c.tag + ".json");
  Status st = WriteFileAtomically(env_, intent_path, Dump(intent));
  if (!st.ok()) {
    // Try again later; the file has not moved.
    t->stable_since = env_->NowMicros();
    Log(rel, "cannot write its intent (" + st.message() + "); will try again");
    return;
  }
  st = env_->RenameFile(Abs(rel), Processing(c.tag));
  if (!st.ok()) {
    // Best effort: an intent without its file is dropped at the next start.
    (void)env_->RemoveFile(intent_path);
    if (!env_->FileExists(Abs(rel))) {
      Log(rel, "vanished before it could be taken");
      tracked_.erase(rel);
    } else {
      t->unclaimable = true;
      Log(rel, "cannot be moved into .processing/ (" + st.message() +
                   "; another filesystem?); left in place until it changes");
    }
    return;
  }
  tracked_.erase(rel);  // `t` dangles from here
  if (!c.error.empty()) {
    Log(rel, "taken as " + c.tag);
    if (!FinishFailed(&c, c.error)) claims_[c.tag] = c;
    return;
  }
  Log(rel, "taken as " + c.tag + " (task " + c.task_id + ", role " + c.role + " by " + place->why +
               "), ingest job " + c.job_id);
  c.stage = Stage::kSubmit;
  c.due = 0;
  c.seq = next_seq_++;
  claims_[c.tag] = c;
}

void FolderWatcher::Advance(Claim* c) {
  switch (c->stage) {
    case Stage::kCheck: {
      auto job = gateway_->EnsureQueued(c->job_id);
      if (job.ok()) {
        c->stage = Stage::kFollow;
        OnJob(c, *job);
        return;
      }
      if (job.status().code() != Status::Code::kNotFound) return Retry(c, job.status());
      if (!env_->FileExists(Processing(c->tag))) {
        Log(c->source, "left .processing/ before its ingest was submitted; nothing to do (intent " + c->tag +
                           " removed)");
        (void)env_->RemoveFile(Processing(c->tag + ".json"));
        claims_.erase(c->tag);
        return;
      }
      c->stage = Stage::kSubmit;
      [[fallthrough]];
    }
    case Stage::kSubmit: {
      UploadRequest request;
      request.task_id = c->task_id;
      request.role = c->role;
      request.file_name = BaseName(c->source);
      request.job_id = c->job_id;
      auto job = gateway_->Submit(Processing(c->tag), request);
      if (!job.ok()) {
        if (PermanentForFile(job.status())) {
          if (!FinishFailed(c, job.status().message())) Retry(c, Status::IOError("cannot file it away"));
          return;
        }
        // Next time look for the job first: the row may have been written
        // (only the queue refused it), and then nothing needs copying again.
        c->stage = Stage::kCheck;
        return Retry(c, job.status());
      }
      c->failures = 0;
      c->last_problem.clear();
      Log(c->source, "submitted: ingest job " + c->job_id + " " + job->status);
      c->last_status = job->status;
      c->stage = Stage::kFollow;
      OnJob(c, *job);
      return;
    }
    case Stage::kFollow: {
      auto job = gateway_->GetJob(c->job_id);
      if (!job.ok()) {
        if (job.status().code() == Status::Code::kNotFound) c->stage = Stage::kCheck;
        return Retry(c, job.status());
      }
      OnJob(c, *job);
      return;
    }
  }
}

void FolderWatcher::OnJob(Claim* c, const JobRow& job) {
  c->failures = 0;
  c->last_problem.clear();
  if (!Terminal(job.status)) {
    if (job.status != c->last_status) {
      c->last_status = job.status;
      Log(c->source, "ingest job " + job.id + " " + job.status);
    }
    c->due = env_->NowMicros() + static_cast<uint64_t>(options_.job_poll_sec * kSecond);
    return;
  }
  bool filed = job.status == kJobCompleted
                   ? FinishDone(c, job)
                   : FinishFailed(c, job.error_message.empty() ? "ingest " + job.status : job.error_message);
  if (!filed) Retry(c, Status::IOError("cannot file it away"));
}

void FolderWatcher::Retry(Claim* c, const Status& st) {
  c->failures = std::min(c->failures + 1, 16);
  double delay = std::min(kMaxRetrySec, 0.5 * std::pow(2.0, c->failures - 1));
  if (st.message() != c->last_problem) {
    c->last_problem = st.message();
    Log(c->source, st.message() + "; will try again (the file stays in .processing/)");
  }
  c->due = env_->NowMicros() + static_cast<uint64_t>(delay * kSecond);
}

bool FolderWatcher::FinishDone(Claim* c, const JobRow& job) {
  Json receipt = {{"status", "completed"},
                  {"source", c->source},
                  {"task_id", job.task_id.empty() ? c->task_id : job.task_id},
                  {"role", job.role.empty() ? c->role : job.role},
                  {"ingest_job_id", job.id},
                  {"queued_at", job.queued_at},
                  {"video_id", job.video_id ? Json(*job.video_id) : Json(nullptr)},
                  {"sha256", ShaOfStorePath(job.file_path)},
                  {"finished_at", job.finished_at}};
  const std::string dest = options_.dir + "/.processed/" + c->tag;
  Status st = WriteFileAtomically(env_, dest + ".json", Dump(receipt));
  if (!st.ok()) {
    Log(c->source, "cannot write its receipt: " + st.message());
    return false;
  }
  if (env_->FileExists(Processing(c->tag))) {
    st = env_->RenameFile(Processing(c->tag), dest);
    if (!st.ok()) {
      Log(c->source, "cannot move it to .processed/: " + st.message());
      return false;
    }
  }
  // A stale intent left behind is removed at the next start (ResumeIntent).
  (void)env_->RemoveFile(Processing(c->tag + ".json"));
  Log(c->source, "ingested: video " + (job.video_id ? std::to_string(*job.video_id) : std::string("?")) +
                     " (ingest job " + job.id + "); filed as .processed/" + c->tag);
  claims_.erase(c->tag);  // `c` dangles from here
  return true;
}

bool FolderWatcher::FinishFailed(Claim* c, const std::string& reason) {
  Json error = {{"status", "failed"},
                {"source", c->source},
                {"error", reason},
                {"failed_at", IsoTimestamp(env_->NowUnixSeconds())}};
  if (!c->task_id.empty()) error["task_id"] = c->task_id;
  if (!c->role.empty()) error["role"] = c->role;
  if (!c->job_id.empty() && c->error.empty()) error["ingest_job_id"] = c->job_id;
  const std::string dest = options_.dir + "/.failed/" + c->tag;
  Status st = WriteFileAtomically(env_, dest + ".error.json", Dump(error));
  if (!st.ok()) {
    Log(c->source, "cannot write its error file: " + st.message());
    return false;
  }
  if (env_->FileExists(Processing(c->tag))) {
    st = env_->RenameFile(Processing(c->tag), dest);
    if (!st.ok()) {
      Log(c->source, "cannot move it to .failed/: " + st.message());
      return false;
    }
  }
  (void)env_->RemoveFile(Processing(c->tag + ".json"));
  Log(c->source, "failed: " + reason + "; filed as .failed/" + c->tag);
  claims_.erase(c->tag);  // `c` dangles from here
  return true;
}

}  // namespace sopilot::watch
