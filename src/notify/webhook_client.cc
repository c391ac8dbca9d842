#include "notify/webhook_client.h"

#include <cctype>
#include <chrono>
#include <exception>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace sopilot {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

constexpr size_t kMaxUrl = 2048;

bool HostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

}  // namespace

Result<WebhookUrl> ParseWebhookUrl(const std::string& url) {
  auto bad = [&](const std::string& why) { return Status::InvalidArgument("webhook url: " + why); };
  if (url.empty()) return bad("is empty");
  if (url.size() > kMaxUrl) return bad("longer than " + std::to_string(kMaxUrl) + " characters");
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return bad("contains a space or a control character");
    if (static_cast<unsigned char>(c) >= 0x80) return bad("contains a non-ASCII character (percent-encode it)");
  }
  std::string lower;
  for (char c : url.substr(0, 8)) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.rfind("https://", 0) == 0) {
    return bad("https is not supported: give an http:// URL (a TLS proxy in front of the receiver)");
  }
  if (lower.rfind("http://", 0) != 0) return bad("must start with http://");
  std::string rest = url.substr(7);
  if (rest.find('#') != std::string::npos) return bad("must not have a fragment (#...)");
  size_t path_at = rest.find_first_of("/?");
  std::string authority = rest.substr(0, path_at);
  std::string target = path_at == std::string::npos ? "/" : rest.substr(path_at);
  if (target[0] == '?') target = "/" + target;
  if (authority.find('@') != std::string::npos) return bad("must not carry user info (user@host)");
  if (authority.empty()) return bad("has no host");
  WebhookUrl out;
  std::string port_text;
  if (authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) return bad("has an unclosed [ in its host");
    out.host = authority.substr(1, close - 1);
    for (char c : out.host) {
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return bad("has a malformed IPv6 host");
    }
    if (out.host.empty()) return bad("has no host");
    std::string after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("has a malformed host");
      port_text = after.substr(1);
      if (port_text.empty()) return bad("has an empty port");
    }
  } else {
    size_t colon = authority.find(':');
    out.host = authority.substr(0, colon);
    if (colon != std::string::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return bad("has an empty port");
    }
    if (out.host.empty()) return bad("has no host");
    for (char c : out.host) {
      if (!HostChar(c)) return bad("has a malformed host '" + out.host + "'");
    }
    if (out.host.front() == '.' || out.host.front() == '-' || out.host.find("..") != std::string::npos) {
      return bad("has a malformed host '" + out.host + "'");
    }
  }
  if (!port_text.empty()) {
    if (port_text.size() > 5) return bad("has a port outside 1-65535");
    for (char c : port_text) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return bad("has a port that is not a number");
    }
    out.port = std::stoi(port_text);
    if (out.port < 1 || out.port > 65535) return bad("has a port outside 1-65535");
  }
  out.target = target;
  out.host_header = authority;
  return out;
}

Result<WebhookResponse> PostWebhook(const WebhookUrl& url,
                                    const std::vector<std::pair<std::string, std::string>>& headers,
                                    const std::string& body, double timeout_sec,
                                    const std::function<bool()>& cancelled) {
  try {
    net::io_context ioc;
    net::ip::tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    bhttp::request<bhttp::string_body> req{bhttp::verb::post, url.target, 11};
    req.set(bhttp::field::host, url.host_header);
    req.set(bhttp::field::content_type, "application/json");
    req.set(bhttp::field::connection, "close");
    for (const auto& [name, value] : headers) req.set(name, value);
    req.body() = body;
    req.prepare_payload();
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::empty_body> parser;

    const auto step = std::chrono::milliseconds(static_cast<int64_t>(timeout_sec * 1000));
    bool finished = false;
    std::string failed_step;
    beast::error_code failure;
    auto fail = [&](const char* what, beast::error_code ec) {
      failed_step = what;
      failure = ec;
      finished = true;
    };
    // Resolution has no timer of its own: the loop below cancels it.
    const auto resolve_deadline = std::chrono::steady_clock::now() + step;
    bool resolving = true;
    resolver.async_resolve(url.host, std::to_string(url.port), [&](beast::error_code ec,
                                                                   net::ip::tcp::resolver::results_type results) {
      resolving = false;
      if (ec) return fail("resolve", ec);
      stream.expires_after(step);
      stream.async_connect(results, [&](beast::error_code ec, const net::ip::tcp::endpoint&) {
        if (ec) return fail("connect", ec);
        stream.expires_after(step);
        bhttp::async_write(stream, req, [&](beast::error_code ec, size_t) {
          if (ec) return fail("send", ec);
          stream.expires_after(step);
          bhttp::async_read_header(stream, buffer, parser, [&](beast::error_code ec, size_t) {
            if (ec) return fail("receive", ec);
            finished = true;
          });
        });
      });
    });
    bool aborted = false;
    while (!finished && !ioc.stopped()) {
      ioc.run_for(std::chrono::milliseconds(100));
      if (finished) break;
      if (!aborted && (cancelled() || (resolving && std::chrono::steady_clock::now() > resolve_deadline))) {
        // The handlers then run with operation_aborted and end the loop.
        aborted = true;
        resolver.cancel();
        beast::error_code ignored;
        stream.socket().cancel(ignored);
        stream.socket().close(ignored);
      }
    }
    beast::error_code ignored;
    stream.socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
    if (!failed_step.empty() || !finished) {
      std::string why = failure == beast::error::timeout ? "timed out" : failure.message();
      if (aborted && cancelled()) why = "cancelled";
      else if (aborted) why = "timed out";
      return Status::Unavailable("webhook " + url.host_header + ": " + (failed_step.empty() ? "request" : failed_step) +
                                 ": " + why);
    }
    return WebhookResponse{static_cast<int>(parser.get().result_int())};
  } catch (const std::exception& e) {
    return Status::Unavailable(std::string("webhook ") + url.host_header + ": " + e.what());
  }
}

}  // namespace sopilot
