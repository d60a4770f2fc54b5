// StateStore: typed access to the rules' state (internal/state.h) in the
// `state` and `usage_intervals` column families, through the EventStore's
// pending batch, with a write-through cache of hot records.
//
// Every write goes to the cache (and, at Flush, to the pending batch), so a
// read during a batch sees the batch's own writes and those of the sealed
// batch still being written; the cache is dropped whenever a batch is
// aborted, so it never holds what will not be committed. The price
// catalog is small (skus x currencies x changes) and lives wholly in memory,
// loaded at open. Single-threaded, like the EventStore it uses.

#pragma once

#include <absl/container/node_hash_map.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ledger/constants.h"
#include "ledger/event_store.h"
#include "ledger/internal/state.h"
#include "ledger/internal/string_view_hash.h"
#include "ledger/status.h"

namespace ledger::internal {

struct Interval {
  int64_t from_s = 0;
  int64_t to_s = 0;
};

class StateStore {
 public:
  explicit StateStore(EventStore* store) : store_(store) {}

  // Loads the price catalog. Call once after open.
  Status Load();

  // Point reads; nullptr when absent. Pointers stay valid until the next
  // write of the same kind or the next batch boundary.
  Result<const AccountState*> FindAccount(std::string_view account);
  Result<const ResourceState*> FindResource(std::string_view account, std::string_view resource_id);
  Result<const OrderState*> FindOrder(std::string_view account, std::string_view order_id);
  Result<const PeriodState*> FindPeriod(std::string_view account, Period period);
  Result<const RenewalState*> FindRenewal(std::string_view account, std::string_view resource_id);

  void PutAccount(std::string_view account, AccountState state);
  void PutResource(std::string_view account, std::string_view resource_id, ResourceState state);
  void PutOrder(std::string_view account, std::string_view order_id, OrderState state);
  void PutPeriod(std::string_view account, Period period, PeriodState state);
  void PutRenewal(std::string_view account, std::string_view resource_id, RenewalState state);

  // Prices. The price in effect at `time_s` is the latest one whose
  // effective time is <= time_s; of two at the same instant, the later in the
  // log.
  std::optional<int64_t> PriceAt(std::string_view sku, std::string_view currency,
                                 int64_t time_s) const;
  // The latest charge time rated from this sku and currency, if any.
  std::optional<int64_t> MaxRated(std::string_view sku, std::string_view currency) const;
  void PutPrice(std::string_view sku, std::string_view currency, int64_t effective_at_s,
                uint64_t seq, int64_t price_e10);
  void RaiseMaxRated(std::string_view sku, std::string_view currency, int64_t charge_time_s);

  // Usage intervals of one resource. FindOverlap returns an accepted interval
  // that overlaps [from, to), if any; AddInterval records [from, to), merged
  // with the intervals it touches. AddInterval requires no overlap.
  Result<std::optional<Interval>> FindOverlap(std::string_view account,
                                              std::string_view resource_id, int64_t from_s,
                                              int64_t to_s);
  Status AddInterval(std::string_view account, std::string_view resource_id, int64_t from_s,
                     int64_t to_s);

  // Writes the batch's state changes into the pending WriteBatch: each key
  // once, with its last value. Until then they live in the cache and the
  // overlays only, so a record rewritten by many events of one batch (a
  // resource's latest usage interval) costs one memtable insert, not many.
  void Flush();
  // Batch boundaries. OnWritten: the batch flushed last is in the database
  // (another may be staged meanwhile, so the pipelined commit can write one
  // batch while the next is judged); the cache may be trimmed. OnAbort: the
  // staged and the flushed batch were dropped, and the cache with them.
  void OnWritten();
  Status OnAbort();

 private:
  using PriceSeries = std::vector<std::pair<int64_t, int64_t>>;  // (effective_at_s, price_e10)
  struct ResourceEntry {
    ResourceState state;
    std::string interval_prefix;  // IntervalPrefix(account, resource_id), built once
    // The accepted interval with the greatest start, when known: a tick that
    // starts at or after its end overlaps nothing, the common case.
    bool last_known = false;
    std::optional<Interval> last;
  };

