// Gold step segmentation: where does one step end and the next begin?
//
// At each time t where one clip ends and another starts, the boundary
// distance is 1 - cosine between those two clips (they share no frame). Inside
// a step it stays low; across a step boundary it rises to a peak as wide as a
// clip. A boundary is a peak that stands out from the valleys on both sides
// (ScoreOptions::min_boundary_prominence and boundary_peak_ratio) and lies at
// least min_step_seconds from the next stronger peak, and whose clips resemble
// their own side more than the other within a clip length
// (KeepSeparatingCuts). Nothing here is tuned to a particular video: the
// tests are relative to the video's own valleys and its own clips.
#pragma once

#include <vector>

#include "base/matrix.h"
#include "base/status.h"
#include "score/score_options.h"
#include "score/step.h"
#include "video/clip_windower.h"

namespace sopilot {

struct NoveltyPoint {
  double time_sec = 0;
  double distance = 0;  // 1 - cos(clip ending at time_sec, clip starting at time_sec)
};

// The boundary distance curve, in time order. Rows must be L2-normalised.
std::vector<NoveltyPoint> BoundaryNovelty(const FloatMatrix& vectors, const std::vector<ClipSpan>& clips);

// Boundary times found in the curve, ascending.
std::vector<double> PickBoundaries(const std::vector<NoveltyPoint>& curve, double min_step_seconds,
                                   const ScoreOptions& options);

// Of `cuts` (ascending), those that separate two steps. A step's motion
// recurs (hands rub back and forth, a tool turns), so two clips side by side
// inside it can differ as much as across a boundary, and the curve peaks
// there; but each of them finds its like again within a clip length across
// that moment. So at each cut, the clip ending there and the clip starting
// there are each matched (best cosine) against the clips within
// `horizon_sec` on their own side (sharing no frame with them) and within
// `horizon_sec` on the other side; the cut is kept when the two matches on
// their own sides sum above the two across (a tie is no cut). A cut with a
// side that has no clip to compare with (at the video's edges) is kept, and
// so is every cut when `clips` is empty. Rows of `v` L2-normalised.
std::vector<double> KeepSeparatingCuts(const FloatMatrix& v, const std::vector<ClipSpan>& clips,
                                       const std::vector<double>& cuts, double horizon_sec);

// Each boundary moved to where the clips straddling it stop resembling the
// step before more than the step after (crossing.h), between its neighbours:
// the rule trainee boundaries follow, so that the gold compared with itself
// has identical steps. The steps' clips are taken `margin_sec` away from
// each cut (0: right up to it), so that a cut that may be off by up to that
// much does not compare clips with clips that straddle the change. Rows of
// `v` L2-normalised.
std::vector<double> RefineBoundaries(const FloatMatrix& v, const std::vector<ClipSpan>& clips,
                                     std::vector<double> cuts, double duration_sec, double margin_sec);

// The gold video's steps, named "step 1", "step 2", ...; `duration_sec` is the
// video's length and `clip_seconds` its clip length. They cover the gold's
// work (FindWorkSpan, work_span.h): from 0 to `duration_sec` unless the
// camera stood still before or after the work, whose time is then no step.
std::vector<Step> SegmentSteps(const FloatMatrix& vectors, const std::vector<ClipSpan>& clips,
                               double duration_sec, double clip_seconds, const ScoreOptions& options);

// Steps from a user's steps file. Fails when a step lies outside the video.
Result<std::vector<Step>> StepsFromSpecs(const std::vector<StepSpec>& specs,
                                         const std::vector<ClipSpan>& clips, double duration_sec);

// Clips lying wholly inside `span`; failing that, those whose middle is in
// it; failing that, the clip whose middle is nearest. Never empty when
// `clips` is not.
std::vector<int> ClipsInside(const std::vector<ClipSpan>& clips, const TimeSpan& span);

}  // namespace sopilot
