#include "cli/eval_compare.h"

#include <algorithm>
#include <cstdio>
#include <map>

namespace sopilot::cli {

namespace {

using nlohmann::json;

int IntOr(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_number_integer() ? j[key].get<int>() : 0;
}

EvalCounts CountsOf(const json& j) { return {IntOr(j, "found"), IntOr(j, "missed"), IntOr(j, "false")}; }

std::string StringOr(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

// "handwash, steps found": what a reader knows the file by.
std::string FileName(const json& f) {
  std::string steps = "steps found";
  const json& use = f.contains("use_labelled_steps") ? f["use_labelled_steps"] : json();
  if (use.is_boolean() && use.get<bool>()) steps = "steps labelled";
  if (use.is_string() && use.get<std::string>() == "names") steps = "steps named";
  const std::string task = StringOr(f, "task_id");
  return (task.empty() ? StringOr(f, "labels") : task) + ", " + steps;
}

std::vector<PairChange> ChangedPairs(const json& before, const json& after) {
  std::map<std::string, const json*> old;
  for (const json& p : before["pairs"]) old[StringOr(p, "video")] = &p;
  std::vector<PairChange> out;
  for (const json& p : after["pairs"]) {
    PairChange c;
    c.video = StringOr(p, "video");
    c.after = CountsOf(p);
    c.verdict_after = StringOr(p, "verdict");
    auto it = old.find(c.video);
    if (it == old.end()) {
      c.verdict_before = "-";
      out.push_back(c);
      continue;
    }
    c.before = CountsOf(*it->second);
    c.verdict_before = StringOr(*it->second, "verdict");
    old.erase(it);
    if (!(c.before == c.after) || c.verdict_before != c.verdict_after) out.push_back(c);
  }
  for (const json& p : before["pairs"]) {
    if (!old.count(StringOr(p, "video"))) continue;
    PairChange c;
    c.video = StringOr(p, "video");
    c.before = CountsOf(p);
    c.verdict_before = StringOr(p, "verdict");
    c.verdict_after = "-";
    out.push_back(c);
  }
  return out;
}

EvalCounts Sum(const EvalCounts& a, const EvalCounts& b) {
  return {a.found + b.found, a.missed + b.missed, a.false_count + b.false_count};
}

}  // namespace

Status CheckEvalRun(const json& run) {
  if (!run.is_object() || !run.contains("files") || !run["files"].is_array()) {
    return Status::InvalidArgument("not the output of `sopilot eval --json` (no \"files\")");
  }
  for (const json& f : run["files"]) {
    if (!f.is_object() || !f.contains("pairs") || !f["pairs"].is_array()) {
      return Status::InvalidArgument("a file without \"pairs\"");
    }
  }
  return Status::Ok();
}

std::string EvalCounts::Text() const {
  return std::to_string(found) + "/" + std::to_string(missed) + "/" + std::to_string(false_count);
}

Result<EvalComparison> CompareEvalRuns(const json& before, const json& after) {
  SOPILOT_RETURN_IF_ERROR(CheckEvalRun(before).WithContext("the baseline"));
  SOPILOT_RETURN_IF_ERROR(CheckEvalRun(after).WithContext("this run"));
  std::vector<bool> used(before["files"].size(), false);
  // The earlier file for `f`: the same labels path, else the same task and
  // kind of steps (the sets moved to another directory).
  auto match = [&](const json& f) -> int {
    for (size_t i = 0; i < before["files"].size(); ++i) {
      if (!used[i] && StringOr(before["files"][i], "labels") == StringOr(f, "labels")) return static_cast<int>(i);
    }
    for (size_t i = 0; i < before["files"].size(); ++i) {
      if (!used[i] && FileName(before["files"][i]) == FileName(f)) return static_cast<int>(i);
    }
    return -1;
  };
  EvalComparison c;
  for (const json& f : after["files"]) {
    FileChange change;
    change.name = FileName(f);
    const json& totals = f.contains("totals") ? f["totals"] : json();
    change.after = CountsOf(totals);
    int i = match(f);
    if (i < 0) {
      change.in_before = false;
      change.changed = ChangedPairs(json{{"pairs", json::array()}}, f);
    } else {
      used[i] = true;
      const json& old = before["files"][i];
      change.before = CountsOf(old.contains("totals") ? old["totals"] : json());
      change.changed = ChangedPairs(old, f);
    }
    c.before = Sum(c.before, change.before);
    c.after = Sum(c.after, change.after);
    c.files.push_back(std::move(change));
  }
  for (size_t i = 0; i < before["files"].size(); ++i) {
    if (used[i]) continue;
    const json& old = before["files"][i];
    FileChange change;
    change.name = FileName(old);
    change.in_after = false;
    change.before = CountsOf(old.contains("totals") ? old["totals"] : json());
    c.before = Sum(c.before, change.before);
    c.files.push_back(std::move(change));
  }
  return c;
}

std::string ComparisonText(const EvalComparison& c, const std::string& baseline_name) {
  size_t width = 5;  // "TOTAL"
  for (const FileChange& f : c.files) width = std::max(width, f.name.size());
  std::string out = "compared with " + baseline_name + " (found / missed / false, before -> after):\n";
  auto line = [&](const std::string& name, const std::string& before, const std::string& after,
                  const std::string& note) {
    char buf[512];
    std::snprintf(buf, sizeof buf, "%-*s  %10s -> %-*s%s", static_cast<int>(width), name.c_str(), before.c_str(),
                  note.empty() ? 0 : 10, after.c_str(), note.c_str());
    out += std::string(buf) + "\n";
  };
  for (const FileChange& f : c.files) {
    const bool same = f.in_before && f.in_after && f.before == f.after && f.changed.empty();
    line(f.name, f.in_before ? f.before.Text() : "-", f.in_after ? f.after.Text() : "-",
         !f.in_before ? "  (new)" : !f.in_after ? "  (gone)" : same ? "" : "  <- changed");
    for (const PairChange& p : f.changed) {
      out += "    " + p.video + ": " + (p.verdict_before == "-" ? "-" : p.before.Text() + " " + p.verdict_before) +
             " -> " + (p.verdict_after == "-" ? "-" : p.after.Text() + " " + p.verdict_after) + "\n";
    }
  }
  line("TOTAL", c.before.Text(), c.after.Text(), c.before == c.after ? "" : "  <- changed");
  return out;
}

json ComparisonJson(const EvalComparison& c, const std::string& baseline_name) {
  auto counts = [](const EvalCounts& e) {
    return json{{"found", e.found}, {"missed", e.missed}, {"false", e.false_count}};
  };
  json files = json::array();
  for (const FileChange& f : c.files) {
    json pairs = json::array();
    for (const PairChange& p : f.changed) {
      pairs.push_back({{"video", p.video},
                       {"before", p.verdict_before == "-" ? json(nullptr) : counts(p.before)},
                       {"after", p.verdict_after == "-" ? json(nullptr) : counts(p.after)},
                       {"verdict_before", p.verdict_before == "-" ? json(nullptr) : json(p.verdict_before)},
                       {"verdict_after", p.verdict_after == "-" ? json(nullptr) : json(p.verdict_after)}});
    }
    files.push_back({{"name", f.name},
                     {"before", f.in_before ? counts(f.before) : json(nullptr)},
                     {"after", f.in_after ? counts(f.after) : json(nullptr)},
                     {"changed_pairs", pairs}});
  }
  return {{"file", baseline_name}, {"files", files}, {"before", counts(c.before)}, {"after", counts(c.after)}};
}

}  // namespace sopilot::cli
