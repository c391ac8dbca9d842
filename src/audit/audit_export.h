// Signed audit exports, byte-compatible with the Python original's
// (original-ops.md §12): the payload is canonicalised as Python's
// json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=True),
// hashed with SHA-256 and signed with HMAC-SHA256 (base/digest.h).
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace sopilot {

// Python-compatible canonical JSON: keys sorted by code point, no spaces,
// non-ASCII as \uXXXX (surrogate pairs above the BMP), floats as Python's
// repr (1.0, 0.1, 1e-05, 1e+16).
std::string CanonicalJson(const nlohmann::json& value);

// Adds "signature": {"algorithm": "hmac-sha256", "key_id", "payload_sha256",
// "signature_hex"} computed over CanonicalJson(payload) (payload without a
// signature key). The original left key_id outside what is signed; here the
// payload also carries it as "signed_key_id", so it is signed too and the
// original's verifier still accepts the file (the field is just payload).
nlohmann::json SignAuditExport(nlohmann::json payload, std::string_view key, std::string_view key_id);

struct AuditVerification {
  std::string algorithm, key_id;
  bool payload_sha256_match = false;
  bool signature_match = false;
  // Whether the payload signs the key id (our exports; the original's do
  // not), and whether the signature's key_id is the signed one.
  bool key_id_signed = false;
  bool key_id_match = true;
  bool verified() const { return payload_sha256_match && signature_match && key_id_match; }
};

// Checks an export file's text against `key`. Fails (InvalidArgument) when
// the text is not JSON, has no signature object, or repeats a key within one
// object (a JSON reader may take either value: the signed one or the other);
// a tampered payload is a successful call with verified() false.
Result<AuditVerification> VerifyAuditExport(std::string_view file_text, std::string_view key);

}  // namespace sopilot
