// ComparisonSpace: the vectors the step engine compares, and how alike two
// clips of the gold look when they show the same step.
//
// Why not the embeddings as they are: every clip of one recording shares a
// large component (the scene, the lamp, the camera's colour), so raw cosines
// between any two clips of a workbench are 0.9 and more, and a different lamp
// moves all of them at once (a slide video brightened by 6 % drops from 0.99
// to 0.36 against its own gold). Subtracting each video's own mean clip keeps
// what changes within the recording, which is what the procedure is, and
// removes what a camera changes between two days. Unrelated footage then sits
// near 0 against the gold, the same procedure well above it.
//
// A video whose clips barely differ (a static scene) has nothing left after
// the subtraction. A static gold is compared with the trainee as they are.
// A static trainee against a gold that changes shows none of the gold's
// procedure: its rows are left all zero (`trainee_still`), and nothing in
// it matches a step.
//
// A change of light during a recording (a lamp switched on halfway, an
// exposure drifting) is in no mean; where it is what sets the trainee apart,
// each video is centred over a window of its own instead
// (ChooseComparisonSpace). doc/scoring.md section 1 has the measurements.
#pragma once

#include <limits>
#include <vector>

#include "base/matrix.h"
#include "score/step.h"
#include "video/clip_windower.h"

namespace sopilot {

struct ComparisonSpace {
  FloatMatrix gold;     // rows L2-normalised
  FloatMatrix trainee;  // rows L2-normalised
  bool centred = false; // false: a static gold; the embeddings as given
  // A static trainee against a gold that is not: `trainee` is all zero
  // (centred, nothing of it is left but sensor noise).
  bool trainee_still = false;
  // A locally centred video only (else empty: read the embeddings as
  // given): its embeddings as given, with the light's change along the
  // recording taken out (each clip minus its window's median plus the
  // video's mean). What the rules that read the embeddings as given rely
  // on, that one video shares one light, then holds again.
  FloatMatrix gold_levelled;
  FloatMatrix trainee_levelled;
};

// Two similarities closer than this are the same: cosines of float vectors
// over hundreds of dimensions carry rounding of about 1e-6, and two frames
// of one static scene, encoded apart, differ by a few 1e-6. A rule that
// compares two levels (is this step alike to its neighbour? is the typical
// match above the other steps'?) must not turn on that noise.
inline constexpr double kSimilarityResolution = 1e-4;

// A video is static when its clips differ from their mean by less than this
// fraction of their length, in the median (nothing moves but sensor noise).
inline constexpr double kStaticSpread = 0.01;

// Both inputs: rows L2-normalised, same width.
ComparisonSpace MakeComparisonSpace(const FloatMatrix& gold, const FloatMatrix& trainee);

// The same, each video centred locally on its own: from each clip, the
// median (dimension by dimension) of its video's clips whose centres lie
// within `window_sec` of its centre, instead of the whole video's mean. A
// change of light that holds for part of a recording is then removed where
// it holds, as a whole-video one is by the mean. Neither video looks at the
// other. A video no longer than 2 * window_sec is centred as a whole
// (MakeComparisonSpace above). `*_clips` one per row.
ComparisonSpace MakeLocalComparisonSpace(const FloatMatrix& gold, const std::vector<ClipSpan>& gold_clips,
                                         const FloatMatrix& trainee, const std::vector<ClipSpan>& trainee_clips,
                                         double window_sec);

// The window (seconds each way) a video is centred over locally: three
// median steps (`step_sec`), the few steps a light change is told from the
// work by. A video too short for two such windows would be centred whole;
// there, the longest window that leaves two windows and a step in the longer
// video (`longest_sec`), if that is a step and a half at least: a window of
// about one step takes the step itself out (doc/scoring.md). Durations are
// known to a clip stride (`stride_sec`), so a video of four steps gets its
// window whether its steps came out a hundredth of a second longer or not.
double LocalWindowSeconds(double step_sec, double longest_sec, double stride_sec);

// How far the trainee sits from the gold in a space: the median over the
// trainee's clips of 1 - (its best similarity to any gold clip). 0 for a
// video against itself; near 1 for unrelated footage. 1 when either video
// has no clip.
double MedianMismatch(const ComparisonSpace& space);

// The space the two videos are compared in. Local centring helps only where
// the light changed during a recording, and it costs elsewhere: a window
// holds a few steps, and another performance holds other steps at another
// pace in it, so its local median differs from the gold's. So the local
// space is taken only when it removes at least half of what set the trainee
// apart from the gold (MedianMismatch), the mark of a change that is the
// camera's, not the work's; otherwise the whole-video centring. Neither
// choice pulls unrelated footage towards the gold: each video is centred on
// its own, and the choice only keeps one of two. `window_sec` as above.
// When the two were compared, `*cost` (if not null) receives the chosen
// space's CosineCostMatrix(gold, trainee); it is left as it was otherwise.
ComparisonSpace ChooseComparisonSpace(const FloatMatrix& gold, const std::vector<ClipSpan>& gold_clips,
                                      const FloatMatrix& trainee, const std::vector<ClipSpan>& trainee_clips,
                                      double window_sec, FloatMatrix* cost = nullptr);

// Two all-zero rows (clips with no features at all, e.g. nothing moving
// for a motion embedder) are the same clip: sets their similarity to 1,
// where the cosine says 0. `similarity` is a x b.
void MarkZeroPairsAlike(const FloatMatrix& a, const FloatMatrix& b, FloatMatrix* similarity);

// How alike the gold is to itself at another moment of the same step: for
// each gold clip, its best similarity to a clip of the same step (`step_of`,
// one entry per clip; -1 for a clip of no step, which is skipped) that
// shares no time with it; NaN for a clip without such a partner (a step
// shorter than two clips, or no step). `similarity` is gold x gold.
std::vector<double> SameStepSimilarity(const FloatMatrix& similarity, const std::vector<ClipSpan>& clips,
                                       const std::vector<int>& step_of);

// How alike each pair of neighbouring steps k, k + 1 looks: for each clip of
// one of them, its best similarity to a clip of the other that shares no
// time with it; the median over each step's clips, one value per direction:
// into_next[k] from step k's clips, into_previous[k] from step k + 1's. NaN
// where a step has no such partner. `step_of` as for SameStepSimilarity.
struct NeighbourSimilarity {
  std::vector<double> into_next;
  std::vector<double> into_previous;
};
NeighbourSimilarity NeighbourStepSimilarity(const FloatMatrix& similarity, const std::vector<ClipSpan>& clips,
                                            const std::vector<int>& step_of, int step_count);

// The step each clip lies wholly inside (its time within the step's span,
// `steps` in order), or -1 for a clip straddling a boundary or outside every
// step. A straddling clip is part of two steps and evidence of neither's
// own look.
std::vector<int> CoreStepOfClip(const std::vector<ClipSpan>& clips, const std::vector<TimeSpan>& steps);

// Per step, whether it is too short to be compared with itself at another
// moment without a clip that straddles its boundary: no two of its core
// clips (`core_of`, from CoreStepOfClip) share no time. For such a step,
// `value` is the similarity of its two core clips furthest apart in time
// (they share time, which can only raise it); NaN without two core clips.
struct ShortStepSelf {
  bool short_step = false;
  double value = std::numeric_limits<double>::quiet_NaN();
};
std::vector<ShortStepSelf> ShortStepSelfSimilarity(const FloatMatrix& similarity, const std::vector<ClipSpan>& clips,
                                                   const std::vector<int>& core_of, size_t step_count);

}  // namespace sopilot
