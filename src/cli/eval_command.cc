#include "cli/eval_command.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "base/env.h"
#include "base/json_text.h"
#include "cli/command.h"
#include "cli/eval_compare.h"
#include "cli/ingest_flags.h"
#include "cli/score_flags.h"
#include "embed/embedding_file.h"
#include "score/eval_labels.h"
#include "score/sop_evaluator.h"

namespace sopilot::cli {

namespace {

struct EvalArgs {
  std::vector<std::string> labels;
  bool json = false;
  bool strict = false;
  std::string baseline;  // an earlier run's --json output to compare with
  IngestOptions ingest;
  ScoreOptions score;
};

// One labels file's results.
struct FileResult {
  std::string path;
  EvalLabels labels;
  std::vector<PairOutcome> pairs;  // in labels.videos order
  SegmentationAccuracy segmentation;
  EvalTotals totals;
};

// Each input is read or embedded once per run, whichever labels files and
// pairs name it.
class EmbeddingCache {
 public:
  Result<const EmbeddingSet*> Get(const std::string& path, const IngestOptions& options, const std::string& role) {
    bool is_file = LooksLikeEmbeddingFile(Env::Default(), path);
    std::error_code ec;
    std::string key = std::filesystem::weakly_canonical(path, ec).string();
    if (ec) key = path;
    if (!is_file) {
      char settings[160];
      std::snprintf(settings, sizeof settings, "|%g|%d|%g|%g|%g|", options.decode.target_fps,
                    options.decode.max_side, options.clips.clip_seconds, options.clips.stride_seconds,
                    options.clips.min_clip_coverage);
      key += settings + options.embedder;
    }
    auto it = sets_.find(key);
    if (it != sets_.end()) return it->second.get();
    auto set = LoadOrEmbed(path, options, role);
    if (!set.ok()) return set.status();
    auto owned = std::make_unique<EmbeddingSet>(std::move(*set));
    const EmbeddingSet* p = owned.get();
    sets_.emplace(key, std::move(owned));
    return p;
  }

