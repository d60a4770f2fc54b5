#include "ledger/rule_error.h"

namespace ledger {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidJson: return "invalid_json";
    case ErrorCode::kMissingField: return "missing_field";
    case ErrorCode::kInvalidField: return "invalid_field";
    case ErrorCode::kUnknownType: return "unknown_type";
    case ErrorCode::kUnknownAccount: return "unknown_account";
    case ErrorCode::kAccountExists: return "account_exists";
    case ErrorCode::kNoPrice: return "no_price";
    case ErrorCode::kResourceExists: return "resource_exists";
    case ErrorCode::kUnknownResource: return "unknown_resource";
    case ErrorCode::kResourceDeleted: return "resource_deleted";
    case ErrorCode::kBillingModeMismatch: return "billing_mode_mismatch";
    case ErrorCode::kBillingModeImmutable: return "billing_mode_immutable";
    case ErrorCode::kUsageOverlap: return "usage_overlap";
    case ErrorCode::kUsageOutsideLifetime: return "usage_outside_lifetime";
    case ErrorCode::kSubscriptionEnded: return "subscription_ended";
    case ErrorCode::kRefundWindowExpired: return "refund_window_expired";
    case ErrorCode::kAlreadyRefunded: return "already_refunded";
    case ErrorCode::kUnknownOrder: return "unknown_order";
    case ErrorCode::kPeriodNotEnded: return "period_not_ended";
    case ErrorCode::kPeriodFinalized: return "period_finalized";
    case ErrorCode::kEventIdConflict: return "event_id_conflict";
    case ErrorCode::kPriceBackdated: return "price_backdated";
    case ErrorCode::kOrderExists: return "order_exists";
  }
  return "unknown_error";
}

}  // namespace ledger
