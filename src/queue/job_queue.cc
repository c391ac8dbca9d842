#include "queue/job_queue.h"

#include <algorithm>
#include <cmath>

namespace sopilot {

double RetryDelaySeconds(const QueueOptions& options, int attempt) {
  // attempt < 1 would give a delay below the base; treat it as the first retry.
  int n = std::max(attempt, 1);
  double delay = options.backoff_base_sec * std::pow(options.backoff_factor, n - 1);
  // pow overflows to inf for absurd attempt counts; min() still caps it.
  return std::min(options.backoff_max_sec, delay);
}

}  // namespace sopilot
