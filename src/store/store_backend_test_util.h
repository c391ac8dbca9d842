// The store tests' two backends: each test of a fixture derived from
// StoreBackendTest runs once on a fresh SQLite file and once on a fresh
// database of a real PostgreSQL server (one server per test binary, started
// on first use by testing::PostgresServer; every test gets a database of its
// own). Without PostgreSQL installed, the PostgreSQL runs are skipped with
// the reason.
#pragma once

#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/metadata_store.h"
#include "testing/fake_clock_env.h"
#include "testing/postgres_server.h"
#include "testing/temp_dir.h"

namespace sopilot::testing {

enum class StoreBackend { kSqlite, kPostgres };

inline std::string StoreBackendName(const ::testing::TestParamInfo<StoreBackend>& info) {
  return info.param == StoreBackend::kSqlite ? "sqlite" : "postgresql";
}

// The test binary's PostgreSQL server, started on first use and stopped at
// exit; nullptr (with the reason in *why) when it cannot run here.
inline PostgresServer* SharedPostgres(std::string* why) {
  static std::string error;
  static std::unique_ptr<PostgresServer> server = [] {
    auto s = std::make_unique<PostgresServer>();
    if (s->Start()) return s;
    error = "the test PostgreSQL server did not start: " + s->error();
    return std::unique_ptr<PostgresServer>();
  }();
  if (!server) *why = error;
  return server.get();
}

// What another program could do to the database: raw SQL on a connection of
// its own.
class RawSql {
 public:
  RawSql(StoreBackend backend, std::string location, PostgresServer* server, std::string db)
      : backend_(backend), location_(std::move(location)), server_(server), db_(std::move(db)) {}
  // True when the statement(s) succeeded; the error message in *error.
  bool Exec(const std::string& sql, std::string* error = nullptr) const {
    if (backend_ == StoreBackend::kPostgres) {
      auto r = server_->Query(db_, sql);
      if (error) *error = r.error;
      return r.ok;
    }
    sqlite3* db = nullptr;
    sqlite3_open(location_.c_str(), &db);
    sqlite3_busy_timeout(db, 5000);
    char* msg = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg);
    if (error) *error = msg ? msg : "";
    sqlite3_free(msg);
    sqlite3_close(db);
    return rc == SQLITE_OK;
  }
  // The first column of every row, as text ("" for NULL).
  std::vector<std::string> Column(const std::string& sql) const {
    if (backend_ == StoreBackend::kPostgres) {
      auto r = server_->Query(db_, sql);
      EXPECT_TRUE(r.ok) << sql << ": " << r.error;
      return r.column;
    }
    std::vector<std::string> out;
    sqlite3* db = nullptr;
    sqlite3_open(location_.c_str(), &db);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    while (stmt && sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* t = sqlite3_column_text(stmt, 0);
      out.push_back(t ? reinterpret_cast<const char*>(t) : "");
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
  }
  std::string One(const std::string& sql) const {
    auto col = Column(sql);
    return col.empty() ? "<no row>" : col[0];
  }

 private:
  StoreBackend backend_;
  std::string location_;
  PostgresServer* server_;
  std::string db_;
};

// A fixture whose tests run on both backends (INSTANTIATE_TEST_SUITE_P with
// ::testing::Values(StoreBackend::kSqlite, StoreBackend::kPostgres) and
// StoreBackendName).
class StoreBackendTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override {
    if (postgres()) {
      if (PostgresBinDir().empty()) GTEST_SKIP() << "PostgreSQL is not installed (scripts/install-deps.sh installs it)";
      std::string why;
      server_ = SharedPostgres(&why);
      ASSERT_NE(server_, nullptr) << why;
    }
    location_ = FreshLocation("sopilot");
    ASSERT_FALSE(location_.empty());
    store_ = OpenStore();
    ASSERT_NE(store_, nullptr);
  }

  bool postgres() const { return GetParam() == StoreBackend::kPostgres; }

  // Where a new, empty store can be: a file in the test's directory, or a
  // new database on the shared server ("" when it could not be made).
  std::string FreshLocation(const std::string& name) {
    if (!postgres()) return dir_.file(name + ".db");
    static std::atomic<int> counter{0};
    const std::string db = "t_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" + name;
    if (!server_->CreateDatabase(db)) {
      ADD_FAILURE() << server_->error();
      return "";
    }
    if (db_.empty()) db_ = db;
    return server_->Url(db);
  }

  std::unique_ptr<MetadataStore> OpenStore() {
    auto s = MetadataStore::Open(location_, &env_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  // Raw SQL on the store's database.
  RawSql Raw() const { return RawSql(GetParam(), location_, server_, db_); }

  TempDir dir_;
  FakeClockEnv env_;
  std::string location_;  // the file or the URL
  PostgresServer* server_ = nullptr;
  std::string db_;  // the PostgreSQL database's name
  std::unique_ptr<MetadataStore> store_;
};

}  // namespace sopilot::testing
