#include "ledger/internal/state_store.h"

#include "ledger/cereal_io.h"
#include "ledger/constants.h"
#include "ledger/keys.h"
#include "ledger/rocks_status.h"

namespace ledger::internal {
namespace {

std::string U64Value(uint64_t value) {
  std::string out;
  AppendU64BE(value, &out);
  return out;
}

Status CheckedPut(rocksdb::WriteBatch& batch, rocksdb::ColumnFamilyHandle* cf,
                  std::string_view key, std::string_view value) {
  const rocksdb::Status s = batch.Put(cf, key, value);
  // A Put into an in-memory batch fails only on a programming error (a key
  // or value beyond 4 GiB): treat it as one.
  LEDGER_CHECK(s.ok());
  return Status::Ok();
}

bool IsIntervalKey(std::string_view key, std::string_view prefix) {
  return key.size() == prefix.size() + 8 && key.starts_with(prefix);
}

}  // namespace

Status StateStore::Load() {
  prices_.clear();
  max_rated_.clear();
  std::unique_ptr<rocksdb::Iterator> it(
      store_->db()->NewIterator(rocksdb::ReadOptions(), store_->state_cf()));
  for (const char tag : {kTagMaxRated, kTagPrice}) {
    for (it->Seek(std::string(1, tag)); it->Valid() && it->key()[0] == tag; it->Next()) {
      const std::string_view key = it->key().ToStringView();
      const std::string_view value = it->value().ToStringView();
      if (value.size() != 8) return Status::Corruption("price record has a bad size");
      if (tag == kTagMaxRated) {
        max_rated_[std::string(key.substr(1))] = static_cast<int64_t>(ReadU64BE(value));
        continue;
      }
      // 'p' | series | effective_at u64 BE | seq u64 BE, in (effective_at, seq) order.
      if (key.size() < 1 + 16) return Status::Corruption("price key has a bad size");
      const std::string_view series = key.substr(1, key.size() - 17);
      const auto effective_at_s = static_cast<int64_t>(ReadU64BE(key.substr(key.size() - 16)));
      prices_[std::string(series)].emplace_back(effective_at_s,
                                                static_cast<int64_t>(ReadU64BE(value)));
    }
  }
  if (!it->status().ok()) return FromRocks(it->status(), "load prices");
  return Status::Ok();
}

template <typename T>
Result<const T*> StateStore::FindCached(std::unordered_map<std::string, T>* cache,
                                        const std::string& key) {
  if (auto it = cache->find(key); it != cache->end()) return static_cast<const T*>(&it->second);
  std::string value;
  bool found = false;
  LEDGER_RETURN_IF_ERROR(store_->Get(store_->state_cf(), key, &value, &found));
  if (!found) return static_cast<const T*>(nullptr);
  T state;
  LEDGER_RETURN_IF_ERROR(DecodeCereal(value, &state));
  return static_cast<const T*>(&cache->emplace(key, std::move(state)).first->second);
}

template <typename T>
void StateStore::PutCached(std::unordered_map<std::string, T>* cache, std::string key, T state) {
  std::string& value = dirty_state_[key];
  value.clear();
  EncodeCereal(state, &value);
  (*cache)[std::move(key)] = std::move(state);
}

Result<const AccountState*> StateStore::FindAccount(std::string_view account) {
  return FindCached(&accounts_, AccountKey(account));
}

Result<const OrderState*> StateStore::FindOrder(std::string_view account,
                                                std::string_view order_id) {
  return FindCached(&orders_, ScopedKey(kTagOrder, account, order_id));
}

Result<const PeriodState*> StateStore::FindPeriod(std::string_view account, Period period) {
  return FindCached(&periods_, PeriodKey(account, static_cast<uint32_t>(period.Index())));
}

Result<const RenewalState*> StateStore::FindRenewal(std::string_view account,
                                                    std::string_view resource_id) {
  return FindCached(&renewals_, ScopedKey(kTagRenewal, account, resource_id));
}

void StateStore::PutAccount(std::string_view account, AccountState state) {
  PutCached(&accounts_, AccountKey(account), std::move(state));
}

void StateStore::PutOrder(std::string_view account, std::string_view order_id, OrderState state) {
  PutCached(&orders_, ScopedKey(kTagOrder, account, order_id), std::move(state));
}

void StateStore::PutPeriod(std::string_view account, Period period, PeriodState state) {
  PutCached(&periods_, PeriodKey(account, static_cast<uint32_t>(period.Index())), std::move(state));
}

void StateStore::PutRenewal(std::string_view account, std::string_view resource_id,
                            RenewalState state) {
  PutCached(&renewals_, ScopedKey(kTagRenewal, account, resource_id), std::move(state));
}

Result<StateStore::ResourceEntry*> StateStore::FindResourceEntry(std::string_view account,
                                                                 std::string_view resource_id) {
  SetScopedKey(kTagResource, account, resource_id, &key_buffer_);
  if (ResourceEntry* last = last_resource_.Find(key_buffer_)) return last;
  if (auto it = resources_.find(std::string_view(key_buffer_)); it != resources_.end()) {
    last_resource_.Set(it->first, &it->second);
    return &it->second;
  }
  std::string value;
  bool found = false;
  LEDGER_RETURN_IF_ERROR(store_->Get(store_->state_cf(), key_buffer_, &value, &found));
  if (!found) return static_cast<ResourceEntry*>(nullptr);
  ResourceEntry entry;
  LEDGER_RETURN_IF_ERROR(DecodeCereal(value, &entry.state));
  entry.interval_prefix = IntervalPrefix(account, resource_id);
  const auto loaded = resources_.emplace(key_buffer_, std::move(entry)).first;
  last_resource_.Set(loaded->first, &loaded->second);
  return &loaded->second;
}

Result<const ResourceState*> StateStore::FindResource(std::string_view account,
                                                      std::string_view resource_id) {
  Result<ResourceEntry*> entry = FindResourceEntry(account, resource_id);
  if (!entry.ok()) return entry.status();
  return *entry == nullptr ? nullptr : static_cast<const ResourceState*>(&(*entry)->state);
}

void StateStore::PutResource(std::string_view account, std::string_view resource_id,
                             ResourceState state) {
  std::string key = ScopedKey(kTagResource, account, resource_id);
  std::string& value = dirty_state_[key];
  value.clear();
  EncodeCereal(state, &value);
  ResourceEntry& entry = resources_[std::move(key)];
  if (entry.interval_prefix.empty()) entry.interval_prefix = IntervalPrefix(account, resource_id);
  entry.state = std::move(state);
}

std::string_view StateStore::SeriesName(std::string_view sku, std::string_view currency) const {
  series_buffer_.clear();
  AppendPriceSeries(sku, currency, &series_buffer_);
  return series_buffer_;
}

std::optional<int64_t> StateStore::PriceAt(std::string_view sku, std::string_view currency,
                                           int64_t time_s) const {
  const auto it = prices_.find(SeriesName(sku, currency));
  if (it == prices_.end()) return std::nullopt;
  // The series is in (effective_at, seq) order: the last entry at or before
  // time_s is the one in effect.
  const PriceSeries& series = it->second;
  auto after = std::upper_bound(series.begin(), series.end(), time_s,
                                [](int64_t t, const auto& entry) { return t < entry.first; });
  if (after == series.begin()) return std::nullopt;
  return std::prev(after)->second;
}

std::optional<int64_t> StateStore::MaxRated(std::string_view sku, std::string_view currency) const {
  const auto it = max_rated_.find(SeriesName(sku, currency));
  if (it == max_rated_.end()) return std::nullopt;
  return it->second;
}

void StateStore::PutPrice(std::string_view sku, std::string_view currency, int64_t effective_at_s,
                          uint64_t seq, int64_t price_e10) {
  IgnoreError(CheckedPut(store_->batch(), store_->state_cf(),
                         PriceKey(sku, currency, effective_at_s, seq),
                         U64Value(static_cast<uint64_t>(price_e10))));
  PriceSeries& series = prices_[std::string(SeriesName(sku, currency))];
  // A later event at the same instant goes after the earlier ones.
  auto at = std::upper_bound(series.begin(), series.end(), effective_at_s,
                             [](int64_t t, const auto& entry) { return t < entry.first; });
  series.emplace(at, effective_at_s, price_e10);
}

void StateStore::RaiseMaxRated(std::string_view sku, std::string_view currency,
                               int64_t charge_time_s) {
  const std::string_view series = SeriesName(sku, currency);
  auto it = max_rated_.find(series);
  // Nearly every tick rates an hour already rated: nothing to write.
  if (it != max_rated_.end() && it->second >= charge_time_s) return;
  if (it == max_rated_.end()) it = max_rated_.emplace(series, charge_time_s).first;
  it->second = charge_time_s;
  IgnoreError(CheckedPut(store_->batch(), store_->state_cf(),
                         PriceSeriesPrefix(kTagMaxRated, sku, currency),
                         U64Value(static_cast<uint64_t>(charge_time_s))));
}

const StateStore::PendingIntervals* StateStore::FindPendingIntervals(
    std::string_view prefix) const {
  if (const PendingIntervals* last = last_pending_.Find(prefix)) return last;
  const auto it = pending_intervals_.find(prefix);
  return it == pending_intervals_.end() ? nullptr : &it->second;
}

StateStore::PendingIntervals& StateStore::MutablePendingIntervals(const std::string& prefix) {
  if (PendingIntervals* last = last_pending_.Find(prefix)) return *last;
  PendingIntervals& writes = pending_intervals_[prefix];
  last_pending_.Set(prefix, &writes);
  return writes;
}

Result<std::optional<Interval>> StateStore::IntervalAtOrBefore(const std::string& prefix,
                                                               int64_t bound_s) {
  // The best pending candidate: the greatest live pending start <= bound_s.
  const PendingIntervals* writes = FindPendingIntervals(prefix);
  std::optional<Interval> pending;
  if (writes != nullptr) {
    for (auto it = writes->upper_bound(bound_s); it != writes->begin();) {
      --it;
      if (it->second.to_s) {
        pending = Interval{it->first, *it->second.to_s};
        break;
      }
    }
  }
  // The best committed candidate, skipping keys the batch deleted or rewrote
  // (a rewritten key is already the pending candidate or below it).
  std::optional<Interval> committed;
  std::unique_ptr<rocksdb::Iterator> it(
      store_->db()->NewIterator(rocksdb::ReadOptions(), store_->intervals_cf()));
  for (it->SeekForPrev(IntervalKey(prefix, bound_s));
       it->Valid() && IsIntervalKey(it->key().ToStringView(), prefix); it->Prev()) {
    const auto from_s =
        static_cast<int64_t>(ReadU64BE(it->key().ToStringView().substr(prefix.size())));
    if (writes != nullptr && writes->contains(from_s)) continue;
    if (it->value().size() != 8) return Status::Corruption("usage interval has a bad size");
    committed = Interval{from_s, static_cast<int64_t>(ReadU64BE(it->value().ToStringView()))};
    break;
  }
  if (!it->status().ok()) return FromRocks(it->status(), "read intervals");
  if (!pending) return committed;
  if (!committed || pending->from_s > committed->from_s) return pending;
  return committed;
}

Result<std::optional<Interval>> StateStore::IntervalAt(const std::string& prefix, int64_t from_s) {
  if (const PendingIntervals* writes = FindPendingIntervals(prefix)) {
    if (const auto it = writes->find(from_s); it != writes->end()) {
      if (!it->second.to_s) return std::optional<Interval>();
      return std::optional<Interval>(Interval{from_s, *it->second.to_s});
    }
  }
  const std::string key = IntervalKey(prefix, from_s);
  std::string value;
  bool found = false;
  LEDGER_RETURN_IF_ERROR(store_->Get(store_->intervals_cf(), key, &value, &found));
  if (!found) return std::optional<Interval>();
  if (value.size() != 8) return Status::Corruption("usage interval has a bad size");
  return std::optional<Interval>(Interval{from_s, static_cast<int64_t>(ReadU64BE(value))});
}

Status StateStore::LoadLastInterval(const std::string& prefix, ResourceEntry* entry) {
  Result<std::optional<Interval>> last = IntervalAtOrBefore(prefix, INT64_MAX);
  if (!last.ok()) return last.status();
  entry->last_known = true;
  entry->last = *last;
  return Status::Ok();
}

void StateStore::PutInterval(const std::string& prefix, Interval interval) {
  LEDGER_CHECK(interval.from_s >= 0);  // PendingIntervals' order is the keys' only then
  MutablePendingIntervals(prefix)[interval.from_s] = {interval.to_s, /*flushed=*/false};
}

void StateStore::DeleteInterval(const std::string& prefix, int64_t from_s) {
  LEDGER_CHECK(from_s >= 0);
  MutablePendingIntervals(prefix)[from_s] = {std::nullopt, /*flushed=*/false};
}

void StateStore::Flush() {
  rocksdb::WriteBatch& batch = store_->batch();
  for (const auto& [key, value] : dirty_state_) {
    IgnoreError(CheckedPut(batch, store_->state_cf(), key, value));
  }
  dirty_state_.clear();
  for (auto& [prefix, writes] : pending_intervals_) {
    for (auto& [from_s, pending] : writes) {
      if (pending.flushed) continue;  // in the sealed batch before
      const std::string key = IntervalKey(prefix, from_s);
      if (pending.to_s) {
        IgnoreError(CheckedPut(batch, store_->intervals_cf(), key,
                               U64Value(static_cast<uint64_t>(*pending.to_s))));
      } else {
        LEDGER_CHECK(batch.Delete(store_->intervals_cf(), key).ok());
      }
      pending.flushed = true;
    }
  }
  // The flushed writes stay in the overlay until their batch is written.
}

Result<std::optional<Interval>> StateStore::FindOverlap(std::string_view account,
                                                        std::string_view resource_id,
                                                        int64_t from_s, int64_t to_s) {
  Result<ResourceEntry*> entry = FindResourceEntry(account, resource_id);
  if (!entry.ok()) return entry.status();
  LEDGER_CHECK(*entry != nullptr);
  const std::string& prefix = (*entry)->interval_prefix;
  if (!(*entry)->last_known) LEDGER_RETURN_IF_ERROR(LoadLastInterval(prefix, *entry));
  const std::optional<Interval>& last = (*entry)->last;
  if (!last || from_s >= last->to_s) return std::optional<Interval>();
  if (last->from_s < to_s) return last;
  // Out of order: the only interval that can overlap is the one with the
  // greatest start before to_s, as accepted intervals never overlap.
  Result<std::optional<Interval>> before = IntervalAtOrBefore(prefix, to_s - 1);
  if (!before.ok()) return before.status();
  if (*before && (*before)->to_s > from_s) return before;
  return std::optional<Interval>();
}

Status StateStore::AddInterval(std::string_view account, std::string_view resource_id,
                               int64_t from_s, int64_t to_s) {
  Result<ResourceEntry*> found = FindResourceEntry(account, resource_id);
  if (!found.ok()) return found.status();
  ResourceEntry* entry = *found;
  LEDGER_CHECK(entry != nullptr);
  const std::string& prefix = entry->interval_prefix;
  // Known when FindOverlap judged the tick first; a replay of the log (the
  // auditor's) applies it without judging it.
  if (!entry->last_known) LEDGER_RETURN_IF_ERROR(LoadLastInterval(prefix, entry));
  std::optional<Interval>& last = entry->last;
  if (!last || from_s >= last->to_s) {
    if (last && from_s == last->to_s) {
      last->to_s = to_s;  // extends the latest interval in place
    } else {
      last = Interval{from_s, to_s};
    }
    PutInterval(prefix, *last);
    return Status::Ok();
  }
  // Out of order: merge with the neighbours it touches.
  Interval merged{from_s, to_s};
  Result<std::optional<Interval>> before = IntervalAtOrBefore(prefix, from_s);
  if (!before.ok()) return before.status();
  if (*before && (*before)->to_s == from_s) merged.from_s = (*before)->from_s;
  Result<std::optional<Interval>> after = IntervalAt(prefix, to_s);
  if (!after.ok()) return after.status();
  if (*after) {
    merged.to_s = (*after)->to_s;
    DeleteInterval(prefix, to_s);
    if (last->from_s == to_s) last = merged;
  }
  PutInterval(prefix, merged);
  return Status::Ok();
}

void StateStore::OnWritten() {
  // What was flushed is in the database now; what was not belongs to the
  // batch being staged.
  for (auto& [prefix, writes] : pending_intervals_) {
    std::erase_if(writes, [](const auto& write) { return write.second.flushed; });
  }
  absl::erase_if(pending_intervals_, [](const auto& entry) { return entry.second.empty(); });
  last_pending_.Clear();
  const size_t entries =
      accounts_.size() + resources_.size() + orders_.size() + periods_.size() + renewals_.size();
  if (entries > kStateCacheEntriesMax) {
    // Every cached record is in the database, but for those the batch being
    // staged wrote: they stay until it is flushed.
    const auto durable = [&](const auto& entry) { return dirty_state_.count(entry.first) == 0; };
    std::erase_if(accounts_, durable);
    absl::erase_if(resources_, durable);
    last_resource_.Clear();
    std::erase_if(orders_, durable);
    std::erase_if(periods_, durable);
    std::erase_if(renewals_, durable);
  }
}

Status StateStore::OnAbort() {
  pending_intervals_.clear();
  last_pending_.Clear();
  dirty_state_.clear();
  accounts_.clear();
  resources_.clear();
  last_resource_.Clear();
  orders_.clear();
  periods_.clear();
  renewals_.clear();
  // Reloading from the committed database undoes the aborted batches'
  // prices (the catalog is small, and aborts are rare).
  return Load();
}

}  // namespace ledger::internal
