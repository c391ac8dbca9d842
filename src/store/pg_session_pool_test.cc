// The PostgreSQL store's connection pool, on a real server
// (testing::PostgresServer); skipped when PostgreSQL is not installed.
#include "store/pg_session_pool.h"

#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "store/store_backend_test_util.h"
#include "testing/postgres_server.h"
#include "testing/redis_server.h"

namespace sopilot::store_detail {
namespace {

class PgSessionPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::PostgresBinDir().empty()) {
      GTEST_SKIP() << "PostgreSQL is not installed (scripts/install-deps.sh installs it)";
    }
    std::string why;
    server_ = testing::SharedPostgres(&why);
    ASSERT_NE(server_, nullptr) << why;
    ASSERT_TRUE(server_->CreateDatabase("pool"));
  }
  // The server process behind a session.
  static std::string BackendPid(PgSession& session) {
    auto r = session.Exec("SELECT pg_backend_pid()::text");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && r->rows() == 1 ? r->Text(0, 0) : "";
  }
  testing::PostgresServer* server_ = nullptr;
};

TEST_F(PgSessionPoolTest, OverlappingLeasesHaveConnectionsOfTheirOwnAndReturnedOnesAreReused) {
  PgSessionPool pool(server_->Url("pool"), PgPoolOptions{2, PgSession::kLockTimeoutMs});
  EXPECT_EQ(pool.open_sessions(), 0) << "nothing is opened before it is needed";
  std::string first_pid;
  {
    auto a = pool.Acquire();
    auto b = pool.Acquire();
    ASSERT_TRUE(a.ok() && b.ok());
    first_pid = BackendPid(**a);
    EXPECT_NE(first_pid, BackendPid(**b));
    EXPECT_EQ(pool.open_sessions(), 2);
  }
  auto c = pool.Acquire();
  ASSERT_TRUE(c.ok());
  const std::string again = BackendPid(**c);
  EXPECT_FALSE(again.empty());
  EXPECT_EQ(pool.open_sessions(), 2) << "a returned connection is used again, not a new one";
}

// Eight threads sharing a pool of two never see a third connection: the
// others wait for a lease to come back.
TEST_F(PgSessionPoolTest, NoMoreThanMaxSessionsAreEverOpen) {
  PgSessionPool pool(server_->Url("pool"), PgPoolOptions{2, PgSession::kLockTimeoutMs});
  std::mutex mu;
  std::set<std::string> pids;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        auto lease = pool.Acquire();
        if (!lease.ok()) {
          ++failures;
          continue;
        }
        auto r = (*lease)->Exec("SELECT pg_backend_pid()::text");
        if (!r.ok() || r->rows() != 1) {
          ++failures;
          continue;
        }
        std::lock_guard<std::mutex> lock(mu);
        pids.insert(r->Text(0, 0));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(pids.size(), 2u);
  EXPECT_LE(pool.open_sessions(), 2);
}

// A connection that cannot be made fails the call and gives its place back:
// the next call tries again instead of waiting for ever.
TEST_F(PgSessionPoolTest, AConnectionThatCannotBeMadeIsUnavailableAndFreesItsPlace) {
  const int port = testing::FreeLoopbackPort();  // nobody listens there
  PgSessionPool pool("postgresql://sopilot@127.0.0.1:" + std::to_string(port) + "/none",
                     PgPoolOptions{1, PgSession::kLockTimeoutMs});
  for (int i = 0; i < 3; ++i) {
    auto lease = pool.Acquire();
    ASSERT_FALSE(lease.ok());
    EXPECT_EQ(lease.status().code(), Status::Code::kUnavailable) << lease.status().ToString();
  }
  EXPECT_EQ(pool.open_sessions(), 0);
}

}  // namespace
}  // namespace sopilot::store_detail
