// DecodeFeatureAdapter on arbitrary bytes. An odd first byte makes the
// harness rewrite the trailing CRC-32 (the reader checks it first), so that
// mutations reach the header and the vectors.
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/crc32.h"
#include "base/little_endian.h"
#include "train/feature_adapter.h"

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
  auto adapter = sopilot::DecodeFeatureAdapter(bytes);
  if (adapter.ok()) {
    // What the reader accepts, the service uses: fingerprint, encode again,
    // apply to a row.
    (void)adapter->Fingerprint();
    if (!sopilot::EncodeFeatureAdapter(*adapter).ok()) __builtin_trap();
    sopilot::FloatMatrix row(1, adapter->dim());
    auto applied = sopilot::ApplyFeatureAdapter(*adapter, row);
    if (!applied.ok()) __builtin_trap();
  }
  return 0;
}
