#include "audit/audit_export.h"

#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "base/digest.h"
#include "base/text.h"

namespace sopilot {

namespace {

constexpr std::string_view kAlgorithm = "hmac-sha256";
// Deeper documents are refused before parsing: CanonicalJson recurses.
constexpr int kMaxDepth = 256;

void AppendU16(uint32_t unit, std::string* out) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(unit));
  out->append(buf);
}

// Decodes one UTF-8 sequence at s[*i], advancing *i. Invalid bytes (which a
// Python str cannot hold) decode to U+FFFD one byte at a time.
uint32_t NextCodePoint(std::string_view s, size_t* i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b0 = byte(*i);
  int len;
  uint32_t cp, min;
  if (b0 < 0x80) {
    ++*i;
    return b0;
  } else if ((b0 & 0xe0) == 0xc0) {
    len = 2, cp = b0 & 0x1f, min = 0x80;
  } else if ((b0 & 0xf0) == 0xe0) {
    len = 3, cp = b0 & 0x0f, min = 0x800;
  } else if ((b0 & 0xf8) == 0xf0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    ++*i;
    return 0xfffd;
  }
  if (*i + len > s.size()) {
    ++*i;
    return 0xfffd;
  }
  for (int k = 1; k < len; ++k) {
    unsigned char b = byte(*i + k);
    if ((b & 0xc0) != 0x80) {
      ++*i;
      return 0xfffd;
    }
    cp = (cp << 6) | (b & 0x3f);
  }
  // Overlong forms, UTF-16 surrogates and values past U+10FFFF are invalid.
  if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
    ++*i;
    return 0xfffd;
  }
  *i += len;
  return cp;
}

// Python's json encoder with ensure_ascii: only printable ASCII (' '..'~')
// passes through; DEL and everything else becomes \uXXXX in lower-case hex.
void AppendString(std::string_view s, std::string* out) {
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    uint32_t cp = NextCodePoint(s, &i);
    switch (cp) {
      case '"': out->append("\\\""); continue;
      case '\\': out->append("\\\\"); continue;
      case '\n': out->append("\\n"); continue;
      case '\r': out->append("\\r"); continue;
      case '\t': out->append("\\t"); continue;
      case '\b': out->append("\\b"); continue;
      case '\f': out->append("\\f"); continue;
      default: break;
    }
    if (cp >= 0x20 && cp <= 0x7e) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x10000) {
      AppendU16(cp, out);
    } else {
      uint32_t v = cp - 0x10000;
      AppendU16(0xd800 | (v >> 10), out);
      AppendU16(0xdc00 | (v & 0x3ff), out);
    }
  }
  out->push_back('"');
}

// Python's float repr: the shortest digits that round-trip (what to_chars
// gives), in positional form when the decimal exponent is in [-4, 16), with
// ".0" on integral values; otherwise d.ddde±XX.
void AppendFloat(double d, std::string* out) {
  if (std::isnan(d)) {
    out->append("NaN");
    return;
  }
  if (std::isinf(d)) {
    out->append(d < 0 ? "-Infinity" : "Infinity");
    return;
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  assert(ec == std::errc());
  std::string_view sci(buf, end - buf);  // "-1.2345e+17", "5e-324", "0e+00"
  if (!sci.empty() && sci[0] == '-') {
    out->push_back('-');
    sci.remove_prefix(1);
  }
  size_t e_pos = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e_pos)) {
    if (c != '.') digits.push_back(c);
  }
  int exp = 0;
  std::string_view exp_text = sci.substr(e_pos + 1);
  if (!exp_text.empty() && exp_text[0] == '+') exp_text.remove_prefix(1);
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exp);

  if (exp < -4 || exp >= 16) {
    out->push_back(digits[0]);
    if (digits.size() > 1) {
      out->push_back('.');
      out->append(digits, 1);
    }
    char e[16];
    std::snprintf(e, sizeof e, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    out->append(e);
  } else if (exp >= 0) {
    size_t int_len = static_cast<size_t>(exp) + 1;
    if (digits.size() <= int_len) {
      out->append(digits);
      out->append(int_len - digits.size(), '0');
      out->append(".0");
    } else {
      out->append(digits, 0, int_len);
      out->push_back('.');
      out->append(digits, int_len);
    }
  } else {
    out->append("0.");
    out->append(static_cast<size_t>(-exp - 1), '0');
    out->append(digits);
  }
}

