#include "http/multipart_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sopilot {
namespace {

using namespace std::string_literals;

struct Part {
  std::string name, filename, data;
};

// Parses `body` fed in pieces of `piece` bytes (0: at once); the parts seen.
struct Parse {
  std::vector<Part> parts;
  bool fed = true;
  bool complete = false;
  std::string error;
};
Parse ParseBody(const std::string& boundary, const std::string& body, size_t piece = 0, int stop_at_part = -1) {
  Parse out;
  MultipartParser p(
      boundary,
      [&](const std::string& name, const std::string& filename) {
        if (static_cast<int>(out.parts.size()) == stop_at_part) return false;
        out.parts.push_back({name, filename, ""});
        return true;
      },
      [&](const char* data, size_t len) {
        EXPECT_GT(len, 0u);
        EXPECT_FALSE(out.parts.empty());
        if (!out.parts.empty()) out.parts.back().data.append(data, len);
        return true;
      });
  if (piece == 0) piece = body.size() + 1;
  for (size_t at = 0; at < body.size() && out.fed; at += piece) out.fed = p.Feed(body.substr(at, piece));
  out.complete = p.complete();
  out.error = p.error();
  return out;
}

const std::string kBody =
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"task_id\"\r\n"
    "\r\n"
    "task-a\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"gold.mp4\"\r\n"
    "Content-Type: video/mp4\r\n"
    "\r\n"
    "\x00\x01video\r\nbytes --XyZ not a boundary\r\n-XyZ\r\n"
    "--XyZ--\r\n"s;

TEST(MultipartBoundaryTest, FromTheContentType) {
  EXPECT_EQ(*MultipartBoundary("multipart/form-data; boundary=XyZ"), "XyZ");
  EXPECT_EQ(*MultipartBoundary("Multipart/Form-Data;boundary=\"a b;c\""), "a b;c");
  EXPECT_EQ(*MultipartBoundary("multipart/form-data; charset=utf-8; BOUNDARY=----WebKitFormBoundary7MA4"),
            "----WebKitFormBoundary7MA4");
  EXPECT_FALSE(MultipartBoundary("application/json").ok());
  EXPECT_FALSE(MultipartBoundary("multipart/form-data").ok());
  EXPECT_FALSE(MultipartBoundary("multipart/form-data; boundary=").ok());
  EXPECT_FALSE(MultipartBoundary("multipart/form-data; boundary=\"unclosed").ok());
  EXPECT_FALSE(MultipartBoundary("multipart/form-data; boundary=" + std::string(71, 'b')).ok());
  EXPECT_FALSE(MultipartBoundary("multipart/mixed; boundary=x").ok());
}

TEST(MultipartParserTest, PartsNamesFilenamesAndBytes) {
  const std::string& body = kBody;
  Parse r = ParseBody("XyZ", body);
  ASSERT_TRUE(r.fed) << r.error;
  EXPECT_TRUE(r.complete);
  ASSERT_EQ(r.parts.size(), 2u);
  EXPECT_EQ(r.parts[0].name, "task_id");
  EXPECT_EQ(r.parts[0].filename, "");
  EXPECT_EQ(r.parts[0].data, "task-a");
  EXPECT_EQ(r.parts[1].name, "file");
  EXPECT_EQ(r.parts[1].filename, "gold.mp4");
  EXPECT_EQ(r.parts[1].data, "\x00\x01video\r\nbytes --XyZ not a boundary\r\n-XyZ"s);
}

TEST(MultipartParserTest, EveryPieceSizeGivesTheSameParts) {
  // Boundaries, CRLFs and headers split at every possible place.
  const std::string& body = kBody;
  Parse whole = ParseBody("XyZ", body);
  for (size_t piece = 1; piece <= body.size(); ++piece) {
    Parse r = ParseBody("XyZ", body, piece);
    ASSERT_TRUE(r.fed && r.complete) << "piece " << piece << ": " << r.error;
    ASSERT_EQ(r.parts.size(), whole.parts.size()) << piece;
    for (size_t i = 0; i < r.parts.size(); ++i) {
      EXPECT_EQ(r.parts[i].name, whole.parts[i].name) << piece;
      EXPECT_EQ(r.parts[i].data, whole.parts[i].data) << piece;
    }
  }
}

TEST(MultipartParserTest, PreambleEpilogueQuotingAndEmptyParts) {
  std::string body =
      "this is a preamble\r\n"
      "--b  \r\n"  // transport padding after the boundary
      "content-disposition: form-data; filename=\"a \\\"q\\\";.mp4\"; name=file\r\n"
      "\r\n"
      "\r\n"
      "--b\r\n"
      "Content-Disposition: form-data; name=\"empty\"\r\n"
      "\r\n"
      "\r\n"
      "--b--\r\n"
      "epilogue, ignored --b\r\n";
  Parse r = ParseBody("b", body, 3);
  ASSERT_TRUE(r.fed && r.complete) << r.error;
  ASSERT_EQ(r.parts.size(), 2u);
  EXPECT_EQ(r.parts[0].name, "file");
  EXPECT_EQ(r.parts[0].filename, "a \"q\";.mp4");
  EXPECT_EQ(r.parts[0].data, "");
  EXPECT_EQ(r.parts[1].name, "empty");
}

TEST(MultipartParserTest, ACutOffBodyIsNotComplete) {
  const std::string& body = kBody;
  for (size_t cut : {size_t{0}, size_t{3}, size_t{30}, body.size() - 10, body.size() - 3}) {
    Parse r = ParseBody("XyZ", body.substr(0, cut), 7);
    EXPECT_FALSE(r.complete) << cut;
  }
  // No boundary at all: nothing is handed over.
  Parse none = ParseBody("XyZ", "just some bytes without any boundary");
  EXPECT_FALSE(none.complete);
  EXPECT_TRUE(none.parts.empty());
}

TEST(MultipartParserTest, MalformedBodiesFailAndSayWhy) {
  Parse no_name = ParseBody("b", "--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--\r\n");
  EXPECT_FALSE(no_name.fed);
  EXPECT_NE(no_name.error.find("name"), std::string::npos);
  Parse bad_line = ParseBody("b", "--b\r\nno colon here\r\n\r\nx\r\n--b--\r\n");
  EXPECT_FALSE(bad_line.fed);
  Parse after = ParseBody("b", "--bX\r\n\r\n");
  EXPECT_FALSE(after.fed);
  EXPECT_NE(after.error.find("boundary"), std::string::npos);
  // A header block that never ends is bounded.
  std::string endless = "--b\r\nContent-Disposition: form-data; name=\"" + std::string(20000, 'n');
  Parse big = ParseBody("b", endless, 1000);
  EXPECT_FALSE(big.fed);
  EXPECT_NE(big.error.find("longer than"), std::string::npos);
}

TEST(MultipartParserTest, AHandlerStopsTheParse) {
  const std::string& body = kBody;
  Parse r = ParseBody("XyZ", body, 0, 1);
  EXPECT_FALSE(r.fed);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.parts.size(), 1u);
  EXPECT_NE(r.error.find("file"), std::string::npos);
}

TEST(MultipartParserTest, ALargePartStreamsWithoutBeingHeld) {
  // 4 MiB in 64 KiB pieces: the parser hands bytes on as they come, keeping
  // back at most a boundary's length.
  const std::string boundary = "----boundary1234";
  size_t handed = 0, pieces = 0;
  MultipartParser counting(
      boundary, [](const std::string&, const std::string&) { return true; },
      [&](const char*, size_t len) {
        handed += len;
        ++pieces;
        return true;
      });
  ASSERT_TRUE(counting.Feed("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n"));
  const std::string chunk(64 << 10, 'v');
  for (int i = 0; i < 64; ++i) {
    ASSERT_TRUE(counting.Feed(chunk));
    EXPECT_GE(handed + boundary.size() + 4, static_cast<size_t>(i + 1) * chunk.size()) << "held back too much";
  }
  ASSERT_TRUE(counting.Feed("\r\n--" + boundary + "--"));
  EXPECT_TRUE(counting.complete());
  EXPECT_EQ(handed, 64u * chunk.size());
  EXPECT_GE(pieces, 64u);
}

}  // namespace
}  // namespace sopilot
