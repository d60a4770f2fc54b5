#include "ledger/internal/state_store.h"

#include "ledger/constants.h"
#include "ledger/internal/cereal_io.h"
#include "ledger/internal/keys.h"

namespace ledger::internal {
namespace {

std::string U64Value(uint64_t value) {
  std::string out;
  AppendU64BE(value, &out);
  return out;
}

Status CheckedPut(rocksdb::WriteBatchWithIndex& batch, rocksdb::ColumnFamilyHandle* cf,
                  std::string_view key, std::string_view value) {
  const rocksdb::Status s = batch.Put(cf, key, value);
  // A Put into an in-memory batch fails only on a programming error (a key
  // or value beyond 4 GiB): treat it as one.
  LEDGER_CHECK(s.ok());
  return Status::Ok();
}

}  // namespace

Status StateStore::Load() {
  prices_.clear();
  max_rated_.clear();
  prices_dirty_ = false;
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
  if (!it->status().ok()) return Status::IoError("load prices: " + it->status().ToString());
  return Status::Ok();
}

template <typename T>
Result<const T*> StateStore::FindCached(std::unordered_map<std::string, T>* cache,
                                        const std::string& key) {
  if (auto it = cache->find(key); it != cache->end()) return static_cast<const T*>(&it->second);
  std::string value;
  bool found = false;
  LEDGER_RETURN_IF_ERROR(store_->GetForUpdate(store_->state_cf(), key, &value, &found));
  if (!found) return static_cast<const T*>(nullptr);
  T state;
  LEDGER_RETURN_IF_ERROR(DecodeCereal(value, &state));
  return static_cast<const T*>(&cache->emplace(key, std::move(state)).first->second);
}

template <typename T>
void StateStore::PutCached(std::unordered_map<std::string, T>* cache, std::string key, T state) {
  std::string value;
  EncodeCereal(state, &value);
  IgnoreError(CheckedPut(store_->batch(), store_->state_cf(), key, value));
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

void StateStore::PutAccount(std::string_view account, AccountState state) {
  PutCached(&accounts_, AccountKey(account), std::move(state));
}

void StateStore::PutOrder(std::string_view account, std::string_view order_id, OrderState state) {
  PutCached(&orders_, ScopedKey(kTagOrder, account, order_id), std::move(state));
}

void StateStore::PutPeriod(std::string_view account, Period period, PeriodState state) {
  PutCached(&periods_, PeriodKey(account, static_cast<uint32_t>(period.Index())), std::move(state));
}

Result<StateStore::ResourceEntry*> StateStore::FindResourceEntry(std::string_view account,
                                                                 std::string_view resource_id) {
  const std::string key = ScopedKey(kTagResource, account, resource_id);
  if (auto it = resources_.find(key); it != resources_.end()) return &it->second;
  std::string value;
  bool found = false;
  LEDGER_RETURN_IF_ERROR(store_->GetForUpdate(store_->state_cf(), key, &value, &found));
  if (!found) return static_cast<ResourceEntry*>(nullptr);
  ResourceEntry entry;
  LEDGER_RETURN_IF_ERROR(DecodeCereal(value, &entry.state));
  return &resources_.emplace(key, std::move(entry)).first->second;
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
  std::string value;
  EncodeCereal(state, &value);
  IgnoreError(CheckedPut(store_->batch(), store_->state_cf(), key, value));
  resources_[std::move(key)].state = std::move(state);
}

std::optional<int64_t> StateStore::PriceAt(std::string_view sku, std::string_view currency,
                                           int64_t time_s) const {
  const auto it = prices_.find(PriceSeriesPrefix(kTagPrice, sku, currency).substr(1));
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
  const auto it = max_rated_.find(PriceSeriesPrefix(kTagMaxRated, sku, currency).substr(1));
  if (it == max_rated_.end()) return std::nullopt;
  return it->second;
}

void StateStore::PutPrice(std::string_view sku, std::string_view currency, int64_t effective_at_s,
                          uint64_t seq, int64_t price_e10) {
  IgnoreError(CheckedPut(store_->batch(), store_->state_cf(),
                         PriceKey(sku, currency, effective_at_s, seq),
                         U64Value(static_cast<uint64_t>(price_e10))));
  PriceSeries& series = prices_[PriceSeriesPrefix(kTagPrice, sku, currency).substr(1)];
  // A later event at the same instant goes after the earlier ones.
  auto at = std::upper_bound(series.begin(), series.end(), effective_at_s,
                             [](int64_t t, const auto& entry) { return t < entry.first; });
  series.emplace(at, effective_at_s, price_e10);
  prices_dirty_ = true;
}

void StateStore::RaiseMaxRated(std::string_view sku, std::string_view currency,
                               int64_t charge_time_s) {
  const std::string key = PriceSeriesPrefix(kTagMaxRated, sku, currency);
  auto [it, inserted] = max_rated_.try_emplace(key.substr(1), charge_time_s);
  if (!inserted && it->second >= charge_time_s) return;
  it->second = charge_time_s;
  IgnoreError(CheckedPut(store_->batch(), store_->state_cf(), key,
                         U64Value(static_cast<uint64_t>(charge_time_s))));
  prices_dirty_ = true;
}

Status StateStore::LoadLastInterval(const std::string& prefix, ResourceEntry* entry) {
  std::unique_ptr<rocksdb::Iterator> it = store_->NewBatchIterator(store_->intervals_cf());
  it->SeekForPrev(IntervalKey(prefix, INT64_MAX));
  entry->last_known = true;
  entry->last.reset();
  if (it->Valid() && it->key().starts_with(prefix) && it->key().size() == prefix.size() + 8) {
    entry->last = Interval{static_cast<int64_t>(ReadU64BE(it->key().ToStringView().substr(prefix.size()))),
                           static_cast<int64_t>(ReadU64BE(it->value().ToStringView()))};
  }
  if (!it->status().ok()) return Status::IoError("read intervals: " + it->status().ToString());
  return Status::Ok();
}

void StateStore::PutInterval(const std::string& prefix, Interval interval) {
  IgnoreError(CheckedPut(store_->batch(), store_->intervals_cf(), IntervalKey(prefix, interval.from_s),
                         U64Value(static_cast<uint64_t>(interval.to_s))));
}

void StateStore::DeleteInterval(const std::string& prefix, int64_t from_s) {
  LEDGER_CHECK(store_->batch().Delete(store_->intervals_cf(), IntervalKey(prefix, from_s)).ok());
}

Result<std::optional<Interval>> StateStore::FindOverlap(std::string_view account,
                                                        std::string_view resource_id,
                                                        int64_t from_s, int64_t to_s) {
  Result<ResourceEntry*> entry = FindResourceEntry(account, resource_id);
  if (!entry.ok()) return entry.status();
  LEDGER_CHECK(*entry != nullptr);
  const std::string prefix = IntervalPrefix(account, resource_id);
  if (!(*entry)->last_known) LEDGER_RETURN_IF_ERROR(LoadLastInterval(prefix, *entry));
  const std::optional<Interval>& last = (*entry)->last;
  if (!last || from_s >= last->to_s) return std::optional<Interval>();
  if (last->from_s < to_s) return last;
  // Out of order: the only interval that can overlap is the one with the
  // greatest start before to_s, as accepted intervals never overlap.
  std::unique_ptr<rocksdb::Iterator> it = store_->NewBatchIterator(store_->intervals_cf());
  it->SeekForPrev(IntervalKey(prefix, to_s - 1));
  if (!it->status().ok()) return Status::IoError("read intervals: " + it->status().ToString());
  if (it->Valid() && it->key().starts_with(prefix) && it->key().size() == prefix.size() + 8) {
    const Interval before{
        static_cast<int64_t>(ReadU64BE(it->key().ToStringView().substr(prefix.size()))),
        static_cast<int64_t>(ReadU64BE(it->value().ToStringView()))};
    if (before.to_s > from_s) return std::optional<Interval>(before);
  }
  return std::optional<Interval>();
}

Status StateStore::AddInterval(std::string_view account, std::string_view resource_id,
                               int64_t from_s, int64_t to_s) {
  Result<ResourceEntry*> found = FindResourceEntry(account, resource_id);
  if (!found.ok()) return found.status();
  ResourceEntry* entry = *found;
  LEDGER_CHECK(entry != nullptr && entry->last_known);
  const std::string prefix = IntervalPrefix(account, resource_id);
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
  std::unique_ptr<rocksdb::Iterator> it = store_->NewBatchIterator(store_->intervals_cf());
  it->SeekForPrev(IntervalKey(prefix, from_s));
  if (it->Valid() && it->key().starts_with(prefix) && it->key().size() == prefix.size() + 8 &&
      static_cast<int64_t>(ReadU64BE(it->value().ToStringView())) == from_s) {
    merged.from_s = static_cast<int64_t>(ReadU64BE(it->key().ToStringView().substr(prefix.size())));
  }
  it->Seek(IntervalKey(prefix, to_s));
  if (it->Valid() && it->key() == IntervalKey(prefix, to_s)) {
    merged.to_s = static_cast<int64_t>(ReadU64BE(it->value().ToStringView()));
    if (last->from_s == to_s) last = merged;
    it.reset();
    DeleteInterval(prefix, to_s);
  }
  if (it && !it->status().ok()) return Status::IoError("read intervals: " + it->status().ToString());
  PutInterval(prefix, merged);
  return Status::Ok();
}

void StateStore::OnCommit() {
  const size_t entries = accounts_.size() + resources_.size() + orders_.size() + periods_.size();
  if (entries > kStateCacheEntriesMax) {
    accounts_.clear();
    resources_.clear();
    orders_.clear();
    periods_.clear();
  }
  prices_dirty_ = false;
}

Status StateStore::OnAbort() {
  accounts_.clear();
  resources_.clear();
  orders_.clear();
  periods_.clear();
  // Reloading from the committed database undoes the aborted batch's prices.
  return prices_dirty_ ? Load() : Status::Ok();
}

}  // namespace ledger::internal
