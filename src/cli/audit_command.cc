#include "cli/audit_command.h"

#include <cstdio>
#include <cstdlib>
#include <memory>

#include <nlohmann/json.hpp>

#include "base/json_text.h"
#include "audit/audit_export.h"
#include "base/env.h"
#include "cli/command.h"

namespace sopilot::cli {

namespace {

// Exports hold at most a few thousand rows; this only bounds a wrong file.
constexpr uint64_t kMaxExportBytes = 256ull << 20;

struct AuditArgs {
  CLI::App* verify = nullptr;
  std::string file;
  std::string key;
};

std::string Trim(std::string s) {
  const char* space = " \t\r\n\f\v";
  size_t b = s.find_first_not_of(space);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(space) - b + 1);
}

int RunVerify(const AuditArgs& args) {
  // Stripped like the original's SOPILOT_AUDIT_SIGNING_KEY, so that a key
  // read from a file with a trailing newline still verifies.
  std::string key = args.key;
  if (key.empty()) {
    const char* env = std::getenv("SOPILOT_AUDIT_SIGNING_KEY");
    if (env != nullptr) key = env;
  }
  key = Trim(key);
  if (key.empty()) {
    std::fprintf(stderr, "sopilot: usage error: no signing key: pass --key or set SOPILOT_AUDIT_SIGNING_KEY\n");
    return kExitUsage;
  }
  Result<std::string> text = Env::Default()->ReadFile(args.file, kMaxExportBytes);
  if (!text.ok()) return ReportError(text.status());
  Result<AuditVerification> v = VerifyAuditExport(*text, key);
  if (!v.ok()) return ReportError(v.status().WithContext(args.file));

  nlohmann::ordered_json out = {
      {"file", args.file},
      {"algorithm", v->algorithm},
      {"key_id", v->key_id},
      {"payload_sha256_match", v->payload_sha256_match},
      {"signature_match", v->signature_match},
      {"key_id_signed", v->key_id_signed},
      {"key_id_match", v->key_id_match},
      {"verified", v->verified()},
  };
  std::printf("%s\n", JsonText(out, 2, true).c_str());
  if (v->verified()) return kExitOk;
  std::string why = !v->payload_sha256_match && !v->signature_match ? "payload_sha256 and signature mismatch"
                    : !v->payload_sha256_match                      ? "payload_sha256 mismatch"
                    : !v->signature_match                           ? "signature mismatch"
                                                                    : "key_id is not the signed one";
  return ReportError("audit export " + args.file + " failed verification (" + why + ")");
}

}  // namespace

std::function<int()> AddAuditCommand(CLI::App* app) {
  auto args = std::make_shared<AuditArgs>();
  CLI::App* audit = app->add_subcommand("audit", "Work with signed audit exports.");
  audit->require_subcommand(1);
  args->verify = audit->add_subcommand(
      "verify",
      "Check an audit export's SHA-256 and HMAC-SHA256 signature (the Python original's format).\n"
      "Prints {file, algorithm, key_id, payload_sha256_match, signature_match, key_id_signed, key_id_match, "
      "verified} as JSON; "
      "exits 0 when verified, 1 when not.");
  args->verify->add_option("FILE", args->file, "Audit export file (audit_export_<id>.json)")->required();
  args->verify->add_option("--key", args->key,
                           "Signing key (default: $SOPILOT_AUDIT_SIGNING_KEY; prefer the variable, "
                           "a key on the command line is visible to other users)");
  return [args]() -> int {
    if (args->verify->parsed()) return RunVerify(*args);
    return kExitUsage;
  };
}

}  // namespace sopilot::cli
