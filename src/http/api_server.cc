#include "http/api_server.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <thread>

#include "base/digest.h"
#include "base/json_text.h"
#include "base/text.h"
#include "embed/embedder_registry.h"
#include "http/metrics_server.h"
#include "http/multipart_parser.h"
#include "http/upload_form.h"
#include "http/views.h"
#include "web/web_assets.h"

namespace sopilot {

namespace {

using Json = nlohmann::json;

// How long a video listing may be served from cache.
constexpr double kListingCacheSec = 0.25;
// Room for an upload's multipart framing and text fields beyond the file
// itself: a Content-Length past the limit plus this is refused unread.
constexpr int64_t kMultipartAllowance = 1 << 20;

void SendJson(HttpResponse& res, int status, const nlohmann::ordered_json& body) {
  res.status = status;
  res.SetBody(JsonText(body), "application/json");
}
void SendJson(HttpResponse& res, int status, const Json& body) {
  res.status = status;
  res.SetBody(JsonText(body), "application/json");
}

void SendError(HttpResponse& res, int status, const std::string& message) { res = JsonErrorResponse(status, message); }

// A route that queued (or requeued) a job: 202 Accepted with the job's JSON,
// the same body a 200 carried before, and a Location to poll it at.
void SendAccepted(HttpResponse& res, const JobRow& job, const nlohmann::ordered_json& body) {
  SendJson(res, 202, body);
  res.headers.emplace_back("Location", JobLocation(job.kind, job.id));
}
void SendAccepted(HttpResponse& res, const JobRow& job, const Json& body) {
  SendJson(res, 202, body);
  res.headers.emplace_back("Location", JobLocation(job.kind, job.id));
}

void SendStatus(HttpResponse& res, const Status& st) { SendError(res, HttpStatusFor(st), st.message()); }

// Integer from a path or query value; nullopt when it is not one.
std::optional<int64_t> ParseInt(const std::string& s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  size_t i = s[0] == '-' ? 1 : 0;
  if (i == s.size()) return std::nullopt;
  for (size_t k = i; k < s.size(); ++k) {
    if (s[k] < '0' || s[k] > '9') return std::nullopt;
  }
  return std::stoll(s);
}

// Query integer with a default and a range; sets an error message otherwise.
bool QueryInt(const HttpRequest& req, const char* name, int64_t fallback, int64_t lo, int64_t hi, int64_t* out,
              std::string* error, bool required = false) {
  if (!req.has_query(name)) {
    if (required) {
      *error = std::string(name) + " is required";
      return false;
    }
    *out = fallback;
    return true;
  }
  auto v = ParseInt(req.query_value(name));
  if (!v || *v < lo || *v > hi) {
    *error = std::string(name) + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
    return false;
  }
  *out = *v;
  return true;
}

// A history bound as the store's timestamps are written
// ("2026-12-02T09:30:00+00:00"): YYYY-MM-DD, or a UTC time with Z or
// +00:00. `end_of_day`: a date alone means the end of that day (an "until"
// that includes it).
std::optional<std::string> HistoryTime(const std::string& s, bool end_of_day) {
  // Every accepted form is rewritten as the store's own and read by its
  // parser, so the two cannot disagree on what a valid time is.
  std::string iso;
  const bool date_only = s.size() == 10;
  if (date_only) {
    iso = s + "T00:00:00+00:00";
  } else if (s.size() == 20 && s.back() == 'Z') {
    iso = s.substr(0, 19) + "+00:00";
  } else {
    iso = s;
  }
  std::optional<double> t = UnixFromIsoTimestamp(iso);
  if (!t) return std::nullopt;
  if (date_only && end_of_day) *t += 86400;
  return IsoTimestamp(*t);
}

std::string ContentTypeFor(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == ".mp4" || ext == ".m4v") return "video/mp4";
  if (ext == ".mov") return "video/quicktime";
  if (ext == ".mkv") return "video/x-matroska";
  if (ext == ".webm") return "video/webm";
  if (ext == ".avi") return "video/x-msvideo";
  if (ext == ".json") return "application/json";
  return "application/octet-stream";
}

// The file as the response body: the server streams it from disk (one
// Range honoured), never reading it whole.
void SendFile(HttpResponse& res, const std::string& path, const std::string& content_type,
              const std::string& download_name = "") {
  std::error_code ec;
  (void)std::filesystem::file_size(path, ec);
  if (ec) return SendError(res, 404, "file missing on disk");
  res.status = 200;
  res.content_type = content_type;
  res.file_path = path;
  if (!download_name.empty()) {
    res.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + download_name + "\"");
  }
}

// JSON schema helpers for the OpenAPI document.
Json Obj(std::initializer_list<std::pair<const char*, Json>> props, std::vector<std::string> required = {}) {
  Json p = Json::object();
  for (const auto& [k, v] : props) p[k] = v;
  Json o = {{"type", "object"}, {"properties", p}};
  if (!required.empty()) o["required"] = required;
  return o;
}
Json T(const char* type) { return Json{{"type", type}}; }
Json TN(const char* type) { return Json{{"type", Json::array({type, "null"})}}; }
Json Ref(const char* name) { return Json{{"$ref", std::string("#/components/schemas/") + name}}; }
Json Param(const char* name, const char* in, const char* type, bool required, const char* description) {
  return Json{{"name", name}, {"in", in}, {"required", required}, {"description", description}, {"schema", T(type)}};
}
Json Responses(Json ok_schema, std::vector<int> errors = {}) {
  Json r = {{"200", {{"description", "OK"}, {"content", {{"application/json", {{"schema", ok_schema}}}}}}}};
  for (int code : errors) {
    r[std::to_string(code)] = {{"description", "Error"},
                               {"content", {{"application/json", {{"schema", Ref("Error")}}}}}};
  }
  return r;
}

// The responses of a route that queues a job: 202 with the job and a
// Location header naming where to poll it.
Json AcceptedResponses(Json job_schema, const char* poll_at, std::vector<int> errors = {}) {
  Json r = Responses(job_schema, std::move(errors));
  Json accepted = r["200"];
  r.erase("200");
  accepted["description"] = std::string("Accepted: the job is queued; poll it at the Location (") + poll_at + ")";
  accepted["headers"] = {{"Location", {{"description", std::string("Where to poll the job: ") + poll_at},
                                       {"schema", T("string")}}}};
  r["202"] = accepted;
  return r;
}

// "/videos/{video_id}/" -> {"videos", "{video_id}"}: a trailing slash is the
// same route.
std::vector<std::string> Segments(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 1;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  if (out.size() > 1 && out.back().empty()) out.pop_back();
  return out;
}

// The client libraries' default latency buckets.
const std::vector<double> kHttpBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

}  // namespace

int HttpStatusFor(const Status& st) {
  switch (st.code()) {
    case Status::Code::kOk: return 200;
    case Status::Code::kInvalidArgument: return 400;
    case Status::Code::kNotFound: return 404;
    case Status::Code::kUnavailable: return 503;
    case Status::Code::kNoSpace: return 507;  // Insufficient Storage: nothing was stored
    case Status::Code::kUnsupported: return 415;
    default: return 500;
  }
}

