#include "auth/authenticator.h"

#include <cstdint>

namespace sopilot {

namespace {

constexpr std::string_view kSpace = " \t\r\n\f\v";

std::string_view Trim(std::string_view s) {
  size_t b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(kSpace);
  return s.substr(b, e - b + 1);
}

std::string Env(const std::function<const char*(const char*)>& getenv, const char* name) {
  const char* v = getenv(name);
  return v == nullptr ? std::string() : std::string(Trim(v));
}

// An unset or blank role variable means the default; anything else must name
// a role (the original turned typos into admin).
Role ReadRole(const std::function<const char*(const char*)>& getenv, const char* name, Role fallback,
              std::vector<std::string>* problems) {
  std::string value = Env(getenv, name);
  if (value.empty()) return fallback;
  std::optional<Role> role = ParseRole(value);
  if (!role) {
    problems->push_back(std::string(name) + ": unknown role \"" + value + "\" (expected viewer, operator or admin)");
    return fallback;
  }
  return *role;
}

// "viewer:t1,operator:t2;admin:t3". Entries are named by position, never by
// content, because a malformed entry may be a secret.
void ParseRoleTokens(std::string_view text, AuthConfig* config, std::vector<std::string>* problems) {
  std::vector<size_t> storage;
  std::vector<size_t>* positions = &storage;  // entry number of each role_tokens element
  size_t index = 0;
  while (true) {
    size_t end = text.find_first_of(",;");
    std::string_view entry = Trim(text.substr(0, end));
    ++index;
    // Blank entries ("a:x,,b:y", a trailing comma) carry nothing; skip them.
    if (!entry.empty()) {
      std::string where = "SOPILOT_API_ROLE_TOKENS entry " + std::to_string(index);
      size_t colon = entry.find(':');
      if (colon == std::string_view::npos) {
        problems->push_back(where + ": expected role:token");
      } else {
        std::string_view role_name = Trim(entry.substr(0, colon));
        std::string_view token = Trim(entry.substr(colon + 1));
        std::optional<Role> role = ParseRole(role_name);
        bool ok = true;
        if (role_name.empty()) {
          problems->push_back(where + ": empty role");
          ok = false;
        } else if (!role) {
          problems->push_back(where + ": unknown role \"" + std::string(role_name) +
                              "\" (expected viewer, operator or admin)");
          ok = false;
        }
        if (token.empty()) {
          problems->push_back(where + ": empty token");
          ok = false;
        }
        if (ok) {
          // One token for two roles would make the role depend on the order
          // of the list (the first match wins): refused, naming positions.
          for (size_t k = 0; k < config->role_tokens.size(); ++k) {
            const auto& [other_role, other_token] = config->role_tokens[k];
            if (other_token == token && other_role != *role) {
              problems->push_back(where + ": the same token as entry " + std::to_string(positions->at(k)) +
                                  " with another role (" + RoleName(other_role) + " and " + RoleName(*role) + ")");
              ok = false;
              break;
            }
          }
        }
        if (ok) {
          config->role_tokens.emplace_back(*role, std::string(token));
          positions->push_back(index);
        }
      }
    }
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
}

int Base64Value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kViewer: return "viewer";
    case Role::kOperator: return "operator";
    case Role::kAdmin: return "admin";
  }
  return "viewer";
}

std::optional<Role> ParseRole(std::string_view name) {
  name = Trim(name);
  std::string lower(name);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (lower == "viewer") return Role::kViewer;
  if (lower == "operator") return Role::kOperator;
  if (lower == "admin") return Role::kAdmin;
  return std::nullopt;
}

bool AuthConfig::configured() const {
  return !api_token.empty() || !role_tokens.empty() || (!basic_user.empty() && !basic_password.empty());
}

Result<AuthConfig> AuthConfigFromEnvironment(const std::function<const char*(const char*)>& getenv) {
  AuthConfig config;
  std::vector<std::string> problems;
  config.api_token = Env(getenv, "SOPILOT_API_TOKEN");
  config.api_token_role = ReadRole(getenv, "SOPILOT_API_TOKEN_ROLE", Role::kAdmin, &problems);
  ParseRoleTokens(Env(getenv, "SOPILOT_API_ROLE_TOKENS"), &config, &problems);
  config.basic_user = Env(getenv, "SOPILOT_BASIC_USER");
  config.basic_password = Env(getenv, "SOPILOT_BASIC_PASSWORD");
  config.basic_role = ReadRole(getenv, "SOPILOT_BASIC_ROLE", Role::kAdmin, &problems);
  for (const auto& [role, token] : config.role_tokens) {
    if (!config.api_token.empty() && token == config.api_token && role != config.api_token_role) {
      problems.push_back(std::string("SOPILOT_API_TOKEN is also a ") + RoleName(role) +
                         " token in SOPILOT_API_ROLE_TOKENS, with another role");
      break;
    }
  }
  // The original silently disabled Basic when only one half was set.
  if (config.basic_user.empty() != config.basic_password.empty()) {
    problems.push_back(config.basic_user.empty() ? "SOPILOT_BASIC_PASSWORD is set but SOPILOT_BASIC_USER is not"
                                                 : "SOPILOT_BASIC_USER is set but SOPILOT_BASIC_PASSWORD is not");
  }
  if (!problems.empty()) {
    std::string msg = "auth configuration: ";
    for (size_t i = 0; i < problems.size(); ++i) {
      if (i > 0) msg += "; ";
      msg += problems[i];
    }
    return Status::InvalidArgument(msg);
  }
  return config;
}

std::optional<Principal> Authenticate(const AuthConfig& config, std::string_view authorization) {
  // The prefixes are case-sensitive, as in the original.
  constexpr std::string_view kBearer = "Bearer ";
  constexpr std::string_view kBasic = "Basic ";
  if (authorization.starts_with(kBearer)) {
    std::string_view token = Trim(authorization.substr(kBearer.size()));
    if (token.empty()) return std::nullopt;
    // Every role token is compared, so the time does not tell which matched.
    std::optional<Role> hit;
    for (const auto& [role, secret] : config.role_tokens) {
      if (ConstantTimeEquals(token, secret) && !hit) hit = role;
    }
    if (hit) return Principal{std::string("token:") + RoleName(*hit), *hit};
    if (!config.api_token.empty() && ConstantTimeEquals(token, config.api_token)) {
      return Principal{"token:api", config.api_token_role};
    }
    return std::nullopt;
  }
  if (authorization.starts_with(kBasic)) {
    if (config.basic_user.empty() || config.basic_password.empty()) return std::nullopt;
    std::optional<std::string> decoded = Base64Decode(Trim(authorization.substr(kBasic.size())));
    if (!decoded) return std::nullopt;
    // The user cannot contain ':' (RFC 7617); the password can.
    size_t colon = decoded->find(':');
    if (colon == std::string::npos) return std::nullopt;
    std::string_view user = std::string_view(*decoded).substr(0, colon);
    std::string_view password = std::string_view(*decoded).substr(colon + 1);
    // '&', not '&&': both are compared whatever the user.
    bool ok = ConstantTimeEquals(user, config.basic_user) & ConstantTimeEquals(password, config.basic_password);
    if (ok) return Principal{"basic:" + config.basic_user, config.basic_role};
    return std::nullopt;
  }
  return std::nullopt;
}


std::optional<std::string> Base64Decode(std::string_view text) {
  // Strict RFC 4648 §4: padded to a multiple of 4, no whitespace, '=' only at
  // the end. Non-zero bits after the last byte are accepted, as Python does.
  if (text.size() % 4 != 0) return std::nullopt;
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++pad;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < text.size() - pad; ++i) {
    int v = Base64Value(static_cast<unsigned char>(text[i]));
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

}  // namespace sopilot
