#include "testing/postgres_server.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <system_error>

#include "testing/command.h"
#include "testing/poll.h"
#include "testing/redis_server.h"

namespace sopilot::testing {

namespace fs = std::filesystem;

namespace {

constexpr const char* kUser = "sopilot";

// The user the server runs as when this process is root.
constexpr const char* kServerOsUser = "postgres";

bool IsRoot() { return geteuid() == 0; }

}  // namespace

std::string PostgresBinDir() {
  std::error_code ec;
  std::vector<std::pair<int, std::string>> found;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string name = entry.path().filename().string();
    char* end = nullptr;
    const long version = std::strtol(name.c_str(), &end, 10);
    const std::string bin = entry.path().string() + "/bin";
    if (end && *end == '\0' && fs::exists(bin + "/initdb") && fs::exists(bin + "/postgres")) {
      found.emplace_back(static_cast<int>(version), bin);
    }
  }
  if (!found.empty()) return std::max_element(found.begin(), found.end())->second;
  CommandResult r = RunCommand("command -v initdb");
  if (r.exit_code == 0 && !r.out.empty()) {
    std::string path = r.out.substr(0, r.out.find('\n'));
    return fs::path(path).parent_path().string();
  }
  return "";
}

PostgresServer::PostgresServer() : bin_(PostgresBinDir()) {
  // Not under $TMPDIR: the server's user must be able to reach it, and the
  // unix socket's path must stay short.
  char tmpl[] = "/tmp/sopilot-pg-XXXXXX";
  if (mkdtemp(tmpl) != nullptr) dir_ = tmpl;
}

PostgresServer::~PostgresServer() {
  if (running_) Stop();
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

std::string PostgresServer::TemplateCluster(std::string* out) const {
  // Named after the installation and the user, so that neither another
  // version nor another user's cluster is picked up.
  const std::string name = "/tmp/sopilot-pg-template-" + std::to_string(std::hash<std::string>()(bin_)) + "-" +
                           std::to_string(geteuid());
  const std::string data = name + "/data";
  if (fs::exists(data + "/PG_VERSION")) return data;
  // Made aside and renamed into place: test processes starting together may
  // both make one; the first rename wins and the other's copy is removed.
  char tmpl[] = "/tmp/sopilot-pg-initdb-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    *out = "mkdtemp under /tmp failed";
    return "";
  }
  const std::string work = tmpl;
  if (IsRoot()) RunCommand("chown " + std::string(kServerOsUser) + ": " + ShellQuote(work));
  if (Run("initdb", "-D " + ShellQuote(work + "/data") + " -U " + kUser + " --auth=trust --no-locale -E UTF8 --no-sync",
          out) != 0) {
    std::error_code ec;
    fs::remove_all(work, ec);
    return "";
  }
  std::error_code ec;
  fs::rename(work, name, ec);
  if (ec) fs::remove_all(work, ec);  // another process's is in place
  return fs::exists(data + "/PG_VERSION") ? data : "";
}

int PostgresServer::Run(const std::string& program, const std::string& args, std::string* out) const {
  std::string cmd = ShellQuote(bin_ + "/" + program) + " " + args;
  if (IsRoot()) cmd = std::string("runuser -u ") + kServerOsUser + " -- " + cmd;
  CommandResult r = RunCommand(cmd + " 2>&1");
  if (out) *out = r.out;
  return r.exit_code;
}

bool PostgresServer::GiveDirToServerUser() {
  if (!IsRoot()) return true;
  CommandResult r = RunCommand("chown " + std::string(kServerOsUser) + ": " + ShellQuote(dir_));
  if (r.exit_code != 0) error_ = "chown " + dir_ + ": " + r.err;
  return r.exit_code == 0;
}

bool PostgresServer::RestoreBaseBackupOf(const PostgresServer& source) {
  if (bin_.empty() || dir_.empty() || initialised_ || !source.running()) {
    error_ = "RestoreBaseBackupOf needs PostgreSQL, a server not yet started and a running source";
    return false;
  }
  if (!GiveDirToServerUser()) return false;
  std::string out;
  // --checkpoint=fast: the backup starts at once instead of at the next
  // scheduled checkpoint; -X stream: the WAL written meanwhile comes along,
  // so the copy is consistent however busy the source is.
  if (Run("pg_basebackup", "-h 127.0.0.1 -p " + std::to_string(source.port()) + " -U " + kUser + " -D " +
                               ShellQuote(dir_ + "/data") + " -X stream --checkpoint=fast --no-sync",
          &out) != 0) {
    error_ = "pg_basebackup failed: " + out;
    return false;
  }
  initialised_ = true;
  return true;
}

std::string PostgresServer::Url(const std::string& db) const {
  return "postgresql://" + std::string(kUser) + "@127.0.0.1:" + std::to_string(port_) + "/" + db;
}

