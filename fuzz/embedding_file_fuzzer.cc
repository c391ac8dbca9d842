// DecodeEmbeddingSet on arbitrary bytes. An odd first byte makes the
// harness rewrite the trailing CRC-32, so that mutations get past the
// checksum into the clip and vector validation.
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/crc32.h"
#include "base/little_endian.h"
#include "embed/embedding_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool fix_crc = data[0] & 1;
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (fix_crc && bytes.size() >= 4) {
    std::string body = bytes.substr(0, bytes.size() - 4);
    std::string crc;
    sopilot::PutLittleEndian<uint32_t>(&crc, sopilot::Crc32(body));
    bytes = body + crc;
  }
  auto set = sopilot::DecodeEmbeddingSet(bytes);
  if (set.ok()) {
    // A decoded set is whole: rows match clips and it encodes again.
    if (set->vectors.rows != static_cast<int>(set->clips.size())) __builtin_trap();
    auto again = sopilot::EncodeEmbeddingSet(*set);
    if (!again.ok()) __builtin_trap();
  }
  return 0;
}
