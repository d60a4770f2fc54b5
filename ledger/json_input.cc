#include "ledger/json_input.h"

#include <simdjson.h>

#include <algorithm>

#include "ledger/constants.h"
#include "ledger/event_codec.h"

namespace ledger {
namespace {

namespace od = simdjson::ondemand;

constexpr int kNestingDepthMax = 32;

RuleError InvalidJson(std::string message) {
  return RuleError{ErrorCode::kInvalidJson, std::move(message)};
}

// The JSON number grammar of RFC 8259: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(std::string_view t) {
  size_t i = 0;
  auto digits = [&] {
    const size_t start = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    return i > start;
  };
  if (i < t.size() && t[i] == '-') ++i;
  if (i < t.size() && t[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < t.size() && t[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == t.size();
}

std::string_view TrimRight(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' ||
                           text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

// Appends a length-prefixed string: the canonical form never confuses where
// one piece ends and the next begins.
void AppendPiece(std::string_view piece, std::string* out) {
  const uint32_t size = static_cast<uint32_t>(piece.size());
  out->append(reinterpret_cast<const char*>(&size), sizeof size);
  out->append(piece);
}

void SortByKey(std::span<const JsonField> fields, std::vector<const JsonField*>* sorted) {
  sorted->clear();
  for (const JsonField& field : fields) sorted->push_back(&field);
  std::sort(sorted->begin(), sorted->end(),
            [](const JsonField* a, const JsonField* b) { return a->key < b->key; });
}

// The canonical form: fields sorted by key, each as key, kind, text.
Sha256 CanonicalDigest(std::span<const JsonField* const> sorted, std::string* scratch) {
  scratch->clear();
  for (const JsonField* field : sorted) {
    AppendPiece(field->key, scratch);
    scratch->push_back(static_cast<char>(field->kind));
    AppendPiece(field->text, scratch);
  }
  return HashBytes(*scratch);
}

// Reads one value into (kind, canonical text). Nested values are rendered
// with sorted keys; they can never be part of a stored event, but a line that
// holds them must still be valid JSON throughout and compare by value.
bool ReadValue(od::value value, int depth, JsonKind* kind, std::string* text);

bool ReadObject(od::object object, int depth, std::string* text) {
  std::vector<std::pair<std::string, std::string>> members;
  for (auto member_result : object) {
    od::field member;
    std::string_view key;
    if (std::move(member_result).get(member) || member.unescaped_key().get(key)) return false;
    JsonKind kind;
    std::string member_text;
    if (!ReadValue(member.value(), depth + 1, &kind, &member_text)) return false;
    std::string piece(1, static_cast<char>(kind));
    AppendPiece(member_text, &piece);
    members.emplace_back(std::string(key), std::move(piece));
  }
  std::sort(members.begin(), members.end());
  for (const auto& [key, piece] : members) {
    AppendPiece(key, text);
    text->append(piece);
  }
  return true;
}

bool ReadArray(od::array array, int depth, std::string* text) {
  for (auto element_result : array) {
    od::value element;
    if (std::move(element_result).get(element)) return false;
    JsonKind kind;
    std::string element_text;
    if (!ReadValue(element, depth + 1, &kind, &element_text)) return false;
    text->push_back(static_cast<char>(kind));
    AppendPiece(element_text, text);
  }
  return true;
}

bool ReadValue(od::value value, int depth, JsonKind* kind, std::string* text) {
  if (depth > kNestingDepthMax) return false;
  od::json_type type;
  if (value.type().get(type)) return false;
  switch (type) {
    case od::json_type::string: {
      std::string_view s;
      if (value.get_string().get(s)) return false;
      *kind = JsonKind::kString;
      text->assign(s);
      return true;
    }
    case od::json_type::number: {
      const std::string_view token = TrimRight(value.raw_json_token());
      if (!IsJsonNumber(token)) return false;
      *kind = JsonKind::kNumber;
      text->assign(token);
      return true;
    }
    case od::json_type::boolean: {
      bool b;
      if (value.get_bool().get(b)) return false;
      *kind = b ? JsonKind::kTrue : JsonKind::kFalse;
      text->clear();
      return true;
    }
    case od::json_type::null: {
      bool is_null;
      if (value.is_null().get(is_null) || !is_null) return false;
      *kind = JsonKind::kNull;
      text->clear();
      return true;
    }
    case od::json_type::object: {
      od::object object;
      if (value.get_object().get(object)) return false;
      *kind = JsonKind::kObject;
      text->clear();
      return ReadObject(object, depth, text);
    }
    case od::json_type::array: {
      od::array array;
      if (value.get_array().get(array)) return false;
      *kind = JsonKind::kArray;
      text->clear();
      return ReadArray(array, depth, text);
    }
  }
  return false;
}

// Reads the line's top-level fields into out->fields[0, *used). Slots are
// overwritten in place: their strings keep their buffers line after line
// (destroying them cost a free and a malloc per long value).
std::optional<RuleError> ReadFields(od::parser& parser, std::string_view line, ParsedLine* out,
                                    size_t* used) {
  if (line.size() > kLineBytesMax) {
    return InvalidJson("line is longer than " + std::to_string(kLineBytesMax) + " bytes");
  }
  od::document doc;
  if (parser.iterate(line.data(), line.size(), line.size() + kJsonPaddingBytes).get(doc)) {
    return InvalidJson("line is not valid JSON");
  }
  od::object object;
  if (doc.get_object().get(object)) {
    od::json_type type;
    const bool other_value = !doc.type().get(type) && type != od::json_type::object;
    return InvalidJson(other_value ? "line is not a JSON object" : "line is not valid JSON");
  }
  for (auto field_result : object) {
    od::field field;
    std::string_view key;
    if (std::move(field_result).get(field) || field.unescaped_key().get(key)) {
      return InvalidJson("line is not valid JSON");
    }
    if (*used == out->fields.size()) out->fields.emplace_back();
    JsonField& parsed = out->fields[(*used)++];
    parsed.key.assign(key);
    if (!ReadValue(field.value(), 1, &parsed.kind, &parsed.text)) {
      return InvalidJson("line is not valid JSON");
    }
  }
  // Anything after the object (a second value, a stray brace) is an error:
  // the document must end where the object does.
  const char* location = nullptr;
  if (doc.current_location().get(location) != simdjson::OUT_OF_BOUNDS) {
    return InvalidJson("unexpected content after the JSON object");
  }
  return std::nullopt;
}

}  // namespace

const JsonField* ParsedLine::Find(std::string_view key) const {
  for (const JsonField& field : fields) {
    if (field.key == key) return &field;
  }
  return nullptr;
}

static_assert(kJsonPaddingBytes >= simdjson::SIMDJSON_PADDING);

struct JsonLineParser::Impl {
  od::parser parser;
  std::vector<const JsonField*> sorted;  // reused: the fields in key order
};

JsonLineParser::JsonLineParser() : impl_(std::make_unique<Impl>()) {}
JsonLineParser::~JsonLineParser() = default;
JsonLineParser::JsonLineParser(JsonLineParser&&) noexcept = default;
JsonLineParser& JsonLineParser::operator=(JsonLineParser&&) noexcept = default;

std::optional<RuleError> JsonLineParser::Parse(std::string_view line, ParsedLine* out) {
  size_t used = 0;
  const std::optional<RuleError> error = ReadFields(impl_->parser, line, out, &used);
  out->fields.resize(used);
  if (error) return error;

  std::vector<const JsonField*>& sorted = impl_->sorted;
  SortByKey(out->fields, &sorted);
  for (size_t i = 1; i < sorted.size(); ++i) {
    if (sorted[i]->key == sorted[i - 1]->key) {
      return InvalidJson("field '" + sorted[i]->key + "' appears twice");
    }
  }
  out->content_digest = CanonicalDigest(sorted, &canonical_);
  return std::nullopt;
}

std::optional<RuleError> JsonLineParser::ParseCopy(std::string_view line, ParsedLine* out) {
  padded_.assign(line);
  padded_.append(kJsonPaddingBytes, '\0');
  return Parse(std::string_view(padded_.data(), line.size()), out);
}

Sha256 ContentDigest(std::span<const JsonField> fields, std::string* scratch) {
  std::vector<const JsonField*> sorted;
  SortByKey(fields, &sorted);
  return CanonicalDigest(sorted, scratch);
}

}  // namespace ledger
