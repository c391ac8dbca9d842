// DecodeFeatureAdapter on arbitrary bytes. An odd first byte makes the
// harness rewrite the trailing CRC-32 (the reader checks it first), so that
// mutations reach the header and the vectors.
#include <cstddef>
#include <cstdint>
#include <string>

#include "crc_input.h"

#include "train/feature_adapter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string bytes = CrcFixedInput(data, size);
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
