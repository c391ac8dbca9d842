// Registry: Prometheus metrics (counters, gauges, histograms with labels, and
// values computed at scrape time) rendered in the text exposition format
// 0.0.4.
//
// A family is a metric name with HELP text and label names; a child is one
// set of label values. With() finds or creates a child under the family's
// lock; the child's pointer stays valid as long as the registry, so hot paths
// look a child up once and then update it with atomics only (no lock).
//
// Names are constants chosen by the programmer: an invalid metric or label
// name, a second registration of a name with another type or other labels,
// or With() given the wrong number of values is a bug and aborts with a
// message. Registering the same name again with the same type and labels
// returns the existing family (so several servers may share a registry).
//
// Render() may run while other threads update: each value it prints is one
// the metric really had; a histogram's _count is the sum of its buckets.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace sopilot::metrics {

// Label values, in the order of the family's label names.
using LabelValues = std::vector<std::string>;

enum class Type { kCounter, kGauge, kHistogram };

class Counter {
 public:
  // `v` must be >= 0 (counters only go up); negative values are ignored.
  void Inc(double v = 1.0) {
    if (v >= 0) value_.fetch_add(v, std::memory_order_relaxed);
  }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  // `bounds`: upper bounds, strictly increasing, without +Inf.
  explicit Histogram(const std::vector<double>* bounds);
  void Observe(double v);

  // Cumulative counts per bound, then +Inf (the total count).
  std::vector<uint64_t> CumulativeCounts() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  uint64_t count() const;

 private:
  const std::vector<double>* bounds_;
  // Per-bucket (not cumulative) counts, the last one for +Inf: one atomic
  // increment per observation.
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<double> sum_{0.0};
};

// One sample of a scrape-time family.
struct Sample {
  LabelValues labels;
  double value = 0;
};
// Called at each Render(); returns the family's samples now (none is fine:
// the family still prints its HELP and TYPE). Must be thread-safe.
using CollectFn = std::function<std::vector<Sample>()>;

template <typename T>
class Family;
using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, Type type, std::vector<std::string> label_names)
      : name_(std::move(name)), help_(std::move(help)), type_(type), label_names_(std::move(label_names)) {}
  virtual ~FamilyBase() = default;
  const std::string& name() const { return name_; }
  Type type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  const std::string& help() const { return help_; }
  // Appends HELP, TYPE and every sample.
  void Render(std::string* out) const;

 protected:
  virtual void RenderSamples(std::string* out) const = 0;
  // `labels` as {a="x",b="y"} (empty string when there are none), with
  // `extra` (e.g. le="0.5") appended.
  std::string LabelText(const LabelValues& values, std::string_view extra = {}) const;

  const std::string name_, help_;
  const Type type_;
  const std::vector<std::string> label_names_;
};

template <typename T>
class Family : public FamilyBase {
 public:
  Family(std::string name, std::string help, Type type, std::vector<std::string> label_names,
         std::vector<double> bounds = {})
      : FamilyBase(std::move(name), std::move(help), type, std::move(label_names)), bounds_(std::move(bounds)) {}

  // The child for these label values, created (at zero) on first use.
  T* With(const LabelValues& values);
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  void RenderSamples(std::string* out) const override;

  const std::vector<double> bounds_;  // histograms only
  mutable std::shared_mutex mu_;
  std::map<LabelValues, std::unique_ptr<T>> children_;  // sorted: stable output
};

extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  CounterFamily* AddCounter(const std::string& name, const std::string& help,
                            std::vector<std::string> label_names = {});
  GaugeFamily* AddGauge(const std::string& name, const std::string& help, std::vector<std::string> label_names = {});
  // `bounds`: strictly increasing upper bounds without +Inf.
  HistogramFamily* AddHistogram(const std::string& name, const std::string& help, std::vector<std::string> label_names,
                                std::vector<double> bounds);
  // A counter or gauge whose samples `collect` computes at each Render().
  // Adding a name again replaces the function (the new owner's values win).
  void AddCallback(const std::string& name, const std::string& help, Type type, std::vector<std::string> label_names,
                   CollectFn collect);

  // The text exposition format 0.0.4, families in the order they were added.
  std::string Render() const;
  void RenderTo(std::string* out) const;
  // The same samples as OpenMetrics 1.0 text: counter families named
  // without their "_total" suffix in HELP/TYPE, and a closing "# EOF".
  std::string RenderOpenMetrics() const;

  // Every family registered, in registration order (for documentation).
  struct FamilyInfo {
    std::string name, help;
    Type type;
    std::vector<std::string> label_names;
  };
  std::vector<FamilyInfo> Describe() const;

 private:
  FamilyBase* Find(const std::string& name, Type type, const std::vector<std::string>& label_names,
                   bool is_callback) const;

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<FamilyBase>> families_;
};

// A Markdown table (name, type, labels, meaning) of `registry`'s families:
// the metrics reference of monitoring/README.md, generated so it cannot drift.
std::string MetricsReferenceMarkdown(const Registry& registry);

// The content type of RenderOpenMetrics()'s output.
inline constexpr const char* kOpenMetricsContentType = "application/openmetrics-text; version=1.0.0; charset=utf-8";

// The content type of Render()'s output.
inline constexpr const char* kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

// Label value / HELP escaping of the text format (exposed for tests).
std::string EscapeLabelValue(std::string_view v);
std::string EscapeHelp(std::string_view v);
// A sample value as Prometheus writes it: shortest round-trip decimal,
// "+Inf", "-Inf", "NaN".
void AppendValue(double v, std::string* out);

// Buckets of sopilot_job_duration_seconds (the seed's).
inline const std::vector<double> kJobDurationBuckets = {0.1, 0.5, 1, 5, 10, 30, 60, 120, 300};

}  // namespace sopilot::metrics
