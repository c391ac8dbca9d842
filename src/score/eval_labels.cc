#include "score/eval_labels.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

namespace sopilot {

namespace {

using Json = nlohmann::ordered_json;  // keeps the videos in file order

constexpr const char* kDeviationTypes[] = {kStepMissing, kOrderSwap, kOverTime, kExecutionDeviation,
                                           kExtraSegment};

Status Bad(const std::string& where, const std::string& what) {
  return Status::InvalidArgument(where + ": " + what);
}

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

bool IsNumber(const Json& j) { return j.is_number() && std::isfinite(j.get<double>()); }

// [start, end] with 0 <= start < end.
Result<TimeSpan> ParseSpan(const Json& j, const std::string& where) {
  if (!j.is_array() || j.size() != 2 || !IsNumber(j[0]) || !IsNumber(j[1])) {
    return Bad(where, "must be [start, end] in seconds");
  }
  TimeSpan t{j[0].get<double>(), j[1].get<double>()};
  if (t.start_sec < 0 || t.end_sec <= t.start_sec) return Bad(where, "needs 0 <= start < end");
  return t;
}

Status CheckStepName(const Json& j, const std::string& where, const std::set<std::string>& steps) {
  if (!j.is_string()) return Bad(where, "must be a step name (a string)");
  if (!steps.count(j.get<std::string>())) {
    return Bad(where, "unknown step " + Quoted(j.get<std::string>()) + " (not in \"steps\")");
  }
  return Status::Ok();
}

Result<std::vector<LabelledStep>> ParseTimeline(const Json& j, const std::string& where,
                                                const std::set<std::string>& steps) {
  if (!j.is_array()) return Bad(where, "must be an array of [step, start, end]");
  std::vector<LabelledStep> timeline;
  for (size_t i = 0; i < j.size(); ++i) {
    std::string at = where + "[" + std::to_string(i) + "]";
    const Json& e = j[i];
    if (!e.is_array() || e.size() != 3) return Bad(at, "must be [step, start, end]");
    SOPILOT_RETURN_IF_ERROR(CheckStepName(e[0], at, steps));
    if (!IsNumber(e[1]) || !IsNumber(e[2])) return Bad(at, "must be [step, start, end], start and end in seconds");
    SOPILOT_ASSIGN_OR_RETURN(TimeSpan t, ParseSpan(Json::array({e[1], e[2]}), at));
    if (!timeline.empty() && t.start_sec < timeline.back().time.start_sec) {
      return Bad(at, "starts before the entry above it (list the timeline in time order)");
    }
    timeline.push_back({e[0].get<std::string>(), t});
  }
  return timeline;
}

Result<DeviationLabel> ParseDeviationLabel(const Json& j, const std::string& where,
                                           const std::set<std::string>& steps) {
  if (!j.is_object()) return Bad(where, "must be an object with \"type\"");
  if (!j.contains("type")) return Bad(where, "missing \"type\"");
  if (!j["type"].is_string()) return Bad(where + ".type", "must be a string");
  DeviationLabel label;
  label.type = j["type"].get<std::string>();
  if (std::find_if(std::begin(kDeviationTypes), std::end(kDeviationTypes),
                   [&](const char* t) { return label.type == t; }) == std::end(kDeviationTypes)) {
    return Bad(where, "unknown type " + Quoted(label.type) +
                          " (one of step_missing, order_swap, over_time, execution_deviation, extra_segment)");
  }
  if (j.contains("note")) {
    if (!j["note"].is_string()) return Bad(where + ".note", "must be a string");
    label.note = j["note"].get<std::string>();
  }
  if (label.type == kOrderSwap) {
    if (!j.contains("gold_steps")) return Bad(where, "order_swap needs \"gold_steps\": [A, B]");
    const Json& names = j["gold_steps"];
    if (!names.is_array() || names.size() != 2) return Bad(where + ".gold_steps", "must be [A, B]");
    for (size_t i = 0; i < 2; ++i) {
      SOPILOT_RETURN_IF_ERROR(CheckStepName(names[i], where + ".gold_steps[" + std::to_string(i) + "]", steps));
      label.gold_steps.push_back(names[i].get<std::string>());
    }
    if (label.gold_steps[0] == label.gold_steps[1]) return Bad(where + ".gold_steps", "names one step twice");
  } else if (label.type == kExtraSegment) {
    if (!j.contains("trainee_time")) return Bad(where, "extra_segment needs \"trainee_time\": [start, end]");
    SOPILOT_ASSIGN_OR_RETURN(label.trainee_time, ParseSpan(j["trainee_time"], where + ".trainee_time"));
  } else {
    if (!j.contains("gold_step")) return Bad(where, label.type + " needs \"gold_step\"");
    SOPILOT_RETURN_IF_ERROR(CheckStepName(j["gold_step"], where + ".gold_step", steps));
    label.gold_steps.push_back(j["gold_step"].get<std::string>());
  }
  return label;
}

Result<std::vector<DeviationLabel>> ParseDeviationLabels(const Json& j, const std::string& where,
                                                         const std::set<std::string>& steps) {
  if (!j.is_array()) return Bad(where, "must be an array of deviation labels");
  std::vector<DeviationLabel> labels;
  for (size_t i = 0; i < j.size(); ++i) {
    SOPILOT_ASSIGN_OR_RETURN(DeviationLabel label,
                             ParseDeviationLabel(j[i], where + "[" + std::to_string(i) + "]", steps));
    labels.push_back(std::move(label));
  }
  return labels;
}

Result<LabelledVideo> ParseVideo(const std::string& name, const Json& j, const std::string& base_dir,
                                 const std::set<std::string>& steps) {
  std::string where = "videos." + name;
  if (!j.is_object()) return Bad(where, "must be an object");
  LabelledVideo v;
  v.name = name;
  std::string file = name + ".mp4";
  if (j.contains("file")) {
    if (!j["file"].is_string() || j["file"].get<std::string>().empty()) {
      return Bad(where + ".file", "must be a non-empty path");
    }
    file = j["file"].get<std::string>();
  }
  std::filesystem::path p(file);
  v.file = (p.is_absolute() || base_dir.empty()) ? p.string() : (std::filesystem::path(base_dir) / p).string();
  if (j.contains("timeline")) {
    SOPILOT_ASSIGN_OR_RETURN(v.timeline, ParseTimeline(j["timeline"], where + ".timeline", steps));
  }
  if (j.contains("idle")) {
    const Json& idle = j["idle"];
    if (!idle.is_array()) return Bad(where + ".idle", "must be an array of [start, end]");
    for (size_t i = 0; i < idle.size(); ++i) {
      SOPILOT_ASSIGN_OR_RETURN(TimeSpan t, ParseSpan(idle[i], where + ".idle[" + std::to_string(i) + "]"));
      v.idle.push_back(t);
    }
  }
  if (!j.contains("expected_deviations")) {
    return Bad(where, "missing \"expected_deviations\" (write [] for a video with none)");
  }
  SOPILOT_ASSIGN_OR_RETURN(v.expected,
                           ParseDeviationLabels(j["expected_deviations"], where + ".expected_deviations", steps));
  if (j.contains("allowed_deviations")) {
    SOPILOT_ASSIGN_OR_RETURN(v.allowed,
                             ParseDeviationLabels(j["allowed_deviations"], where + ".allowed_deviations", steps));
  }
  return v;
}

// The gold's timeline must be the steps, once each, in order, not overlapping.
Status CheckGoldTimeline(const EvalLabels& labels) {
  const LabelledVideo& gold = labels.gold_video();
  std::string where = "videos." + gold.name + ".timeline";
  if (gold.timeline.empty()) return Bad("videos." + gold.name, "the gold video needs a \"timeline\"");
  if (gold.timeline.size() != labels.steps.size()) {
    return Bad(where, "must list each of the " + std::to_string(labels.steps.size()) +
                          " steps once, in the order of \"steps\" (it has " +
                          std::to_string(gold.timeline.size()) + " entries)");
  }
  for (size_t i = 0; i < gold.timeline.size(); ++i) {
    std::string at = where + "[" + std::to_string(i) + "]";
    if (gold.timeline[i].name != labels.steps[i]) {
      return Bad(at, "is " + Quoted(gold.timeline[i].name) + " but \"steps\" has " + Quoted(labels.steps[i]) +
                         " there (the gold's timeline lists the steps in order)");
    }
    if (i > 0 && gold.timeline[i].time.start_sec < gold.timeline[i - 1].time.end_sec - 1e-9) {
      return Bad(at, "starts before the step above it ends");
    }
  }
  return Status::Ok();
}

double Overlap(const TimeSpan& a, const TimeSpan& b) {
  return std::max(0.0, std::min(a.end_sec, b.end_sec) - std::max(a.start_sec, b.start_sec));
}

// The labelled name of a found gold step ("" when none).
std::string LabelledName(const EvalLabels& labels, const ScoreReport& report, const StepRef& ref) {
  const std::vector<LabelledStep>& timeline = labels.gold_video().timeline;
  if (ref.index < 0) return "";
  if (labels.steps_given()) {
    return ref.index < static_cast<int>(timeline.size()) ? timeline[ref.index].name : "";
  }
  std::optional<TimeSpan> t = ref.gold_time;
  if (!t && ref.index < static_cast<int>(report.steps.size())) t = report.steps[ref.index].gold_time;
  if (!t) return "";
  std::string best;
  double best_overlap = 0;
  for (const LabelledStep& s : timeline) {
    double o = Overlap(*t, s.time);
    if (o > best_overlap) {
      best_overlap = o;
      best = s.name;
    }
  }
  return best;
}

bool Matches(const DeviationLabel& label, const FoundDeviation& f) {
  const Deviation& d = f.deviation;
  if (label.type != d.type) return false;
  if (d.type == kExtraSegment) {
    return d.step.trainee_time && label.trainee_time && Overlap(*d.step.trainee_time, *label.trainee_time) > 0;
  }
  if (d.type == kOrderSwap) {
    if (f.labelled_steps.size() != 2 || label.gold_steps.size() != 2) return false;
    const std::string &a = f.labelled_steps[0], &b = f.labelled_steps[1];
    return (a == label.gold_steps[0] && b == label.gold_steps[1]) ||
           (a == label.gold_steps[1] && b == label.gold_steps[0]);
  }
  return !f.labelled_steps.empty() && !label.gold_steps.empty() && f.labelled_steps[0] == label.gold_steps[0];
}

}  // namespace

std::vector<StepSpec> EvalLabels::GoldSteps() const {
  std::vector<StepSpec> specs;
  for (const LabelledStep& s : gold_video().timeline) {
    StepSpec spec{s.name, s.time, {}};
    spec.timed = !place_labelled_names;
    specs.push_back(std::move(spec));
  }
  return specs;
}

Result<EvalLabels> ParseEvalLabels(const std::string& text, const std::string& base_dir) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object()) return Status::InvalidArgument("must be a JSON object with \"steps\" and \"videos\"");
  EvalLabels labels;
  if (j.contains("task_id") && j["task_id"].is_string()) labels.task_id = j["task_id"].get<std::string>();
  if (!j.contains("steps")) return Status::InvalidArgument("missing \"steps\" (the step names in gold order)");
  if (!j["steps"].is_array() || j["steps"].empty()) return Bad("steps", "must be a non-empty array of names");
  std::set<std::string> names;
  for (size_t i = 0; i < j["steps"].size(); ++i) {
    const Json& s = j["steps"][i];
    std::string at = "steps[" + std::to_string(i) + "]";
    if (!s.is_string() || s.get<std::string>().empty()) return Bad(at, "must be a non-empty name");
    if (!names.insert(s.get<std::string>()).second) return Bad(at, Quoted(s.get<std::string>()) + " is listed twice");
    labels.steps.push_back(s.get<std::string>());
  }
  if (j.contains("gold")) {
    if (!j["gold"].is_string() || j["gold"].get<std::string>().empty()) return Bad("gold", "must be a video name");
    labels.gold = j["gold"].get<std::string>();
  }
  if (j.contains("use_labelled_steps")) {
    const Json& use = j["use_labelled_steps"];
    if (use.is_string() && use.get<std::string>() == "names") {
      labels.place_labelled_names = true;
    } else if (use.is_boolean()) {
      labels.use_labelled_steps = use.get<bool>();
    } else {
      return Bad("use_labelled_steps", "must be true, false or \"names\"");
    }
  }
  if (!j.contains("videos")) return Status::InvalidArgument("missing \"videos\"");
  const Json& videos = j["videos"];
  if (!videos.is_object() || videos.empty()) return Bad("videos", "must be a non-empty object {name: {...}}");
  if (!videos.contains(labels.gold)) {
    return Bad("videos", "has no gold video " + Quoted(labels.gold) +
                             (j.contains("gold") ? " (named by \"gold\")" : " (set \"gold\" to its name)"));
  }
  SOPILOT_ASSIGN_OR_RETURN(LabelledVideo gold, ParseVideo(labels.gold, videos[labels.gold], base_dir, names));
  labels.videos.push_back(std::move(gold));
  for (const auto& [name, v] : videos.items()) {
    if (name == labels.gold) continue;
    if (name.empty()) return Bad("videos", "a video has an empty name");
    SOPILOT_ASSIGN_OR_RETURN(LabelledVideo video, ParseVideo(name, v, base_dir, names));
    labels.videos.push_back(std::move(video));
  }
  SOPILOT_RETURN_IF_ERROR(CheckGoldTimeline(labels));
  return labels;
}