ApiServer::ApiServer(SopilotService* service, WorkerPool* workers) : service_(service), workers_(workers) {
  const ServiceConfig& c = service_->config();
  HttpServerOptions options;
  options.handler_threads = c.http_threads;
  options.header_timeout_sec = c.http_header_timeout_sec;
  options.max_connections = c.http_max_connections;
  options.max_connections_per_client = c.http_max_connections_per_client;
  server_ = std::make_unique<HttpServer>(options, [this](const HttpRequest& req) { return Dispatch(req); });
  // Requests are labelled with the route template, never the raw path (an id
  // in a label would make a series per id).
  metrics::Registry* registry = service_->metrics_registry();
  requests_metric_ = registry->AddCounter("sopilot_http_requests_total",
                                          "HTTP requests by method, route template and status.",
                                          {"method", "route", "status"});
  AddRoutes();
}

ApiServer::~ApiServer() { Stop(); }

Result<int> ApiServer::Bind(const std::string& host, int port) {
  auto bound = server_->Bind(host, port);
  if (!bound.ok()) return bound.status();
  ready_ = true;
  return *bound;
}

void ApiServer::Run() {
  std::unique_lock<std::mutex> lock(run_mu_);
  if (stop_requested_) return;
  server_->Start();
  run_cv_.wait(lock, [this] { return stop_requested_; });
}

void ApiServer::Stop() {
  ready_ = false;
  {
    std::lock_guard<std::mutex> lock(run_mu_);
    stop_requested_ = true;
  }
  run_cv_.notify_all();
  server_->Stop();
}

void ApiServer::Add(Route route) {
  metrics::Registry* registry = service_->metrics_registry();
  duration_metric_.push_back(
      registry->AddHistogram("sopilot_http_request_duration_seconds", "HTTP request handling time by route template.",
                             {"method", "route"}, kHttpBuckets)
          ->With({route.method, route.path}));
  route_segments_.push_back(Segments(route.path));
  routes_.push_back(std::move(route));
}

HttpDispatch ApiServer::Dispatch(const HttpRequest& req) {
  HttpDispatch d;
  const std::vector<std::string> segments = Segments(req.path);
  const std::string method = req.method == "HEAD" ? "GET" : req.method;
  size_t found = routes_.size();
  std::map<std::string, std::string> params;
  for (size_t i = 0; i < routes_.size() && found == routes_.size(); ++i) {
    if (routes_[i].method != method || route_segments_[i].size() != segments.size()) continue;
    params.clear();
    bool match = true;
    for (size_t k = 0; k < segments.size() && match; ++k) {
      const std::string& t = route_segments_[i][k];
      if (t.size() > 2 && t.front() == '{' && t.back() == '}') {
        match = !segments[k].empty();
        params[t.substr(1, t.size() - 2)] = segments[k];
      } else {
        match = t == segments[k];
      }
    }
    if (match) found = i;
  }
  if (found == routes_.size()) {
    d.answer = JsonErrorResponse(404, "no such route: " + req.method + " " + req.path);
    return d;
  }
  const Route& route = routes_[found];
  d.route = route.path;
  // Probes and scrapes come every few seconds: at debug, unless they fail.
  d.quiet = route.path == "/health" || route.path == "/ready" || route.path == "/metrics";
  metrics::Histogram* duration = duration_metric_[found];
  const auto started = std::chrono::steady_clock::now();
  // Counts and times the request under its route template.
  auto observe = [this, duration, started, &route](int status) {
    duration->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    requests_metric_->With({route.method, route.path, std::to_string(status)})->Inc();
  };
  ApiRequest api;
  api.path_params = std::move(params);
  // Authenticates and checks the role before anything reads the body.
  if (!route.min_role) {
    api.principal = {"anonymous", Role::kViewer};
  } else if (!service_->config().auth.configured()) {
    // No credentials configured: the server listens on loopback only, and
    // whoever can reach it is trusted.
    api.principal = {"anonymous", Role::kAdmin};
  } else {
    auto p = Authenticate(service_->config().auth, req.header("Authorization"));
    if (!p) {
      d.answer = JsonErrorResponse(401, "authentication required");
      d.answer->headers.emplace_back("WWW-Authenticate", "Bearer realm=\"sopilot\", Basic realm=\"sopilot\"");
      observe(401);
      return d;
    }
    api.principal = *p;
  }
  if (route.min_role && !RoleAtLeast(api.principal.role, *route.min_role)) {
    d.answer = JsonErrorResponse(403, std::string(RoleName(*route.min_role)) +
                                          " role required for this operation (actor=" + api.principal.actor +
                                          ", role=" + RoleName(api.principal.role) + ")");
    observe(403);
    return d;
  }
  d.stream_body = route.streams_body;
  d.max_body_bytes = route.streams_body ? service_->config().upload_max_bytes + kMultipartAllowance
                                        : HttpDispatch::kSmallBodyBytes;
  d.handler = [&route, api = std::move(api)](HttpRequest& http, HttpResponse& res) mutable {
    api.http = &http;
    route.handler(api, res);
  };
  d.done = observe;
  return d;
}

