// The input of a harness whose reader checks a trailing CRC-32 (embedding
// and adapter files): the bytes after the first; an odd first byte rewrites
// the trailing CRC so that mutations get past the checksum.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/crc32.h"
#include "base/little_endian.h"

inline std::string CrcFixedInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 1) && bytes.size() >= 4) {
    bytes.resize(bytes.size() - 4);
    const uint32_t crc = sopilot::Crc32(bytes);
    sopilot::PutLittleEndian<uint32_t>(&bytes, crc);
  }
  return bytes;
}
