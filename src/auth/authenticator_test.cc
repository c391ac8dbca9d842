// Authentication: the original's pinned behaviours (original-ops.md §21),
// adapted where SOPilot deliberately rejects what the original let through.
#include "auth/authenticator.h"

#include <gtest/gtest.h>

#include <map>

namespace sopilot {
namespace {

// A fake environment for AuthConfigFromEnvironment.
struct FakeEnv {
  std::map<std::string, std::string> vars;
  std::function<const char*(const char*)> fn() const {
    return [this](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  }
};

AuthConfig MustConfig(const FakeEnv& env) {
  Result<AuthConfig> c = AuthConfigFromEnvironment(env.fn());
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : AuthConfig();
}

std::string BasicHeader(const std::string& base64) { return "Basic " + base64; }

TEST(RoleTest, ParseIsCaseInsensitiveAndTrimmed) {
  EXPECT_EQ(ParseRole("viewer"), Role::kViewer);
  EXPECT_EQ(ParseRole("  OPERATOR\t"), Role::kOperator);
  EXPECT_EQ(ParseRole("Admin"), Role::kAdmin);
  // The original normalised "superuser" to viewer (or admin for token roles).
  EXPECT_EQ(ParseRole("superuser"), std::nullopt);
  EXPECT_EQ(ParseRole(""), std::nullopt);
  EXPECT_STREQ(RoleName(Role::kOperator), "operator");
  EXPECT_TRUE(RoleAtLeast(Role::kAdmin, Role::kOperator));
  EXPECT_TRUE(RoleAtLeast(Role::kOperator, Role::kOperator));
  EXPECT_FALSE(RoleAtLeast(Role::kViewer, Role::kOperator));
}

TEST(AuthConfigTest, NothingSetIsNotConfigured) {
  AuthConfig c = MustConfig(FakeEnv{});
  EXPECT_FALSE(c.configured());
  EXPECT_EQ(c.api_token_role, Role::kAdmin);
  EXPECT_EQ(c.basic_role, Role::kAdmin);
  // Blank values count as unset.
  FakeEnv blank{{{"SOPILOT_API_TOKEN", "  "}, {"SOPILOT_API_TOKEN_ROLE", ""}, {"SOPILOT_API_ROLE_TOKENS", " ,; "}}};
  EXPECT_FALSE(MustConfig(blank).configured());
}

TEST(AuthConfigTest, RoleTokensWithBothSeparators) {
  FakeEnv env{{{"SOPILOT_API_ROLE_TOKENS", " viewer:t1, OPERATOR : t2 ;admin:t3:with:colons,"}}};
  AuthConfig c = MustConfig(env);
  ASSERT_EQ(c.role_tokens.size(), 3u);
  EXPECT_EQ(c.role_tokens[0], std::make_pair(Role::kViewer, std::string("t1")));
  EXPECT_EQ(c.role_tokens[1], std::make_pair(Role::kOperator, std::string("t2")));
  EXPECT_EQ(c.role_tokens[2], std::make_pair(Role::kAdmin, std::string("t3:with:colons")));
  EXPECT_TRUE(c.configured());
}

TEST(AuthConfigTest, MalformedRoleTokenEntriesAreAllReported) {
  // The original kept only ("admin", "valid") and skipped the rest silently.
  FakeEnv env{{{"SOPILOT_API_ROLE_TOKENS", "admin:valid,nocolon,badrole:,,:empty"}}};
  Result<AuthConfig> c = AuthConfigFromEnvironment(env.fn());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Status::Code::kInvalidArgument);
  const std::string& m = c.status().message();
  EXPECT_NE(m.find("entry 2: expected role:token"), std::string::npos) << m;
  EXPECT_NE(m.find("entry 3: unknown role \"badrole\""), std::string::npos) << m;
  EXPECT_NE(m.find("entry 3: empty token"), std::string::npos) << m;
  EXPECT_NE(m.find("entry 5: empty role"), std::string::npos) << m;
  // A malformed entry may be a secret: it is never echoed.
  EXPECT_EQ(m.find("nocolon"), std::string::npos) << m;
}

TEST(AuthConfigTest, UnknownRoleIsAnErrorNamingIt) {
  FakeEnv env{{{"SOPILOT_API_TOKEN", "tok"}, {"SOPILOT_API_TOKEN_ROLE", "superuser"},
               {"SOPILOT_BASIC_USER", "u"}, {"SOPILOT_BASIC_PASSWORD", "p"}, {"SOPILOT_BASIC_ROLE", "root"}}};
  Result<AuthConfig> c = AuthConfigFromEnvironment(env.fn());
  ASSERT_FALSE(c.ok());
  const std::string& m = c.status().message();
  EXPECT_NE(m.find("SOPILOT_API_TOKEN_ROLE: unknown role \"superuser\""), std::string::npos) << m;
  EXPECT_NE(m.find("SOPILOT_BASIC_ROLE: unknown role \"root\""), std::string::npos) << m;
}

TEST(AuthConfigTest, BasicNeedsBothHalves) {
  Result<AuthConfig> c = AuthConfigFromEnvironment(FakeEnv{{{"SOPILOT_BASIC_USER", "alice"}}}.fn());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("SOPILOT_BASIC_PASSWORD"), std::string::npos);
  c = AuthConfigFromEnvironment(FakeEnv{{{"SOPILOT_BASIC_PASSWORD", "pw"}}}.fn());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("SOPILOT_BASIC_USER"), std::string::npos);
}

