// SHA-256 and HMAC-SHA256 (OpenSSL's libcrypto), hex-encoded in lower case.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace sopilot {

std::string Sha256Hex(std::string_view data);
// Streams the file; IOError/NotFound when it cannot be read.
Result<std::string> Sha256FileHex(const std::string& path);
std::string HmacSha256Hex(std::string_view key, std::string_view message);

// Compares secrets (tokens, passwords, signatures) without leaking where the
// first difference is: the loop runs over the longer input and folds in the
// length difference.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Incremental SHA-256, for hashing an upload while it streams to disk.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void Update(std::string_view data);
  std::string FinishHex();  // the stream cannot be updated afterwards

 private:
  void* ctx_;  // EVP_MD_CTX
};

}  // namespace sopilot
