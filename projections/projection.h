// Projection: a read model, a deterministic function of the ordered event
// stream into a column family of its own. It knows events and money, never
// the command line or JSON. The same Apply builds it during appends (in the
// append's batch) and during a replay from the first event, so both give the
// same bytes.
//
// Apply is called by one thread at a time, in sequence order.

#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "ledger/billing_time.h"
#include "ledger/event.h"
#include "ledger/status.h"
#include "projections/kv.h"

namespace ledger::projections {

class Projection {
 public:
  virtual ~Projection() = default;
  // Its column family's name, e.g. "proj_invoices".
  virtual std::string_view name() const = 0;
  virtual Status Apply(const Envelope& envelope, ProjectionStore& store) = 0;
};

// Column family names of the projections, in a fixed order.
inline constexpr std::string_view kUsageFamily = "proj_usage";
inline constexpr std::string_view kInvoicesFamily = "proj_invoices";
inline constexpr std::string_view kSubscriptionsFamily = "proj_subscriptions";
// Not a read model: per-account snapshots of the three above, for historical
// queries (snapshot_projection.h).
inline constexpr std::string_view kSnapshotsFamily = "proj_snapshots";

// The projections of the ledger, one of each, for a billing zone.
std::vector<std::unique_ptr<Projection>> MakeProjections(BillingZone zone);

}  // namespace ledger::projections
