// From the fields of one JSON line to a typed event, checking everything that
// needs no ledger state, in the order interface.md fixes: the event id first,
// then the type, unknown fields, missing fields, each field's value and the
// checks across fields. State rules come later (rules.h).
//
// Stateless functions; thread-safe.

#pragma once

#include <optional>
#include <string>

#include "ledger/event.h"
#include "ledger/json_input.h"
#include "ledger/rule_error.h"

namespace ledger {

// An event as the caller sent it, before the ledger accepted it.
struct IncomingEvent {
  std::string event_id;
  std::string account;  // empty for price_set
  int64_t occurred_at_s = 0;
  Payload payload;
};

// Checks `event_id` alone: missing_field or invalid_field, else the id.
std::optional<RuleError> DecodeEventId(const ParsedLine& line, std::string* event_id);

// Decodes everything else. `event->event_id` must already be set.
std::optional<RuleError> DecodeEvent(const ParsedLine& line, IncomingEvent* event);

// Id syntax (interface.md): 1-64 of [A-Za-z0-9._-].
bool IsValidId(std::string_view id, size_t bytes_max);

}  // namespace ledger
