// A real PostgreSQL server for tests: a cluster made by initdb (once per
// installation, kept under /tmp and copied) in a temporary directory, its
// postgres started as this process's child on a free loopback port (and a
// unix socket inside the directory), with fsync off for speed; stopped and
// removed when the object dies, and killed by the kernel if this process
// dies first. Authentication is `trust` for the superuser "sopilot": the
// server listens on 127.0.0.1 only.
//
// initdb and postgres refuse to run as root; when the tests run as root,
// they run as the `postgres` user (runuser, setpriv), which owns the
// directory.
//
// Threads: one thread starts and stops the server (the server dies with
// that thread); Query may be called from any thread.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace sopilot::testing {

// The directory holding initdb and postgres (the newest under
// /usr/lib/postgresql/*/bin, or PATH's); "" when PostgreSQL is not installed.
std::string PostgresBinDir();

class PostgresServer {
 public:
  PostgresServer();
  ~PostgresServer();  // stops a running server (immediate) and removes its files
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // Makes the cluster (first time) and starts the server, waiting until it
  // accepts connections; false with the reason in error() otherwise.
  bool Start(double timeout_sec = 120);
  // Instead of a new cluster, makes this server's data directory a base
  // backup of the running `source` (pg_basebackup with the WAL streamed
  // alongside, as an operator takes one of a server in use); Start() then
  // recovers and runs it. Call before the first Start(). False with
  // pg_basebackup's output in error() otherwise.
  bool RestoreBaseBackupOf(const PostgresServer& source);
  // Stops the server (immediate shutdown: connections are cut as a crash
  // would cut them) and waits until it has gone. The server also dies with
  // this process, however it ends.
  bool Stop();
  bool running() const { return running_; }

  int port() const { return port_; }
  // A libpq URL of database `db` on this server.
  std::string Url(const std::string& db) const;
  // Creates the empty database `name` (dropping one of that name first).
  bool CreateDatabase(const std::string& name);

  struct QueryResult {
    bool ok = false;
    std::string error;                // the server's message when !ok
    std::vector<std::string> column;  // the first column of every row ("" for NULL)
    std::string One() const { return column.empty() ? "<no row>" : column[0]; }
  };
  // Runs `sql` (one or more statements, no parameters) on database `db` on
  // a connection of its own: what another program could do.
  QueryResult Query(const std::string& db, const std::string& sql) const;

  const std::string& error() const { return error_; }
  const std::string& dir() const { return dir_; }

 private:
  // `program` of the PostgreSQL bin directory with `args`, as the server's
  // user; its exit code, its output in *out.
  int Run(const std::string& program, const std::string& args, std::string* out) const;
  // Makes dir() the server user's when this process is root.
  bool GiveDirToServerUser();
  // The data directory of a cluster initdb made once for every server (kept
  // under /tmp); "" with initdb's output in *out when it fails.
  std::string TemplateCluster(std::string* out) const;

  std::string bin_, dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  bool initialised_ = false;
  bool running_ = false;
  std::string error_;
};

}  // namespace sopilot::testing