Result<EvalLabels> ReadEvalLabels(Env* env, const std::string& path) {
  auto text = env->ReadFile(path, 16 << 20);
  if (!text.ok()) return text.status();
  std::string dir = std::filesystem::path(path).parent_path().string();
  auto labels = ParseEvalLabels(*text, dir.empty() ? "." : dir);
  if (!labels.ok()) return labels.status().WithContext(path);
  for (const LabelledVideo& v : labels->videos) {
    if (!env->FileExists(v.file) || env->IsDirectory(v.file)) {
      return Status::NotFound(path + ": videos." + v.name + ": file " + v.file + " does not exist" +
                              (v.file.ends_with(v.name + ".mp4") ? " (set \"file\" when it is elsewhere)" : ""));
    }
  }
  return labels;
}

PairOutcome MatchDeviations(const EvalLabels& labels, const LabelledVideo& video, const ScoreReport& report) {
  PairOutcome out;
  out.video = video.name;
  out.score = report.score;
  out.verdict = report.verdict;
  out.expected = static_cast<int>(video.expected.size());
  std::vector<bool> expected_found(video.expected.size(), false);
  for (const Deviation& d : report.deviations) {
    FoundDeviation f;
    f.deviation = d;
    if (d.step.index >= 0) f.labelled_steps.push_back(LabelledName(labels, report, d.step));
    if (d.other) f.labelled_steps.push_back(LabelledName(labels, report, *d.other));
    bool is_true = false;
    for (size_t i = 0; i < video.expected.size(); ++i) {
      if (Matches(video.expected[i], f)) {
        expected_found[i] = true;
        is_true = true;
      }
    }
    bool is_allowed = !is_true && std::any_of(video.allowed.begin(), video.allowed.end(),
                                              [&](const DeviationLabel& l) { return Matches(l, f); });
    f.outcome = is_true ? "true" : is_allowed ? "allowed" : "false";
    if (is_allowed) ++out.allowed;
    if (!is_true && !is_allowed) ++out.false_count;
    out.deviations.push_back(std::move(f));
  }
  for (size_t i = 0; i < video.expected.size(); ++i) {
    if (expected_found[i]) {
      ++out.found;
    } else {
      out.missed_labels.push_back(video.expected[i]);
    }
  }
  out.missed = out.expected - out.found;
  if (video.expected.empty()) {
    out.should_pass = true;
  } else if (std::any_of(video.expected.begin(), video.expected.end(), [](const DeviationLabel& l) {
               return l.type == kStepMissing || l.type == kOrderSwap;
             })) {
    out.should_pass = false;
  }
  if (out.should_pass) out.verdict_agrees = (report.verdict == "pass") == *out.should_pass;
  return out;
}

