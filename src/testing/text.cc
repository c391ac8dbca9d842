#include "testing/text.h"

#include <fstream>
#include <sstream>

namespace sopilot::testing {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double SeriesValue(const std::string& body, const std::string& series) {
  const std::string text = "\n" + body;
  const std::string key = "\n" + series + " ";
  size_t at = text.find(key);
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + key.size()));
}

}  // namespace sopilot::testing
