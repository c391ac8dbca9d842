// MetricsServer: the small HTTP server of a `sopilot worker` process, so
// Prometheus scrapes every worker, not only the API.
//
//   GET /metrics  the process's registry (text 0.0.4, or OpenMetrics 1.0 when
//                 Accept asks for it, as the API's /metrics)
//   GET /health   200 {"status":"ok","queue":true,"db":true}, or 503 with the
//                 same fields when the queue or the store is unreachable (a
//                 liveness/readiness probe for worker pods)
// Anything else is 404 with a JSON error. It is an HttpServer
// (http/http_server.h) with its defaults and four handler threads, so it has
// the API's limits: header deadline, bounded connections, no body read.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "http/http_server.h"
#include "service/sopilot_service.h"

namespace sopilot {

class MetricsServer {
 public:
  explicit MetricsServer(SopilotService* service);
  ~MetricsServer();

  // Binds; port 0 picks a free port. Returns the bound port.
  [[nodiscard]] Result<int> Bind(const std::string& host, int port);
  // Serves on threads of its own until Stop().
  void Start();
  void Stop();

 private:
  HttpDispatch Dispatch(const HttpRequest& req);

  SopilotService* service_;
  std::unique_ptr<HttpServer> server_;
};

// Renders `registry` into `res` in the format `accept` asks for.
void SendMetrics(metrics::Registry* registry, const std::string& accept, HttpResponse& res);

}  // namespace sopilot
