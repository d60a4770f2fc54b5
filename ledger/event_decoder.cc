#include "ledger/event_decoder.h"

#include <array>
#include <charconv>
#include <span>

#include "ledger/constants.h"
#include "ledger/money.h"
#include "ledger/sku.h"

namespace ledger {
namespace {

using Error = std::optional<RuleError>;

RuleError Invalid(std::string message) { return {ErrorCode::kInvalidField, std::move(message)}; }
RuleError Missing(std::string message) { return {ErrorCode::kMissingField, std::move(message)}; }

struct FieldSpec {
  std::string_view name;
  bool required;
};

// The fields each type takes besides `type`, `event_id` and `occurred_at`,
// in the order their values are checked. Fields required only together with
// another field's value (ca_type, period_unit, periods) are listed as optional
// here; MissingConditionalField checks their presence with the required
// fields, and the checks across fields their combinations.
std::span<const FieldSpec> FieldsOf(EventType type) {
  static constexpr FieldSpec kPriceSet[] = {{"sku", true}, {"currency", true}, {"unit_price", true}};
  static constexpr FieldSpec kAccountOpened[] = {{"account", true}, {"currency", true}};
  static constexpr FieldSpec kSslPurchased[] = {
      {"account", true},     {"order_id", true}, {"ca", true},   {"cert_type", true},
      {"domain_type", true}, {"domains", true},  {"years", true}};
  static constexpr FieldSpec kSslRefunded[] = {{"account", true}, {"order_id", true}};
  static constexpr FieldSpec kExpansion[] = {
      {"account", true}, {"order_id", true}, {"quantity", true}};
  static constexpr FieldSpec kResourceCreated[] = {
      {"account", true},      {"resource_id", true},  {"resource_type", true},
      {"ca_type", false},     {"billing_mode", true}, {"period_unit", false},
      {"periods", false},     {"auto_renew", false}};
  static constexpr FieldSpec kUsage[] = {
      {"account", true}, {"resource_id", true}, {"from", true}, {"to", true}};
  static constexpr FieldSpec kRenewed[] = {
      {"account", true}, {"resource_id", true}, {"period_unit", true}, {"periods", true}};
  static constexpr FieldSpec kResourceOnly[] = {{"account", true}, {"resource_id", true}};
  static constexpr FieldSpec kModeChange[] = {
      {"account", true}, {"resource_id", true}, {"billing_mode", true}};
  static constexpr FieldSpec kAdjustment[] = {
      {"account", true}, {"amount", true}, {"reason", true}};
  static constexpr FieldSpec kFinalized[] = {{"account", true}, {"period", true}};
  switch (type) {
    case EventType::kPriceSet: return kPriceSet;
    case EventType::kAccountOpened: return kAccountOpened;
    case EventType::kSslCertificatePurchased: return kSslPurchased;
    case EventType::kSslCertificateRefunded: return kSslRefunded;
    case EventType::kSslExpansionPurchased: return kExpansion;
    case EventType::kResourceCreated: return kResourceCreated;
    case EventType::kUsageRecorded: return kUsage;
    case EventType::kSubscriptionRenewed: return kRenewed;
    case EventType::kSubscriptionUnsubscribed: return kResourceOnly;
    case EventType::kResourceDeleted: return kResourceOnly;
    case EventType::kBillingModeChangeRequested: return kModeChange;
    case EventType::kAdjustmentPosted: return kAdjustment;
    case EventType::kInvoiceFinalized: return kFinalized;
  }
  return {};
}

std::optional<EventType> EventTypeFromName(std::string_view name) {
  for (uint8_t value = 1; value <= kEventTypeMax; ++value) {
    const auto type = static_cast<EventType>(value);
    if (EventTypeName(type) == name) return type;
  }
  return std::nullopt;
}

bool HasStringValue(const ParsedLine& line, std::string_view name, std::string_view value) {
  const JsonField* field = line.Find(name);
  return field != nullptr && field->kind == JsonKind::kString && field->text == value;
}

// A field that another field's value makes required is a required field: when
// it is missing, that is reported before any invalid value (interface.md's
// order), e.g. a private_ca without ca_type and with a malformed resource_id.
std::optional<RuleError> MissingConditionalField(EventType type, const ParsedLine& line) {
  if (type != EventType::kResourceCreated) return std::nullopt;
  if (HasStringValue(line, "resource_type", "private_ca") && line.Find("ca_type") == nullptr) {
    return Missing("ca_type is required for a private_ca");
  }
  if (HasStringValue(line, "billing_mode", "yearly_monthly")) {
    if (line.Find("period_unit") == nullptr) {
      return Missing("period_unit is required for yearly_monthly");
    }
    if (line.Find("periods") == nullptr) return Missing("periods is required for yearly_monthly");
  }
  return std::nullopt;
}

bool IsCommonField(std::string_view name) {
  return name == "type" || name == "event_id" || name == "occurred_at";
}

// Reads typed values out of one line's fields. Every method returns the
// invalid_field error for a value of the wrong kind or out of its range.
class FieldReader {
 public:
  FieldReader(const ParsedLine& line, std::string_view type_name)
      : line_(line), type_name_(type_name) {}