SegmentationAccuracy MeasureSegmentation(const EvalLabels& labels, const ScoreReport& gold_report) {
  SegmentationAccuracy acc;
  const std::vector<LabelledStep>& timeline = labels.gold_video().timeline;
  acc.found_steps = static_cast<int>(gold_report.steps.size());
  acc.labelled_steps = static_cast<int>(timeline.size());
  if (gold_report.steps.empty()) return acc;
  double sum = 0;
  for (size_t i = 1; i < timeline.size(); ++i) {
    BoundaryError b;
    b.step = timeline[i].name;
    b.labelled_sec = timeline[i].time.start_sec;
    b.error_sec = INFINITY;
    if (labels.place_labelled_names) {
      // Placed steps carry the labelled names: step i must start where the
      // step of that name does, not merely near some labelled boundary.
      if (i < gold_report.steps.size()) {
        b.found_sec = gold_report.steps[i].gold_time.start_sec;
        b.error_sec = std::abs(b.found_sec - b.labelled_sec);
      }
      sum += b.error_sec;
      acc.max_error_sec = std::max(acc.max_error_sec, b.error_sec);
      acc.boundaries.push_back(b);
      continue;
    }
    for (const StepResult& s : gold_report.steps) {
      double e = std::abs(s.gold_time.start_sec - b.labelled_sec);
      if (e < b.error_sec) {
        b.error_sec = e;
        b.found_sec = s.gold_time.start_sec;
      }
    }
    sum += b.error_sec;
    acc.max_error_sec = std::max(acc.max_error_sec, b.error_sec);
    acc.boundaries.push_back(b);
  }
  if (!acc.boundaries.empty()) acc.mean_error_sec = sum / static_cast<double>(acc.boundaries.size());
  for (const BoundaryError& b : acc.boundaries) {
    if (b.error_sec <= kBoundaryToleranceSec) ++acc.labelled_found;
  }
  for (size_t k = 1; k < gold_report.steps.size(); ++k) {
    const double t = gold_report.steps[k].gold_time.start_sec;
    bool near = false;
    for (size_t i = 1; i < timeline.size() && !near; ++i) {
      near = std::abs(t - timeline[i].time.start_sec) <= kBoundaryToleranceSec;
    }
    if (!near) ++acc.extra_found;
  }
  return acc;
}

void EvalTotals::Add(const PairOutcome& p) {
  ++pairs;
  expected += p.expected;
  found += p.found;
  missed += p.missed;
  false_count += p.false_count;
  allowed += p.allowed;
  if (p.verdict_agrees) {
    ++verdicts_checked;
    if (*p.verdict_agrees) ++verdicts_agree;
  }
}

void EvalTotals::Add(const EvalTotals& t) {
  pairs += t.pairs;
  expected += t.expected;
  found += t.found;
  missed += t.missed;
  false_count += t.false_count;
  allowed += t.allowed;
  verdicts_checked += t.verdicts_checked;
  verdicts_agree += t.verdicts_agree;
}

}  // namespace sopilot
