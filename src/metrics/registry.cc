#include "metrics/registry.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <type_traits>

namespace sopilot::metrics {

namespace {

[[noreturn]] void Bug(const std::string& what) {
  std::fprintf(stderr, "metrics: %s\n", what.c_str());
  std::abort();
}

bool ValidName(const std::string& n, bool metric) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (metric && c == ':') ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return metric || n.rfind("__", 0) != 0;  // __ label names are Prometheus's own
}

void CheckNames(const std::string& name, const std::vector<std::string>& labels, Type type) {
  if (!ValidName(name, true)) Bug("invalid metric name \"" + name + "\"");
  for (const std::string& l : labels) {
    if (!ValidName(l, false)) Bug("invalid label name \"" + l + "\" in " + name);
    if (type == Type::kHistogram && l == "le") Bug("histogram " + name + " may not have a label \"le\"");
  }
}

const char* TypeName(Type t) {
  switch (t) {
    case Type::kCounter: return "counter";
    case Type::kGauge: return "gauge";
    case Type::kHistogram: return "histogram";
  }
  return "untyped";
}

// Values of a family computed at scrape time.
class CallbackFamily : public FamilyBase {
 public:
  CallbackFamily(std::string name, std::string help, Type type, std::vector<std::string> label_names, CollectFn fn)
      : FamilyBase(std::move(name), std::move(help), type, std::move(label_names)), fn_(std::move(fn)) {}
  void Replace(CollectFn fn) {
    std::lock_guard<std::mutex> l(mu_);
    fn_ = std::move(fn);
  }

 private:
  void RenderSamples(std::string* out) const override {
    CollectFn fn;
    {
      std::lock_guard<std::mutex> l(mu_);
      fn = fn_;
    }
    if (!fn) return;
    std::vector<Sample> samples = fn();
    // Same order as the stored families: sorted by label values.
    std::sort(samples.begin(), samples.end(), [](const Sample& a, const Sample& b) { return a.labels < b.labels; });
    for (const Sample& s : samples) {
      if (s.labels.size() != label_names_.size()) continue;  // a broken callback loses its sample, not the scrape
      out->append(name_);
      out->append(LabelText(s.labels));
      out->push_back(' ');
      AppendValue(s.value, out);
      out->push_back('\n');
    }
  }

  mutable std::mutex mu_;
  CollectFn fn_;
};

}  // namespace

std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string EscapeHelp(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void AppendValue(double v, std::string* out) {
  if (std::isnan(v)) {
    out->append("NaN");
  } else if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
  } else {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
    out->append(buf, r.ptr);
  }
}

// ---- Histogram

Histogram::Histogram(const std::vector<double>* bounds)
    : bounds_(bounds), counts_(new std::atomic<uint64_t>[bounds->size() + 1]) {
  for (size_t i = 0; i <= bounds_->size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double v) {
  // le is inclusive: v lands in the first bucket whose bound is >= v.
  size_t i = std::lower_bound(bounds_->begin(), bounds_->end(), v) - bounds_->begin();
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::CumulativeCounts() const {
  std::vector<uint64_t> out(bounds_->size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    out[i] = total;
  }
  return out;
}

uint64_t Histogram::count() const { return CumulativeCounts().back(); }

// ---- families

std::string FamilyBase::LabelText(const LabelValues& values, std::string_view extra) const {
  if (values.empty() && extra.empty()) return {};
  std::string s = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) s += ',';
    s += label_names_[i];
    s += "=\"";
    s += EscapeLabelValue(values[i]);
    s += '"';
  }
  if (!extra.empty()) {
    if (!values.empty()) s += ',';
    s += extra;
  }
  s += '}';
  return s;
}

void FamilyBase::Render(std::string* out) const {
  out->append("# HELP ").append(name_).push_back(' ');
  out->append(EscapeHelp(help_)).push_back('\n');
  out->append("# TYPE ").append(name_).push_back(' ');
  out->append(TypeName(type_)).push_back('\n');
  RenderSamples(out);
}

template <typename T>
T* Family<T>::With(const LabelValues& values) {
  if (values.size() != label_names_.size()) {
    Bug(name_ + " has " + std::to_string(label_names_.size()) + " labels, given " + std::to_string(values.size()));
  }
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    auto it = children_.find(values);
    if (it != children_.end()) return it->second.get();
  }
  std::unique_lock<std::shared_mutex> l(mu_);
  auto& slot = children_[values];
  if (!slot) {
    if constexpr (std::is_same_v<T, Histogram>) {
      slot = std::make_unique<Histogram>(&bounds_);
    } else {
      slot = std::make_unique<T>();
    }
  }
  return slot.get();
}

