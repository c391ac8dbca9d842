// ApiServer: SOPilot's REST API over cpp-httplib, with the Python original's
// paths and JSON field names.
//
// Every route declares the least role it needs; the check runs before the
// handler reads the request body, so an upload without the role is refused
// before it is received. Errors are JSON {"error": ..., "detail": ...}
// ("detail" is the original's key). The route table is also the source of
// GET /openapi.json. Every request is counted and timed under its route
// template (sopilot_http_requests_total, sopilot_http_request_duration_seconds)
// in the service's registry, which GET /metrics renders.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth/authenticator.h"
#include "http/response_cache.h"
#include "base/status.h"
#include "service/sopilot_service.h"
#include "service/worker_pool.h"

namespace httplib {
class Server;
struct Request;
struct Response;
class ContentReader;
}  // namespace httplib

namespace sopilot {

// What a handler gets: the caller, path parameters by name, the raw request.
struct ApiRequest {
  const httplib::Request* http = nullptr;
  const httplib::ContentReader* body_reader = nullptr;  // streaming routes only
  Principal principal;
  std::map<std::string, std::string> path_params;
};

struct Route {
  std::string method;                 // GET, POST, DELETE
  std::string path;                   // template, e.g. "/videos/{video_id}"
  std::optional<Role> min_role;       // nullopt: public
  bool streams_body = false;          // handler reads the body itself (uploads)
  std::string summary;                // for OpenAPI
  nlohmann::json openapi;             // parameters, requestBody, responses
  std::function<void(const ApiRequest&, httplib::Response&)> handler;
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
  void Stop();

  const std::vector<Route>& routes() const { return routes_; }
  // The OpenAPI 3.1 document of routes().
  nlohmann::json OpenApi() const;

 private:
  void AddRoutes();
  void Add(Route route);
  void Register(const Route& route);

  SopilotService* service_;
  WorkerPool* workers_;
  std::unique_ptr<httplib::Server> server_;
  std::vector<Route> routes_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> running_{false};  // inside Run()
  ResponseCache cache_;
};

// Status -> HTTP code: InvalidArgument 400, NotFound 404, Unavailable 503,
// Unsupported 415, others 500.
int HttpStatusFor(const Status& status);

}  // namespace sopilot
