// Where the work lies in a gold video: after a still lead-in, before a
// still tail.
//
// A supervisor's camera starts before the work and runs on after it, and
// the gold's steps are often found or placed, not timed. The empty scene
// then counted as a step of its own, or as part of the first step, and a
// trainee filmed without that time "missed" it. The time before the work is
// recognised by what it is: a scene in which nothing changes, while the
// work does change. A still stretch at the start (or end) is a lead-in (a
// tail) when
//
//   - every clip of it lies within a quarter of the video's typical change
//     over a clip's length (the median distance between each clip and the
//     next one that shares no frame with it) of its first (last) clip;
//   - it holds two clips that share no frame, so stillness is seen, not
//     inferred from one clip;
//   - no stretch inside the work stands still as long as it. A procedure
//     whose steps are still pictures (slides, or a long wait) gives no
//     lead-in: its first still step cannot be told from an empty scene.
//
// Distances are taken between the embeddings as given (rows L2-normalised).
// A scene that repeats exactly with a clip's period looks still to an
// embedder that averages over the clip; see doc/scoring.md section 2.
//
// Thread-safe (pure functions).
#pragma once

#include <vector>

#include "base/matrix.h"
#include "score/step.h"
#include "video/clip_windower.h"

namespace sopilot {

// The span of the video that holds the work: [0, duration_sec] when there is
// no still lead-in or tail, or when the rest would be shorter than a clip.
TimeSpan FindWorkSpan(const FloatMatrix& vectors, const std::vector<ClipSpan>& clips, double duration_sec);

// How far a clip may lie from the first clip of a still stretch: a quarter
// of the video's typical change over a clip's length. 0 when nothing
// changes at all (a static video: no stretch stands out as still).
double StillDistance(const FloatMatrix& vectors, const std::vector<ClipSpan>& clips);

// The longest still stretch among clips first..last (inclusive): from some
// clip, the consecutive clips within `still` of it. Counted only when seen
// still (two of its clips share no frame); count 0 when there is none. The
// search stops at the first stretch of `enough` clips (0: no limit), for a
// caller that only asks whether one that long exists.
struct StillStretch {
  int first = 0;
  int count = 0;
};
StillStretch LongestSeenStill(const FloatMatrix& vectors, const std::vector<ClipSpan>& clips, int first, int last,
                              double still, int enough = 0);

// A part of a video as a video of its own: the rows and clips that lie
// wholly in `span`, their times counted from span.start_sec.
struct VideoPart {
  FloatMatrix vectors;
  std::vector<ClipSpan> clips;
  double duration_sec = 0;
};
VideoPart PartOfVideo(const FloatMatrix& vectors, const std::vector<ClipSpan>& clips, const TimeSpan& span);

}  // namespace sopilot
