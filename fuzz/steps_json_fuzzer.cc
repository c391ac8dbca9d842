// ParseStepsJson (sopilot score --steps) on arbitrary text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "score/steps_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto steps = sopilot::ParseStepsJson(text);
  if (steps.ok()) {
    // The promise of steps_file.h: non-empty; every step timed or none
    // (named steps to be placed); timed steps in order, of positive length.
    if (steps->empty()) __builtin_trap();
    const bool timed = steps->front().timed;
    for (size_t i = 0; i < steps->size(); ++i) {
      if ((*steps)[i].timed != timed || (*steps)[i].name.empty()) __builtin_trap();
      if (!timed) continue;
      const auto& t = (*steps)[i].gold_time;
      if (!(t.end_sec > t.start_sec) || t.start_sec < 0) __builtin_trap();
      if (i > 0 && t.start_sec < (*steps)[i - 1].gold_time.end_sec - 1e-9) __builtin_trap();
    }
  }
  return 0;
}
