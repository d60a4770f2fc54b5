// Invoices: one per account per billing period. Each charge becomes a line
// of the period containing its charge time, or, when that period is already
// finalized, of the account's earliest later period that is not (a late
// line, with late_from). Usage is one hourly_usage line per resource per
// period (and per original period for late usage); each hour is charged on
// its total seconds, and late seconds joining an hour already billed are
// charged charge(new total) - charge(billed), so every hour costs in total
// exactly what its seconds cost (billing-rules.md section 8).

#pragma once

#include <string>

#include "projections/projection.h"

namespace ledger::projections {

struct ChargeLineInput;

class InvoiceProjection : public Projection {
 public:
  explicit InvoiceProjection(BillingZone zone) : zone_(zone) {}
  std::string_view name() const override { return kInvoicesFamily; }
  Status Apply(const Envelope& envelope, ProjectionStore& store) override;

 private:
  // The period a charge of `original` lands in: the earliest one from
  // `original` on that the account has not finalized.
  Result<Period> Landing(ProjectionStore& store, std::string_view account, Period original);
  Status AddChargeLine(ProjectionStore& store, const Envelope& envelope, uint8_t index,
                       ChargeLineInput line);
  Status AddUsage(ProjectionStore& store, const Envelope& envelope);
  Result<CaType> CaTypeOf(ProjectionStore& store, std::string_view account,
                          std::string_view resource_id);

  BillingZone zone_;
  // Reused for every usage tick (internal/records.h: the Set* builders).
  std::string hour_key_;
  std::string line_key_;
  std::string finalized_key_;
  std::string value_;
  // Landing's own, so that it never overwrites a value AddUsage reads into
  // value_ around its calls.
  std::string finalized_value_;
};

}  // namespace ledger::projections
