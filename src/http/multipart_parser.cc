#include "http/multipart_parser.h"

#include "http/header_text.h"

#include <algorithm>
#include <cctype>
#include <utility>
#include <vector>

namespace sopilot {

namespace {


// A header value "type; key=value; key="quoted \" value"": the type, then
// each parameter (keys as written). False when a quoted string is not closed.
bool ParseParams(std::string_view value, std::string* type, std::vector<std::pair<std::string, std::string>>* params) {
  size_t semi = value.find(';');
  *type = std::string(Trim(value.substr(0, semi)));
  size_t i = semi == std::string_view::npos ? value.size() : semi + 1;
  while (i < value.size()) {
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t' || value[i] == ';')) ++i;
    if (i >= value.size()) break;
    size_t key_start = i;
    while (i < value.size() && value[i] != '=' && value[i] != ';') ++i;
    std::string key(Trim(value.substr(key_start, i - key_start)));
    std::string val;
    if (i < value.size() && value[i] == '=') {
      ++i;
      while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
      if (i < value.size() && value[i] == '"') {
        ++i;
        bool closed = false;
        while (i < value.size()) {
          char c = value[i++];
          if (c == '"') {
            closed = true;
            break;
          }
          if (c == '\\' && i < value.size()) c = value[i++];
          val.push_back(c);
        }
        if (!closed) return false;
        while (i < value.size() && value[i] != ';') ++i;  // anything after the quote up to ';' is ignored
      } else {
        size_t start = i;
        while (i < value.size() && value[i] != ';') ++i;
        val = std::string(Trim(value.substr(start, i - start)));
      }
    }
    params->emplace_back(std::move(key), std::move(val));
  }
  return true;
}

}  // namespace

Result<std::string> MultipartBoundary(std::string_view content_type) {
  std::string type;
  std::vector<std::pair<std::string, std::string>> params;
  if (!ParseParams(content_type, &type, &params) || !IEquals(type, "multipart/form-data")) {
    return Status::InvalidArgument("not a multipart/form-data content type");
  }
  for (const auto& [k, v] : params) {
    if (!IEquals(k, "boundary")) continue;
    if (v.empty() || v.size() > 70) return Status::InvalidArgument("the multipart boundary must have 1 to 70 characters");
    for (char c : v) {
      if (c == '\r' || c == '\n' || c == '\0') return Status::InvalidArgument("the multipart boundary has a control character");
    }
    return v;
  }
  return Status::InvalidArgument("the multipart content type has no boundary");
}

MultipartParser::MultipartParser(const std::string& boundary, PartHandler on_part, DataHandler on_data)
    : delimiter_("\r\n--" + boundary), on_part_(std::move(on_part)), on_data_(std::move(on_data)) {
  // The first boundary may open the body without a line break before it:
  // parse as if the body began with one.
  pending_ = "\r\n";
}

bool MultipartParser::Fail(std::string why) {
  state_ = State::kFailed;
  error_ = std::move(why);
  pending_.clear();
  pending_.shrink_to_fit();
  return false;
}

bool MultipartParser::StartPart(std::string_view headers) {
  std::string name, filename;
  bool named = false;
  while (!headers.empty()) {
    size_t eol = headers.find("\r\n");
    std::string_view line = headers.substr(0, eol);
    headers = eol == std::string_view::npos ? std::string_view() : headers.substr(eol + 2);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return Fail("malformed part header");
    if (!IEquals(Trim(line.substr(0, colon)), "Content-Disposition")) continue;
    std::string type;
    std::vector<std::pair<std::string, std::string>> params;
    if (!ParseParams(line.substr(colon + 1), &type, &params)) return Fail("malformed Content-Disposition");
    for (const auto& [k, v] : params) {
      if (IEquals(k, "name") && !named) {
        name = v;
        named = true;
      } else if (IEquals(k, "filename") && filename.empty()) {
        filename = v;
      }
    }
  }
  if (!named) return Fail("a part without a Content-Disposition name");
  if (!on_part_(name, filename)) return Fail("stopped at part '" + name + "'");
  return true;
}

bool MultipartParser::Feed(std::string_view data) {
  if (state_ == State::kFailed) return false;
  if (state_ == State::kDone) return true;  // the epilogue
  pending_.append(data);
  size_t pos = 0;  // bytes of pending_ consumed
  bool more = true;
  while (more) {
    std::string_view rest(pending_.data() + pos, pending_.size() - pos);
    switch (state_) {
      case State::kPreamble: {
        size_t at = rest.find(delimiter_);
        if (at == std::string_view::npos) {
          pos += rest.size() - std::min(rest.size(), delimiter_.size() - 1);
          more = false;
        } else {
          pos += at + delimiter_.size();
          state_ = State::kAfterDelimiter;
        }
        break;
      }
      case State::kAfterDelimiter: {
        // "--" ends the body; otherwise optional blanks, then CRLF.
        if (rest.size() < 2) {
          more = false;
          break;
        }
        if (rest.substr(0, 2) == "--") {
          state_ = State::kDone;
          pending_.clear();
          return true;
        }
        size_t i = 0;
        while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\t')) ++i;
        if (i > 64) return Fail("malformed boundary line");
        if (rest.size() - i < 2) {
          more = false;
          break;
        }
        if (rest.substr(i, 2) != "\r\n") return Fail("malformed boundary line");
        pos += i + 2;
        state_ = State::kHeaders;
        break;
      }
      case State::kHeaders: {
        if (rest.size() < 2) {
          more = false;
          break;
        }
        size_t end = 0, used = 2;  // an empty header block is a lone CRLF
        if (rest.substr(0, 2) != "\r\n") {
          end = rest.find("\r\n\r\n");
          if (end == std::string_view::npos) {
            if (rest.size() > kMaxHeaderBytes) return Fail("part headers longer than " + std::to_string(kMaxHeaderBytes) + " bytes");
            more = false;
            break;
          }
          used = end + 4;
        }
        if (end > kMaxHeaderBytes) return Fail("part headers longer than " + std::to_string(kMaxHeaderBytes) + " bytes");
        if (!StartPart(rest.substr(0, end))) return false;
        pos += used;
        state_ = State::kBody;
        break;
      }
      case State::kBody: {
        size_t at = rest.find(delimiter_);
        if (at == std::string_view::npos) {
          // Everything but what could start a delimiter.
          size_t emit = rest.size() - std::min(rest.size(), delimiter_.size() - 1);
          if (emit > 0 && !on_data_(rest.data(), emit)) return Fail("stopped in a part's data");
          pos += emit;
          more = false;
        } else {
          if (at > 0 && !on_data_(rest.data(), at)) return Fail("stopped in a part's data");
          pos += at + delimiter_.size();
          state_ = State::kAfterDelimiter;
        }
        break;
      }
      case State::kDone:
      case State::kFailed:
        more = false;
        break;
    }
  }
  pending_.erase(0, pos);
  return true;
}

}  // namespace sopilot
