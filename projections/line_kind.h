// The kinds of invoice lines (interface.md).
//
// DO NOT CHANGE THESE VALUES: they are stored in the invoice projection.

#pragma once

#include <cstdint>
#include <string_view>

namespace ledger::projections {

enum class LineKind : uint8_t {
  kNewPurchase = 1,
  kRenewal = 2,
  kHourlyUsage = 3,
  kRefund = 4,
  kUnsubscriptionFee = 5,
  kAdjustment = 6,
};

inline std::string_view LineKindName(LineKind kind) {
  switch (kind) {
    case LineKind::kNewPurchase: return "new_purchase";
    case LineKind::kRenewal: return "renewal";
    case LineKind::kHourlyUsage: return "hourly_usage";
    case LineKind::kRefund: return "refund";
    case LineKind::kUnsubscriptionFee: return "unsubscription_fee";
    case LineKind::kAdjustment: return "adjustment";
  }
  return "unknown";
}

}  // namespace ledger::projections
