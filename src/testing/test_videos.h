// Test videos made on the spot with ffmpeg's lavfi sources, so that every
// essential test runs on a clone without ../shared.
#pragma once

#include <string>
#include <vector>

namespace sopilot::testing {

// Runs `ffmpeg -y -loglevel error <args>`; returns "" on success or ffmpeg's
// error output.
std::string Ffmpeg(const std::string& args);

// A video of `seconds` made from lavfi `source` (for example
// "testsrc2=size=320x240:rate=12"), encoded with `codec_args`
// (default H.264 in yuv420p). Aborts the test binary if ffmpeg fails.
void MakeVideo(const std::string& path, const std::string& source, double seconds,
               const std::string& codec_args = "-c:v libx264 -pix_fmt yuv420p -preset veryfast");

// One segment of a synthetic procedure: a visually distinct scene.
struct Segment {
  std::string source;  // lavfi source, e.g. "testsrc2" or "color=c=gray"
  double seconds;
};

// Concatenates segments (each scaled to `size` at `fps`) into one H.264
// video; used to build procedures with known step times.
void MakeProcedureVideo(const std::string& path, const std::vector<Segment>& segments,
                        const std::string& size = "320x180", int fps = 12);

// Ten deterministic lavfi scenes that an embedder can tell apart: the steps
// of generated procedures.
const std::vector<std::string>& DistinctScenes();

// The directory of ../shared/fixtures/maintenance_filter_swap, or "" when the
// checkout has no ../shared (a user's clone).
std::string SharedFixtureDir();

}  // namespace sopilot::testing