void ApiServer::AddRoutes() {
  SopilotService* s = service_;
  const Json job_error = Json::array({400, 404});

  Add({"GET", "/", std::nullopt, false, "Where to start",
       {{"responses", Responses(Obj({{"message", T("string")}, {"openapi", T("string")}}))}},
       [](const ApiRequest&, HttpResponse& res) {
         SendJson(res, 200, Json{{"message", "SOPilot API; see /openapi.json"}, {"openapi", "/openapi.json"},
                                 {"ui", "/ui"}});
       }});

  // The supervisor's web page: public files (it signs in with a token and
  // calls the API with it), compiled into the binary (web/web_assets.h).
  auto send_asset = [](HttpResponse& res, const std::string& name) {
    const WebAsset* a = FindWebAsset(name);
    if (a == nullptr) return SendError(res, 404, "no such file of the web page: " + name);
    res.status = 200;
    res.SetBody(std::string(a->body), std::string(a->content_type));
    // The page keeps the token in the tab and draws with its own files only.
    res.headers.emplace_back("Content-Security-Policy",
                             "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' blob: data:; media-src 'self' blob:; "
                             "frame-src 'self' blob:; object-src 'none'; base-uri 'none'");
    res.headers.emplace_back("X-Content-Type-Options", "nosniff");
    res.headers.emplace_back("Cache-Control", "no-cache");
  };
  Add({"GET", "/ui", std::nullopt, false, "The web page: tasks, steps, uploads, scores, history",
       {{"responses", {{"200", {{"description", "The page"}, {"content", {{"text/html", Json::object()}}}}}}}},
       [send_asset](const ApiRequest&, HttpResponse& res) { send_asset(res, "index.html"); }});
  Add({"GET", "/ui/{asset}", std::nullopt, false, "A file of the web page (app.js, app.css)",
       {{"parameters", {Param("asset", "path", "string", true, "File name")}},
        {"responses", {{"200", {{"description", "The file"}}}, {"404", {{"description", "Error"}}}}}},
       [send_asset](const ApiRequest& r, HttpResponse& res) { send_asset(res, r.path_params.at("asset")); }});

  Add({"GET", "/health", std::nullopt, false, "Liveness: 200 when the store answers, 503 when it does not",
       {{"responses", Responses(Obj({{"status", T("string")}, {"db", T("boolean")}}), {503})}},
       [s](const ApiRequest&, HttpResponse& res) {
         Status st = s->Health();
         if (st.ok()) SendJson(res, 200, Json{{"status", "ok"}, {"db", true}});
         else SendJson(res, 503, Json{{"status", "degraded"}, {"db", false}, {"error", st.message()}});
       }});

  // Readiness also needs the job queue: while it is unreachable every
  // upload, score and training request would answer 503, so a load balancer
  // (a Kubernetes readiness probe) should send clients elsewhere.
  Add({"GET", "/ready", std::nullopt, false,
       "Readiness: 200 once the server accepts work (the store and the job queue answer), 503 otherwise",
       {{"responses", Responses(Obj({{"ready", T("boolean")}, {"db", T("boolean")}, {"queue", T("boolean")}}), {503})}},
       [this, s](const ApiRequest&, HttpResponse& res) {
         bool db = s->Health().ok();
         bool queue = s->QueueReady().ok();
         bool ready = db && queue && ready_;
         SendJson(res, ready ? 200 : 503, Json{{"ready", ready}, {"db", db}, {"queue", queue}});
       }});

  Add({"GET", "/openapi.json", std::nullopt, false, "This document",
       {{"responses", Responses(T("object"))}},
       [this](const ApiRequest&, HttpResponse& res) { SendJson(res, 200, OpenApi()); }});

  Add({"GET", "/metrics", std::nullopt, false,
       "Prometheus metrics: text exposition format 0.0.4, or OpenMetrics 1.0 when Accept asks for it",
       {{"responses",
         {{"200",
           {{"description", "OK"},
            {"content", {{"text/plain", {{"schema", T("string")}}},
                         {"application/openmetrics-text", {{"schema", T("string")}}}}}}}}}},
       [s](const ApiRequest& r, HttpResponse& res) {
         SendMetrics(s->metrics_registry(), r.http->header("Accept"), res);
       }});

  // ---- uploads
  auto upload = [s](const ApiRequest& req, HttpResponse& res, const std::string& forced_role) {
    const HttpRequest& http = *req.http;
    auto boundary = MultipartBoundary(http.header("Content-Type"));
    if (!boundary.ok()) {
      SendError(res, 400, "expected a multipart/form-data body with a 'file' field and a 'task_id' field");
      return;
    }
    if (Status ready = s->QueueReady(); !ready.ok()) {
      // Nothing is accepted that could not be queued. The body is read and
      // dropped so that the client, still sending, hears the answer.
      (void)http.body_reader->Read([](std::string_view) { return true; });  // the answer is the same either way
      return SendStatus(res, ready);
    }
    const std::string incoming = s->blobs().NewIncomingPath();
    FileUploadSink sink(s->env(), incoming);
    UploadForm form(s->config().upload_max_bytes, &sink);
    MultipartParser parser(
        *boundary, [&](const std::string& name, const std::string& filename) { return form.OnPart(name, filename); },
        [&](const char* data, size_t len) { return form.OnData(data, len); });
    Status read = http.body_reader->Read([&](std::string_view chunk) { return parser.Feed(chunk); });
    Status stored = sink.Close();
    if (UploadForm::Verdict v = form.Finish(read.ok() && parser.complete(), stored); !v.ok()) {
      sink.Remove();
      SendError(res, v.http_status, v.message);
      return;
    }
    auto job = s->SubmitUpload(incoming, sink.Sha256Hex(), form.Request(forced_role), req.principal.actor);
    if (!job.ok()) return SendStatus(res, job.status());
    SendAccepted(res, *job, IngestJobJson(*job));
  };
  Json upload_body = {{"required", true},
                      {"content",
                       {{"multipart/form-data",
                         {{"schema", Obj({{"file", {{"type", "string"}, {"format", "binary"}}},
                                          {"task_id", T("string")},
                                          {"role", {{"type", "string"}, {"enum", {"gold", "trainee", "audit"}}}},
                                          {"site_id", T("string")},
                                          {"camera_id", T("string")},
                                          {"operator_id_hash", T("string")}},
                                         {"file", "task_id"})}}}}}};
  Add({"POST", "/videos", Role::kOperator, true, "Upload a video (gold, trainee or audit) and queue its ingest",
       {{"requestBody", upload_body},
        {"responses", AcceptedResponses(Ref("IngestJob"), "/videos/jobs/{ingest_job_id}", {400, 401, 403, 413, 503, 507})}},
       [upload](const ApiRequest& r, HttpResponse& res) { upload(r, res, ""); }});
  Json gold_body = upload_body;
  gold_body["content"]["multipart/form-data"]["schema"]["properties"].erase("role");
  Add({"POST", "/gold", Role::kOperator, true, "Upload a gold video and queue its ingest",
       {{"requestBody", gold_body},
        {"responses", AcceptedResponses(Ref("IngestJob"), "/videos/jobs/{ingest_job_id}", {400, 401, 403, 413, 503, 507})}},
       [upload](const ApiRequest& r, HttpResponse& res) { upload(r, res, "gold"); }});

  Add({"GET", "/videos/jobs/{ingest_job_id}", Role::kViewer, false, "An ingest job",
       {{"parameters", {Param("ingest_job_id", "path", "string", true, "Ingest job id")}},
        {"responses", Responses(Ref("IngestJob"), {404})}},
       [s](const ApiRequest& r, HttpResponse& res) {
         auto job = s->GetJob(JobKind::kIngest, r.path_params.at("ingest_job_id"));
         if (!job.ok()) return SendStatus(res, job.status());
         SendJson(res, 200, IngestJobJson(*job));
       }});

  Add({"GET", "/videos", Role::kViewer, false, "Videos, newest first",
       {{"parameters", {Param("task_id", "query", "string", false, "Only this task"),
                        Param("limit", "query", "integer", false, "1..500, default 50")}},
        {"responses", Responses(Obj({{"items", {{"type", "array"}, {"items", Ref("Video")}}}}), {400})}},
       [this, s](const ApiRequest& r, HttpResponse& res) {
         int64_t limit;
         std::string err;
         if (!QueryInt(*r.http, "limit", 50, 1, 500, &limit, &err)) return SendError(res, 400, err);
         const std::string task = r.http->query_value("task_id");
         const std::string key = "/videos?" + std::to_string(limit) + "&" + task;
         if (auto body = cache_.Get(key)) return res.SetBody(*body, "application/json");
         auto videos = s->ListVideos(task, static_cast<int>(limit));
         if (!videos.ok()) return SendStatus(res, videos.status());
         nlohmann::ordered_json items = nlohmann::ordered_json::array();
         for (const VideoRow& v : *videos) items.push_back(VideoJson(v));
         std::string body = JsonText(nlohmann::ordered_json{{"items", items}});
         // Workers add videos behind the API's back, so the listing is kept
         // only briefly: at most this stale under load, fresh when idle.
         cache_.Put(key, body, kListingCacheSec);
         res.SetBody(body, "application/json");
       }});

  auto video_id = [](const ApiRequest& r, HttpResponse& res) -> std::optional<int64_t> {
    auto id = ParseInt(r.path_params.at("video_id"));
    if (!id || *id < 1) {
      SendError(res, 400, "video_id must be a positive integer");
      return std::nullopt;
    }
    return id;
  };
  Json video_param = Json::array({Param("video_id", "path", "integer", true, "Video id")});
  Add({"GET", "/videos/{video_id}", Role::kViewer, false, "One video",
       {{"parameters", video_param}, {"responses", Responses(Ref("Video"), {400, 404})}},
       [s, video_id](const ApiRequest& r, HttpResponse& res) {
         auto id = video_id(r, res);
         if (!id) return;
         auto v = s->GetVideo(*id);
         if (!v.ok()) return SendStatus(res, v.status());
         SendJson(res, 200, VideoJson(*v));
       }});
  Add({"GET", "/videos/{video_id}/file", Role::kViewer, false, "The uploaded video file",
       {{"parameters", video_param},
        {"responses", {{"200", {{"description", "The video bytes"}, {"content", {{"video/*", Json::object()}}}}},
                       {"404", {{"description", "Error"}}}}}},
       [s, video_id](const ApiRequest& r, HttpResponse& res) {
         auto id = video_id(r, res);
         if (!id) return;
         auto v = s->GetVideo(*id);
         if (!v.ok()) return SendStatus(res, v.status());
         SendFile(res, s->blobs().Absolute(v->file_path), ContentTypeFor(v->file_name));
       }});
  Add({"DELETE", "/videos/{video_id}", Role::kAdmin, false, "Delete a video, its clips and files",
       {{"parameters", video_param},
        {"responses", Responses(Obj({{"video_id", T("integer")}, {"task_id", T("string")},
                                     {"removed_files", {{"type", "array"}, {"items", T("string")}}},
                                     {"reindexed_clips", T("integer")}}),
                                {400, 401, 403, 404})}},
       [this, s, video_id](const ApiRequest& r, HttpResponse& res) {
         auto id = video_id(r, res);
         if (!id) return;
         auto out = s->DeleteVideo(*id, r.principal.actor);
         cache_.Invalidate("");
         if (!out.ok()) return SendStatus(res, out.status());
         SendJson(res, 200, *out);
       }});

  // ---- scoring
  Add({"POST", "/score", Role::kOperator, false,
       "Queue a score of a trainee video against a gold video. The gold: gold_video_id names one; without it, "
       "gold_selection picks it: \"chosen\" (the default) is the task's chosen gold (the one its SOP was written "
       "over, else its newest); \"closest\" scores the trainee against every gold video of the task embedded with "
       "the trainee's model (those ingested when the score runs) and reports against the closest: the highest "
       "score, ties to the chosen gold, then to the lower video id. The job's gold_video_id is null until then and "
       "the closest one's after; its result lists every gold tried in gold_candidates, closest first, each with "
       "its score, verdict, sop_version and error (a gold that could not be scored: null score). The task's "
       "latest SOP, fixed at submission, applies to the gold it was written over; any other gold is scored with "
       "the steps found in it, so sop_version is the SOP's only when that gold is the one reported. 400 for "
       "gold_video_id with gold_selection, an unknown gold_selection, or a task without a gold video to score "
       "against",
       {{"requestBody",
         {{"required", true},
          {"content",
           {{"application/json",
             {{"schema",
               Obj({{"gold_video_id", T("integer")},
                    {"trainee_video_id", T("integer")},
                    {"gold_selection", {{"type", "string"}, {"enum", Json::array({"chosen", "closest"})}}}},
                   {"trainee_video_id"})}}}}}}},
        {"responses", AcceptedResponses(Ref("ScoreJob"), "/score/{score_job_id}", {400, 401, 403, 404, 503})}},
       [s](const ApiRequest& r, HttpResponse& res) {
         Json body = Json::parse(r.http->body, nullptr, false);
         if (body.is_discarded() || !body.is_object()) return SendError(res, 400, "body must be a JSON object");
         ScoreRequest request;
         for (const char* k : {"gold_video_id", "trainee_video_id"}) {
           // Without a gold, gold_selection picks it.
           if (!body.contains(k) && std::string(k) == "gold_video_id") continue;
           if (!body.contains(k)) return SendError(res, 400, std::string(k) + " is required");
           if (!body[k].is_number_integer() || body[k].get<int64_t>() < 1) {
             return SendError(res, 400, std::string(k) + " must be an integer >= 1");
           }
         }
         request.trainee_video_id = body["trainee_video_id"].get<int64_t>();
         if (body.contains("gold_video_id")) {
           request.gold_video_id = body["gold_video_id"].get<int64_t>();
           if (body.contains("gold_selection")) {
             return SendError(res, 400, "give gold_video_id (the gold) or gold_selection (how to pick it), not both");
           }
         } else {
           request.gold_selection = GoldSelection::kChosen;
           if (body.contains("gold_selection")) {
             auto selection = body["gold_selection"].is_string()
                                  ? ParseGoldSelection(body["gold_selection"].get<std::string>())
                                  : std::nullopt;
             // "named" is what gold_video_id says.
             if (!selection || *selection == GoldSelection::kNamed) {
               return SendError(res, 400, "gold_selection must be \"chosen\" or \"closest\" (or name the gold "
                                          "with gold_video_id)");
             }
             request.gold_selection = *selection;
           }
         }
         auto job = s->SubmitScore(request, r.principal.actor);
         if (!job.ok()) return SendStatus(res, job.status());
         SendAccepted(res, *job, ScoreJobJson(*job, nullptr));
       }});
  Add({"GET", "/score/{score_job_id}", Role::kViewer, false, "A score job and, once completed, its result",
       {{"parameters", {Param("score_job_id", "path", "string", true, "Score job id")}},
        {"responses", Responses(Ref("ScoreJob"), {404})}},
       [this, s](const ApiRequest& r, HttpResponse& res) {
         const std::string key = "/score/" + r.path_params.at("score_job_id");
         if (auto body = cache_.Get(key)) return res.SetBody(*body, "application/json");
         auto job = s->GetJob(JobKind::kScore, r.path_params.at("score_job_id"));
         if (!job.ok()) return SendStatus(res, job.status());
         auto result = s->ScoreResult(*job);
         if (!result.ok()) return SendStatus(res, result.status());
         std::string body = JsonText(ScoreJobJson(*job, *result));
         // A finished job never changes (until a delete, which clears the
         // cache). Dead is not final: an admin may requeue it, through
         // another API process as well.
         bool final = job->status == kJobCompleted || job->status == kJobFailed;
         if (final) cache_.Put(key, body, 0);
         res.SetBody(body, "application/json");
       }});
  Json score_param = Json::array({Param("score_job_id", "path", "string", true, "Score job id")});
  Add({"GET", "/score/{score_job_id}/result.json", Role::kViewer, false,
       "The stored result file of a completed score, byte for byte (its SHA-256 is in the report's footer)",
       {{"parameters", score_param}, {"responses", Responses(T("object"), {400, 404})}},
       [s](const ApiRequest& r, HttpResponse& res) {
         auto path = s->ScoreResultPath(r.path_params.at("score_job_id"));
         if (!path.ok()) return SendStatus(res, path.status());
         SendFile(res, *path, "application/json");
       }});
  Add({"GET", "/score/{score_job_id}/report.pdf", Role::kViewer, false,
       "A completed score as a PDF report: verdict, step timeline, alignment, each deviation with a frame of "
       "each video, the result's SHA-256",
       {{"parameters", score_param},
        {"responses", {{"200", {{"description", "The PDF"}, {"content", {{"application/pdf", Json::object()}}}}},
                       {"400", {{"description", "Error"}}},
                       {"404", {{"description", "Error"}}}}}},
       [s](const ApiRequest& r, HttpResponse& res) {
         const std::string id = r.path_params.at("score_job_id");
         auto pdf = s->ScoreReportPdf(id);
         if (!pdf.ok()) return SendStatus(res, pdf.status());
         res.status = 200;
         res.SetBody(std::move(*pdf), "application/pdf");
         res.headers.emplace_back("Content-Disposition", "inline; filename=\"sopilot-score-" + id + ".pdf\"");
       }});
  Add({"GET", "/score/{score_job_id}/report.html", Role::kViewer, false,
       "The same report as one self-contained HTML page",
       {{"parameters", score_param},
        {"responses", {{"200", {{"description", "The page"}, {"content", {{"text/html", Json::object()}}}}},
                       {"400", {{"description", "Error"}}},
                       {"404", {{"description", "Error"}}}}}},
       [s](const ApiRequest& r, HttpResponse& res) {
         auto html = s->ScoreReportHtml(r.path_params.at("score_job_id"));
         if (!html.ok()) return SendStatus(res, html.status());
         res.status = 200;
         res.SetBody(std::move(*html), "text/html; charset=utf-8");
       }});
  Add({"GET", "/scores", Role::kViewer, false, "Completed scores, newest first, filtered; paged by cursor",
       {{"parameters", {Param("task_id", "query", "string", false, "Only this task"),
                        Param("operator_id_hash", "query", "string", false, "Only this operator"),
                        Param("site_id", "query", "string", false, "Only this site"),
                        Param("camera_id", "query", "string", false, "Only this camera"),
                        Param("verdict", "query", "string", false, "pass, needs_review or fail"),
                        Param("since", "query", "string", false,
                              "Finished at or after: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)"),
                        Param("until", "query", "string", false,
                              "Finished before this time; a date alone includes that whole day"),
                        Param("limit", "query", "integer", false, "1..500, default 50"),
                        Param("cursor", "query", "string", false, "next_cursor of the previous page")}},
        {"responses", Responses(Obj({{"items", {{"type", "array"}, {"items", Ref("ScoreItem")}}},
                                     {"next_cursor", TN("string")}}),
                                {400})}},
       [s](const ApiRequest& r, HttpResponse& res) {
         ScoreQuery q;
         std::string err;
         int64_t limit;
         if (!QueryInt(*r.http, "limit", 50, 1, 500, &limit, &err)) return SendError(res, 400, err);
         q.limit = static_cast<int>(limit);
         struct Text { const char* name; std::string* out; };
         for (Text f : {Text{"task_id", &q.task_id}, Text{"operator_id_hash", &q.operator_id_hash},
                        Text{"site_id", &q.site_id}, Text{"camera_id", &q.camera_id}, Text{"verdict", &q.verdict}}) {
           *f.out = r.http->query_value(f.name);
           if (Status st = CheckTextField(f.name, *f.out, 200); !st.ok()) return SendError(res, 400, st.message());
         }
         if (!q.verdict.empty() && q.verdict != "pass" && q.verdict != "needs_review" && q.verdict != "fail") {
           return SendError(res, 400, "verdict must be pass, needs_review or fail");
         }
         for (const char* name : {"since", "until"}) {
           if (!r.http->has_query(name)) continue;
           auto when = HistoryTime(r.http->query_value(name), std::string(name) == "until");
           if (!when) {
             return SendError(res, 400, std::string(name) + " must be a date (YYYY-MM-DD) or a UTC time "
                                        "(YYYY-MM-DDTHH:MM:SSZ)");
           }
           (std::string(name) == "since" ? q.finished_from : q.finished_before) = *when;
         }
         auto page = s->ListScores(q, r.http->query_value("cursor"));
         if (!page.ok()) return SendStatus(res, page.status());
         SendJson(res, 200, *page);
       }});

  // ---- SOP definitions and statistics per task
  auto task_param = [](const ApiRequest& r, HttpResponse& res) -> std::optional<std::string> {
    const std::string& task = r.path_params.at("task_id");
    if (Status st = CheckTextField("task_id", task, 200); !st.ok()) {
      SendError(res, 400, st.message());
      return std::nullopt;
    }
    return task;
  };
  Add({"GET", "/tasks", Role::kViewer, false, "Every task with an ingested video: its gold videos and SOP version",
       {{"responses", Responses(Obj({{"items", {{"type", "array"},
                                                 {"items", Obj({{"task_id", T("string")}, {"gold_videos", T("integer")},
                                                                {"sop_version", TN("integer")}})}}}}))}},
       [s](const ApiRequest&, HttpResponse& res) {
         auto tasks = s->ListTasks();
         if (!tasks.ok()) return SendStatus(res, tasks.status());
         SendJson(res, 200, *tasks);
       }});
  Add({"GET", "/tasks/{task_id}/sop", Role::kViewer, false,
       "The task's SOP (step names, times in its gold video, rules): the latest version or ?version=N; without "
       "one, a draft of the steps found in the task's newest gold video (version 0, draft true)",
       {{"parameters", {Param("task_id", "path", "string", true, "Task"),
                        Param("version", "query", "integer", false, "A saved version (default: the latest)")}},
        {"responses", Responses(Ref("Sop"), {400, 404})}},
       [s, task_param](const ApiRequest& r, HttpResponse& res) {
         auto task = task_param(r, res);
         if (!task) return;
         int64_t version;
         std::string err;
         if (!QueryInt(*r.http, "version", 0, 1, INT32_MAX, &version, &err)) return SendError(res, 400, err);
         auto sop = s->GetSop(*task, version);
         if (!sop.ok()) return SendStatus(res, sop.status());
         SendJson(res, 200, *sop);
       }});
  Add({"PUT", "/tasks/{task_id}/sop", Role::kOperator, false,
       "Save the task's SOP as its next version (audited); later scores against its gold video use it. Steps "
       "named without start_sec and end_sec (on every step) are placed in the gold video and saved with the "
       "times found",
       {{"parameters", {Param("task_id", "path", "string", true, "Task")}},
        {"requestBody", {{"required", true},
                         {"content", {{"application/json",
                                       {{"schema", Obj({{"gold_video_id", T("integer")},
                                                        {"steps", {{"type", "array"}, {"items", Ref("SopStep")}}}},
                                                       {"steps"})}}}}}}},
        {"responses", Responses(Ref("Sop"), {400, 401, 403})}},
       [s, task_param](const ApiRequest& r, HttpResponse& res) {
         auto task = task_param(r, res);
         if (!task) return;
         Json body = Json::parse(r.http->body, nullptr, false);
         if (body.is_discarded() || !body.is_object()) return SendError(res, 400, "body must be a JSON object");
         auto sop = s->PutSop(*task, body, r.principal.actor);
         if (!sop.ok()) return SendStatus(res, sop.status());
         SendJson(res, 200, *sop);
       }});
  // ---- notifications and automatic scoring per task
  Json webhook_schema = Obj({{"task_id", T("string")}, {"url", TN("string")}, {"secret_set", T("boolean")},
                             {"effective_url", TN("string")}, {"signed", T("boolean")},
                             {"updated_by", TN("string")}, {"updated_at", TN("string")}});
  Json task_path = Json::array({Param("task_id", "path", "string", true, "Task")});
  Add({"GET", "/tasks/{task_id}/webhook", Role::kOperator, false,
       "The task's webhook (called when a score of the task completes or fails; without one, "
       "SOPILOT_WEBHOOK_URL's); the secret is never shown",
       {{"parameters", task_path}, {"responses", Responses(webhook_schema, {400, 401, 403})}},
       [s, task_param](const ApiRequest& r, HttpResponse& res) {
         auto task = task_param(r, res);
         if (!task) return;
         auto out = s->GetTaskWebhook(*task);
         if (!out.ok()) return SendStatus(res, out.status());
         SendJson(res, 200, *out);
       }});
  Add({"PUT", "/tasks/{task_id}/webhook", Role::kOperator, false,
       "Set the task's webhook: an http:// URL and an optional secret that signs each body "
       "(X-SOPilot-Signature: sha256=HMAC-SHA256 hex); audited",
       {{"parameters", task_path},
        {"requestBody", {{"required", true},
                         {"content", {{"application/json",
                                       {{"schema", Obj({{"url", T("string")}, {"secret", T("string")}}, {"url"})}}}}}}},
        {"responses", Responses(webhook_schema, {400, 401, 403})}},
       [s, task_param](const ApiRequest& r, HttpResponse& res) {
         auto task = task_param(r, res);
         if (!task) return;
         Json body = Json::parse(r.http->body, nullptr, false);
         if (body.is_discarded() || !body.is_object()) return SendError(res, 400, "body must be a JSON object");
         auto out = s->PutTaskWebhook(*task, body, r.principal.actor);
         if (!out.ok()) return SendStatus(res, out.status());
         SendJson(res, 200, *out);
       }});
  Add({"DELETE", "/tasks/{task_id}/webhook", Role::kOperator, false,
       "Remove the task's webhook (SOPILOT_WEBHOOK_URL, if set, applies again); audited",
       {{"parameters", task_path}, {"responses", Responses(webhook_schema, {400, 401, 403, 404})}},
       [s, task_param](const ApiRequest& r, HttpResponse& res) {
         auto task = task_param(r, res);
         if (!task) return;
         if (Status st = s->DeleteTaskWebhook(*task, r.principal.actor); !st.ok()) return SendStatus(res, st);
         auto out = s->GetTaskWebhook(*task);
         if (!out.ok()) return SendStatus(res, out.status());
         SendJson(res, 200, *out);
       }});
  Json auto_score_schema = Obj({{"task_id", T("string")}, {"enabled", T("boolean")}, {"updated_by", TN("string")},
                                {"updated_at", TN("string")}});
  Add({"GET", "/tasks/{task_id}/auto-score", Role::kViewer, false,
       "Whether each new trainee video of the task is scored at once against the task's chosen gold",
       {{"parameters", task_path}, {"responses", Responses(auto_score_schema, {400})}},
       [s, task_param](const ApiRequest& r, HttpResponse& res) {
         auto task = task_param(r, res);
         if (!task) return;
         auto out = s->GetTaskAutoScore(*task);
         if (!out.ok()) return SendStatus(res, out.status());
         SendJson(res, 200, *out);
       }});
  Add({"PUT", "/tasks/{task_id}/auto-score", Role::kOperator, false,
       "Turn automatic scoring of the task's new trainee videos (uploads and the watch folder) on or off; audited",
       {{"parameters", task_path},
        {"requestBody", {{"required", true},
                         {"content", {{"application/json",
                                       {{"schema", Obj({{"enabled", T("boolean")}}, {"enabled"})}}}}}}},
        {"responses", Responses(auto_score_schema, {400, 401, 403})}},
       [s, task_param](const ApiRequest& r, HttpResponse& res) {
         auto task = task_param(r, res);
         if (!task) return;
         Json body = Json::parse(r.http->body, nullptr, false);
         if (body.is_discarded() || !body.is_object()) return SendError(res, 400, "body must be a JSON object");
         auto out = s->PutTaskAutoScore(*task, body, r.principal.actor);
         if (!out.ok()) return SendStatus(res, out.status());
         SendJson(res, 200, *out);
       }});
  Add({"GET", "/score/{score_job_id}/webhooks", Role::kOperator, false,
       "The webhook deliveries of a score: event, status (pending, delivered, failed, skipped), attempts, "
       "the last answer or error",
       {{"parameters", {Param("score_job_id", "path", "string", true, "Score job id")}},
        {"responses", Responses(Obj({{"score_job_id", T("string")}, {"items", {{"type", "array"}, {"items", T("object")}}}}),
                                {401, 403, 404})}},
       [s](const ApiRequest& r, HttpResponse& res) {
         auto out = s->ScoreWebhookDeliveries(r.path_params.at("score_job_id"));
         if (!out.ok()) return SendStatus(res, out.status());
         SendJson(res, 200, *out);
       }});

  Add({"GET", "/tasks/{task_id}/stats", Role::kViewer, false,
       "The task's score statistics: pass rate, the steps most often missed, time per step against the gold, "
       "and per operator the pass rate, mean score and trend",
       {{"parameters", {Param("task_id", "path", "string", true, "Task")}},
        {"responses", Responses(T("object"), {400})}},
       [s, task_param](const ApiRequest& r, HttpResponse& res) {
         auto task = task_param(r, res);
         if (!task) return;
         auto stats = s->TaskStats(*task);
         if (!stats.ok()) return SendStatus(res, stats.status());
         SendJson(res, 200, *stats);
       }});

  Add({"GET", "/search", Role::kViewer, false, "Clips of a task most like one clip (cosine top-k)",
       {{"parameters", {Param("task_id", "query", "string", true, "Task"),
                        Param("video_id", "query", "integer", true, "Query video"),
                        Param("clip_idx", "query", "integer", true, "Query clip"),
                        Param("k", "query", "integer", false, "1..50, default 5")}},
        {"responses", Responses(Obj({{"task_id", T("string")}, {"query_video_id", T("integer")},
                                     {"query_clip_idx", T("integer")},
                                     {"items", {{"type", "array"}, {"items", Ref("SearchItem")}}},
                                     {"videos_searched", T("integer")}, {"truncated", T("boolean")}}),
                                {400})}},
       [s](const ApiRequest& r, HttpResponse& res) {
         std::string err;
         int64_t video, clip, k;
         if (!r.http->has_query("task_id")) return SendError(res, 400, "task_id is required");
         if (!QueryInt(*r.http, "video_id", 0, 1, INT64_MAX / 2, &video, &err, true) ||
             !QueryInt(*r.http, "clip_idx", 0, 0, INT32_MAX, &clip, &err, true) ||
             !QueryInt(*r.http, "k", 5, 1, 50, &k, &err)) {
           return SendError(res, 400, err);
         }
         auto out = s->Search(r.http->query_value("task_id"), video, static_cast<int>(clip), static_cast<int>(k));
         if (!out.ok()) return SendStatus(res, out.status());
         SendJson(res, 200, *out);
       }});

  // ---- training
  Add({"POST", "/train/nightly", Role::kAdmin, false, "Queue a training run now (trigger manual)",
       {{"responses", AcceptedResponses(Obj({{"training_job_id", T("string")}, {"status", T("string")},
                                             {"trigger", T("string")}}),
                                        "/train/jobs/{training_job_id}", {401, 403, 503})}},
       [s](const ApiRequest& r, HttpResponse& res) {
         auto job = s->SubmitTraining("manual", r.principal.actor);
         if (!job.ok()) return SendStatus(res, job.status());
         SendAccepted(res, *job, Json{{"training_job_id", job->id}, {"status", job->status}, {"trigger", "manual"}});
       }});
  Add({"POST", "/tasks/{task_id}/reembed", Role::kAdmin, false,
       "Re-embed every video of a task from its stored upload with another embedder (a training job, trigger "
       "reembed); the task switches to the new embeddings in a new index version once all succeeded",
       {{"parameters", {Param("task_id", "path", "string", true, "Task")}},
        {"requestBody", {{"required", true},
                         {"content", {{"application/json",
                                       {{"schema", Obj({{"embedder", {{"type", "string"}, {"enum", KnownEmbedders()}}}},
                                                       {"embedder"})}}}}}}},
        {"responses", AcceptedResponses(Ref("TrainingJob"), "/train/jobs/{training_job_id}", {400, 401, 403, 404, 503})}},
       [s](const ApiRequest& r, HttpResponse& res) {
         Json body = Json::parse(r.http->body, nullptr, false);
         if (body.is_discarded() || !body.is_object()) return SendError(res, 400, "body must be a JSON object");
         if (!body.contains("embedder") || !body["embedder"].is_string()) {
           return SendError(res, 400, "embedder is required (known: " + KnownEmbedderList() + ")");
         }
         auto job = s->SubmitReembed(r.path_params.at("task_id"), body["embedder"].get<std::string>(),
                                     r.principal.actor);
         if (!job.ok()) return SendStatus(res, job.status());
         SendAccepted(res, *job, TrainingJobJson(*job));
       }});
  Add({"GET", "/train/jobs/{training_job_id}", Role::kViewer, false, "A training job",
       {{"parameters", {Param("training_job_id", "path", "string", true, "Training job id")}},
        {"responses", Responses(Ref("TrainingJob"), {404})}},
       [s](const ApiRequest& r, HttpResponse& res) {
         auto job = s->GetJob(JobKind::kTraining, r.path_params.at("training_job_id"));
         if (!job.ok()) return SendStatus(res, job.status());
         SendJson(res, 200, TrainingJobJson(*job));
       }});
  Add({"GET", "/train/nightly/status", Role::kViewer, false, "The nightly training schedule",
       {{"responses", Responses(Obj({{"enabled", T("boolean")}, {"next_run_local", TN("string")},
                                     {"hour_local", T("integer")}, {"min_new_videos", T("integer")},
                                     {"check_sec", T("number")}, {"feature_adapter_enabled", T("boolean")},
                                     {"new_videos", T("integer")}, {"last_training_finished_at", TN("string")},
                                     {"scheduler_holder", TN("string")}, {"this_process_schedules", T("boolean")},
                                     {"scheduler_checks", T("integer")}}))}},
       [s](const ApiRequest&, HttpResponse& res) {
         auto status = s->NightlyStatus();
         if (!status.ok()) return SendStatus(res, status.status());
         SendJson(res, 200, *status);
       }});

  // ---- operations and audit
  Add({"GET", "/ops/queue", Role::kOperator, false, "Queue depth, running, retrying and dead jobs per queue",
       {{"responses", Responses(Ref("QueueStatus"), {401, 403, 503})}},
       [s](const ApiRequest&, HttpResponse& res) {
         auto q = s->QueueStatus();
         if (!q.ok()) return SendStatus(res, q.status());
         SendJson(res, 200, *q);
       }});
  Add({"POST", "/ops/queue/{job_type}/requeue", Role::kAdmin, false,
       "Put a dead job (out of retries) back in its queue with a fresh attempt count",
       {{"parameters", {Param("job_type", "path", "string", true, "ingest, score or training")}},
        {"requestBody", {{"required", true},
                         {"content", {{"application/json",
                                       {{"schema", Obj({{"job_id", T("string")}}, {"job_id"})}}}}}}},
        {"responses", AcceptedResponses(Obj({{"job_id", T("string")}, {"job_type", T("string")}, {"status", T("string")}}),
                                        "/videos/jobs/{id}, /score/{id} or /train/jobs/{id}", {400, 401, 403, 404, 503})}},
       [s](const ApiRequest& r, HttpResponse& res) {
         auto kind = ParseJobKind(r.path_params.at("job_type"));
         if (!kind) return SendError(res, 404, "unknown queue: job_type must be ingest, score or training");
         Json body = Json::parse(r.http->body, nullptr, false);
         if (body.is_discarded() || !body.is_object()) return SendError(res, 400, "body must be a JSON object");
         if (!body.contains("job_id") || !body["job_id"].is_string()) return SendError(res, 400, "job_id is required");
         auto job = s->RequeueDeadJob(*kind, body["job_id"].get<std::string>(), r.principal.actor);
         if (!job.ok()) return SendStatus(res, job.status());
         SendAccepted(res, *job, Json{{"job_id", job->id}, {"job_type", JobKindName(*kind)}, {"status", job->status}});
       }});
  Add({"POST", "/ops/fault-injection", Role::kAdmin, false,
       "Make a fraction of one job type's runs fail on purpose, to test alerts, or hold its jobs running until "
       "released, for tests (off unless SOPILOT_ENABLE_FAULT_INJECTION=1)",
       {{"requestBody", {{"required", true},
                         {"content", {{"application/json",
                                       {{"schema", Obj({{"job_type", {{"type", "string"}, {"enum", {"ingest", "score", "training"}}}},
                                                        {"failure_rate", T("number")}, {"hold", T("boolean")}},
                                                       {"job_type"})}}}}}}},
        {"responses", Responses(Obj({{"enabled", T("boolean")}, {"failure_rate", T("object")}, {"hold", T("object")},
                                     {"held", T("object")}}),
                                {400, 401, 403, 503})}},
       [s](const ApiRequest& r, HttpResponse& res) {
         Json body = Json::parse(r.http->body, nullptr, false);
         if (body.is_discarded() || !body.is_object()) return SendError(res, 400, "body must be a JSON object");
         if (!body.contains("job_type") || !body["job_type"].is_string()) return SendError(res, 400, "job_type is required");
         auto kind = ParseJobKind(body["job_type"].get<std::string>());
         if (!kind) return SendError(res, 400, "job_type must be ingest, score or training");
         // "hold" (service/job_hold.h), instead of or besides a failure rate.
         if (body.contains("hold")) {
           if (!body["hold"].is_boolean()) return SendError(res, 400, "hold must be true or false");
           Status st = s->SetJobHold(*kind, body["hold"].get<bool>(), r.principal.actor);
           if (!st.ok()) return SendStatus(res, st);
           if (!body.contains("failure_rate")) return SendJson(res, 200, s->FaultInjection());
         }
         if (!body.contains("failure_rate") || !body["failure_rate"].is_number()) {
           return SendError(res, 400, "failure_rate is required (a number in [0, 1])");
         }
         Status st = s->SetFaultInjection(*kind, body["failure_rate"].get<double>(), r.principal.actor);
         if (!st.ok()) return SendStatus(res, st);
         SendJson(res, 200, s->FaultInjection());
       }});
  Add({"GET", "/ops/fault-injection", Role::kOperator, false, "Current fault injection (and jobs held now)",
       {{"responses", Responses(Obj({{"enabled", T("boolean")}, {"failure_rate", T("object")}, {"hold", T("object")},
                                     {"held", T("object")}}),
                                {401, 403})}},
       [s](const ApiRequest&, HttpResponse& res) { SendJson(res, 200, s->FaultInjection()); }});
  Add({"GET", "/audit/trail", Role::kViewer, false, "The audit log, newest first",
       {{"parameters", {Param("limit", "query", "integer", false, "1..1000, default 100")}},
        {"responses", Responses(Obj({{"items", {{"type", "array"}, {"items", Ref("AuditItem")}}}}), {400})}},
       [s](const ApiRequest& r, HttpResponse& res) {
         int64_t limit;
         std::string err;
         if (!QueryInt(*r.http, "limit", 100, 1, 1000, &limit, &err)) return SendError(res, 400, err);
         auto t = s->AuditTrail(static_cast<int>(limit));
         if (!t.ok()) return SendStatus(res, t.status());
         SendJson(res, 200, *t);
       }});
  Add({"POST", "/audit/export", Role::kAdmin, false, "Write a signed (HMAC-SHA256) export of the audit log",
       {{"parameters", {Param("limit", "query", "integer", false, "1..5000, default 500")}},
        {"responses", Responses(Obj({{"export_id", T("string")}, {"generated_at", T("string")},
                                     {"item_count", T("integer")}, {"file_path", T("string")},
                                     {"signature", T("object")}}),
                                {400, 401, 403, 503})}},
       [s](const ApiRequest& r, HttpResponse& res) {
         int64_t limit;
         std::string err;
         if (!QueryInt(*r.http, "limit", 500, 1, 5000, &limit, &err)) return SendError(res, 400, err);
         auto out = s->ExportAudit(static_cast<int>(limit), r.principal.actor);
         if (!out.ok()) return SendStatus(res, out.status());
         SendJson(res, 200, *out);
       }});
  Add({"GET", "/audit/export/{export_id}/file", Role::kAdmin, false, "Download a signed audit export",
       {{"parameters", {Param("export_id", "path", "string", true, "Export id")}},
        {"responses", Responses(T("object"), {400, 401, 403, 404})}},
       [s](const ApiRequest& r, HttpResponse& res) {
         auto path = s->AuditExportPath(r.path_params.at("export_id"));
         if (!path.ok()) return SendStatus(res, path.status());
         SendFile(res, *path, "application/json", "audit_export_" + r.path_params.at("export_id") + ".json");
       }});
}

