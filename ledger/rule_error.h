// RuleError: why an event was not stored. The codes are the stable error codes
// of interface.md; their numbers are frozen because they may be written into
// reports and logs that outlive a release.
//
// DO NOT CHANGE OR REUSE THESE ENUM VALUES. Add new codes at the end.

#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ledger {

enum class ErrorCode : uint8_t {
  kInvalidJson = 1,
  kMissingField = 2,
  kInvalidField = 3,
  kUnknownType = 4,
  kUnknownAccount = 5,
  kAccountExists = 6,
  kNoPrice = 7,
  kResourceExists = 8,
  kUnknownResource = 9,
  kResourceDeleted = 10,
  kBillingModeMismatch = 11,
  kBillingModeImmutable = 12,
  kUsageOverlap = 13,
  kUsageOutsideLifetime = 14,
  kSubscriptionEnded = 15,
  kRefundWindowExpired = 16,
  kAlreadyRefunded = 17,
  kUnknownOrder = 18,
  kPeriodNotEnded = 19,
  kPeriodFinalized = 20,
  kEventIdConflict = 21,
  kPriceBackdated = 22,
  kOrderExists = 23,
};

// The wire name of a code, e.g. "usage_overlap".
std::string_view ErrorCodeName(ErrorCode code);

struct RuleError {
  ErrorCode code;
  std::string message;
};

}  // namespace ledger
