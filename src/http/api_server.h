// ApiServer: SOPilot's REST API over HttpServer (http/http_server.h: Asio and
// Beast), with the Python original's paths and JSON field names.
//
// Every route declares the least role it needs; the check runs on the
// request's headers before any byte of its body is read, so a request
// without the role is refused (401, 403) before its body is received, and an
// unknown route (404) the same. Bodies are read under a limit per route:
// HttpDispatch::kSmallBodyBytes (64 KiB) for JSON bodies, the upload limit
// (SOPILOT_UPLOAD_MAX_MB) plus 1 MiB of multipart framing for uploads; a
// larger Content-Length is answered 413 unread. Errors are JSON {"error": ..., "detail": ...}
// ("detail" is the original's key). The route table is also the source of
// GET /openapi.json. Every request is counted and timed under its route
// template (sopilot_http_requests_total, sopilot_http_request_duration_seconds)
// in the service's registry, which GET /metrics renders.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth/authenticator.h"
#include "http/http_server.h"
#include "http/response_cache.h"
#include "base/status.h"
#include "service/sopilot_service.h"
#include "service/worker_pool.h"

namespace sopilot {

// What a handler gets: the caller, path parameters by name, the request (its
// body whole, or its body_reader on a streaming route).
struct ApiRequest {
  const HttpRequest* http = nullptr;
  Principal principal;
  std::map<std::string, std::string> path_params;
};

struct Route {
  std::string method;                 // GET, POST, DELETE
  std::string path;                   // template, e.g. "/videos/{video_id}"
  std::optional<Role> min_role;       // nullopt: public
  bool streams_body = false;          // handler reads the body itself (uploads); else up to 64 KiB, whole
  std::string summary;                // for OpenAPI
  nlohmann::json openapi;             // parameters, requestBody, responses
  std::function<void(const ApiRequest&, HttpResponse&)> handler;
};

class ApiServer {
 public:
  // `workers` may be null (no readiness from workers).
  ApiServer(SopilotService* service, WorkerPool* workers);
  ~ApiServer();

  // Binds; port 0 picks a free port. Returns the bound port.
  Result<int> Bind(const std::string& host, int port);
  // Serves until Stop() (blocks).
  void Run();
  // Any thread, before or during Run(); Run() then returns.
  void Stop();
  // Connections open now (tests).
  int open_connections() const { return server_->open_connections(); }

  const std::vector<Route>& routes() const { return routes_; }
  // The OpenAPI 3.1 document of routes().
  nlohmann::json OpenApi() const;

 private:
  void AddRoutes();
  void Add(Route route);
  // Route matching and the role check, from the headers alone.
  HttpDispatch Dispatch(const HttpRequest& req);

  SopilotService* service_;
  WorkerPool* workers_;
  std::unique_ptr<HttpServer> server_;
  std::vector<Route> routes_;
  std::vector<std::vector<std::string>> route_segments_;  // routes_[i].path split at '/'
  std::atomic<bool> ready_{false};
  std::mutex run_mu_;
  std::condition_variable run_cv_;
  bool stop_requested_ = false;  // under run_mu_
  ResponseCache cache_;
  metrics::CounterFamily* requests_metric_ = nullptr;
  std::vector<metrics::Histogram*> duration_metric_;  // per route
};

// Status -> HTTP code: InvalidArgument 400, NotFound 404, Unavailable 503,
// Unsupported 415, others 500.
int HttpStatusFor(const Status& status);

}  // namespace sopilot
