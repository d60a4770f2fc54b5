// An event's fields as the JSON line spells them (interface.md): the one
// enumeration behind `ledger events` and behind the typed append API
// (Ledger::AppendEvents), which judges a typed event as the line that stands
// for it: the same checks, error codes and order, and the same idempotency
// identity (json_input.h). No JSON text is written or parsed for that.
//
// The texts are those `ledger events` prints: times in the billing zone
// ("2026-04-02T09:00:00+08:00"), amounts with 8 fractional digits, unit
// prices without trailing zeros. Every field is written, a zero or an empty
// string being a value like any other (an empty account is invalid_field),
// except the optional fields of resource_created: ca_type and period_unit
// unless set, periods and auto_renew unless yearly_monthly or set; so a
// yearly_monthly resource without a period_unit is missing_field, and a
// pay_per_use one with periods is invalid_field. A value no JSON line could
// carry (an enum outside its range, a time past year 9999) is written as a
// text the checks reject as invalid_field.
//
// Stateless; thread-safe.

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ledger/billing_time.h"
#include "ledger/event_decoder.h"
#include "ledger/json_input.h"
#include "ledger/rule_error.h"

namespace ledger {

// Receives fields one at a time, in interface.md's order.
class FieldVisitor {
 public:
  virtual ~FieldVisitor() = default;
  virtual void String(std::string_view key, std::string_view text) = 0;
  virtual void Number(std::string_view key, int64_t value) = 0;
  virtual void Bool(std::string_view key, bool value) = 0;
};

// The payload's fields (not type, event_id, account or occurred_at).
void VisitPayloadFields(const Payload& payload, const BillingZone& zone, FieldVisitor* visitor);

// Fills out->fields and out->content_digest. Returns invalid_field, first of
// all as invalid_json is for a line, when a string is not valid UTF-8.
// `scratch` is a reusable buffer.
std::optional<RuleError> EventFields(const IncomingEvent& event, const BillingZone& zone,
                                     ParsedLine* out, std::string* scratch);

}  // namespace ledger