  bool Has(std::string_view name) const { return line_.Find(name) != nullptr; }

  Error String(std::string_view name, size_t bytes_max, std::string* out) const {
    std::string_view text;
    if (Error e = StringView(name, bytes_max, &text)) return e;
    out->assign(text);
    return std::nullopt;
  }

  // String's checks, and the text where the line holds it: for a value
  // read, not kept (a time: three per usage tick, each a heap copy).
  Error StringView(std::string_view name, size_t bytes_max, std::string_view* out) const {
    const JsonField* field = line_.Find(name);
    if (field->kind != JsonKind::kString) return Invalid(name_of(name) + " must be a string");
    if (field->text.empty() || field->text.size() > bytes_max) {
      return Invalid(name_of(name) + " must be 1 to " + std::to_string(bytes_max) + " bytes");
    }
    *out = field->text;
    return std::nullopt;
  }

  Error Id(std::string_view name, size_t bytes_max, std::string* out) const {
    if (Error e = String(name, bytes_max, out)) return e;
    if (!IsValidId(*out, bytes_max)) {
      return Invalid(name_of(name) + " must be 1 to " + std::to_string(bytes_max) +
                     " of [A-Za-z0-9._-]");
    }
    return std::nullopt;
  }

  Error Integer(std::string_view name, int64_t min, int64_t max, int64_t* out) const {
    const JsonField* field = line_.Find(name);
    const std::string& text = field->text;
    int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (field->kind != JsonKind::kNumber || ec != std::errc() || end != text.data() + text.size() ||
        value < min || value > max) {
      return Invalid(name_of(name) + " must be an integer from " + std::to_string(min) + " to " +
                     std::to_string(max));
    }
    *out = value;
    return std::nullopt;
  }

  Error Bool(std::string_view name, bool* out) const {
    const JsonField* field = line_.Find(name);
    if (field->kind != JsonKind::kTrue && field->kind != JsonKind::kFalse) {
      return Invalid(name_of(name) + " must be true or false");
    }
    *out = field->kind == JsonKind::kTrue;
    return std::nullopt;
  }

  Error Time(std::string_view name, int64_t* out) const {
    std::string_view text;
    if (Error e = StringView(name, 64, &text)) return e;
    const std::optional<int64_t> time_s = ParseRfc3339_s(text);
    if (!time_s) {
      return Invalid(name_of(name) +
                     " must be RFC 3339 with whole seconds and an explicit offset from "
                     "-14:00 to +14:00 (a real zone's), e.g. 2026-04-02T09:00:00+08:00");
    }
    if (*time_s < kTimeMin_s || *time_s >= kTimeMax_s) {
      return Invalid(name_of(name) + " must lie in the years 2000 to 2199");
    }
    *out = *time_s;
    return std::nullopt;
  }

  // One of `choices`; returns its index.
  Error Choice(std::string_view name, std::span<const std::string_view> choices,
               size_t* index) const {
    const JsonField* field = line_.Find(name);
    for (size_t i = 0; field->kind == JsonKind::kString && i < choices.size(); ++i) {
      if (field->text == choices[i]) {
        *index = i;
        return std::nullopt;
      }
    }
    std::string listed;
    for (std::string_view choice : choices) listed += (listed.empty() ? "" : ", ") + std::string(choice);
    return Invalid(name_of(name) + " must be one of " + listed);
  }