TEST(AuthConfigTest, RolesAndValuesAreRead) {
  FakeEnv env{{{"SOPILOT_API_TOKEN", " test-token \n"}, {"SOPILOT_API_TOKEN_ROLE", "Operator"},
               {"SOPILOT_BASIC_USER", "testuser"}, {"SOPILOT_BASIC_PASSWORD", "testpass"},
               {"SOPILOT_BASIC_ROLE", "viewer"}}};
  AuthConfig c = MustConfig(env);
  EXPECT_EQ(c.api_token, "test-token");
  EXPECT_EQ(c.api_token_role, Role::kOperator);
  EXPECT_EQ(c.basic_user, "testuser");
  EXPECT_EQ(c.basic_password, "testpass");
  EXPECT_EQ(c.basic_role, Role::kViewer);
}

TEST(AuthenticateTest, ApiToken) {
  AuthConfig c = MustConfig(FakeEnv{{{"SOPILOT_API_TOKEN", "test-token"}}});
  std::optional<Principal> p = Authenticate(c, "Bearer test-token");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->actor, "token:api");
  EXPECT_EQ(p->role, Role::kAdmin);
  EXPECT_FALSE(Authenticate(c, "Bearer test-tokenx"));
  EXPECT_FALSE(Authenticate(c, "Bearer test-toke"));
  EXPECT_FALSE(Authenticate(c, "Bearer "));
  EXPECT_FALSE(Authenticate(c, ""));
  EXPECT_FALSE(Authenticate(c, "test-token"));
}

TEST(AuthenticateTest, BearerPrefixIsCaseSensitive) {
  AuthConfig c = MustConfig(FakeEnv{{{"SOPILOT_API_TOKEN", "test-token"}}});
  EXPECT_FALSE(Authenticate(c, "bearer test-token"));
  EXPECT_FALSE(Authenticate(c, "BEARER test-token"));
  EXPECT_FALSE(Authenticate(c, "Bearertest-token"));
}

TEST(AuthenticateTest, RoleTokensAndTheApiToken) {
  FakeEnv env{{{"SOPILOT_API_ROLE_TOKENS", "viewer:view-token,operator:op-token,admin:admin-token"},
               {"SOPILOT_API_TOKEN", "api-token"}, {"SOPILOT_API_TOKEN_ROLE", "operator"}}};
  AuthConfig c = MustConfig(env);
  auto expect = [&](const char* header, const char* actor, Role role) {
    std::optional<Principal> p = Authenticate(c, header);
    ASSERT_TRUE(p) << header;
    EXPECT_EQ(p->actor, actor) << header;
    EXPECT_EQ(p->role, role) << header;
  };
  expect("Bearer view-token", "token:viewer", Role::kViewer);
  expect("Bearer op-token", "token:operator", Role::kOperator);
  expect("Bearer admin-token", "token:admin", Role::kAdmin);
  expect("Bearer api-token", "token:api", Role::kOperator);
  EXPECT_FALSE(Authenticate(c, "Bearer nope"));
}

// One secret for two roles would make the role depend on the order of the
// configuration: refused at start-up, naming positions, never the secret.
TEST(AuthenticateTest, OneTokenForTwoRolesIsRefused) {
  FakeEnv two_env{{{"SOPILOT_API_ROLE_TOKENS", "viewer:same,admin:same"}}};
  auto two = AuthConfigFromEnvironment(two_env.fn());
  ASSERT_FALSE(two.ok());
  EXPECT_NE(two.status().message().find("entry 2: the same token as entry 1"), std::string::npos)
      << two.status().ToString();
  EXPECT_EQ(two.status().message().find("same,"), std::string::npos) << "the secret is not echoed";
  FakeEnv api_env{{{"SOPILOT_API_ROLE_TOKENS", "viewer:shared"}, {"SOPILOT_API_TOKEN", "shared"}}};
  auto api = AuthConfigFromEnvironment(api_env.fn());
  ASSERT_FALSE(api.ok());
  EXPECT_NE(api.status().message().find("SOPILOT_API_TOKEN is also a viewer token"), std::string::npos)
      << api.status().ToString();
  // The same token twice for the same role is only repetition.
  AuthConfig same = MustConfig(FakeEnv{{{"SOPILOT_API_ROLE_TOKENS", "operator:t,operator:t"}}});
  EXPECT_EQ(Authenticate(same, "Bearer t")->role, Role::kOperator);
}