template <typename T>
void Family<T>::RenderSamples(std::string* out) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  for (const auto& [values, child] : children_) {
    if constexpr (std::is_same_v<T, Histogram>) {
      std::vector<uint64_t> counts = child->CumulativeCounts();
      // Bounds are formatted once per child, not per bucket and series.
      for (size_t i = 0; i < counts.size(); ++i) {
        std::string le = "le=\"";
        if (i < bounds_.size()) AppendValue(bounds_[i], &le);
        else le += "+Inf";
        le += '"';
        out->append(name_).append("_bucket").append(LabelText(values, le)).push_back(' ');
        AppendValue(static_cast<double>(counts[i]), out);
        out->push_back('\n');
      }
      const std::string labels = LabelText(values);
      out->append(name_).append("_sum").append(labels).push_back(' ');
      AppendValue(child->sum(), out);
      out->push_back('\n');
      out->append(name_).append("_count").append(labels).push_back(' ');
      AppendValue(static_cast<double>(counts.back()), out);
      out->push_back('\n');
    } else {
      out->append(name_).append(LabelText(values)).push_back(' ');
      AppendValue(child->value(), out);
      out->push_back('\n');
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// ---- Registry

FamilyBase* Registry::Find(const std::string& name, Type type, const std::vector<std::string>& label_names,
                           bool is_callback) const {
  for (const auto& f : families_) {
    if (f->name() != name) continue;
    bool callback = dynamic_cast<const CallbackFamily*>(f.get()) != nullptr;
    if (f->type() != type || f->label_names() != label_names || callback != is_callback) {
      Bug("metric " + name + " registered twice with different types or labels");
    }
    return f.get();
  }
  return nullptr;
}

CounterFamily* Registry::AddCounter(const std::string& name, const std::string& help,
                                    std::vector<std::string> label_names) {
  CheckNames(name, label_names, Type::kCounter);
  std::lock_guard<std::mutex> l(mu_);
  if (FamilyBase* f = Find(name, Type::kCounter, label_names, false)) return static_cast<CounterFamily*>(f);
  families_.push_back(std::make_unique<CounterFamily>(name, help, Type::kCounter, std::move(label_names)));
  return static_cast<CounterFamily*>(families_.back().get());
}

GaugeFamily* Registry::AddGauge(const std::string& name, const std::string& help,
                                std::vector<std::string> label_names) {
  CheckNames(name, label_names, Type::kGauge);
  std::lock_guard<std::mutex> l(mu_);
  if (FamilyBase* f = Find(name, Type::kGauge, label_names, false)) return static_cast<GaugeFamily*>(f);
  families_.push_back(std::make_unique<GaugeFamily>(name, help, Type::kGauge, std::move(label_names)));
  return static_cast<GaugeFamily*>(families_.back().get());
}

HistogramFamily* Registry::AddHistogram(const std::string& name, const std::string& help,
                                        std::vector<std::string> label_names, std::vector<double> bounds) {
  CheckNames(name, label_names, Type::kHistogram);
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1])) {
      Bug("histogram " + name + " needs finite, strictly increasing bounds");
    }
  }
  std::lock_guard<std::mutex> l(mu_);
  if (FamilyBase* f = Find(name, Type::kHistogram, label_names, false)) {
    auto* h = static_cast<HistogramFamily*>(f);
    if (h->bounds() != bounds) Bug("histogram " + name + " registered twice with different bounds");
    return h;
  }
  families_.push_back(
      std::make_unique<HistogramFamily>(name, help, Type::kHistogram, std::move(label_names), std::move(bounds)));
  return static_cast<HistogramFamily*>(families_.back().get());
}

void Registry::AddCallback(const std::string& name, const std::string& help, Type type,
                           std::vector<std::string> label_names, CollectFn collect) {
  if (type == Type::kHistogram) Bug("callback " + name + " must be a counter or a gauge");
  CheckNames(name, label_names, type);
  std::lock_guard<std::mutex> l(mu_);
  if (FamilyBase* f = Find(name, type, label_names, true)) {
    static_cast<CallbackFamily*>(f)->Replace(std::move(collect));
    return;
  }
  families_.push_back(std::make_unique<CallbackFamily>(name, help, type, std::move(label_names), std::move(collect)));
}

std::string Registry::RenderOpenMetrics() const {
  const std::string text = Render();
  std::string out;
  out.reserve(text.size() + 8);
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    // "# HELP x_total ..." / "# TYPE x_total counter": the family is "x".
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      size_t name_end = line.find(' ', 7);
      std::string_view name = line.substr(7, name_end == std::string_view::npos ? line.npos : name_end - 7);
      bool counter = text.find("# TYPE " + std::string(name) + " counter") != std::string::npos;
      if (counter && name.size() > 6 && name.substr(name.size() - 6) == "_total") {
        out.append(line.substr(0, 7)).append(name.substr(0, name.size() - 6));
        if (name_end != std::string_view::npos) out.append(line.substr(name_end));
        out.push_back('\n');
        start = end + 1;
        continue;
      }
    }
    out.append(line).push_back('\n');
    start = end + 1;
  }
  out.append("# EOF\n");
  return out;
}

std::vector<Registry::FamilyInfo> Registry::Describe() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<FamilyInfo> out;
  for (const auto& f : families_) out.push_back({f->name(), f->help(), f->type(), f->label_names()});
  return out;
}

std::string MetricsReferenceMarkdown(const Registry& registry) {
  std::string md = "| metric | type | labels | meaning |\n|---|---|---|---|\n";
  for (const Registry::FamilyInfo& f : registry.Describe()) {
    std::string labels;
    for (const std::string& l : f.label_names) labels += (labels.empty() ? "`" : ", `") + l + "`";
    const char* type = f.type == Type::kCounter ? "counter" : f.type == Type::kGauge ? "gauge" : "histogram";
    md += "| `" + f.name + "` | " + type + " | " + (labels.empty() ? "-" : labels) + " | " + f.help + " |\n";
  }
  return md;
}

void Registry::RenderTo(std::string* out) const {
  // Families are only ever added, never removed: render from a snapshot of
  // the list so a slow callback does not hold up registrations.
  std::vector<const FamilyBase*> families;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& f : families_) families.push_back(f.get());
  }
  for (const FamilyBase* f : families) f->Render(out);
}

std::string Registry::Render() const {
  std::string out;
  RenderTo(&out);
  return out;
}

}  // namespace sopilot::metrics
