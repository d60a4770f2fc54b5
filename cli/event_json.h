// The JSON form of a stored event, as `ledger events` prints it: the fields
// the caller sent (times in the billing zone), where the event sits in the
// chain, and what the ledger rated.

#pragma once

#include <string>

#include "cli/json_writer.h"
#include "ledger/billing_time.h"
#include "ledger/event.h"

namespace ledger::cli {

// With `stored_value`, adds "stored_value": those bytes in base64.
void WriteEventJson(const Envelope& envelope, const BillingZone& zone,
                    const std::string* stored_value, JsonWriter* out);

// "2026-04-02T09:00:00.123456+08:00": a recorded time, to the microsecond.
std::string FormatRecordedAt(int64_t recorded_at_us, const BillingZone& zone);

// Standard base64 (RFC 4648) of `bytes`.
std::string Base64(std::string_view bytes);

// "INV-000001".
std::string InvoiceNumberText(uint64_t invoice_number);

}  // namespace ledger::cli
