#include "projections/subscription_projection.h"

#include "ledger/cereal_io.h"
#include "projections/internal/records.h"

namespace ledger::projections {

using internal::SubscriptionRecord;

namespace {

Status Load(ProjectionStore& store, const std::string& key, SubscriptionRecord* record) {
  std::string value;
  bool found = false;
  LEDGER_RETURN_IF_ERROR(store.Get(key, &value, &found));
  if (!found) return Status::Corruption("subscription record missing for " + key.substr(1));
  return DecodeCereal(value, record);
}

void Save(ProjectionStore& store, const std::string& key, const SubscriptionRecord& record) {
  std::string value;
  EncodeCereal(record, &value);
  store.Put(key, value);
}

}  // namespace

Status SubscriptionProjection::Apply(const Envelope& envelope, ProjectionStore& store) {
  SubscriptionRecord record;
  switch (envelope.type()) {
    case EventType::kResourceCreated: {
      const auto& e = std::get<ResourceCreated>(envelope.payload);
      record.resource_type = e.resource_type;
      record.ca_type = e.ca_type;
      record.billing_mode = e.billing_mode;
      record.period_unit = e.period_unit;
      record.auto_renew = e.auto_renew;
      record.created_at_s = envelope.occurred_at_s;
      if (e.billing_mode == BillingMode::kYearlyMonthly) {
        record.ends.emplace_back(envelope.occurred_at_s, envelope.rating.order_end_s);
      }
      Save(store, internal::ResourceKey(internal::kTagSubscription, envelope.account, e.resource_id),
           record);
      return Status::Ok();
    }
    case EventType::kSubscriptionRenewed:
    case EventType::kSubscriptionUnsubscribed:
    case EventType::kResourceDeleted: {
      const std::string key = internal::ResourceKey(internal::kTagSubscription, envelope.account,
                                                    ResourceIdOf(envelope.payload));
      LEDGER_RETURN_IF_ERROR(Load(store, key, &record));
      if (envelope.type() == EventType::kSubscriptionRenewed) {
        record.ends.emplace_back(envelope.occurred_at_s, envelope.rating.order_end_s);
      } else if (envelope.type() == EventType::kSubscriptionUnsubscribed) {
        record.unsubscribed_at_s = envelope.occurred_at_s;
      } else {
        record.deleted_at_s = envelope.occurred_at_s;
      }
      Save(store, key, record);
      return Status::Ok();
    }
    default:
      return Status::Ok();
  }
}

}  // namespace ledger::projections
