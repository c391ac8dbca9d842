// VideoInfo: what a person wants to know about a video file.
#pragma once

#include <string>

namespace sopilot {

struct VideoInfo {
  std::string path;
  double duration_sec = 0;  // decoded length of the video stream (container value before decoding)
  double fps = 0;           // the stream's average frame rate (0 when unknown)
  int width = 0;            // display size: after rotation metadata is applied
  int height = 0;
  std::string codec;        // FFmpeg codec name, e.g. "h264", "mpeg4", "vp9"
  int rotation_degrees = 0; // clockwise rotation applied to decoded frames: 0, 90, 180, 270
  // Seconds of timestamp gaps cut while decoding (DecodeOptions::max_frame_gap_sec).
  double gap_sec_removed = 0;
};

}  // namespace sopilot
