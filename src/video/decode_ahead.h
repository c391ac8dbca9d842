// DecodeAhead: a frame source run on a thread of its own, a few frames
// ahead of its reader.
//
// Ingest decodes a frame, then embeds the clips it completes, one after the
// other on one thread; decoding (FFmpeg, colour conversion, resizing) and
// embedding are each about a core's work at a time, so on a 2-core worker
// one core often waits while the other works. With the decoder running
// ahead on its own thread the two overlap: heuristic-v1's ingest of a 129 s
// take on 2 cores takes 0.94x the wall time (bench/ingest_bench, "ingest"
// against "ingest, decoding on one thread"). An embedder that already keeps
// every core busy (appearance-v1's frames side by side) gains nothing.
//
// Memory: at most `depth` frames wait between the two (each a sampled
// frame, at most max_side pixels on its longer side), plus the one being
// decoded.
//
// Threads: the source is called only on DecodeAhead's thread, one call at a
// time, from the constructor until it returns nullptr or an error, or the
// DecodeAhead is destroyed; nothing else may use it meanwhile. Next() is for
// one reader thread. An exception escaping the source becomes its error
// (Internal); none crosses the thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "base/status.h"
#include "video/frame.h"

namespace sopilot {

// The next frame, nullptr at the end, or an error (after which it is not
// called again).
using FrameSource = std::function<Result<FramePtr>()>;

class DecodeAhead {
 public:
  // Starts calling `source` at once. depth >= 1.
  DecodeAhead(FrameSource source, int depth);
  // Stops the thread: a call to the source under way finishes first, and no
  // further one starts.
  ~DecodeAhead();
  DecodeAhead(const DecodeAhead&) = delete;
  DecodeAhead& operator=(const DecodeAhead&) = delete;

  // The source's frames in order, then nullptr (again at every later call),
  // or the source's error in place of the frame it failed on (again at
  // every later call). Blocks until the source has produced it.
  Result<FramePtr> Next();

 private:
  void Run();

  FrameSource source_;
  const size_t depth_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<FramePtr> frames_;  // guarded by mu_
  bool ended_ = false;           // guarded by mu_: the source returned nullptr or an error
  Status error_;                 // guarded by mu_: its error, once ended_
  bool stopping_ = false;        // guarded by mu_
  std::thread thread_;           // last: starts after the members above exist
};

}  // namespace sopilot