  // A resource's interval writes of the pending batch, by start: to_s,
  // nullopt when deleted. `flushed`: in the sealed batch; dropped once it is
  // written. Ordered as the keys are (big-endian u64 of from_s) only for
  // starts >= 0, which every time is (kTimeMin_s).
  struct PendingInterval {
    std::optional<int64_t> to_s;
    bool flushed = false;
  };
  using PendingIntervals = std::map<int64_t, PendingInterval>;
  static_assert(kTimeMin_s >= 0);

  // The entry of a table found last, by its key. The rules look one resource
  // up several times per tick (its state, overlaps, its interval writes), and
  // each lookup in a large table costs cache misses; the next tick is mostly
  // of another resource, so one entry is enough. The table must keep its
  // entries in place; Clear whenever it drops any.
  template <typename Value>
  struct LastFound {
    std::string key;
    Value* value = nullptr;
    Value* Find(std::string_view wanted) const {
      return value != nullptr && key == wanted ? value : nullptr;
    }
    void Set(std::string_view found_key, Value* found) {
      key.assign(found_key);
      value = found;
    }
    void Clear() { value = nullptr; }
  };

  template <typename T>
  Result<const T*> FindCached(std::unordered_map<std::string, T>* cache, const std::string& key);
  template <typename T>
  void PutCached(std::unordered_map<std::string, T>* cache, std::string key, T state);
  Result<ResourceEntry*> FindResourceEntry(std::string_view account, std::string_view resource_id);
  Status LoadLastInterval(const std::string& prefix, ResourceEntry* entry);
  // The resource's interval with the greatest start <= bound_s, pending
  // writes of the batch included.
  Result<std::optional<Interval>> IntervalAtOrBefore(const std::string& prefix, int64_t bound_s);
  // The resource's interval starting exactly at from_s, pending writes included.
  Result<std::optional<Interval>> IntervalAt(const std::string& prefix, int64_t from_s);
  void PutInterval(const std::string& prefix, Interval interval);
  // The resource's pending interval writes: nullptr when it has none; the
  // mutable ones created when absent.
  const PendingIntervals* FindPendingIntervals(std::string_view prefix) const;
  PendingIntervals& MutablePendingIntervals(const std::string& prefix);
  void DeleteInterval(const std::string& prefix, int64_t from_s);

  // AppendPriceSeries(sku, currency) of keys.h, built in series_buffer_ so
  // that a lookup allocates nothing: valid until the next call, and so, like
  // the whole store, for one thread at a time (PriceAt and MaxRated too).
  std::string_view SeriesName(std::string_view sku, std::string_view currency) const;

  EventStore* store_;
  std::unordered_map<std::string, AccountState> accounts_;
  // Looked up by a key built in key_buffer_, without allocating; an entry
  // stays put while others come and go (the rules hold pointers to it).
  absl::node_hash_map<std::string, ResourceEntry, StringViewHash, std::equal_to<>> resources_;
  std::string key_buffer_;
  LastFound<ResourceEntry> last_resource_;
  std::unordered_map<std::string, OrderState> orders_;
  std::unordered_map<std::string, PeriodState> periods_;
  std::unordered_map<std::string, RenewalState> renewals_;
  // Keyed by the series name (AppendPriceSeries: sku, currency).
  std::map<std::string, PriceSeries, std::less<>> prices_;
  std::map<std::string, int64_t, std::less<>> max_rated_;
  mutable std::string series_buffer_;
  // State records written in this batch, encoded, by key.
  std::unordered_map<std::string, std::string> dirty_state_;
  // Interval writes of the pending batch, per resource (by interval prefix):
  // the batch itself cannot be read, so this is what makes them visible.
  absl::node_hash_map<std::string, PendingIntervals, StringViewHash, std::equal_to<>>
      pending_intervals_;
  LastFound<PendingIntervals> last_pending_;
};

}  // namespace ledger::internal