void AppendCanonical(const nlohmann::json& v, std::string* out) {
  using T = nlohmann::json::value_t;
  switch (v.type()) {
    case T::null:
    case T::discarded:
      out->append("null");
      return;
    case T::boolean:
      out->append(v.get<bool>() ? "true" : "false");
      return;
    case T::number_integer:
      out->append(std::to_string(v.get<int64_t>()));
      return;
    case T::number_unsigned:
      out->append(std::to_string(v.get<uint64_t>()));
      return;
    case T::number_float:
      AppendFloat(v.get<double>(), out);
      return;
    case T::string:
      AppendString(v.get_ref<const std::string&>(), out);
      return;
    case T::binary:
      // Not representable in JSON text; never produced by parsing.
      out->append("null");
      return;
    case T::array: {
      out->push_back('[');
      bool first = true;
      for (const nlohmann::json& item : v) {
        if (!first) out->push_back(',');
        first = false;
        AppendCanonical(item, out);
      }
      out->push_back(']');
      return;
    }
    case T::object: {
      // nlohmann::json keeps objects in a std::map<std::string>, ordered by
      // std::char_traits<char>, i.e. by unsigned bytes. For UTF-8, byte
      // order is code point order, which is how Python sorts str keys.
      out->push_back('{');
      bool first = true;
      for (const auto& [key, item] : v.items()) {
        if (!first) out->push_back(',');
        first = false;
        AppendString(key, out);
        out->push_back(':');
        AppendCanonical(item, out);
      }
      out->push_back('}');
      return;
    }
  }
}

// Brackets outside strings, without parsing: guards the recursive writer.
bool NestedDeeperThan(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}


std::string StringField(const nlohmann::json& obj, const char* name) {
  auto it = obj.find(name);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string CanonicalJson(const nlohmann::json& value) {
  std::string out;
  AppendCanonical(value, &out);
  return out;
}

nlohmann::json SignAuditExport(nlohmann::json payload, std::string_view key, std::string_view key_id) {
  assert(payload.is_object());
  if (!payload.is_object()) return payload;
  payload.erase("signature");
  payload["signed_key_id"] = key_id;
  std::string canonical = CanonicalJson(payload);
  payload["signature"] = {
      {"algorithm", kAlgorithm},
      {"key_id", key_id},
      {"payload_sha256", Sha256Hex(canonical)},
      {"signature_hex", HmacSha256Hex(key, canonical)},
  };
  return payload;
}

Result<AuditVerification> VerifyAuditExport(std::string_view file_text, std::string_view key) {
  if (NestedDeeperThan(file_text, kMaxDepth)) {
    return Status::InvalidArgument("audit export is nested deeper than " + std::to_string(kMaxDepth) + " levels");
  }
  nlohmann::json doc;
  // Keys seen in each open object, innermost last.
  std::vector<std::set<std::string>> open_objects;
  std::string repeated;
  auto watch_keys = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (event == E::object_start) open_objects.emplace_back();
    if (event == E::object_end && !open_objects.empty()) open_objects.pop_back();
    if (event == E::key && !open_objects.empty() && parsed.is_string() &&
        !open_objects.back().insert(parsed.get<std::string>()).second && repeated.empty()) {
      repeated = parsed.get<std::string>();
    }
    return true;
  };
  try {
    doc = nlohmann::json::parse(file_text, watch_keys);
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(std::string("audit export is not JSON: ") + e.what());
  }
  if (!repeated.empty()) {
    return Status::InvalidArgument("audit export repeats the key \"" + Printable(repeated) +
                                   "\" within one object: a reader could take either value");
  }
  if (!doc.is_object()) return Status::InvalidArgument("audit export is not a JSON object");
  auto sig_it = doc.find("signature");
  if (sig_it == doc.end() || !sig_it->is_object()) {
    return Status::InvalidArgument("audit export has no signature object");
  }
  nlohmann::json sig = std::move(*sig_it);
  doc.erase("signature");

  AuditVerification v;
  v.algorithm = StringField(sig, "algorithm");
  v.key_id = StringField(sig, "key_id");
  if (auto signed_id = doc.find("signed_key_id"); signed_id != doc.end()) {
    v.key_id_signed = true;
    v.key_id_match = signed_id->is_string() && sig.contains("key_id") && sig["key_id"].is_string() &&
                     signed_id->get<std::string>() == v.key_id;
  }
  std::string canonical = CanonicalJson(doc);
  // Both digests are compared in constant time; the SHA-256 is public, the
  // HMAC is not.
  v.payload_sha256_match = ConstantTimeEquals(Sha256Hex(canonical), StringField(sig, "payload_sha256"));
  // Another algorithm cannot be checked here, so it does not verify.
  v.signature_match = v.algorithm == kAlgorithm &&
                      ConstantTimeEquals(HmacSha256Hex(key, canonical), StringField(sig, "signature_hex"));
  return v;
}

}  // namespace sopilot
