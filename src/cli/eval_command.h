// `sopilot eval LABELS.json [LABELS.json ...] [--json] [--strict]`: scores
// every labelled video against its gold and compares the deviations found
// with a person's labels (score/eval_labels.h has the format and the
// matching rules). Prints, per pair, the score, the verdict and the
// deviations expected, found, missed and false; the gold's segmentation
// accuracy; and totals. Scoring and sampling options are those of
// `sopilot score`; each video is embedded once per run.
//
// Exit codes: 0 the run worked, whatever the results; 3 with --strict when
// a deviation was missed or false; 1 bad labels or an unreadable video
// (one line on stderr); 2 usage.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace sopilot::cli {

constexpr int kExitEvalDisagrees = 3;

std::function<int()> AddEvalCommand(CLI::App* app);

}  // namespace sopilot::cli
