// adapter_effect: does the per-task feature adapter help scoring?
//
// For each data set, the adapter is fitted on the gold video alone (what the
// training job does for a task with one gold video) and every pair is
// scored twice, on the raw heuristic-v1 embeddings and on the adapted ones.
// Correct performances (gold against itself, and for generated procedures a
// second take: other frame rate, steps 6% slower) should score high, defect
// videos low; the margin is the lowest correct score minus a defect's score
// (worst: minus the highest defect score). For the fixtures the labelled
// deviations are checked too (as fixture_acceptance_test does).
//
//   adapter_effect                       fixtures (if ../shared exists) and generated procedures
//   adapter_effect --floors=0.001,0.01   std floors to compare (default: a sweep)
//   adapter_effect --no-generated | --no-fixtures
//
// Needs ffmpeg on PATH for the generated procedures.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "embed/heuristic_embedder.h"
#include "ingest/ingest.h"
#include "score/sop_evaluator.h"
#include "testing/temp_dir.h"
#include "testing/test_videos.h"
#include "train/feature_adapter.h"

namespace sopilot {
namespace {

struct Pair {
  std::string name;
  bool correct = false;  // a correct performance (should pass)
  EmbeddingSet trainee;
  std::string label_key;  // fixtures: the video's name in labels.json
};

struct DataSet {
  std::string name;
  EmbeddingSet gold;
  std::vector<Pair> pairs;
  nlohmann::json labels;  // fixtures only
};

EmbeddingSet Embed(const std::string& path) {
  HeuristicEmbedder embedder;
  auto set = IngestVideo(path, IngestOptions{}, &embedder);
  if (!set.ok()) {
    std::fprintf(stderr, "adapter_effect: %s: %s\n", path.c_str(), set.status().ToString().c_str());
    std::exit(1);
  }
  return *set;
}

// ---- fixtures: the labelled deviation keys, as fixture_acceptance_test

std::string StepAt(const nlohmann::json& labels, const std::optional<TimeSpan>& t) {
  if (!t) return "";
  std::string best;
  double best_overlap = 0;
  for (const auto& s : labels["videos"]["gold"]["timeline"]) {
    double overlap = std::min(t->end_sec, s[2].get<double>()) - std::max(t->start_sec, s[1].get<double>());
    if (overlap > best_overlap) best_overlap = overlap, best = s[0].get<std::string>();
  }
  return best;
}

std::string KeyOf(const nlohmann::json& labels, const Deviation& d) {
  if (d.type == kOrderSwap && d.other) {
    std::set<std::string> names = {StepAt(labels, d.step.gold_time), StepAt(labels, d.other->gold_time)};
    return d.type + ":" + *names.begin() + "+" + *names.rbegin();
  }
  return d.type + ":" + StepAt(labels, d.step.gold_time);
}

std::string KeyOf(const nlohmann::json& label) {
  if (label.contains("gold_steps")) {
    std::set<std::string> names;
    for (const auto& n : label["gold_steps"]) names.insert(n.get<std::string>());
    return label["type"].get<std::string>() + ":" + *names.begin() + "+" + *names.rbegin();
  }
  return label["type"].get<std::string>() + ":" + label["gold_step"].get<std::string>();
}

// True when the report names exactly the labelled deviations.
bool MatchesLabels(const nlohmann::json& labels, const std::string& video, const ScoreReport& r) {
  const nlohmann::json& label = labels["videos"][video];
  std::set<std::string> reported, expected, allowed;
  for (const Deviation& d : r.deviations) reported.insert(KeyOf(labels, d));
  for (const auto& e : label["expected_deviations"]) expected.insert(KeyOf(e));
  for (const auto& a : label["allowed_deviations"]) allowed.insert(KeyOf(a));
  for (const std::string& e : expected) {
    if (!reported.count(e)) return false;
  }
  for (const std::string& k : reported) {
    if (!expected.count(k) && !allowed.count(k)) return false;
  }
  return true;
}

DataSet Fixtures(const std::string& dir) {
  DataSet ds;
  ds.name = "fixtures";
  std::ifstream in(dir + "/labels.json");
  ds.labels = nlohmann::json::parse(in);
  ds.gold = Embed(dir + "/gold.mp4");
  ds.pairs.push_back({"gold", true, ds.gold, "gold"});
  for (const char* v : {"missing", "swap", "deviation", "time_over", "mixed"}) {
    ds.pairs.push_back({v, false, Embed(dir + "/" + v + ".mp4"), v});
  }
  return ds;
}

// ---- generated procedures

struct Take {
  std::vector<int> scenes;
  std::vector<double> seconds;
  std::vector<std::pair<size_t, testing::Segment>> inserts = {};
  int fps = 12;
};

EmbeddingSet MakeTake(const testing::TempDir& dir, const std::string& name, const Take& t) {
  std::vector<testing::Segment> segments;
  for (size_t i = 0; i < t.scenes.size(); ++i) {
    for (const auto& [at, seg] : t.inserts) {
      if (at == i) segments.push_back(seg);
    }
    segments.push_back({testing::DistinctScenes()[t.scenes[i]], t.seconds[i]});
  }
  std::string path = dir.file(name + ".mp4");
  testing::MakeProcedureVideo(path, segments, "320x180", t.fps);
  return Embed(path);
}

DataSet Generated(const testing::TempDir& dir, const std::string& name, const std::vector<int>& scenes,
                  const std::vector<double>& seconds) {
  DataSet ds;
  ds.name = name;
  const size_t n = scenes.size();
  ds.gold = MakeTake(dir, name + "_gold", {scenes, seconds});
  ds.pairs.push_back({"gold", true, ds.gold, ""});
  // A second correct take: another frame rate, every step 6% slower.
  std::vector<double> retake_sec;
  for (double s : seconds) retake_sec.push_back(s * 1.06);
  ds.pairs.push_back({"retake", true, MakeTake(dir, name + "_retake", {scenes, retake_sec, {}, 15}), ""});
  // Defects.
  const size_t mid = n / 2;
  Take missing{scenes, seconds};
  missing.scenes.erase(missing.scenes.begin() + mid);
  missing.seconds.erase(missing.seconds.begin() + mid);
  ds.pairs.push_back({"missing", false, MakeTake(dir, name + "_missing", missing), ""});
  Take swap{scenes, seconds};
  std::swap(swap.scenes[1], swap.scenes[2]);
  std::swap(swap.seconds[1], swap.seconds[2]);
  ds.pairs.push_back({"swap", false, MakeTake(dir, name + "_swap", swap), ""});
  Take repeat{scenes, seconds};
  repeat.scenes.insert(repeat.scenes.begin() + 3, scenes[1]);
  repeat.seconds.insert(repeat.seconds.begin() + 3, seconds[1]);
  ds.pairs.push_back({"repeat", false, MakeTake(dir, name + "_repeat", repeat), ""});
  Take idle{scenes, seconds, {{mid, {"color=c=gray", 5.0}}}};
  ds.pairs.push_back({"idle", false, MakeTake(dir, name + "_idle", idle), ""});
  Take slow{scenes, seconds};
  slow.seconds[1] *= 1.6;
  ds.pairs.push_back({"slow", false, MakeTake(dir, name + "_slow", slow), ""});
  Take reversed{scenes, seconds};
  std::reverse(reversed.scenes.begin(), reversed.scenes.end());
  std::reverse(reversed.seconds.begin(), reversed.seconds.end());
  ds.pairs.push_back({"reversed", false, MakeTake(dir, name + "_reversed", reversed), ""});
  return ds;
}

// ---- scoring

struct Outcome {
  double score = 0;
  std::string verdict;
  std::string deviations;  // "order_swap(1) over_time(2)"
  bool labels_ok = true;
};

Outcome Score(const DataSet& ds, const Pair& p, const FeatureAdapter* adapter) {
  EmbeddingSet gold = ds.gold, trainee = p.trainee;
  if (adapter) {
    gold = *AdaptEmbeddingSet(*adapter, ds.gold);
    trainee = *AdaptEmbeddingSet(*adapter, p.trainee);
  }
  auto r = EvaluateSop(gold, trainee, ScoreOptions{});
  if (!r.ok()) {
    std::fprintf(stderr, "adapter_effect: %s/%s: %s\n", ds.name.c_str(), p.name.c_str(), r.status().ToString().c_str());
    std::exit(1);
  }
  Outcome o;
  o.score = r->score;
  o.verdict = r->verdict;
  for (const Deviation& d : r->deviations) {
    if (!o.deviations.empty()) o.deviations += " ";
    o.deviations += d.type + "(" + std::to_string(d.step.index) + ")";
  }
  if (!p.label_key.empty()) o.labels_ok = MatchesLabels(ds.labels, p.label_key, *r);
  return o;
}

struct Summary {
  double correct_min = 100, defect_max = 0, defect_sum = 0;
  int defects = 0, wrong_verdicts = 0, label_misses = 0, labelled = 0;
  double worst_margin() const { return correct_min - defect_max; }
  double mean_margin() const { return defects ? correct_min - defect_sum / defects : 0; }
  void Add(const Pair& p, const Outcome& o) {
    if (p.correct) {
      correct_min = std::min(correct_min, o.score);
      if (o.verdict != "pass") ++wrong_verdicts;
    } else {
      defect_max = std::max(defect_max, o.score);
      defect_sum += o.score;
      ++defects;
      if (o.verdict == "pass") ++wrong_verdicts;
    }
    if (!p.label_key.empty()) {
      ++labelled;
      if (!o.labels_ok) ++label_misses;
    }
  }
};

std::vector<double> ParseFloors(const std::string& s) {
  std::vector<double> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(std::stod(item));
  return out;
}

int Main(int argc, char** argv) {
  std::vector<double> floors = {0.001, 0.003, 0.01, 0.03, 0.1};
  bool fixtures = true, generated = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--floors=", 0) == 0) floors = ParseFloors(a.substr(9));
    else if (a == "--no-fixtures") fixtures = false;
    else if (a == "--no-generated") generated = false;
    else {
      std::fprintf(stderr, "usage: adapter_effect [--floors=F,F,...] [--no-fixtures] [--no-generated]\n");
      return 2;
    }
  }
  // The product's default first: its column is the one printed per pair.
  floors.erase(std::remove(floors.begin(), floors.end(), kDefaultAdapterStdFloor), floors.end());
  floors.insert(floors.begin(), kDefaultAdapterStdFloor);

