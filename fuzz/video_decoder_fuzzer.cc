// VideoDecoder::Open on arbitrary bytes, then its info and up to eight
// sampled frames. The decoder opens paths, so each input is written to one
// temporary file per process (in /dev/shm when there is one) first.
// FFmpeg is the Debian build (not instrumented): coverage guides through
// our decoder only, ASan still sees our side of every buffer.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "video/video_decoder.h"

namespace {

const std::string& TempPath() {
  static const std::string* path = [] {
    const char* dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    auto* p = new std::string(std::string(dir) + "/sopilot-video-fuzz-" + std::to_string(getpid()));
    std::atexit([] { std::remove(TempPath().c_str()); });
    return p;
  }();
  return *path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = TempPath();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return 0;
  bool written = std::fwrite(data, 1, size, f) == size;
  if (std::fclose(f) != 0 || !written) return 0;

  sopilot::DecodeOptions options;
  options.target_fps = 4;
  options.max_side = 64;
  options.threads = 1;  // the fuzzer is one process per core
  auto decoder = sopilot::VideoDecoder::Open(path, options);
  if (!decoder.ok()) return 0;
  const sopilot::VideoInfo& info = (*decoder)->info();
  if (info.width < 0 || info.height < 0) __builtin_trap();
  for (int i = 0; i < 8; ++i) {
    auto frame = (*decoder)->Next();
    if (!frame.ok() || *frame == nullptr) break;
  }
  return 0;
}
