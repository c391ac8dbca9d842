#include "cli/score_command.h"

#include <cmath>
#include <cstdio>
#include <memory>

#include "base/json_text.h"
#include "base/env.h"
#include "cli/command.h"
#include "cli/ingest_flags.h"
#include "cli/score_flags.h"
#include "embed/embedding_file.h"
#include "score/report_json.h"
#include "score/sop_evaluator.h"
#include "score/steps_file.h"

namespace sopilot::cli {

namespace {

struct ScoreArgs {
  std::string gold, trainee, steps;
  bool json = false;
  IngestOptions ingest;
  ScoreOptions score;
};

std::string Clock(double sec) {
  char buf[32];
  int m = static_cast<int>(sec / 60);
  std::snprintf(buf, sizeof buf, "%d:%04.1f", m, sec - 60 * m);
  return buf;
}

std::string Span(const std::optional<TimeSpan>& t) {
  if (!t) return "-";
  return Clock(t->start_sec) + "-" + Clock(t->end_sec);
}

void PrintSummary(const ScoreArgs& a, const ScoreReport& r) {
  std::printf("score %.1f  %s  (%s vs %s, %zu steps)\n", r.score, r.verdict.c_str(), a.gold.c_str(),
              a.trainee.c_str(), r.steps.size());
  if (r.deviations.empty()) std::printf("no deviations\n");
  for (const Deviation& d : r.deviations) {
    std::string what = d.step.index >= 0 ? "step " + std::to_string(d.step.index + 1) + " \"" + d.step.name + "\""
                                         : std::string("(no step)");
    if (d.other) what += " <-> step " + std::to_string(d.other->index + 1) + " \"" + d.other->name + "\"";
    std::printf("  %-19s %-34s gold %-15s trainee %-15s %-6s -%.1f  %s\n", d.type.c_str(), what.c_str(),
                Span(d.step.gold_time).c_str(), Span(d.step.trainee_time).c_str(), d.severity.c_str(),
                d.penalty, d.reason.c_str());
  }
  for (const IdleSpan& s : r.idle) {
    std::printf("  idle %-14s trainee %s (nothing of the procedure happens; costs nothing)\n",
                s.kind == kIdleLeadIn ? "before start" : "after end", Span(s.trainee_time).c_str());
  }
}

int RunScore(ScoreArgs args) {
  Status st = ValidateIngestOptions(args.ingest);
  if (st.ok()) st = ValidateScoreOptions(args.score);
  if (!st.ok()) {
    std::fprintf(stderr, "sopilot: usage error: %s\n", st.message().c_str());
    return kExitUsage;
  }
  std::vector<StepSpec> steps;
  if (!args.steps.empty()) {
    auto loaded = ReadStepsFile(Env::Default(), args.steps);
    if (!loaded.ok()) return ReportError(loaded.status());
    steps = std::move(*loaded);
  }
  // Embedding files first: their settings decide how videos are embedded.
  bool gold_is_file = LooksLikeEmbeddingFile(Env::Default(), args.gold);
  bool trainee_is_file = LooksLikeEmbeddingFile(Env::Default(), args.trainee);
  Result<EmbeddingSet> gold = Status::Internal("not loaded");
  Result<EmbeddingSet> trainee = Status::Internal("not loaded");
  if (gold_is_file || !trainee_is_file) {
    gold = LoadOrEmbed(args.gold, args.ingest, "gold");
    if (!gold.ok()) return ReportError(gold.status());
    trainee = LoadOrEmbed(args.trainee, gold_is_file ? SettingsOf(*gold, args.ingest) : args.ingest, "trainee");
  } else {
    trainee = LoadOrEmbed(args.trainee, args.ingest, "trainee");
    if (!trainee.ok()) return ReportError(trainee.status());
    gold = LoadOrEmbed(args.gold, SettingsOf(*trainee, args.ingest), "gold");
  }
  if (!gold.ok()) return ReportError(gold.status());
  if (!trainee.ok()) return ReportError(trainee.status());
  auto report = EvaluateSop(*gold, *trainee, args.score, steps.empty() ? nullptr : &steps);
  if (!report.ok()) return ReportError(report.status());
  if (args.json) {
    nlohmann::json j = ScoreReportToJson(*report);
    std::printf("%s\n", JsonText(j, 2).c_str());
  } else {
    PrintSummary(args, *report);
  }
  return kExitOk;
}

}  // namespace

std::function<int()> AddScoreCommand(CLI::App* app) {
  auto args = std::make_shared<ScoreArgs>();
  CLI::App* cmd = app->add_subcommand(
      "score",
      "Score a trainee video against the gold video of the procedure (0-100, with deviations).\n"
      "GOLD and TRAINEE are videos or embedding files from `sopilot embed --out`. Prints a summary "
      "(score, verdict, one line per deviation with time codes in both videos), or the full result "
      "with --json. Deviation types: step_missing, order_swap, over_time, execution_deviation, "
      "extra_segment.");
  cmd->add_option("GOLD", args->gold, "Gold video or embedding file")->required();
  cmd->add_option("TRAINEE", args->trainee, "Trainee video or embedding file")->required();
  cmd->add_flag("--json", args->json, "Print the full result as JSON");
  cmd->add_option("--steps", args->steps,
                  "JSON file naming the steps and their gold times: "
                  "{\"steps\": [{\"name\": \"REMOVE\", \"start_sec\": 0, \"end_sec\": 6}, ...]}; "
                  "without it the steps are found in the gold video");
  AddScoreFlags(cmd, &args->score);
  AddIngestFlags(cmd, &args->ingest);
  return [args] { return RunScore(*args); };
}

}  // namespace sopilot::cli
