// Authentication and roles, with the Python original's configuration:
//   SOPILOT_API_TOKEN + SOPILOT_API_TOKEN_ROLE       one bearer token
//   SOPILOT_API_ROLE_TOKENS="viewer:t1,operator:t2"  role tokens (',' or ';')
//   SOPILOT_BASIC_USER / _PASSWORD / _ROLE           HTTP Basic
// Roles: viewer < operator < admin. Unlike the original, an unknown role in
// the configuration is an error (it silently became admin there), and every
// secret is compared in constant time.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/digest.h"  // ConstantTimeEquals
#include "base/status.h"

namespace sopilot {

enum class Role { kViewer = 1, kOperator = 2, kAdmin = 3 };
const char* RoleName(Role role);                        // "viewer", "operator", "admin"
std::optional<Role> ParseRole(std::string_view name);   // case-insensitive, trimmed
inline bool RoleAtLeast(Role have, Role need) { return static_cast<int>(have) >= static_cast<int>(need); }

struct AuthConfig {
  std::string api_token;
  Role api_token_role = Role::kAdmin;
  std::vector<std::pair<Role, std::string>> role_tokens;  // in configuration order
  std::string basic_user, basic_password;
  Role basic_role = Role::kAdmin;

  // Any credential configured at all.
  bool configured() const;
};

// Reads the variables above through `getenv` (tests pass a map). Fails with
// InvalidArgument listing every problem (unknown role names, malformed role
// token entries, a basic user without password or the reverse).
Result<AuthConfig> AuthConfigFromEnvironment(const std::function<const char*(const char*)>& getenv);

struct Principal {
  std::string actor;  // "token:<role>" (role tokens), "token:api", "basic:<user>"
  Role role = Role::kViewer;
};

// Resolves an Authorization header ("Bearer <t>" or "Basic <base64>"):
// role tokens first, then the API token, then basic. nullopt when nothing
// matches or the header is malformed.
std::optional<Principal> Authenticate(const AuthConfig& config, std::string_view authorization);


// RFC 4648 base64 decoding; nullopt on invalid input.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace sopilot
