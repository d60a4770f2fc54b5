// From a typed event to the fields of the JSON line that stands for it, so
// that the typed append API (Ledger::AppendEvents) judges an event exactly as
// it judges a parsed line: the same checks, error codes and order, and the
// same idempotency identity (json_input.h). No JSON text is written or parsed.
//
// The line: `type`, `event_id`, `account` (except for a price_set without
// one), `occurred_at` and every payload field, as interface.md spells them.
// Times are written in the billing zone ("2026-04-02T09:00:00+08:00"),
// amounts with 8 fractional digits, unit prices without trailing zeros:
// the texts `ledger events` prints. The optional fields of resource_created
// (ca_type, period_unit, periods, auto_renew) are left out at their zero
// values, so a missing one is reported as missing_field. A value no JSON
// line could carry (an enum outside its range, a time far outside any
// calendar) is written as text the checks reject as invalid_field.
//
// Stateless; thread-safe.

#pragma once

#include <optional>
#include <string>

#include "ledger/billing_time.h"
#include "ledger/event_decoder.h"
#include "ledger/json_input.h"
#include "ledger/rule_error.h"

namespace ledger {

// Fills out->fields and out->content_digest. Returns invalid_field, first of
// all as invalid_json is for a line, when a string is not valid UTF-8.
// `scratch` is a reusable buffer.
std::optional<RuleError> EventFields(const IncomingEvent& event, const BillingZone& zone,
                                     ParsedLine* out, std::string* scratch);

}  // namespace ledger