TEST(AuthenticateTest, Basic) {
  FakeEnv env{{{"SOPILOT_BASIC_USER", "testuser"}, {"SOPILOT_BASIC_PASSWORD", "testpass"}}};
  AuthConfig c = MustConfig(env);
  // base64("testuser:testpass")
  std::optional<Principal> p = Authenticate(c, BasicHeader("dGVzdHVzZXI6dGVzdHBhc3M="));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->actor, "basic:testuser");
  EXPECT_EQ(p->role, Role::kAdmin);
  // base64("testuser:wrongpass"), base64("wronguser:testpass"), base64("testuser")
  EXPECT_FALSE(Authenticate(c, BasicHeader("dGVzdHVzZXI6d3JvbmdwYXNz")));
  EXPECT_FALSE(Authenticate(c, BasicHeader("d3Jvbmd1c2VyOnRlc3RwYXNz")));
  EXPECT_FALSE(Authenticate(c, BasicHeader("dGVzdHVzZXI=")));
  // Invalid base64 is not Basic at all.
  EXPECT_FALSE(Authenticate(c, BasicHeader("!!!not-base64!!!")));
  EXPECT_FALSE(Authenticate(c, BasicHeader("dGVzdHVzZXI6dGVzdHBhc3M")));  // padding missing
  EXPECT_FALSE(Authenticate(c, "basic dGVzdHVzZXI6dGVzdHBhc3M="));
  // Basic credentials are not bearer tokens and the reverse.
  EXPECT_FALSE(Authenticate(c, "Bearer testpass"));
}

TEST(AuthenticateTest, BasicPasswordMayContainColons) {
  FakeEnv env{{{"SOPILOT_BASIC_USER", "alice"}, {"SOPILOT_BASIC_PASSWORD", "pa:ss:word"}, {"SOPILOT_BASIC_ROLE", "operator"}}};
  AuthConfig c = MustConfig(env);
  // base64("alice:pa:ss:word")
  std::optional<Principal> p = Authenticate(c, BasicHeader("YWxpY2U6cGE6c3M6d29yZA=="));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->actor, "basic:alice");
  EXPECT_EQ(p->role, Role::kOperator);
  // base64("alice:pa:ss")
  EXPECT_FALSE(Authenticate(c, BasicHeader("YWxpY2U6cGE6c3M=")));
}

TEST(AuthenticateTest, NothingConfiguredMatchesNothing) {
  AuthConfig c;
  EXPECT_FALSE(Authenticate(c, "Bearer "));
  EXPECT_FALSE(Authenticate(c, "Bearer x"));
  EXPECT_FALSE(Authenticate(c, "Basic Og=="));  // base64(":"): empty user and password
}

TEST(ConstantTimeEqualsTest, Correctness) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "xbc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("ab", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
  // A longer input padded with what the loop pads with must still differ.
  EXPECT_FALSE(ConstantTimeEquals(std::string_view("ab\0", 3), "ab"));
  EXPECT_TRUE(ConstantTimeEquals(std::string_view("a\0b", 3), std::string_view("a\0b", 3)));
  EXPECT_FALSE(ConstantTimeEquals("\xff", "\x7f"));
}

TEST(Base64DecodeTest, Rfc4648Vectors) {
  EXPECT_EQ(Base64Decode(""), "");
  EXPECT_EQ(Base64Decode("Zg=="), "f");
  EXPECT_EQ(Base64Decode("Zm8="), "fo");
  EXPECT_EQ(Base64Decode("Zm9v"), "foo");
  EXPECT_EQ(Base64Decode("Zm9vYg=="), "foob");
  EXPECT_EQ(Base64Decode("Zm9vYmE="), "fooba");
  EXPECT_EQ(Base64Decode("Zm9vYmFy"), "foobar");
  EXPECT_EQ(Base64Decode("+/+/"), std::string("\xfb\xff\xbf"));
}

TEST(Base64DecodeTest, RejectsInvalidInput) {
  EXPECT_FALSE(Base64Decode("Zg"));        // unpadded
  EXPECT_FALSE(Base64Decode("Zg="));       // short padding
  EXPECT_FALSE(Base64Decode("Z==="));      // too much padding
  EXPECT_FALSE(Base64Decode("===="));
  EXPECT_FALSE(Base64Decode("Zg==Zg=="));  // padding in the middle
  EXPECT_FALSE(Base64Decode("Zm9v YmFy"));
  EXPECT_FALSE(Base64Decode("Zm9-"));      // base64url alphabet
  EXPECT_FALSE(Base64Decode("Zm9\xc3"));
}

}  // namespace
}  // namespace sopilot
