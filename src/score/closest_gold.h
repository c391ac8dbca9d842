// The closest gold: a trainee scored against several gold videos of its
// task is reported against the one it scores highest on. Only the order of
// the candidates is decided here; scoring each one is EvaluateSop's
// (score/sop_evaluator.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace sopilot {

// One gold video's score of the trainee.
struct GoldCandidate {
  int64_t gold_video_id = 0;
  std::optional<double> score;  // none: this gold could not be scored
  // The gold a score without a choice would use (the task's chosen gold):
  // it wins a tie.
  bool preferred = false;
};

// The candidates' indexes, closest first: the higher score, on equal scores
// the preferred one, then the lower video id. Candidates without a score
// come last, by video id. The first is the closest gold unless it has no
// score (then none could be scored).
std::vector<size_t> RankGoldCandidates(const std::vector<GoldCandidate>& candidates);

}  // namespace sopilot
