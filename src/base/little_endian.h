// Fixed-width values in the little-endian layout of SOPilot's binary files
// (embedding files, adapter files).
#pragma once

#include <bit>
#include <cstring>
#include <string>
#include <string_view>

namespace sopilot {

static_assert(std::endian::native == std::endian::little,
              "SOPilot's binary files are little-endian; add byte swapping for this host");

// Appends `v`'s bytes to `out`.
template <typename T>
void PutLittleEndian(std::string* out, T v) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));
  out->append(buf, sizeof(T));
}

// The T at `offset` of `bytes`; the caller has checked the length.
template <typename T>
T GetLittleEndian(std::string_view bytes, size_t offset) {
  T v;
  std::memcpy(&v, bytes.data() + offset, sizeof(T));
  return v;
}

}  // namespace sopilot
