#include "cli/score_command.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "base/digest.h"
#include "base/env.h"
#include "base/json_text.h"
#include "base/time_code.h"
#include "cli/command.h"
#include "cli/ingest_flags.h"
#include "cli/score_flags.h"
#include "embed/embedding_file.h"
#include "report/html_report.h"
#include "report/pdf_report.h"
#include "report/report_frames.h"
#include "report/report_input.h"
#include "score/closest_gold.h"
#include "score/report_json.h"
#include "score/sop_evaluator.h"
#include "score/steps_file.h"

namespace sopilot::cli {

namespace {

struct ScoreArgs {
  std::string gold, trainee, steps, report, task;
  std::vector<std::string> also_golds;  // --also-gold: the report is against the closest gold
  bool json = false;
  IngestOptions ingest;
  ScoreOptions score;
};

std::string Span(const std::optional<TimeSpan>& t) {
  if (!t) return "-";
  return TimeSpanCode(t->start_sec, t->end_sec);
}

// `candidates`: the golds tried with --also-gold, closest first (else empty).
void PrintSummary(const ScoreArgs& a, const ScoreReport& r, const nlohmann::json& candidates) {
  std::printf("score %.1f  %s  (%s vs %s, %zu steps)\n", r.score, r.verdict.c_str(), a.gold.c_str(),
              a.trainee.c_str(), r.steps.size());
  if (!a.also_golds.empty()) std::printf("against the closest of %zu golds\n", a.also_golds.size() + 1);
  for (const nlohmann::json& c : candidates) {
    const std::string gold = c["gold"];
    if (c["score"].is_null()) {
      std::printf("  gold %s: not scored: %s\n", gold.c_str(), c["error"].get<std::string>().c_str());
    } else {
      std::printf("  gold %s: %.1f  %s\n", gold.c_str(), c["score"].get<double>(), c["verdict"].get<std::string>().c_str());
    }
  }
  if (!r.verdict_reason.empty()) std::printf("verdict %s: %s\n", r.verdict.c_str(), r.verdict_reason.c_str());
  if (r.deviations.empty()) std::printf("no deviations\n");
  for (const Deviation& d : r.deviations) {
    std::string what = d.step.index >= 0 ? "step " + std::to_string(d.step.index + 1) + " \"" + d.step.name + "\""
                                         : std::string("(no step)");
    if (d.other) what += " <-> step " + std::to_string(d.other->index + 1) + " \"" + d.other->name + "\"";
    if (d.critical) what += " (critical)";
    std::printf("  %-19s %-34s gold %-15s trainee %-15s %-6s -%.1f  %s\n", d.type.c_str(), what.c_str(),
                Span(d.step.gold_time).c_str(), Span(d.step.trainee_time).c_str(), d.severity.c_str(),
                d.penalty, d.reason.c_str());
  }
  for (const StepResult& s : r.steps) {
    if (s.status == "skipped") std::printf("  skipped             step %d \"%s\" (optional; costs nothing)\n", s.index + 1, s.name.c_str());
  }
  for (const IdleSpan& s : r.idle) {
    std::printf("  idle %-14s trainee %s (nothing of the procedure happens; costs nothing)\n",
                s.kind == kIdleLeadIn ? "before start" : "after end", Span(s.trainee_time).c_str());
  }
  for (const GoldIdleSpan& s : r.gold_idle) {
    std::printf("  idle %-14s gold %s (no step in the gold video; a trainee need not repeat it)\n",
                s.kind == kIdleLeadIn ? "before start" : "after end", Span(s.gold_time).c_str());
  }
}

// --report FILE: the result drawn as a PDF (or an HTML page for a .html
// name), with frames of the two videos at each deviation when they are
// videos rather than embedding files. The footer's SHA-256 is that of the
// result as --json prints it.
Status WriteReportFile(const ScoreArgs& args, const nlohmann::json& result, bool gold_is_file, bool trainee_is_file) {
  ReportInput in;
  in.result = result;
  in.result_sha256 = Sha256Hex(JsonText(result, 2));
  in.gold_label = std::filesystem::path(args.gold).filename().string();
  in.trainee_label = std::filesystem::path(args.trainee).filename().string();
  in.task_id = args.task.empty() ? std::filesystem::path(args.gold).stem().string() : args.task;
  if (!args.steps.empty()) in.task_id += " (steps: " + std::filesystem::path(args.steps).filename().string() + ")";
  // An embedding file has no pictures.
  SOPILOT_RETURN_IF_ERROR(
      AddDeviationFrames(&in, gold_is_file ? "" : args.gold, trainee_is_file ? "" : args.trainee));
  const bool html = std::filesystem::path(args.report).extension() == ".html";
  auto bytes = html ? RenderHtmlReport(in) : RenderPdfReport(in);
  if (!bytes.ok()) return bytes.status();
  return WriteFileAtomically(Env::Default(), args.report, *bytes);
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
  if (args.also_golds.empty() && !report.ok()) return ReportError(report.status());
  nlohmann::json j;
  if (args.also_golds.empty()) {
    j = ScoreReportToJson(*report);
  } else {
    // Against each gold, GOLD first: --steps are GOLD's times, so the other
    // golds are scored with the steps found in them. Reported against the
    // closest; a tie goes to the earlier on the command line.
    std::vector<std::string> paths = {args.gold};
    paths.insert(paths.end(), args.also_golds.begin(), args.also_golds.end());
    std::vector<Result<ScoreReport>> reports;
    reports.push_back(std::move(report));
    std::vector<bool> is_file = {gold_is_file};
    for (size_t i = 1; i < paths.size(); ++i) {
      is_file.push_back(LooksLikeEmbeddingFile(Env::Default(), paths[i]));
      auto other = LoadOrEmbed(paths[i], SettingsOf(*trainee, args.ingest), "gold");
      if (!other.ok()) return ReportError(other.status());
      reports.push_back(EvaluateSop(*other, *trainee, args.score));
    }
    std::vector<GoldCandidate> candidates;
    for (size_t i = 0; i < reports.size(); ++i) {
      candidates.push_back({static_cast<int64_t>(i + 1),
                            reports[i].ok() ? std::optional<double>(reports[i]->score) : std::nullopt, i == 0});
    }
    const std::vector<size_t> ranked = RankGoldCandidates(candidates);
    nlohmann::json tried = nlohmann::json::array();
    for (size_t i : ranked) {
      const auto& r = reports[i];
      tried.push_back({{"gold", paths[i]},
                       {"score", r.ok() ? nlohmann::json(r->score) : nlohmann::json(nullptr)},
                       {"verdict", r.ok() ? nlohmann::json(r->verdict) : nlohmann::json(nullptr)},
                       {"error", r.ok() ? nlohmann::json(nullptr) : nlohmann::json(r.status().message())}});
    }
    const size_t best = ranked[0];
    if (!reports[best].ok()) return ReportError(reports[best].status());
    report = std::move(reports[best]);
    args.gold = paths[best];
    gold_is_file = is_file[best];
    j = ScoreReportToJson(*report);
    j["gold"] = args.gold;
    j["gold_selection"] = "closest";
    j["gold_candidates"] = tried;
  }
  if (!args.report.empty()) {
    Status written = WriteReportFile(args, j, gold_is_file, trainee_is_file);
    if (!written.ok()) return ReportError(written);
  }
  if (args.json) {
    std::printf("%s\n", JsonText(j, 2).c_str());
  } else {
    PrintSummary(args, *report, j.value("gold_candidates", nlohmann::json::array()));
  }
  if (!args.report.empty()) std::fprintf(stderr, "sopilot: report written to %s\n", args.report.c_str());
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
                  "names without times on every step ({\"steps\": [{\"name\": \"REMOVE\"}, ...]}) are placed "
                  "in the gold video; without it the steps are found in the gold video");
  cmd->add_option("--report", args->report,
                  "Also write the result as a report a person can file: a PDF (an HTML page when FILE ends in "
                  ".html) with the step timeline, each deviation with a frame of each video, and the result's SHA-256");
  cmd->add_option("--task", args->task, "Task name shown in the report (default: the gold file's name)");
  cmd->add_option("--also-gold", args->also_golds,
                  "Another gold video (or embedding file) of the procedure, repeatable: the trainee is scored "
                  "against GOLD and each of them and reported against the closest (the highest score; a tie goes "
                  "to the earlier one). The summary and --json (gold, gold_candidates) say which; --steps apply "
                  "to GOLD only, the others are scored with the steps found in them")
      ->expected(1)  // one file per --also-gold: TRAINEE is never taken for a gold
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  AddScoreFlags(cmd, &args->score);
  AddIngestFlags(cmd, &args->ingest);
  return [args] { return RunScore(*args); };
}

}  // namespace sopilot::cli
