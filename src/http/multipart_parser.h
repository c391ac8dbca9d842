// MultipartParser: a multipart/form-data body (RFC 7578, RFC 2046 5.1),
// parsed as it arrives, in pieces of any size: a boundary or a part's headers
// may be split across pieces. Each part's headers are read (at most
// kMaxHeaderBytes; Content-Disposition's name and filename, quoted or not)
// and handed to `on_part`; its bytes go to `on_data` in pieces, never held
// whole: the parser keeps at most one boundary's length of a part's bytes
// back (they could be the start of the next boundary) and one part's
// headers. The preamble and the epilogue are ignored.
//
// Not thread-safe; nothing here touches the network. A body without its
// closing boundary is incomplete: complete() stays false, and the caller
// answers it as cut off or malformed.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace sopilot {

// The boundary of a "multipart/form-data; boundary=..." Content-Type (the
// parameter quoted or not); InvalidArgument for another type, or a boundary
// missing, empty or longer than 70 characters.
[[nodiscard]] Result<std::string> MultipartBoundary(std::string_view content_type);

class MultipartParser {
 public:
  static constexpr size_t kMaxHeaderBytes = 8 << 10;
  // A part starts: its Content-Disposition name and filename ("" when none).
  // False stops the parse.
  using PartHandler = std::function<bool(const std::string& name, const std::string& filename)>;
  // Some bytes of the current part. False stops the parse.
  using DataHandler = std::function<bool(const char* data, size_t len)>;

  MultipartParser(const std::string& boundary, PartHandler on_part, DataHandler on_data);

  // Parses the next bytes of the body. False once the body is malformed or a
  // handler returned false (error() says which); later calls do nothing.
  bool Feed(std::string_view data);
  // True once the closing boundary was seen and nothing failed.
  bool complete() const { return state_ == State::kDone; }
  // Why the parse stopped; "" while it goes on.
  const std::string& error() const { return error_; }

 private:
  enum class State { kPreamble, kAfterDelimiter, kHeaders, kBody, kDone, kFailed };
  bool Fail(std::string why);
  // Parses one part's header block (without its final blank line).
  bool StartPart(std::string_view headers);

  const std::string delimiter_;  // "\r\n--" + boundary
  PartHandler on_part_;
  DataHandler on_data_;
  State state_ = State::kPreamble;
  std::string pending_;  // bytes not yet parsed
  std::string error_;
};

}  // namespace sopilot
