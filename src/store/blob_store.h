// BlobStore: the data directory's files, named by content.
//
//   <data>/raw/<sha256>.<ext>          uploaded videos
//   <data>/embeddings/<sha256>.emb     embedding files (hash of the raw video
//                                      plus the sampling settings and model)
//   <data>/reports/...                 score results (JSON)
//   <data>/incoming/                   uploads being received
//
// A file is written under a temporary name and renamed when complete, so a
// crash never leaves a partial file under a final name; identical content is
// stored once. Paths handed out are relative to the data directory.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/env.h"
#include "base/status.h"

namespace sopilot {

class BlobStore {
 public:
  // Creates the directories under `data_dir` if missing. A relative
  // `data_dir` is made absolute (against the working directory) here.
  static Result<BlobStore> Open(const std::string& data_dir, Env* env);

  const std::string& data_dir() const { return data_dir_; }
  std::string Absolute(const std::string& relative) const;

  // A fresh absolute path under incoming/ for an upload being streamed to
  // disk (absolute because the writer opens it directly).
  std::string NewIncomingPath() const;
  // Moves a complete incoming file (absolute under incoming/, or relative
  // "incoming/...") to raw/<sha256>.<ext> (ext from
  // `original_name`, lower-cased, [a-z0-9] only, "bin" if none) and returns
  // the relative path; `sha256_hex` is the file's hash. If that blob exists
  // already the incoming file is removed.
  // The relative path AdoptRaw gives these, without touching the disk.
  Result<std::string> RawPathFor(const std::string& original_name, const std::string& sha256_hex) const;
  Result<std::string> AdoptRaw(const std::string& incoming_path, const std::string& original_name,
                               const std::string& sha256_hex);
  // Writes `data` atomically at `relative` (creating directories).
  Status Put(const std::string& relative, std::string_view data);
  Result<std::string> Get(const std::string& relative, uint64_t max_bytes);
  Status Remove(const std::string& relative);  // OK when already absent
  bool Exists(const std::string& relative) const;
  // Every file under raw/, embeddings/ and reports/ (relative paths), and
  // leftovers under incoming/ — for the start-up check.
  Result<std::vector<std::string>> ListManagedFiles() const;
  Result<std::vector<std::string>> ListIncoming() const;

 private:
  BlobStore(std::string data_dir, Env* env) : data_dir_(std::move(data_dir)), env_(env) {}
  std::string data_dir_;
  Env* env_;
};

}  // namespace sopilot