 private:
  std::map<std::string, std::unique_ptr<EmbeddingSet>> sets_;
};

Result<FileResult> EvaluateFile(const std::string& path, EvalLabels labels, const EvalArgs& args,
                                EmbeddingCache* cache) {
  FileResult out;
  out.path = path;
  // Videos are embedded with the settings of an embedding file among the
  // inputs (the gold's first), so that every pair compares.
  IngestOptions options = args.ingest;
  for (const LabelledVideo& v : labels.videos) {
    if (!LooksLikeEmbeddingFile(Env::Default(), v.file)) continue;
    auto set = cache->Get(v.file, options, v.name);
    if (!set.ok()) return set.status().WithContext(path + ": videos." + v.name);
    options = SettingsOf(**set, args.ingest);
    break;
  }
  const LabelledVideo& gold_video = labels.gold_video();
  auto gold = cache->Get(gold_video.file, options, "gold");
  if (!gold.ok()) return gold.status().WithContext(path + ": videos." + gold_video.name);
  std::vector<StepSpec> steps = labels.GoldSteps();
  for (const LabelledVideo& v : labels.videos) {
    auto trainee = cache->Get(v.file, options, v.name);
    if (!trainee.ok()) return trainee.status().WithContext(path + ": videos." + v.name);
    auto report = EvaluateSop(**gold, **trainee, args.score, labels.steps_given() ? &steps : nullptr);
    if (!report.ok()) return report.status().WithContext(path + ": videos." + v.name);
    PairOutcome pair = MatchDeviations(labels, v, *report);
    if (&v == &gold_video) out.segmentation = MeasureSegmentation(labels, *report);
    out.totals.Add(pair);
    out.pairs.push_back(std::move(pair));
  }
  out.labels = std::move(labels);
  return out;
}

// ---- text ----

std::string Fmt(const char* format, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, x);
  return buf;
}

std::string SpanText(const TimeSpan& t) { return Fmt("%.1f", t.start_sec) + "-" + Fmt("%.1f", t.end_sec) + "s"; }

std::string Describe(const DeviationLabel& l) {
  if (l.type == kExtraSegment) return l.type + "(" + (l.trainee_time ? SpanText(*l.trainee_time) : "?") + ")";
  std::string names;
  for (const std::string& n : l.gold_steps) names += (names.empty() ? "" : ",") + n;
  return l.type + "(" + names + ")";
}

// A found deviation by the labelled names of its steps (the scorer's name
// with "?" when it overlaps no labelled step).
std::string Describe(const FoundDeviation& f) {
  const Deviation& d = f.deviation;
  std::vector<std::string> names;
  size_t k = 0;  // labelled_steps holds a name per step the deviation names
  auto name = [&](const StepRef& ref) {
    const std::string& labelled = k < f.labelled_steps.size() ? f.labelled_steps[k++] : std::string();
    names.push_back(labelled.empty() ? ref.name + "?" : labelled);
  };
  if (d.step.index >= 0) name(d.step);
  if (d.other) name(*d.other);
  if (d.type == kExtraSegment && d.step.trainee_time) names.push_back(SpanText(*d.step.trainee_time));
  std::string inner;
  for (size_t i = 0; i < names.size(); ++i) inner += (i == 0 ? "" : d.type == kExtraSegment ? " " : ",") + names[i];
  return d.type + "(" + inner + ")";
}

// "a, b x3, c": repeats (a step the segmenter split, found missing in each
// part) are counted, in the order they first appear.
std::string JoinCounted(const std::vector<std::string>& items) {
  std::vector<std::pair<std::string, int>> counted;
  for (const std::string& item : items) {
    auto it = std::find_if(counted.begin(), counted.end(), [&](const auto& c) { return c.first == item; });
    if (it == counted.end()) counted.push_back({item, 1});
    else ++it->second;
  }
  std::string s;
  for (const auto& [item, n] : counted) {
    s += (s.empty() ? "" : ", ") + item + (n > 1 ? " x" + std::to_string(n) : "");
  }
  return s;
}

std::string Details(const PairOutcome& p) {
  std::vector<std::string> missed_items, false_items;
  for (const DeviationLabel& l : p.missed_labels) missed_items.push_back(Describe(l));
  for (const FoundDeviation& f : p.deviations) {
    if (f.outcome == "false") false_items.push_back(Describe(f));
  }
  std::string missed = JoinCounted(missed_items), wrong = JoinCounted(false_items);
  std::string s;
  if (!missed.empty()) s += "missed: " + missed;
  if (!wrong.empty()) s += (s.empty() ? "" : "; ") + std::string("false: ") + wrong;
  return s;
}

std::string Agrees(const std::optional<bool>& agrees) {
  if (!agrees) return "-";
  return *agrees ? "yes" : "NO";
}

void PrintRow(int width, const std::string& pair, const std::string& score, const std::string& verdict,
              const std::string& agrees, const EvalTotals& t, const std::string& details) {
  std::vector<char> buf(pair.size() + score.size() + verdict.size() + agrees.size() + width + 128);
  std::snprintf(buf.data(), buf.size(), "%-*s  %5s  %-12s  %-6s  %8d  %5d  %6d  %5d  %7d", width, pair.c_str(),
                score.c_str(), verdict.c_str(), agrees.c_str(), t.expected, t.found, t.missed, t.false_count,
                t.allowed);
  std::printf("%s%s%s\n", buf.data(), details.empty() ? "" : "  ", details.c_str());
}

void PrintSegmentation(const FileResult& f) {
  const SegmentationAccuracy& s = f.segmentation;
  std::string line = "  segmentation: " + std::to_string(s.found_steps) + " gold steps found, " +
                     std::to_string(s.labelled_steps) + " labelled";
  if (f.labels.use_labelled_steps) line += " (the labelled steps were used)";
  if (f.labels.place_labelled_names) line += " (the labelled names were placed)";
  if (!s.boundaries.empty()) {
    line += "; boundary error";
    for (size_t i = 0; i < s.boundaries.size(); ++i) {
      line += (i == 0 ? " " : ", ") + s.boundaries[i].step + " " + Fmt("%.1f", s.boundaries[i].error_sec);
    }
    line += " s; mean " + Fmt("%.2f", s.mean_error_sec) + " s, max " + Fmt("%.2f", s.max_error_sec) + " s";
    line += Fmt("; within %.0f s: ", kBoundaryToleranceSec) + std::to_string(s.labelled_found) + " of " +
            std::to_string(s.boundaries.size()) + " labelled boundaries found, " + std::to_string(s.extra_found) +
            " found near none";
  }
  std::printf("%s\n", line.c_str());
}

void PrintTable(const std::vector<FileResult>& files, const EvalTotals& totals) {
  int width = 5;  // "TOTAL"
  for (const FileResult& f : files) {
    for (const PairOutcome& p : f.pairs) width = std::max(width, static_cast<int>(p.video.size()));
  }
  bool first = true;
  for (const FileResult& f : files) {
    if (!first) std::printf("\n");
    first = false;
    std::string about = f.labels.task_id.empty() ? "" : "task " + f.labels.task_id + ", ";
    about += "gold \"" + f.labels.gold + "\", " + std::to_string(f.labels.steps.size()) + " steps " +
             (f.labels.use_labelled_steps     ? "as labelled"
              : f.labels.place_labelled_names ? "named as labelled, placed automatically"
                                              : "found automatically");
    std::printf("%s  (%s)\n", f.path.c_str(), about.c_str());
    std::printf("%-*s  %5s  %-12s  %-6s  %8s  %5s  %6s  %5s  %7s  details\n", width, "pair", "score", "verdict",
                "agrees", "expected", "found", "missed", "false", "allowed");
    for (const PairOutcome& p : f.pairs) {
      EvalTotals t;
      t.Add(p);
      PrintRow(width, p.video, Fmt("%.1f", p.score), p.verdict, Agrees(p.verdict_agrees), t, Details(p));
    }
    PrintSegmentation(f);
    const EvalTotals& t = f.totals;
    std::printf("  this file: %d expected, %d found, %d missed, %d false, %d allowed; verdicts agree in %d/%d\n",
                t.expected, t.found, t.missed, t.false_count, t.allowed, t.verdicts_agree, t.verdicts_checked);
  }
  std::printf("\n");
  std::string agree = std::to_string(totals.verdicts_agree) + "/" + std::to_string(totals.verdicts_checked);
  PrintRow(width, "TOTAL", "", "", agree, totals,
           std::to_string(files.size()) + (files.size() == 1 ? " labels file, " : " labels files, ") +
               std::to_string(totals.pairs) + " pairs; verdicts agree in " + agree + " pairs that say one");
}

// ---- JSON ----

nlohmann::json SpanJson(const std::optional<TimeSpan>& t) {
  if (!t) return nullptr;
  auto r = [](double x) { return std::round(x * 1000) / 1000; };
  return {{"start_sec", r(t->start_sec)}, {"end_sec", r(t->end_sec)}};
}

nlohmann::json LabelJson(const DeviationLabel& l) {
  nlohmann::json j = {{"type", l.type}};
  if (l.type == kOrderSwap) j["gold_steps"] = l.gold_steps;
  else if (l.type == kExtraSegment) j["trainee_time"] = SpanJson(l.trainee_time);
  else j["gold_step"] = l.gold_steps.empty() ? "" : l.gold_steps[0];
  if (!l.note.empty()) j["note"] = l.note;
  return j;
}

nlohmann::json OptionalBool(const std::optional<bool>& b) { return b ? nlohmann::json(*b) : nlohmann::json(nullptr); }

nlohmann::json TotalsJson(const EvalTotals& t) {
  return {{"pairs", t.pairs},
          {"expected", t.expected},
          {"found", t.found},
          {"missed", t.missed},
          {"false", t.false_count},
          {"allowed", t.allowed},
          {"verdicts_checked", t.verdicts_checked},
          {"verdicts_agree", t.verdicts_agree}};
}

nlohmann::json PairJson(const PairOutcome& p, const LabelledVideo& v) {
  nlohmann::json devs = nlohmann::json::array();
  for (const FoundDeviation& f : p.deviations) {
    const Deviation& d = f.deviation;
    nlohmann::json j = {{"type", d.type},
                        {"outcome", f.outcome},
                        {"gold_step", d.step.index >= 0 ? nlohmann::json(d.step.index) : nlohmann::json(nullptr)},
                        {"gold_step_name", d.step.index >= 0 ? nlohmann::json(d.step.name) : nlohmann::json(nullptr)},
                        {"labelled_steps", f.labelled_steps},
                        {"gold_time", SpanJson(d.step.gold_time)},
                        {"trainee_time", SpanJson(d.step.trainee_time)},
                        {"severity", d.severity},
                        {"penalty", std::round(d.penalty * 1000) / 1000},
                        {"reason", d.reason}};
    if (d.other) {
      j["swapped_with"] = {{"gold_step", d.other->index},
                           {"gold_step_name", d.other->name},
                           {"gold_time", SpanJson(d.other->gold_time)},
                           {"trainee_time", SpanJson(d.other->trainee_time)}};
    }
    devs.push_back(j);
  }
  nlohmann::json missed = nlohmann::json::array();
  for (const DeviationLabel& l : p.missed_labels) missed.push_back(LabelJson(l));
  nlohmann::json idle = nlohmann::json::array();
  for (const TimeSpan& t : v.idle) idle.push_back(SpanJson(t));
  return {{"video", p.video},
          {"file", v.file},
          {"score", std::round(p.score * 10000) / 10000},
          {"verdict", p.verdict},
          {"should_pass", OptionalBool(p.should_pass)},
          {"verdict_agrees", OptionalBool(p.verdict_agrees)},
          {"expected", p.expected},
          {"found", p.found},
          {"missed", p.missed},
          {"false", p.false_count},
          {"allowed", p.allowed},
          {"missed_labels", missed},
          {"deviations", devs},
          {"idle", idle}};
}

nlohmann::json FileJson(const FileResult& f) {
  nlohmann::json pairs = nlohmann::json::array();
  for (size_t i = 0; i < f.pairs.size(); ++i) pairs.push_back(PairJson(f.pairs[i], f.labels.videos[i]));
  nlohmann::json boundaries = nlohmann::json::array();
  for (const BoundaryError& b : f.segmentation.boundaries) {
    auto r = [](double x) { return std::round(x * 1000) / 1000; };
    boundaries.push_back({{"step", b.step},
                          {"labelled_sec", r(b.labelled_sec)},
                          {"found_sec", r(b.found_sec)},
                          {"error_sec", r(b.error_sec)}});
  }
  return {{"labels", f.path},
          {"task_id", f.labels.task_id},
          {"gold", f.labels.gold},
          {"use_labelled_steps",
           f.labels.place_labelled_names ? nlohmann::json("names") : nlohmann::json(f.labels.use_labelled_steps)},
          {"steps", f.labels.steps},
          {"pairs", pairs},
          {"segmentation",
           {{"found_steps", f.segmentation.found_steps},
            {"labelled_steps", f.segmentation.labelled_steps},
            {"boundaries", boundaries},
            {"mean_error_sec", std::round(f.segmentation.mean_error_sec * 1000) / 1000},
            {"max_error_sec", std::round(f.segmentation.max_error_sec * 1000) / 1000},
            {"tolerance_sec", kBoundaryToleranceSec},
            {"labelled_boundaries_found", f.segmentation.labelled_found},
            {"extra_boundaries_found", f.segmentation.extra_found}}},
          {"totals", TotalsJson(f.totals)}};
}

int RunEval(const EvalArgs& args) {
  Status st = ValidateIngestOptions(args.ingest);
  if (st.ok()) st = ValidateScoreOptions(args.score);
  if (!st.ok()) {
    std::fprintf(stderr, "sopilot: usage error: %s\n", st.message().c_str());
    return kExitUsage;
  }
  // The baseline and every labels file are checked before anything is
  // embedded.
  nlohmann::json baseline;
  if (!args.baseline.empty()) {
    auto text = Env::Default()->ReadFile(args.baseline, uint64_t{1} << 30);
    if (!text.ok()) return ReportError(text.status().WithContext("--baseline"));
    baseline = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
    Status checked = baseline.is_discarded() ? Status::InvalidArgument("not JSON") : CheckEvalRun(baseline);
    if (!checked.ok()) return ReportError(checked.WithContext("--baseline " + args.baseline));
  }
  std::vector<EvalLabels> all;
  for (const std::string& path : args.labels) {
    auto labels = ReadEvalLabels(Env::Default(), path);
    if (!labels.ok()) return ReportError(labels.status());
    all.push_back(std::move(*labels));
  }
  EmbeddingCache cache;
  std::vector<FileResult> files;
  EvalTotals totals;
  for (size_t i = 0; i < all.size(); ++i) {
    auto result = EvaluateFile(args.labels[i], std::move(all[i]), args, &cache);
    if (!result.ok()) return ReportError(result.status());
    totals.Add(result->totals);
    files.push_back(std::move(*result));
  }
  nlohmann::json out = {{"files", nlohmann::json::array()}, {"totals", TotalsJson(totals)}};
  for (const FileResult& f : files) out["files"].push_back(FileJson(f));
  std::optional<EvalComparison> comparison;
  if (!args.baseline.empty()) {
    auto c = CompareEvalRuns(baseline, out);
    if (!c.ok()) return ReportError(c.status());
    comparison = std::move(*c);
  }
  if (args.json) {
    if (comparison) out["baseline"] = ComparisonJson(*comparison, args.baseline);
    std::printf("%s\n", JsonText(out, 2).c_str());
  } else {
    PrintTable(files, totals);
    if (comparison) std::printf("\n%s", ComparisonText(*comparison, args.baseline).c_str());
  }
  if (args.strict && totals.missed + totals.false_count > 0) return kExitEvalDisagrees;
  return kExitOk;
}

}  // namespace

std::function<int()> AddEvalCommand(CLI::App* app) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* cmd = app->add_subcommand(
      "eval",
      "Check the scoring against a person's labels: score every video of each labels file against its gold "
      "and print, per pair, the score, the verdict and the deviations expected, found, missed and false, "
      "the gold's segmentation accuracy, and totals (doc/scoring-eval.md has the labels format). "
      "Exit codes: 0 the run worked, whatever the results; 3 with --strict when a deviation was missed or "
      "false; 1 bad labels or an unreadable video; 2 usage.");
  cmd->add_option("LABELS", args->labels, "Labels files (JSON), e.g. fixtures/maintenance_filter_swap/labels.json")
      ->required();
  cmd->add_flag("--json", args->json, "Print every result as JSON");
  cmd->add_flag("--strict", args->strict, "Exit 3 when a labelled deviation was missed or a found one is false");
  cmd->add_option("--baseline", args->baseline,
                  "An earlier run's `sopilot eval --json` output: print, after the table, found / missed / false "
                  "per labels file before and after, and the pairs that changed");
  AddScoreFlags(cmd, &args->score);
  AddIngestFlags(cmd, &args->ingest);
  return [args] { return RunEval(*args); };
}

}  // namespace sopilot::cli