  std::vector<DataSet> sets;
  testing::TempDir dir;
  if (fixtures) {
    std::string fx = testing::SharedFixtureDir();
    if (fx.empty()) std::printf("fixtures: ../shared/fixtures is absent, skipped\n");
    else sets.push_back(Fixtures(fx));
  }
  if (generated) {
    sets.push_back(Generated(dir, "gen10x4s", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, std::vector<double>(10, 4.0)));
    sets.push_back(Generated(dir, "gen5uneven", {5, 6, 7, 8, 9}, {5, 3, 7, 4, 6}));
    sets.push_back(Generated(dir, "gen6mixed", {2, 0, 7, 4, 9, 1}, {4, 6, 3, 5, 4, 5}));
  }

  std::printf("Scores, raw vs adapted (std floor %g; adapter fitted on the gold video)\n\n", floors[0]);
  std::printf("%-11s %-10s %-7s | %6s %-12s | %6s %-12s | deviations raw -> adapted\n", "data set", "pair", "kind",
              "raw", "verdict", "adapt", "verdict");
  std::map<std::string, Summary> raw_sum;
  std::map<std::pair<std::string, double>, Summary> ad_sum;
  Summary raw_all;
  std::map<double, Summary> ad_all;
  for (const DataSet& ds : sets) {
    std::vector<FeatureAdapter> adapters;
    for (double f : floors) {
      AdapterFitter fit(f);
      if (!fit.Add(ds.gold).ok()) return 1;
      adapters.push_back(*fit.Finish());
    }
    for (const Pair& p : ds.pairs) {
      Outcome raw = Score(ds, p, nullptr);
      raw_sum[ds.name].Add(p, raw);
      raw_all.Add(p, raw);
      Outcome first;
      for (size_t k = 0; k < floors.size(); ++k) {
        Outcome o = Score(ds, p, &adapters[k]);
        ad_sum[{ds.name, floors[k]}].Add(p, o);
        ad_all[floors[k]].Add(p, o);
        if (k == 0) first = o;
      }
      std::string lab = p.label_key.empty() ? "" : (raw.labels_ok ? " [labels ok" : " [labels WRONG");
      if (!p.label_key.empty()) lab += first.labels_ok ? "/ok]" : "/WRONG]";
      std::printf("%-11s %-10s %-7s | %6.1f %-12s | %6.1f %-12s | %s -> %s%s\n", ds.name.c_str(), p.name.c_str(),
                  p.correct ? "correct" : "defect", raw.score, raw.verdict.c_str(), first.score,
                  first.verdict.c_str(), raw.deviations.empty() ? "-" : raw.deviations.c_str(),
                  first.deviations.empty() ? "-" : first.deviations.c_str(), lab.c_str());
    }
  }

