// libFuzzer target: arbitrary bytes as one JSON Lines input line, through
// JsonLineParser::Parse and, when it parses, DecodeEventId and DecodeEvent.
//
// Besides "never crash, leak or hit undefined behaviour" (the sanitizers'
// part), it checks the input layer's invariants and aborts when one breaks:
//   - parsing is deterministic: the same bytes give the same verdict, fields
//     and digest, from the same parser again and from a fresh one;
//   - a parsed line has unique keys and a known kind for every field;
//   - an error is always invalid_json from Parse, and from the decoders only
//     missing_field / invalid_field / unknown_type;
//   - an accepted event respects the limits of constants.h;
//   - the digest is the identity of interface.md: the same fields written in
//     another order with other white space give the same digest, and the
//     decoders give the same answer.
//
// The line is copied into a buffer of exactly its size plus the padding
// simdjson may read, so ASan catches any read beyond that.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "ledger/constants.h"
#include "ledger/event_decoder.h"
#include "ledger/json_input.h"

namespace {

using ledger::ErrorCode;
using ledger::JsonKind;
using ledger::ParsedLine;

#define FUZZ_CHECK(cond)                                                                \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

struct Outcome {
  std::optional<ledger::RuleError> error;
  ParsedLine line;
};

// Parses `text` from a heap buffer of exactly size + padding bytes.
Outcome ParseCopy(ledger::JsonLineParser& parser, std::string_view text) {
  const size_t size = text.size();
  std::unique_ptr<char[]> buffer(new char[size + ledger::kJsonPaddingBytes]);
  if (size > 0) std::memcpy(buffer.get(), text.data(), size);
  std::memset(buffer.get() + size, 0, ledger::kJsonPaddingBytes);
  Outcome outcome;
  outcome.error = parser.Parse(std::string_view(buffer.get(), size), &outcome.line);
  return outcome;
}

bool SameParse(const Outcome& a, const Outcome& b) {
  if (a.error.has_value() != b.error.has_value()) return false;
  if (a.error) return a.error->code == b.error->code;
  if (a.line.content_digest != b.line.content_digest) return false;
  if (a.line.fields.size() != b.line.fields.size()) return false;
  for (size_t i = 0; i < a.line.fields.size(); ++i) {
    const ledger::JsonField& x = a.line.fields[i];
    const ledger::JsonField& y = b.line.fields[i];
    if (x.key != y.key || x.kind != y.kind || x.text != y.text) return false;
  }
  return true;
}

// A JSON string literal of `text` (valid UTF-8: the parser checked it).
std::string Quote(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// The line's fields written back as JSON, in reverse order with extra white
// space; nullopt when a field holds a nested value (its text is a canonical
// rendering, not JSON).
std::optional<std::string> Rewrite(const ParsedLine& line) {
  std::string out = " {\t";
  for (size_t n = line.fields.size(); n-- > 0;) {
    const ledger::JsonField& field = line.fields[n];
    out += Quote(field.key) + " : ";
    switch (field.kind) {
      case JsonKind::kString:
        out += Quote(field.text);
        break;
      case JsonKind::kNumber:
        out += field.text;
        break;
      case JsonKind::kTrue:
        out += "true";
        break;
      case JsonKind::kFalse:
        out += "false";
        break;
      case JsonKind::kNull:
        out += "null";
        break;
      case JsonKind::kObject:
      case JsonKind::kArray:
        return std::nullopt;
    }
    if (n > 0) out += " ,  ";
  }
  return out + "} ";
}

struct Decoded {
  std::optional<ledger::RuleError> id_error;
  std::optional<ledger::RuleError> error;  // of DecodeEvent, when the id is valid
  ledger::IncomingEvent event;
};

Decoded Decode(const ParsedLine& line) {
  Decoded d;
  d.id_error = ledger::DecodeEventId(line, &d.event.event_id);
  if (d.id_error) {
    FUZZ_CHECK(d.id_error->code == ErrorCode::kMissingField ||
               d.id_error->code == ErrorCode::kInvalidField);
    return d;
  }
  FUZZ_CHECK(!d.event.event_id.empty() && d.event.event_id.size() <= ledger::kEventIdBytesMax);
  for (const char c : d.event.event_id) FUZZ_CHECK(c >= 0x20 && c <= 0x7e);
  d.error = ledger::DecodeEvent(line, &d.event);
  if (d.error) {
    FUZZ_CHECK(d.error->code == ErrorCode::kMissingField ||
               d.error->code == ErrorCode::kInvalidField ||
               d.error->code == ErrorCode::kUnknownType);
  }
  return d;
}

// The limits an accepted event must respect, whatever the input.
void CheckAccepted(const ledger::IncomingEvent& event) {
  using namespace ledger;
  FUZZ_CHECK(event.occurred_at_s >= kTimeMin_s && event.occurred_at_s < kTimeMax_s);
  const bool price_set = TypeOf(event.payload) == EventType::kPriceSet;
  FUZZ_CHECK(price_set == event.account.empty());
  if (!price_set) FUZZ_CHECK(IsValidId(event.account, kAccountIdBytesMax));
  std::visit(
      [](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, PriceSet>) {
          FUZZ_CHECK(e.unit_price_e10 >= 0);
        } else if constexpr (std::is_same_v<T, SslCertificatePurchased>) {
          FUZZ_CHECK(e.domains >= 1 && e.domains <= kSslDomainsMultiMax);
          FUZZ_CHECK(e.years >= 1 && e.years <= kSslYearsMax);
          FUZZ_CHECK(IsValidId(e.order_id, kOrderIdBytesMax));
        } else if constexpr (std::is_same_v<T, SslExpansionPurchased>) {
          FUZZ_CHECK(e.quantity >= 1 && e.quantity <= kExpansionQuantityMax);
        } else if constexpr (std::is_same_v<T, ResourceCreated>) {
          FUZZ_CHECK(IsValidId(e.resource_id, kResourceIdBytesMax));
          if (e.billing_mode == BillingMode::kYearlyMonthly) {
            FUZZ_CHECK(e.period_unit != PeriodUnit::kNone && e.periods >= 1 &&
                       e.periods <= (e.period_unit == PeriodUnit::kMonth ? kOrderMonthsMax
                                                                         : kOrderYearsMax));
          }
        } else if constexpr (std::is_same_v<T, UsageRecorded>) {
          FUZZ_CHECK(e.from_s < e.to_s && e.to_s - e.from_s <= kTickDurationMax_s);
          FUZZ_CHECK(e.from_s >= kTimeMin_s && e.to_s < kTimeMax_s);
        } else if constexpr (std::is_same_v<T, SubscriptionRenewed>) {
          FUZZ_CHECK(e.periods >= 1 && e.periods <= kOrderMonthsMax);
        } else if constexpr (std::is_same_v<T, AdjustmentPosted>) {
          FUZZ_CHECK(e.amount_e8 != 0);
          FUZZ_CHECK(e.amount_e8 <= kAmountUnitsMax * kAmountScale &&
                     e.amount_e8 >= -kAmountUnitsMax * kAmountScale);
          FUZZ_CHECK(!e.reason.empty() && e.reason.size() <= kReasonBytesMax);
        } else if constexpr (std::is_same_v<T, InvoiceFinalized>) {
          FUZZ_CHECK(e.period.year >= 2000 && e.period.year < 2200);
          FUZZ_CHECK(e.period.month >= 1 && e.period.month <= 12);
        }
      },
      event.payload);
}

bool SameDecode(const Decoded& a, const Decoded& b) {
  if (a.id_error.has_value() != b.id_error.has_value()) return false;
  if (a.id_error) return a.id_error->code == b.id_error->code;
  if (a.event.event_id != b.event.event_id) return false;
  if (a.error.has_value() != b.error.has_value()) return false;
  if (a.error) return a.error->code == b.error->code;
  return a.event.payload.index() == b.event.payload.index() && a.event.account == b.event.account &&
         a.event.occurred_at_s == b.event.occurred_at_s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // One long-lived parser, as the Ledger keeps one: its buffers are reused
  // from line to line, so state left over from an earlier input would show.
  static ledger::JsonLineParser* const reused = new ledger::JsonLineParser();
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  const Outcome first = ParseCopy(*reused, text);
  const Outcome again = ParseCopy(*reused, text);
  FUZZ_CHECK(SameParse(first, again));
  ledger::JsonLineParser fresh;
  FUZZ_CHECK(SameParse(first, ParseCopy(fresh, text)));

  if (first.error) {
    FUZZ_CHECK(first.error->code == ErrorCode::kInvalidJson);
    return 0;
  }
  FUZZ_CHECK(size <= ledger::kLineBytesMax);
  for (size_t i = 0; i < first.line.fields.size(); ++i) {
    const ledger::JsonField& field = first.line.fields[i];
    FUZZ_CHECK(static_cast<uint8_t>(field.kind) <= static_cast<uint8_t>(JsonKind::kArray));
    for (size_t j = i + 1; j < first.line.fields.size(); ++j) {
      FUZZ_CHECK(field.key != first.line.fields[j].key);
    }
  }

  const Decoded decoded = Decode(first.line);
  if (!decoded.id_error && !decoded.error) CheckAccepted(decoded.event);

  // The same JSON value written differently: same digest, same answers.
  if (const std::optional<std::string> rewritten = Rewrite(first.line)) {
    const Outcome other = ParseCopy(*reused, *rewritten);
    if (rewritten->size() <= ledger::kLineBytesMax) {
      FUZZ_CHECK(!other.error);
      FUZZ_CHECK(other.line.content_digest == first.line.content_digest);
      FUZZ_CHECK(SameDecode(decoded, Decode(other.line)));
    }
  }
  return 0;
}
