// The environment variables SOPilot reads, in one table: the source of the
// table in doc/operations.md (`sopilot config --env-table` prints it), so the
// guide cannot drift from the code.
//
// Defaults are read from the default-constructed configuration structs
// (ServiceConfig, WatchOptions, ...), never typed twice. Tests hold the table
// to the code: every name a configuration parser asks for and every
// "SOPILOT_*" literal in src/ is in it, and doc/operations.md holds exactly
// EnvTableMarkdown() (config_doc_test.cc).
#pragma once

#include <string>
#include <vector>

namespace sopilot::cli {

struct EnvVariable {
  std::string name;
  std::string default_value;  // as an operator would write it; "" = unset
  std::string read_by;        // the commands that read it
  std::string meaning;
};

// Every variable, grouped as the guide shows them.
std::vector<EnvVariable> EnvironmentVariables();

// The Markdown table (header, one row per variable), ending in a newline.
std::string EnvTableMarkdown();

}  // namespace sopilot::cli
