// VerifyAuditExport (sopilot audit verify) on arbitrary text, with the key
// the seed corpus was signed with, so signed seeds verify and mutations of
// them exercise the canonical JSON of every value type.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "audit/audit_export.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto v = sopilot::VerifyAuditExport(text, "fuzz-test-key");
  (void)v;
  return 0;
}