  auto line = [](const std::string& set, const std::string& variant, const Summary& s) {
    std::printf("%-11s %-16s | %8.1f %8.1f %8.1f | %9.1f %9.1f | %5d %s\n", set.c_str(), variant.c_str(),
                s.correct_min, s.defects ? s.defect_sum / s.defects : 0.0, s.defect_max, s.mean_margin(),
                s.worst_margin(), s.wrong_verdicts,
                s.labelled ? (std::to_string(s.labelled - s.label_misses) + "/" + std::to_string(s.labelled)).c_str()
                           : "");
  };
  std::printf("\nMargins (correct min − defect score; higher is better)\n\n");
  std::printf("%-11s %-16s | %8s %8s %8s | %9s %9s | %5s %s\n", "data set", "embeddings", "corr.min", "def.mean",
              "def.max", "margin.mn", "margin.wr", "wrong", "labels");
  for (const DataSet& ds : sets) {
    line(ds.name, "raw", raw_sum[ds.name]);
    for (double f : floors) {
      char v[32];
      std::snprintf(v, sizeof v, "adapter %g", f);
      line(ds.name, v, ad_sum[{ds.name, f}]);
    }
  }
  line("all", "raw", raw_all);
  for (double f : floors) {
    char v[32];
    std::snprintf(v, sizeof v, "adapter %g", f);
    line("all", v, ad_all[f]);
  }
  std::printf("\nwrong = correct pairs not passing + defect pairs passing; labels = fixture videos whose reported "
              "deviations are exactly the labelled ones\n");
  return 0;
}

}  // namespace
}  // namespace sopilot

int main(int argc, char** argv) { return sopilot::Main(argc, argv); }
