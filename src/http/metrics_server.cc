#include "http/metrics_server.h"

#include <nlohmann/json.hpp>

#include "base/json_text.h"

namespace sopilot {

void SendMetrics(metrics::Registry* registry, const std::string& accept, HttpResponse& res) {
  res.status = 200;
  if (accept.find("application/openmetrics-text") != std::string::npos) {
    res.SetBody(registry->RenderOpenMetrics(), metrics::kOpenMetricsContentType);
  } else {
    res.SetBody(registry->Render(), metrics::kTextContentType);
  }
}

MetricsServer::MetricsServer(SopilotService* service) : service_(service) {
  HttpServerOptions options;
  options.io_threads = 1;
  options.handler_threads = 4;
  server_ = std::make_unique<HttpServer>(options, [this](const HttpRequest& req) { return Dispatch(req); });
}

MetricsServer::~MetricsServer() { Stop(); }

HttpDispatch MetricsServer::Dispatch(const HttpRequest& req) {
  HttpDispatch d;
  std::string path = req.path;
  if (path.size() > 1 && path.back() == '/') path.pop_back();
  const bool get = req.method == "GET" || req.method == "HEAD";
  if (get && (path == "/metrics" || path == "/health")) {
    d.route = path;
    d.quiet = true;  // scrapes and probes: at debug, unless they fail
  }
  if (get && path == "/metrics") {
    d.handler = [this](HttpRequest& r, HttpResponse& res) {
      SendMetrics(service_->metrics_registry(), r.header("Accept"), res);
    };
  } else if (get && path == "/health") {
    d.handler = [this](HttpRequest&, HttpResponse& res) {
      bool queue = service_->queue()->Ping().ok();
      bool db = service_->Health().ok();
      nlohmann::json body = {{"status", queue && db ? "ok" : "unavailable"}, {"queue", queue}, {"db", db}};
      res.status = queue && db ? 200 : 503;
      res.SetBody(JsonText(body), "application/json");
    };
  } else {
    HttpResponse res;
    res.status = 404;
    res.SetBody(JsonText(nlohmann::json({{"error", "not found: " + req.path + " (this port serves /metrics and /health)"},
                                         {"detail", "not found"}})),
                "application/json");
    d.answer = std::move(res);
  }
  return d;
}

Result<int> MetricsServer::Bind(const std::string& host, int port) { return server_->Bind(host, port); }

void MetricsServer::Start() { server_->Start(); }

void MetricsServer::Stop() { server_->Stop(); }

}  // namespace sopilot