  Error Currency(std::string_view name, std::string* out) const {
    if (Error e = String(name, 8, out)) return e;
    if (!FindCurrency(*out)) return Invalid("unknown currency " + *out);
    return std::nullopt;
  }

 private:
  std::string name_of(std::string_view name) const { return std::string(name); }

  const ParsedLine& line_;
  std::string_view type_name_;
};

constexpr std::string_view kResourceTypes[] = {"private_ca", "private_cert"};
constexpr std::string_view kCaTypes[] = {"root", "subordinate"};
constexpr std::string_view kBillingModes[] = {"pay_per_use", "yearly_monthly"};
constexpr std::string_view kPeriodUnits[] = {"month", "year"};

Error ReadPeriodUnit(const FieldReader& r, PeriodUnit* unit) {
  size_t index = 0;
  if (Error e = r.Choice("period_unit", kPeriodUnits, &index)) return e;
  *unit = index == 0 ? PeriodUnit::kMonth : PeriodUnit::kYear;
  return std::nullopt;
}

// `periods` is checked against the unit: month x 1..11 or year x 1..3.
Error ReadPeriods(const FieldReader& r, PeriodUnit unit, int64_t* periods) {
  const int64_t max = unit == PeriodUnit::kMonth ? kOrderMonthsMax : kOrderYearsMax;
  return r.Integer("periods", 1, max, periods);
}

Error DecodePayload(const FieldReader& r, EventType type, Payload* payload) {
  switch (type) {
    case EventType::kPriceSet: {
      PriceSet e;
      if (Error err = r.String("sku", kSkuBytesMax, &e.sku)) return err;
      if (!IsValidSku(e.sku)) return Invalid("unknown sku " + e.sku);
      if (Error err = r.Currency("currency", &e.currency)) return err;
      std::string price_text;
      if (Error err = r.String("unit_price", 64, &price_text)) return err;
      const auto price_e10 =
          ParseDecimal(price_text, kPriceScaleDigits, /*allow_negative=*/false, kUnitPriceUnitsMax);
      if (!price_e10) {
        return Invalid(
            "unit_price must be a non-negative decimal string with at most 10 "
            "fractional digits, at most 922337203.6854775807");
      }
      e.unit_price_e10 = *price_e10;
      *payload = std::move(e);
      return std::nullopt;
    }
    case EventType::kAccountOpened: {
      AccountOpened e;
      if (Error err = r.Currency("currency", &e.currency)) return err;
      *payload = std::move(e);
      return std::nullopt;
    }
    case EventType::kSslCertificatePurchased: {
      SslCertificatePurchased e;
      if (Error err = r.Id("order_id", kOrderIdBytesMax, &e.order_id)) return err;
      size_t index = 0;
      if (Error err = r.Choice("ca", kSslCas, &index)) return err;
      e.ca = kSslCas[index];
      if (Error err = r.Choice("cert_type", kSslCertTypes, &index)) return err;
      e.cert_type = kSslCertTypes[index];
      if (Error err = r.Choice("domain_type", kSslDomainTypes, &index)) return err;
      e.domain_type = kSslDomainTypes[index];
      if (Error err = r.Integer("domains", 1, kSslDomainsMultiMax, &e.domains)) return err;
      if (Error err = r.Integer("years", 1, kSslYearsMax, &e.years)) return err;
      const bool multi = e.domain_type == "multi";
      if (multi && e.domains < kSslDomainsMultiMin) {
        return Invalid("a multi-domain certificate takes 2 to 250 domains");
      }
      if (!multi && e.domains != 1) {
        return Invalid("a " + e.domain_type + " certificate takes exactly 1 domain");
      }
      *payload = std::move(e);
      return std::nullopt;
    }
    case EventType::kSslCertificateRefunded: {
      SslCertificateRefunded e;
      if (Error err = r.Id("order_id", kOrderIdBytesMax, &e.order_id)) return err;
      *payload = std::move(e);
      return std::nullopt;
    }
    case EventType::kSslExpansionPurchased: {
      SslExpansionPurchased e;
      if (Error err = r.Id("order_id", kOrderIdBytesMax, &e.order_id)) return err;
      if (Error err = r.Integer("quantity", 1, kExpansionQuantityMax, &e.quantity)) return err;
      *payload = std::move(e);
      return std::nullopt;
    }
    case EventType::kResourceCreated: {
      ResourceCreated e;
      size_t index = 0;
      if (Error err = r.Id("resource_id", kResourceIdBytesMax, &e.resource_id)) return err;
      if (Error err = r.Choice("resource_type", kResourceTypes, &index)) return err;
      e.resource_type = index == 0 ? ResourceType::kPrivateCa : ResourceType::kPrivateCert;
      if (r.Has("ca_type")) {
        if (Error err = r.Choice("ca_type", kCaTypes, &index)) return err;
        e.ca_type = index == 0 ? CaType::kRoot : CaType::kSubordinate;
      }
      if (Error err = r.Choice("billing_mode", kBillingModes, &index)) return err;
      e.billing_mode = index == 0 ? BillingMode::kPayPerUse : BillingMode::kYearlyMonthly;
      if (r.Has("period_unit")) {
        if (Error err = ReadPeriodUnit(r, &e.period_unit)) return err;
      }
      if (r.Has("periods")) {
        // Without a valid unit the wider range applies; the cross checks
        // below reject the combination.
        const PeriodUnit unit =
            e.period_unit == PeriodUnit::kNone ? PeriodUnit::kMonth : e.period_unit;
        if (Error err = ReadPeriods(r, unit, &e.periods)) return err;
      }
      if (r.Has("auto_renew")) {
        if (Error err = r.Bool("auto_renew", &e.auto_renew)) return err;
      }
      // Checks across fields.
      const bool is_ca = e.resource_type == ResourceType::kPrivateCa;
      const bool prepaid = e.billing_mode == BillingMode::kYearlyMonthly;
      if (is_ca && e.ca_type == CaType::kNone) {
        return Missing("ca_type is required for a private_ca");
      }
      if (!is_ca && e.ca_type != CaType::kNone) {
        return Invalid("ca_type applies to private_ca only");
      }
      if (!is_ca && prepaid) {
        return Invalid("a private certificate is pay-per-use only");
      }
      if (prepaid && e.period_unit == PeriodUnit::kNone) {
        return Missing("period_unit is required for yearly_monthly");
      }
      if (prepaid && !r.Has("periods")) return Missing("periods is required for yearly_monthly");
      if (!prepaid && (r.Has("period_unit") || r.Has("periods") || r.Has("auto_renew"))) {
        return Invalid("period_unit, periods and auto_renew apply to yearly_monthly only");
      }
      *payload = std::move(e);
      return std::nullopt;
    }
    case EventType::kUsageRecorded: {
      UsageRecorded e;
      if (Error err = r.Id("resource_id", kResourceIdBytesMax, &e.resource_id)) return err;
      if (Error err = r.Time("from", &e.from_s)) return err;
      if (Error err = r.Time("to", &e.to_s)) return err;
      if (e.from_s >= e.to_s) return Invalid("from must be before to");
      if (e.to_s - e.from_s > kTickDurationMax_s) {
        return Invalid("a usage tick is at most 31 days long");
      }
      *payload = std::move(e);
      return std::nullopt;
    }
    case EventType::kSubscriptionRenewed: {
      SubscriptionRenewed e;
      if (Error err = r.Id("resource_id", kResourceIdBytesMax, &e.resource_id)) return err;
      if (Error err = ReadPeriodUnit(r, &e.period_unit)) return err;
      if (Error err = ReadPeriods(r, e.period_unit, &e.periods)) return err;
      *payload = std::move(e);
      return std::nullopt;
    }
    case EventType::kSubscriptionUnsubscribed: {
      SubscriptionUnsubscribed e;
      if (Error err = r.Id("resource_id", kResourceIdBytesMax, &e.resource_id)) return err;
      *payload = std::move(e);
      return std::nullopt;
    }
    case EventType::kResourceDeleted: {
      ResourceDeleted e;
      if (Error err = r.Id("resource_id", kResourceIdBytesMax, &e.resource_id)) return err;
      *payload = std::move(e);
      return std::nullopt;
    }
    case EventType::kBillingModeChangeRequested: {
      BillingModeChangeRequested e;
      size_t index = 0;
      if (Error err = r.Id("resource_id", kResourceIdBytesMax, &e.resource_id)) return err;
      if (Error err = r.Choice("billing_mode", kBillingModes, &index)) return err;
      e.billing_mode = index == 0 ? BillingMode::kPayPerUse : BillingMode::kYearlyMonthly;
      *payload = std::move(e);
      return std::nullopt;
    }
    case EventType::kAdjustmentPosted: {
      AdjustmentPosted e;
      std::string amount_text;
      if (Error err = r.String("amount", 64, &amount_text)) return err;
      const auto amount_e8 =
          ParseDecimal(amount_text, kAmountScaleDigits, /*allow_negative=*/true, kAmountUnitsMax);
      if (!amount_e8 || *amount_e8 == 0) {
        return Invalid(
            "amount must be a non-zero signed decimal string with at most 8 "
            "fractional digits, at most 10000000000.99999999 either way");
      }
      e.amount_e8 = *amount_e8;
      if (Error err = r.String("reason", kReasonBytesMax, &e.reason)) return err;
      *payload = std::move(e);
      return std::nullopt;
    }
    case EventType::kInvoiceFinalized: {
      InvoiceFinalized e;
      std::string period_text;
      if (Error err = r.String("period", 7, &period_text)) return err;
      const std::optional<Period> period = ParsePeriod(period_text);
      if (!period || period->year < 2000 || period->year >= 2200) {
        return Invalid("period must be YYYY-MM between 2000-01 and 2199-12");
      }
      e.period = *period;
      *payload = std::move(e);
      return std::nullopt;
    }
  }
  return Invalid("unhandled type");
}

}  // namespace

bool IsValidId(std::string_view id, size_t bytes_max) {
  if (id.empty() || id.size() > bytes_max) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Error DecodeEventId(const ParsedLine& line, std::string* event_id) {
  const JsonField* field = line.Find("event_id");
  if (field == nullptr) return Missing("event_id is required");
  if (field->kind != JsonKind::kString || field->text.empty() ||
      field->text.size() > kEventIdBytesMax) {
    return Invalid("event_id must be a string of 1 to 128 printable ASCII characters");
  }
  for (char c : field->text) {
    if (c < 0x20 || c > 0x7e) {
      return Invalid("event_id must be a string of 1 to 128 printable ASCII characters");
    }
  }
  *event_id = field->text;
  return std::nullopt;
}

Error DecodeEvent(const ParsedLine& line, IncomingEvent* event) {
  const JsonField* type_field = line.Find("type");
  if (type_field == nullptr) return Missing("type is required");
  const std::optional<EventType> type =
      type_field->kind == JsonKind::kString ? EventTypeFromName(type_field->text) : std::nullopt;
  if (!type) {
    return RuleError{ErrorCode::kUnknownType,
                     "unknown event type " + (type_field->kind == JsonKind::kString
                                                  ? "'" + type_field->text + "'"
                                                  : std::string("(not a string)"))};
  }
  const std::string_view type_name = EventTypeName(*type);
  const std::span<const FieldSpec> specs = FieldsOf(*type);

  for (const JsonField& field : line.fields) {
    if (IsCommonField(field.key)) continue;
    bool known = false;
    for (const FieldSpec& spec : specs) known = known || spec.name == field.key;
    if (!known) {
      return Invalid("unknown field '" + field.key + "' for " + std::string(type_name));
    }
  }
  if (line.Find("occurred_at") == nullptr) {
    return Missing("occurred_at is required for " + std::string(type_name));
  }
  for (const FieldSpec& spec : specs) {
    if (spec.required && line.Find(spec.name) == nullptr) {
      return Missing(std::string(spec.name) + " is required for " + std::string(type_name));
    }
  }
  if (Error e = MissingConditionalField(*type, line)) return e;

  const FieldReader reader(line, type_name);
  if (reader.Has("account")) {
    if (Error e = reader.Id("account", kAccountIdBytesMax, &event->account)) return e;
  } else {
    event->account.clear();
  }
  if (Error e = reader.Time("occurred_at", &event->occurred_at_s)) return e;
  return DecodePayload(reader, *type, &event->payload);
}

}  // namespace ledger
