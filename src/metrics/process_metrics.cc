#include "metrics/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sopilot::metrics {

namespace {

std::string ReadSmallFile(const char* path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Fields of /proc/self/stat after the command name (which may hold spaces
// and parentheses, so parsing starts after its last ')'). Index 0 is field 3
// (state) of proc(5).
std::vector<std::string> StatFields() {
  std::string s = ReadSmallFile("/proc/self/stat");
  size_t close = s.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream in(s.substr(close + 1));
  std::vector<std::string> f;
  std::string w;
  while (in >> w) f.push_back(w);
  return f;
}

// Field n (1-based, as proc(5) numbers them) of /proc/self/stat.
bool StatField(const std::vector<std::string>& f, size_t n, double* out) {
  if (n < 3 || n - 3 >= f.size()) return false;
  *out = std::strtod(f[n - 3].c_str(), nullptr);
  return true;
}

double BootTime() {
  std::istringstream in(ReadSmallFile("/proc/stat"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("btime ", 0) == 0) return std::strtod(line.c_str() + 6, nullptr);
  }
  return 0;
}

std::vector<Sample> One(double v) { return {Sample{{}, v}}; }

}  // namespace

void AddProcessMetrics(Registry* r) {
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  r->AddCallback("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", Type::kCounter, {},
                 [ticks]() -> std::vector<Sample> {
                   double utime, stime;
                   auto f = StatFields();
                   if (!StatField(f, 14, &utime) || !StatField(f, 15, &stime)) return {};
                   return One((utime + stime) / ticks);
                 });
  r->AddCallback("process_resident_memory_bytes", "Resident memory size in bytes.", Type::kGauge, {},
                 [page]() -> std::vector<Sample> {
                   unsigned long long size = 0, resident = 0;
                   std::string s = ReadSmallFile("/proc/self/statm");
                   if (std::sscanf(s.c_str(), "%llu %llu", &size, &resident) != 2) return {};
                   return One(static_cast<double>(resident) * page);
                 });
  r->AddCallback("process_virtual_memory_bytes", "Virtual memory size in bytes.", Type::kGauge, {},
                 []() -> std::vector<Sample> {
                   double vsize;
                   if (!StatField(StatFields(), 23, &vsize)) return {};
                   return One(vsize);
                 });
  r->AddCallback("process_open_fds", "Number of open file descriptors.", Type::kGauge, {},
                 []() -> std::vector<Sample> {
                   std::error_code ec;
                   double n = 0;
                   for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
                        it.increment(ec)) {
                     ++n;
                   }
                   if (ec) return {};
                   return One(n - 1);  // less the descriptor of the directory being listed
                 });
  r->AddCallback("process_max_fds", "Maximum number of open file descriptors.", Type::kGauge, {},
                 []() -> std::vector<Sample> {
                   rlimit lim;
                   if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return {};
                   return One(lim.rlim_cur == RLIM_INFINITY ? -1 : static_cast<double>(lim.rlim_cur));
                 });
  // The start time never changes: read it once.
  double start = 0;
  if (StatField(StatFields(), 22, &start)) start = BootTime() + start / ticks;
  r->AddCallback("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
                 Type::kGauge, {}, [start]() -> std::vector<Sample> {
                   if (start <= 0) return {};
                   return One(start);
                 });
}

void AddBuildInfo(Registry* r) {
  BuildInfo b = GetBuildInfo();
  r->AddGauge("sopilot_build_info", "SOPilot build metadata; the value is always 1.",
              {"version", "commit", "build_date"})
      ->With({b.version, b.commit, b.build_date})
      ->Set(1);
}

}  // namespace sopilot::metrics
