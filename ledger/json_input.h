// JSON Lines input: one line into its top-level fields and the digest of its
// JSON value, the idempotency identity of interface.md ("identical means the
// same JSON value: key order and white space do not matter, strings and
// numbers compare by their text").
//
// A JsonLineParser reuses its buffers across lines; one per thread.

#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/event.h"
#include "ledger/rule_error.h"

namespace ledger {

enum class JsonKind : uint8_t { kString, kNumber, kTrue, kFalse, kNull, kObject, kArray };

// One top-level field. `text` is the unescaped text of a string, the token of
// a number, or a canonical rendering of a nested object or array.
struct JsonField {
  std::string key;
  JsonKind kind = JsonKind::kNull;
  std::string text;
};

struct ParsedLine {
  std::vector<JsonField> fields;  // in input order
  Sha256 content_digest{};

  const JsonField* Find(std::string_view key) const;
};

// How many bytes of readable memory a line must have after its end
// (simdjson's padding: json_input.cc asserts it is enough).
inline constexpr size_t kJsonPaddingBytes = 64;

// The idempotency identity of a line with these fields (distinct keys): the
// digest of their canonical form. `scratch` is a reusable buffer.
Sha256 ContentDigest(std::span<const JsonField> fields, std::string* scratch);

class JsonLineParser {
 public:
  JsonLineParser();
  ~JsonLineParser();
  JsonLineParser(JsonLineParser&&) noexcept;
  JsonLineParser& operator=(JsonLineParser&&) noexcept;

  // Parses `line`, which must be followed in memory by kJsonPaddingBytes
  // readable bytes. On success fills *out; otherwise returns invalid_json.
  std::optional<RuleError> Parse(std::string_view line, ParsedLine* out);
  // Parse() of a copy of `line` with that padding after it: for lines read
  // into buffers that have none.
  std::optional<RuleError> ParseCopy(std::string_view line, ParsedLine* out);

 private:
  // simdjson's parser stays out of this header: json_input.cc alone is
  // compiled for this machine's CPU (LEDGER_NATIVE), and its
  // simdjson::ondemand names another implementation's types than every
  // other file's would. A member of that type would give JsonLineParser two
  // definitions, one per kind of file (an ODR violation LTO reports).
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string canonical_;  // reused buffer for the digest input
  std::string padded_;     // reused buffer for ParseCopy
};

}  // namespace ledger
