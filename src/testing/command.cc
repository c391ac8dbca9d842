#include "testing/command.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "testing/temp_dir.h"

namespace sopilot::testing {

namespace {
std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') q += "'\\''";
    else q += c;
  }
  return q + "'";
}

CommandResult RunCommand(const std::string& command) {
  TempDir dir;
  std::string full = "( " + command + " ) </dev/null >" + dir.file("out") + " 2>" + dir.file("err");
  int status = std::system(full.c_str());
  CommandResult r;
  if (status == -1) {
    r.exit_code = -1;
  } else if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.exit_code = 128 + WTERMSIG(status);
  }
  r.out = Slurp(dir.file("out"));
  r.err = Slurp(dir.file("err"));
  return r;
}

}  // namespace sopilot::testing
