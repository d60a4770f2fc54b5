// The key-value stores a projection lives in. A projection writes through a
// ProjectionStore while events are applied, and queries read a KvReader:
//
//  - RocksProjectionStore: one column family of the ledger's database. Writes
//    go into the append's WriteBatch and into a write-through cache, so the
//    batch's later events read its earlier writes; the cache is dropped when
//    a batch is aborted. Single writer.
//  - MemoryKv: an in-memory table, both store and reader, for state built
//    on the side (historical queries, replay comparisons). Not thread-safe,
//    not even for reads (a scan sorts its keys on first use).
//  - RocksKvReader: committed data of one column family, for queries. Safe
//    from any thread.

#pragma once

#include <absl/container/flat_hash_map.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ledger/internal/string_view_hash.h"
#include "ledger/status.h"
#include "projections/internal/inline_string.h"

namespace ledger::projections {

using KvVisitor = std::function<bool(std::string_view key, std::string_view value)>;

class KvReader {
 public:
  virtual ~KvReader() = default;
  virtual Status Get(std::string_view key, std::string* value, bool* found) const = 0;
  // Visits the keys in [begin, end) in order; stops when `visit` says false.
  virtual Status Scan(std::string_view begin, std::string_view end, const KvVisitor& visit) const = 0;
  // Visits the last key in [begin, end), if there is one.
  virtual Status Last(std::string_view begin, std::string_view end,
                      const KvVisitor& visit) const = 0;
};

class ProjectionStore {
 public:
  virtual ~ProjectionStore() = default;
  virtual Status Get(std::string_view key, std::string* value, bool* found) = 0;
  virtual void Put(std::string_view key, std::string_view value) = 0;
  // Visits the keys in [begin, end) in order, as the writes so far left them
  // (pending ones included); stops when `visit` says false.
  virtual Status Scan(std::string_view begin, std::string_view end, const KvVisitor& visit) = 0;
};

class RocksKvReader : public KvReader {
 public:
  // `db` and `cf` must outlive the reader.
  RocksKvReader(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf) : db_(db), cf_(cf) {}
  Status Get(std::string_view key, std::string* value, bool* found) const override;
  Status Scan(std::string_view begin, std::string_view end, const KvVisitor& visit) const override;
  Status Last(std::string_view begin, std::string_view end, const KvVisitor& visit) const override;

 private:
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* cf_;
};

class RocksProjectionStore : public ProjectionStore {
 public:
  // The cache keeps up to `cache_entries_max` records across batches.
  RocksProjectionStore(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                       size_t cache_entries_max = 1 << 18)
      : reader_(db, cf), cf_(cf), cache_entries_max_(cache_entries_max) {}

  Status Get(std::string_view key, std::string* value, bool* found) override;
  // Puts are held back: a key written many times in one batch (an hour, an
  // invoice line) reaches RocksDB once, with its last value, when the batch
  // is flushed. That cut the append path's memtable inserts several-fold.
  void Put(std::string_view key, std::string_view value) override;
  // The committed keys with the batch's writes laid over them.
  Status Scan(std::string_view begin, std::string_view end, const KvVisitor& visit) override;
  // Writes every key Put since the last flush into `batch`. The store is not
  // used again (no Get, Put or Scan) before Committed or Aborted: what it
  // holds is the batch being written, which RocksDB does not have yet.
  void Flush(rocksdb::WriteBatch* batch);
  // Bytes of keys and values Put since the last flush (each Put counted).
  size_t dirty_bytes() const { return dirty_bytes_; }
  // The flushed batch was written: the cache stays, trimmed to its bound,
  // without values over kCachedValueBytesMax.
  void Committed();
  // The batch was dropped, flushed or not: forget what it wrote (and
  // everything cached).
  void Aborted();

 private:
  // Keys and values inline up to these sizes (internal/inline_string.h):
  // most keys are 20 to 40 bytes, most values 16 or 24.
  using Key = internal::InlineString<40>;
  struct Entry {
    internal::InlineString<24> value;
    bool present = false;  // false: known to be absent
    bool dirty = false;
  };

  struct KeyEqual {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const { return a == b; }
  };
  // Open addressing, key and entry in the slot: a lookup loads a control
  // group and one slot, where std::unordered_map followed a bucket to the
  // node before and then to the node. Slots move when the table grows, so
  // the lists below hold keys, not pointers.
  using Cache = absl::flat_hash_map<Key, Entry, ledger::internal::StringViewHash, KeyEqual>;

  // Larger values (snapshots, proj_snapshots) are written but leave the
  // cache once committed: nothing on the append path reads them back, and
  // keeping them would hold megabytes per account for the process's life.
  static constexpr size_t kCachedValueBytesMax = 4096;

  // The entry of `key`, read from RocksDB (present or not) on a miss.
  Result<Cache::iterator> Find(std::string_view key);

  RocksKvReader reader_;
  rocksdb::ColumnFamilyHandle* cf_;
  size_t cache_entries_max_;
  Cache cache_;
  // The projections read a key and then write it: the write finds the entry
  // here without hashing the key again. Set again by every insert (which
  // may move slots); invalid after an erase.
  Cache::iterator last_;
  bool last_valid_ = false;
  // Keys Put since the last Flush, which Scan lays over what RocksDB holds.
  std::vector<Key> dirty_;
  // Keys of large values Put in the batch, erased from the cache once it is
  // committed.
  std::vector<std::string> uncached_;
  size_t dirty_bytes_ = 0;
  bool flushed_ = false;  // Flush was called; Committed or Aborted is next
};

class MemoryKv : public ProjectionStore, public KvReader {
 public:
  Status Get(std::string_view key, std::string* value, bool* found) override;
  Status Get(std::string_view key, std::string* value, bool* found) const override;
  void Put(std::string_view key, std::string_view value) override;
  Status Scan(std::string_view begin, std::string_view end, const KvVisitor& visit) const override;
  Status Scan(std::string_view begin, std::string_view end, const KvVisitor& visit) override;
  Status Last(std::string_view begin, std::string_view end, const KvVisitor& visit) const override;
  size_t size() const { return entries_.size(); }

 private:
  using Map = std::unordered_map<std::string, std::string, ledger::internal::StringViewHash,
                                 std::equal_to<>>;

  // Building a projection is point reads and writes, a hash table's job
  // (a sorted map spent most of a historical query comparing keys with long
  // common prefixes). Scans come after, from queries: they sort the keys
  // once, and again only after a new key arrives.
  // Sorts the keys if a key arrived since the last sort.
  void SortKeys() const;

  Map entries_;
  mutable std::vector<const Map::value_type*> sorted_;
  mutable bool sorted_valid_ = true;
};

}  // namespace ledger::projections