bool PostgresServer::Start(double timeout_sec) {
  if (bin_.empty()) {
    error_ = "PostgreSQL is not installed (no initdb under /usr/lib/postgresql/*/bin or on PATH; "
             "scripts/install-deps.sh installs it)";
    return false;
  }
  if (dir_.empty()) {
    error_ = "cannot make a temporary directory under /tmp";
    return false;
  }
  if (IsRoot() && getpwnam(kServerOsUser) == nullptr) {
    error_ = "running as root, and there is no `postgres` user to run the server as";
    return false;
  }
  const std::string data = dir_ + "/data";
  std::string out;
  if (!initialised_) {
    if (!GiveDirToServerUser()) return false;
    // initdb takes seconds; its result is the same for every server of one
    // installation, so it is made once (per PostgreSQL version) and copied.
    const std::string tmpl = TemplateCluster(&out);
    if (tmpl.empty()) {
      error_ = "initdb failed: " + out;
      return false;
    }
    CommandResult copy = RunCommand("cp -a " + ShellQuote(tmpl) + " " + ShellQuote(data) + " 2>&1");
    if (copy.exit_code != 0) {
      error_ = "copying the initdb cluster failed: " + copy.out;
      return false;
    }
    initialised_ = true;
  }
  if (port_ == 0) port_ = FreeLoopbackPort();
  // fsync off: a commit is in the kernel's cache, which outlives the server
  // (a test that kills the server keeps its commits), not on the disk.
  // The postmaster is this process's child (not pg_ctl's daemon), killed by
  // the kernel when this process dies however it dies (PR_SET_PDEATHSIG):
  // a crashed test leaves no server behind.
  std::vector<std::string> args;
  if (IsRoot()) {
    args = {"setpriv", std::string("--reuid=") + kServerOsUser, std::string("--regid=") + kServerOsUser,
            "--init-groups", "--pdeathsig=KILL", "--"};
  }
  for (const std::string& a : {bin_ + "/postgres", std::string("-D"), data, std::string("-c"),
                               std::string("listen_addresses=127.0.0.1"), std::string("-c"),
                               "port=" + std::to_string(port_), std::string("-c"),
                               "unix_socket_directories=" + dir_, std::string("-c"), std::string("fsync=off"),
                               std::string("-c"),
                               std::string("full_page_writes=off"), std::string("-c"), std::string("shared_buffers=16MB"),
                               std::string("-c"), std::string("max_connections=200"), std::string("-c"),
                               std::string("dynamic_shared_memory_type=mmap")}) {
    args.push_back(a);
  }
  const std::string log = dir_ + "/server.log";
  pid_ = fork();
  if (pid_ < 0) {
    error_ = "fork failed";
    return false;
  }
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  running_ = true;
  const std::string conninfo = Url("postgres");
  bool exited = false;
  bool up = PollUntil(
      [&] {
        int status;
        if (waitpid(pid_, &status, WNOHANG) == pid_) exited = true;
        return exited || PQping(conninfo.c_str()) == PQPING_OK;
      },
      timeout_sec);
  if (!up || exited) {
    if (exited) {
      pid_ = -1;
      running_ = false;
    }
    CommandResult tail = RunCommand("tail -n 20 " + ShellQuote(log));
    error_ = std::string(exited ? "the PostgreSQL server exited at start" : "the PostgreSQL server did not accept connections") +
             "; its log ends:\n" + tail.out;
    return false;
  }
  return true;
}

bool PostgresServer::Stop() {
  if (!running_) return true;
  // SIGQUIT: immediate shutdown, connections cut as a crash would cut them.
  ::kill(pid_, SIGQUIT);
  int status;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  running_ = false;
  return true;
}

bool PostgresServer::CreateDatabase(const std::string& name) {
  QueryResult r = Query("postgres", "DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)");
  if (r.ok) r = Query("postgres", "CREATE DATABASE \"" + name + "\"");
  if (!r.ok) error_ = "CREATE DATABASE " + name + ": " + r.error;
  return r.ok;
}

PostgresServer::QueryResult PostgresServer::Query(const std::string& db, const std::string& sql) const {
  QueryResult out;
  std::unique_ptr<PGconn, void (*)(PGconn*)> conn(PQconnectdb(Url(db).c_str()), PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    out.error = PQerrorMessage(conn.get());
    return out;
  }
  PQsetNoticeProcessor(conn.get(), [](void*, const char*) {}, nullptr);
  std::unique_ptr<PGresult, void (*)(PGresult*)> res(PQexec(conn.get(), sql.c_str()), PQclear);
  const ExecStatusType st = PQresultStatus(res.get());
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    out.error = PQerrorMessage(conn.get());
    return out;
  }
  out.ok = true;
  if (st == PGRES_TUPLES_OK && PQnfields(res.get()) > 0) {
    for (int i = 0; i < PQntuples(res.get()); ++i) out.column.push_back(PQgetvalue(res.get(), i, 0));
  }
  return out;
}

}  // namespace sopilot::testing
