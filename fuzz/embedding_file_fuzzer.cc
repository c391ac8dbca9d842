// DecodeEmbeddingSet on arbitrary bytes. An odd first byte makes the
// harness rewrite the trailing CRC-32, so that mutations get past the
// checksum into the clip and vector validation.
#include <cstddef>
#include <cstdint>
#include <string>

#include "crc_input.h"

#include "embed/embedding_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string bytes = CrcFixedInput(data, size);
  auto set = sopilot::DecodeEmbeddingSet(bytes);
  if (set.ok()) {
    // A decoded set is whole: rows match clips and it encodes again.
    if (set->vectors.rows != static_cast<int>(set->clips.size())) __builtin_trap();
    auto again = sopilot::EncodeEmbeddingSet(*set);
    if (!again.ok()) __builtin_trap();
  }
  return 0;
}
