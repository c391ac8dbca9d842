// ParseStepsJson (sopilot score --steps) on arbitrary text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "score/steps_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto steps = sopilot::ParseStepsJson(text);
  if (steps.ok()) {
    // The promise of steps_file.h: non-empty, in order, positive lengths.
    if (steps->empty()) __builtin_trap();
    for (size_t i = 0; i < steps->size(); ++i) {
      const auto& t = (*steps)[i].gold_time;
      if (!(t.end_sec > t.start_sec) || t.start_sec < 0) __builtin_trap();
    }
  }
  return 0;
}