nlohmann::json ApiServer::OpenApi() const {
  Json paths = Json::object();
  for (const Route& r : routes_) {
    Json op = r.openapi;
    op["summary"] = r.summary;
    std::string method = r.method;
    for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    op["operationId"] = method + r.path;
    if (r.min_role) {
      op["security"] = Json::array({{{"bearer", Json::array()}}, {{"basic", Json::array()}}});
      op["x-sopilot-min-role"] = RoleName(*r.min_role);
    } else {
      op["security"] = Json::array();
    }
    paths[r.path][method] = op;
  }
  Json schemas = {
      {"Error", Obj({{"error", T("string")}, {"detail", T("string")}}, {"error"})},
      {"Video", Obj({{"video_id", T("integer")}, {"task_id", T("string")}, {"role", T("string")},
                     {"site_id", TN("string")}, {"camera_id", TN("string")}, {"num_clips", T("integer")},
                     {"embedding_model", T("string")}, {"created_at", TN("string")}, {"file_name", T("string")},
                     {"duration_sec", T("number")}, {"operator_id_hash", TN("string")}})},
      {"IngestJob", Obj({{"ingest_job_id", T("string")}, {"status", T("string")}, {"task_id", T("string")},
                         {"role", T("string")}, {"requested_by", TN("string")}, {"video_id", TN("integer")},
                         {"num_clips", TN("integer")}, {"source_fps", TN("number")}, {"sampled_fps", TN("number")},
                         {"embedding_model", TN("string")}, {"error_message", TN("string")},
                         {"queued_at", TN("string")}, {"started_at", TN("string")}, {"finished_at", TN("string")},
                         {"attempts", T("integer")}})},
      {"ScoreJob", Obj({{"score_job_id", T("string")}, {"status", T("string")}, {"gold_video_id", TN("integer")},
                        {"trainee_video_id", TN("integer")}, {"requested_by", TN("string")}, {"score", TN("number")},
                        {"error_message", TN("string")}, {"queued_at", TN("string")}, {"started_at", TN("string")},
                        {"finished_at", TN("string")}, {"attempts", T("integer")}, {"task_id", TN("string")},
                        {"operator_id_hash", TN("string")}, {"site_id", TN("string")}, {"camera_id", TN("string")},
                        {"sop_version", TN("integer")},
                        {"gold_selection", {{"type", Json::array({"string", "null"})},
                                            {"enum", Json::array({"named", "chosen", "closest", nullptr})},
                                            {"description", "how the gold was picked (null: not recorded, a score "
                                                            "from before it was)"}}},
                        {"result", {{"type", Json::array({"object", "null"})},
                                    {"description", "score, verdict, metrics, steps, deviations, alignment_preview, "
                                                    "step_boundaries, clip_count, step_map_preview, embedding_model, "
                                                    "gold_video_id, sop_version, gold_selection; with \"closest\", "
                                                    "gold_candidates: [{gold_video_id, score, verdict, sop_version, "
                                                    "error}], closest first"}}}})},
      {"TrainingJob", Obj({{"training_job_id", T("string")}, {"trigger", T("string")}, {"status", T("string")},
                           {"task_id", TN("string")}, {"embedder", TN("string")},
                           {"requested_by", TN("string")}, {"error_message", TN("string")}, {"queued_at", TN("string")},
                           {"started_at", TN("string")}, {"finished_at", TN("string")},
                           {"result", {{"type", Json::array({"object", "null"})}}}})},
      {"SopStep", Obj({{"name", T("string")}, {"start_sec", T("number")}, {"end_sec", T("number")},
                       {"description", T("string")}, {"critical", T("boolean")}, {"optional", T("boolean")},
                       {"time_tolerance", T("number")}, {"any_order_group", T("string")}},
                      {"name"})},  // a saved SOP always has the times; a PUT may leave them all out
      {"Sop", Obj({{"task_id", T("string")}, {"version", T("integer")}, {"draft", T("boolean")},
                   {"gold_video_id", TN("integer")}, {"created_by", TN("string")}, {"created_at", TN("string")},
                   {"steps", {{"type", "array"}, {"items", Ref("SopStep")}}}})},
      {"ScoreItem", Obj({{"score_job_id", T("string")}, {"task_id", TN("string")}, {"gold_video_id", TN("integer")},
                         {"trainee_video_id", TN("integer")}, {"score", TN("number")}, {"verdict", TN("string")},
                         {"verdict_reason", TN("string")}, {"deviations", TN("integer")},
                         {"sop_version", TN("integer")}, {"site_id", TN("string")}, {"camera_id", TN("string")},
                         {"operator_id_hash", TN("string")}, {"requested_by", TN("string")},
                         {"finished_at", TN("string")}})},
      {"SearchItem", Obj({{"similarity", T("number")}, {"video_id", T("integer")}, {"clip_idx", T("integer")},
                          {"start_sec", T("number")}, {"end_sec", T("number")}, {"role", T("string")}})},
      {"AuditItem", Obj({{"seq", T("integer")}, {"at", T("string")}, {"actor", T("string")}, {"action", T("string")},
                         {"subject", T("string")}, {"detail", {{"type", Json::array({"object", "null"})}}}})},
      {"QueueStatus", Obj({{"generated_at", T("string")}, {"runtime_mode", T("string")}, {"queue", T("object")},
                           {"jobs", T("object")}})},
  };
  return Json{{"openapi", "3.1.0"},
              {"info", {{"title", "SOPilot"}, {"version", "0.1.0"},
                        {"description", "Scores trainee videos of a procedure against a gold video."}}},
              {"paths", paths},
              {"components",
               {{"schemas", schemas},
                {"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}},
                                     {"basic", {{"type", "http"}, {"scheme", "basic"}}}}}}}};
}

}  // namespace sopilot
