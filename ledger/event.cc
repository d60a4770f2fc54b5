#include "ledger/event.h"

namespace ledger {

std::string_view EventTypeName(EventType type) {
  switch (type) {
    case EventType::kPriceSet: return "price_set";
    case EventType::kAccountOpened: return "account_opened";
    case EventType::kSslCertificatePurchased: return "ssl_certificate_purchased";
    case EventType::kSslCertificateRefunded: return "ssl_certificate_refunded";
    case EventType::kSslExpansionPurchased: return "ssl_expansion_purchased";
    case EventType::kResourceCreated: return "resource_created";
    case EventType::kUsageRecorded: return "usage_recorded";
    case EventType::kSubscriptionRenewed: return "subscription_renewed";
    case EventType::kSubscriptionUnsubscribed: return "subscription_unsubscribed";
    case EventType::kResourceDeleted: return "resource_deleted";
    case EventType::kBillingModeChangeRequested: return "billing_mode_change_requested";
    case EventType::kAdjustmentPosted: return "adjustment_posted";
    case EventType::kInvoiceFinalized: return "invoice_finalized";
  }
  return "unknown";
}

std::string_view ResourceTypeName(ResourceType type) {
  return type == ResourceType::kPrivateCa ? "private_ca" : "private_cert";
}

std::string_view CaTypeName(CaType type) {
  switch (type) {
    case CaType::kNone: return "";
    case CaType::kRoot: return "root";
    case CaType::kSubordinate: return "subordinate";
  }
  return "";
}

std::string_view BillingModeName(BillingMode mode) {
  return mode == BillingMode::kPayPerUse ? "pay_per_use" : "yearly_monthly";
}

std::string_view PeriodUnitName(PeriodUnit unit) {
  switch (unit) {
    case PeriodUnit::kNone: return "";
    case PeriodUnit::kMonth: return "month";
    case PeriodUnit::kYear: return "year";
  }
  return "";
}

}  // namespace ledger
