// CRC-32 (the zlib/PNG polynomial), for detecting corrupted stored files.
#pragma once

#include <cstdint>
#include <string_view>

namespace sopilot {

// Extends `crc` (0 to start) with `data`. Crc32("123456789") == 0xCBF43926.
uint32_t Crc32(std::string_view data, uint32_t crc = 0);

}  // namespace sopilot
