#include "ledger/event_fields.h"

#include <simdjson.h>

#include <charconv>
#include <type_traits>

#include "ledger/money.h"

namespace ledger {
namespace {

// Beyond this a time has no calendar date BillingZone::Format can write.
constexpr int64_t kFormattableTimeMax_s = 1'000'000'000'000;

// Appends fields to a ParsedLine, reusing the strings of the line before.
class FieldWriter {
 public:
  explicit FieldWriter(ParsedLine* out) : out_(out) {}
  ~FieldWriter() { out_->fields.resize(count_); }

  void String(std::string_view key, std::string_view text) {
    Next(key, JsonKind::kString).text.assign(text);
  }
  void Number(std::string_view key, int64_t value) {
    char digits[24];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
    Next(key, JsonKind::kNumber).text.assign(digits, end);
  }
  void Bool(std::string_view key, bool value) {
    Next(key, value ? JsonKind::kTrue : JsonKind::kFalse).text.clear();
  }
  void Time(std::string_view key, int64_t time_s, const BillingZone& zone) {
    const bool formattable = time_s > -kFormattableTimeMax_s && time_s < kFormattableTimeMax_s;
    String(key, formattable ? zone.Format(time_s) : std::to_string(time_s));
  }
  // An enum's wire name, or a text no check accepts for a value outside it.
  template <typename Enum>
  void Name(std::string_view key, Enum value, bool known, std::string_view name) {
    const auto number = static_cast<int>(value);
    String(key, known ? std::string(name) : "(no value " + std::to_string(number) + ")");
  }

 private:
  JsonField& Next(std::string_view key, JsonKind kind) {
    if (count_ == out_->fields.size()) out_->fields.emplace_back();
    JsonField& field = out_->fields[count_++];
    field.key.assign(key);
    field.kind = kind;
    return field;
  }

  ParsedLine* out_;
  size_t count_ = 0;
};

bool Known(ResourceType t) {
  return t == ResourceType::kPrivateCa || t == ResourceType::kPrivateCert;
}
bool Known(CaType t) { return t == CaType::kRoot || t == CaType::kSubordinate; }
bool Known(BillingMode m) {
  return m == BillingMode::kPayPerUse || m == BillingMode::kYearlyMonthly;
}
bool Known(PeriodUnit u) { return u == PeriodUnit::kMonth || u == PeriodUnit::kYear; }

void WriteResourceCreated(const ResourceCreated& e, FieldWriter* w) {
  w->String("resource_id", e.resource_id);
  w->Name("resource_type", e.resource_type, Known(e.resource_type),
          ResourceTypeName(e.resource_type));
  if (e.ca_type != CaType::kNone) {
    w->Name("ca_type", e.ca_type, Known(e.ca_type), CaTypeName(e.ca_type));
  }
  w->Name("billing_mode", e.billing_mode, Known(e.billing_mode), BillingModeName(e.billing_mode));
  if (e.period_unit != PeriodUnit::kNone) {
    w->Name("period_unit", e.period_unit, Known(e.period_unit), PeriodUnitName(e.period_unit));
  }
  if (e.periods != 0) w->Number("periods", e.periods);
  if (e.auto_renew) w->Bool("auto_renew", true);
}

void WritePayload(const Payload& payload, const BillingZone& zone, FieldWriter* w) {
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, PriceSet>) {
          w->String("sku", e.sku);
          w->String("currency", e.currency);
          w->String("unit_price", FormatPrice_e10(e.unit_price_e10));
        } else if constexpr (std::is_same_v<T, AccountOpened>) {
          w->String("currency", e.currency);
        } else if constexpr (std::is_same_v<T, SslCertificatePurchased>) {
          w->String("order_id", e.order_id);
          w->String("ca", e.ca);
          w->String("cert_type", e.cert_type);
          w->String("domain_type", e.domain_type);
          w->Number("domains", e.domains);
          w->Number("years", e.years);
        } else if constexpr (std::is_same_v<T, SslCertificateRefunded>) {
          w->String("order_id", e.order_id);
        } else if constexpr (std::is_same_v<T, SslExpansionPurchased>) {
          w->String("order_id", e.order_id);
          w->Number("quantity", e.quantity);
        } else if constexpr (std::is_same_v<T, ResourceCreated>) {
          WriteResourceCreated(e, w);
        } else if constexpr (std::is_same_v<T, UsageRecorded>) {
          w->String("resource_id", e.resource_id);
          w->Time("from", e.from_s, zone);
          w->Time("to", e.to_s, zone);
        } else if constexpr (std::is_same_v<T, SubscriptionRenewed>) {
          w->String("resource_id", e.resource_id);
          w->Name("period_unit", e.period_unit, Known(e.period_unit),
                  PeriodUnitName(e.period_unit));
          w->Number("periods", e.periods);
        } else if constexpr (std::is_same_v<T, SubscriptionUnsubscribed> ||
                             std::is_same_v<T, ResourceDeleted>) {
          w->String("resource_id", e.resource_id);
        } else if constexpr (std::is_same_v<T, BillingModeChangeRequested>) {
          w->String("resource_id", e.resource_id);
          w->Name("billing_mode", e.billing_mode, Known(e.billing_mode),
                  BillingModeName(e.billing_mode));
        } else if constexpr (std::is_same_v<T, AdjustmentPosted>) {
          w->String("amount", FormatAmount_e8(e.amount_e8));
          w->String("reason", e.reason);
        } else if constexpr (std::is_same_v<T, InvoiceFinalized>) {
          w->String("period", FormatPeriod(e.period));
        }
      },
      payload);
}

}  // namespace

std::optional<RuleError> EventFields(const IncomingEvent& event, const BillingZone& zone,
                                     ParsedLine* out, std::string* scratch) {
  {
    FieldWriter w(out);
    const EventType type = TypeOf(event.payload);
    w.String("type", EventTypeName(type));
    w.String("event_id", event.event_id);
    if (type != EventType::kPriceSet || !event.account.empty()) w.String("account", event.account);
    w.Time("occurred_at", event.occurred_at_s, zone);
    WritePayload(event.payload, zone, &w);
  }
  for (const JsonField& field : out->fields) {
    if (field.kind == JsonKind::kString &&
        !simdjson::validate_utf8(field.text.data(), field.text.size())) {
      return RuleError{ErrorCode::kInvalidField, field.key + " is not valid UTF-8"};
    }
  }
  out->content_digest = ContentDigest(out->fields, scratch);
  return std::nullopt;
}

}  // namespace ledger
