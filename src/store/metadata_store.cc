#include "store/metadata_store.h"

#include <sys/random.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <random>

#include "store/pg_metadata_store.h"
#include "store/sqlite_metadata_store.h"

namespace sopilot {

// ---------------------------------------------------------------- open

bool MetadataStore::IsPostgresUrl(const std::string& path_or_url) {
  return path_or_url.rfind("postgresql://", 0) == 0 || path_or_url.rfind("postgres://", 0) == 0;
}

Result<std::unique_ptr<MetadataStore>> MetadataStore::Open(const std::string& path_or_url, Env* env,
                                                          int pg_connections) {
  if (IsPostgresUrl(path_or_url)) {
    PgPoolOptions options;
    options.max_sessions = pg_connections;
    SOPILOT_ASSIGN_OR_RETURN(std::unique_ptr<PgMetadataStore> store, PgMetadataStore::Open(path_or_url, env, options));
    return std::unique_ptr<MetadataStore>(std::move(store));
  }
  SOPILOT_ASSIGN_OR_RETURN(std::unique_ptr<SqliteMetadataStore> store, SqliteMetadataStore::Open(path_or_url, env));
  return std::unique_ptr<MetadataStore>(std::move(store));
}


std::string IsoTimestamp(double unix_seconds) {
  std::time_t t = static_cast<std::time_t>(std::floor(unix_seconds));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S+00:00", &tm);
  return buf;
}

std::optional<double> UnixFromIsoTimestamp(const std::string& iso) {
  int y, mo, d, h, mi, sec, n = 0;
  if (iso.size() != 25 || iso.compare(19, 6, "+00:00") != 0 ||
      std::sscanf(iso.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19) {
    return std::nullopt;
  }
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 ||
      sec > 60) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  return static_cast<double>(timegm(&tm));
}

std::string NewUuid4() {
  unsigned char b[16];
  size_t got = 0;
  while (got < sizeof(b)) {
    ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    got += static_cast<size_t>(n);
  }
  if (got < sizeof(b)) {  // getrandom unavailable (old kernel, seccomp)
    std::random_device rd;
    for (auto& byte : b) byte = static_cast<unsigned char>(rd());
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // variant 10xx
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0xf]);
  }
  return out;
}

}  // namespace sopilot
