#include "http/metrics_server.h"

#include <httplib.h>

#include <thread>

#include <nlohmann/json.hpp>

#include "base/json_text.h"

namespace sopilot {

void SendMetrics(metrics::Registry* registry, const std::string& accept, httplib::Response& res) {
  res.status = 200;
  if (accept.find("application/openmetrics-text") != std::string::npos) {
    res.set_content(registry->RenderOpenMetrics(), metrics::kOpenMetricsContentType);
  } else {
    res.set_content(registry->Render(), metrics::kTextContentType);
  }
}

MetricsServer::MetricsServer(SopilotService* service)
    : service_(service), server_(std::make_unique<httplib::Server>()) {
  server_->Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
    SendMetrics(service_->metrics_registry(), req.get_header_value("Accept"), res);
  });
  server_->Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    bool queue = service_->queue()->Ping().ok();
    bool db = service_->Health().ok();
    nlohmann::json body = {{"status", queue && db ? "ok" : "unavailable"}, {"queue", queue}, {"db", db}};
    res.status = queue && db ? 200 : 503;
    res.set_content(JsonText(body), "application/json");
  });
  server_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    res.set_content(JsonText(nlohmann::json({{"error", "not found: " + req.path + " (this port serves /metrics and /health)"},
                                             {"detail", "not found"}})),
                    "application/json");
  });
}

MetricsServer::~MetricsServer() { Stop(); }

Result<int> MetricsServer::Bind(const std::string& host, int port) {
  int bound = port == 0 ? server_->bind_to_any_port(host.c_str()) : (server_->bind_to_port(host.c_str(), port) ? port : -1);
  if (bound < 0) return Status::IOError("cannot listen on " + host + ":" + std::to_string(port));
  return bound;
}

void MetricsServer::Start() {
  thread_ = std::make_unique<std::thread>([this] { server_->listen_after_bind(); });
}

void MetricsServer::Stop() {
  if (!thread_) return;
  server_->stop();
  thread_->join();
  thread_.reset();
}

}  // namespace sopilot
