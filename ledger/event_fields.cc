#include "ledger/event_fields.h"

#include <simdjson.h>

#include <charconv>
#include <type_traits>

#include "ledger/money.h"

namespace ledger {
namespace {

// Times from year 0 to 9999, in any zone, have a four-digit RFC 3339 text.
constexpr int64_t kFormattableTimeMin_s = -62'167'219'200;  // 0000-01-01T00:00:00Z
constexpr int64_t kFormattableTimeMax_s = 253'402'300'800;  // 10000-01-01T00:00:00Z

std::string TimeText(int64_t time_s, const BillingZone& zone) {
  const bool formattable = time_s >= kFormattableTimeMin_s && time_s < kFormattableTimeMax_s;
  return formattable ? zone.Format(time_s) : std::to_string(time_s);
}

// An enum's wire name, or a text no check accepts for a value outside it.
template <typename Enum>
std::string NameText(Enum value, std::string_view name) {
  if (IsValid(value)) return std::string(name);
  return "(no value " + std::to_string(static_cast<int>(value)) + ")";
}

void VisitResourceCreated(const ResourceCreated& e, FieldVisitor* v) {
  v->String("resource_id", e.resource_id);
  v->String("resource_type", NameText(e.resource_type, ResourceTypeName(e.resource_type)));
  if (e.ca_type != CaType::kNone) v->String("ca_type", NameText(e.ca_type, CaTypeName(e.ca_type)));
  v->String("billing_mode", NameText(e.billing_mode, BillingModeName(e.billing_mode)));
  const bool prepaid = e.billing_mode == BillingMode::kYearlyMonthly;
  if (e.period_unit != PeriodUnit::kNone) {
    v->String("period_unit", NameText(e.period_unit, PeriodUnitName(e.period_unit)));
  }
  if (prepaid || e.periods != 0) v->Number("periods", e.periods);
  if (prepaid || e.auto_renew) v->Bool("auto_renew", e.auto_renew);
}

// Appends fields to a ParsedLine, reusing the strings of the line before.
class ParsedLineWriter : public FieldVisitor {
 public:
  explicit ParsedLineWriter(ParsedLine* out) : out_(out) {}
  ~ParsedLineWriter() override { out_->fields.resize(count_); }

  void String(std::string_view key, std::string_view text) override {
    Next(key, JsonKind::kString).text.assign(text);
  }
  void Number(std::string_view key, int64_t value) override {
    char digits[24];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
    Next(key, JsonKind::kNumber).text.assign(digits, end);
  }
  void Bool(std::string_view key, bool value) override {
    Next(key, value ? JsonKind::kTrue : JsonKind::kFalse).text.clear();
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

}  // namespace

void VisitPayloadFields(const Payload& payload, const BillingZone& zone, FieldVisitor* v) {
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, PriceSet>) {
          v->String("sku", e.sku);
          v->String("currency", e.currency);
          v->String("unit_price", FormatPrice_e10(e.unit_price_e10));
        } else if constexpr (std::is_same_v<T, AccountOpened>) {
          v->String("currency", e.currency);
        } else if constexpr (std::is_same_v<T, SslCertificatePurchased>) {
          v->String("order_id", e.order_id);
          v->String("ca", e.ca);
          v->String("cert_type", e.cert_type);
          v->String("domain_type", e.domain_type);
          v->Number("domains", e.domains);
          v->Number("years", e.years);
        } else if constexpr (std::is_same_v<T, SslCertificateRefunded>) {
          v->String("order_id", e.order_id);
        } else if constexpr (std::is_same_v<T, SslExpansionPurchased>) {
          v->String("order_id", e.order_id);
          v->Number("quantity", e.quantity);
        } else if constexpr (std::is_same_v<T, ResourceCreated>) {
          VisitResourceCreated(e, v);
        } else if constexpr (std::is_same_v<T, UsageRecorded>) {
          v->String("resource_id", e.resource_id);
          v->String("from", TimeText(e.from_s, zone));
          v->String("to", TimeText(e.to_s, zone));
        } else if constexpr (std::is_same_v<T, SubscriptionRenewed>) {
          v->String("resource_id", e.resource_id);
          v->String("period_unit", NameText(e.period_unit, PeriodUnitName(e.period_unit)));
          v->Number("periods", e.periods);
        } else if constexpr (std::is_same_v<T, SubscriptionUnsubscribed> ||
                             std::is_same_v<T, ResourceDeleted>) {
          v->String("resource_id", e.resource_id);
        } else if constexpr (std::is_same_v<T, BillingModeChangeRequested>) {
          v->String("resource_id", e.resource_id);
          v->String("billing_mode", NameText(e.billing_mode, BillingModeName(e.billing_mode)));
        } else if constexpr (std::is_same_v<T, AdjustmentPosted>) {
          v->String("amount", FormatAmount_e8(e.amount_e8));
          v->String("reason", e.reason);
        } else if constexpr (std::is_same_v<T, InvoiceFinalized>) {
          v->String("period", FormatPeriod(e.period));
        }
      },
      payload);
}

std::optional<RuleError> EventFields(const IncomingEvent& event, const BillingZone& zone,
                                     ParsedLine* out, std::string* scratch) {
  {
    ParsedLineWriter w(out);
    const EventType type = TypeOf(event.payload);
    w.String("type", EventTypeName(type));
    w.String("event_id", event.event_id);
    if (type != EventType::kPriceSet || !event.account.empty()) w.String("account", event.account);
    w.String("occurred_at", TimeText(event.occurred_at_s, zone));
    VisitPayloadFields(event.payload, zone, &w);
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
