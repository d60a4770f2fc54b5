// JsonWriter: appends compact JSON to a string. The append path prints a
// result per event, a million of them for a big file, so this writes straight
// into one buffer with no document tree in between. Commas are placed by the
// writer; the caller only opens, closes and names.
//
// Not thread-safe; the output string must outlive the writer.

#pragma once

#include <absl/container/inlined_vector.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace ledger::cli {

class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();

  // Key(key) then the value.
  JsonWriter& Field(std::string_view key, std::string_view value) { return Key(key).String(value); }
  JsonWriter& Field(std::string_view key, const char* value) { return Key(key).String(value); }
  JsonWriter& Field(std::string_view key, const std::string& value) { return Key(key).String(value); }
  JsonWriter& Field(std::string_view key, int64_t value) { return Key(key).Int(value); }
  JsonWriter& Field(std::string_view key, uint64_t value) {
    return Key(key).Int(static_cast<int64_t>(value));
  }
  JsonWriter& Field(std::string_view key, int value) { return Key(key).Int(value); }
  JsonWriter& Field(std::string_view key, bool value) { return Key(key).Bool(value); }

 private:
  void BeforeValue();

  std::string* out_;
  // Per open container: whether a value was written (a comma is due).
  // Inline: a writer per result line must not allocate.
  absl::InlinedVector<bool, 8> has_value_;
  bool after_key_ = false;
};

// `text` as a JSON string literal, quotes included.
void AppendJsonString(std::string_view text, std::string* out);

}  // namespace ledger::cli
