// RuleEngine: the billing rules of billing-rules.md sections 1-9 that need
// the ledger's state. Check() judges an incoming event against the state and
// rates it; Apply() then changes the state as the accepted event says. Apply
// is a function of the stored envelope alone (with the state before it), so
// applying the log in order rebuilds the state exactly.
//
// Not thread-safe: used by the single writer. `*state` must outlive it.

#pragma once

#include <optional>

#include "ledger/billing_time.h"
#include "ledger/event.h"
#include "ledger/event_decoder.h"
#include "ledger/rule_error.h"
#include "ledger/status.h"

namespace ledger {

namespace internal {
class StateStore;
struct ResourceState;
}  // namespace internal

class RuleEngine {
 public:
  RuleEngine(internal::StateStore* state, BillingZone zone) : state_(state), zone_(zone) {}

  // The first rule `event` breaks, in the order of interface.md, or nullopt
  // with *rating filled in. `invoices_finalized` is the count so far, from
  // which a finalization takes its number. Infrastructure failures are the
  // Status.
  Result<std::optional<RuleError>> Check(const IncomingEvent& event, uint64_t invoices_finalized,
                                         Rating* rating);

  // Records an accepted event's effects in the state.
  Status Apply(const Envelope& envelope);

  // The rules Check applies: kRulesVersion unless set, an earlier version
  // to judge an event stored under it again (`ledger verify`).
  void set_rules_version(uint32_t version) { rules_version_ = version; }

 private:
  using Verdict = Result<std::optional<RuleError>>;

  Verdict CheckPriceSet(const IncomingEvent& event, const PriceSet& e, Rating* rating);
  // An event of an open account: its type's rules, then (rules version 2)
  // its time against the account's opening.
  Verdict CheckAccountEvent(const IncomingEvent& event, uint64_t invoices_finalized,
                            Rating* rating);
  Verdict CheckByType(const IncomingEvent& event, uint64_t invoices_finalized, Rating* rating);
  Verdict CheckSslPurchase(const IncomingEvent& event, std::string_view order_id,
                           std::string_view sku, int64_t quantity, Rating* rating);
  Verdict CheckSslRefund(const IncomingEvent& event, const SslCertificateRefunded& e,
                         Rating* rating);
  Verdict CheckResourceCreated(const IncomingEvent& event, const ResourceCreated& e,
                               Rating* rating);
  Verdict CheckUsage(const IncomingEvent& event, const UsageRecorded& e, Rating* rating);
  Verdict CheckRenewal(const IncomingEvent& event, const SubscriptionRenewed& e, Rating* rating);
  Verdict CheckUnsubscription(const IncomingEvent& event, const SubscriptionUnsubscribed& e,
                              Rating* rating);
  Verdict CheckDeletion(const IncomingEvent& event, const ResourceDeleted& e);
  // A renewal, unsubscription or deletion is not dated before its resource's
  // creation, nor (rules version 3, subscriptions) before a renewal of it
  // already recorded: one that would have come after its end, or a renewal
  // out of order.
  Verdict CheckResourceTime(const IncomingEvent& event, const internal::ResourceState& resource,
                            std::string_view resource_id);
  Verdict CheckFinalization(const IncomingEvent& event, const InvoiceFinalized& e,
                            uint64_t invoices_finalized, Rating* rating);

  // unknown_resource: the account has no such resource.
  static std::optional<RuleError> UnknownResource(const IncomingEvent& event,
                                                  std::string_view resource_id);

  // Rates a prepaid order of `periods` x `unit` at `time_s`: amount, unit
  // price and, for yearly orders with a monthly price in effect, list amount.
  std::optional<RuleError> RateOrder(CaType ca_type, std::string_view currency, PeriodUnit unit,
                                     int64_t periods, int64_t time_s, Rating* rating) const;

  internal::StateStore* state_;
  BillingZone zone_;
  std::string currency_;     // the current event's account currency
  int64_t opened_at_s_ = 0;  // and its opening time
  uint32_t rules_version_ = kRulesVersion;
};

}  // namespace ledger
