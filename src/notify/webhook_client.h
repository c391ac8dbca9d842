// The webhook's HTTP side: checking a webhook URL, and one POST of a body to
// it with a bound on every step.
//
// Only http:// URLs: the service posts to receivers on its own network (a
// TLS-terminating proxy in front of an https receiver is the way to reach
// one). ParseWebhookUrl refuses anything else with a message fit for a 400.
//
// PostWebhook runs on the calling thread (Boost.Asio and Beast, an
// io_context of its own per call) and never throws. Each step (resolving the
// host, connecting, sending the request, receiving the response's status
// line and headers) must finish within `timeout_sec`; name resolution runs
// in Asio's resolver thread and is abandoned, not interrupted, at its
// deadline. `cancelled` is polled about every 100 ms and aborts the request
// (a stopping process never waits out a timeout). The response body is not
// read: the status says whether the receiver took the event.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace sopilot {

struct WebhookUrl {
  std::string host;    // a name or an IPv4 address, or an IPv6 one without brackets
  int port = 80;
  std::string target;  // path and query, "/" at least
  std::string host_header;  // as the Host header carries it
};

// "http://host[:port][/path][?query]". InvalidArgument naming what is wrong:
// another scheme (https included), user info, a fragment, spaces or control
// characters, an empty or malformed host, a port outside 1-65535, longer
// than 2048 characters.
Result<WebhookUrl> ParseWebhookUrl(const std::string& url);

struct WebhookResponse {
  int http_status = 0;
};

// POSTs `body` (application/json) with `headers` to `url`. The result is
// the response's status whatever it is; a failure to get one (resolve,
// connect, send, receive, a timeout, cancelled) is Unavailable naming the
// step.
Result<WebhookResponse> PostWebhook(const WebhookUrl& url, const std::vector<std::pair<std::string, std::string>>& headers,
                                    const std::string& body, double timeout_sec,
                                    const std::function<bool()>& cancelled);

}  // namespace sopilot
