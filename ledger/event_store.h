// EventStore: the RocksDB database that holds the event log, its indexes and
// the rules' state, one column family each (ledger/FORMAT.md). It owns the
// database handle and the pending write batch of the append in progress.
//
// An EventStore is used by one writer at a time: Ledger serializes appends
// under its mutex; only Write may run on another thread meanwhile. Reads of
// committed data (ReadEvent, ScanEvents, ScanAccountEvents, ReadRawEvent,
// Get) touch only the database and are safe from any thread; head() and
// LastSeqRecordedBy belong to the writer's thread. The EventStore must
// outlive every StateStore built on it.

#pragma once

#include <absl/container/flat_hash_map.h>
#include <rocksdb/db.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/write_batch.h>
#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ledger/event.h"
#include "ledger/internal/batch_ids.h"
#include "ledger/internal/string_view_hash.h"
#include "ledger/status.h"

namespace ledger {

namespace internal {
template <typename T>
class BoundedQueue;
struct DecodedChunk;
}  // namespace internal

struct StoreOptions {
  std::string path;
  // Create the ledger when `path` holds none, with this billing offset.
  bool create_if_missing = true;
  int32_t billing_offset_s = 8 * 3600;
  // Sync the WAL before Commit returns. Off only in tests that measure.
  bool sync = true;
  // Extra column families the caller's projections keep in the same database.
  std::vector<std::string> extra_column_families;
  // The RocksDB environment; null for the default. Tests pass one that
  // injects faults (tests/fault_injection_fs.h). Must outlive the store.
  rocksdb::Env* env = nullptr;
  // Open an existing ledger read-only, as a RocksDB secondary instance, so
  // that it can be read while another process has it open (an append holds
  // its lock). It is read as of the open: every batch in the log then,
  // written as a whole. It writes nothing in the ledger's folder (its own
  // info log goes to a temporary folder, removed at close); a write fails.
  bool secondary = false;
  // Called on the writing thread with each append batch once RocksDB has
  // written it (synced when `sync`), before Write returns: for tools that
  // measure or copy what the ledger writes (bench/ledger_bench.cc). A batch
  // that failed is not passed.
  std::function<void(const rocksdb::WriteBatch&)> on_written;
  // Past this many bytes of WAL files, RocksDB flushes the families that
  // hold the oldest one, and deletes it. The meta family takes a few bytes
  // per batch and never fills its memtable: without a bound it kept every
  // WAL since the open (446 MB at 900,000 events), and each read beside the
  // writer replays them all at its open. The memtables' cap (256 MB) needs
  // as much WAL anyway; a bound of 64 MB flushed more often and cost about
  // 10% of the append's CPU in the benchmark.
  uint64_t wal_bytes_max = 256 << 20;
};

// The last stored event: where the next one chains on.
struct Head {
  uint64_t seq = 0;
  Sha256 hash{};
  int64_t recorded_at_us = 0;
  uint64_t invoices_finalized = 0;  // the last invoice number given
};

struct IdempotencyEntry {
  uint64_t seq = 0;
  Sha256 content_digest{};
};

// RocksDB counts statistics per thread (its perf context) at every key
// comparison and read, through thread-local storage its shared library
// reaches by a call each time; the ledger never reads them. Each thread that
// writes or reads much stops them for itself: 2.9% of a 100,000-event
// `ledger append`'s instructions (callgrind).
void StopRocksPerfCounters();

// Stops them on the calling thread while it lives, and puts back the level it
// found: for a caller's thread that the ledger borrows (a stream's judging).
class RocksPerfCountersStopped {
 public:
  RocksPerfCountersStopped();
  ~RocksPerfCountersStopped();
  RocksPerfCountersStopped(const RocksPerfCountersStopped&) = delete;
  RocksPerfCountersStopped& operator=(const RocksPerfCountersStopped&) = delete;

 private:
  rocksdb::PerfLevel callers_level_;
};

class EventStore {
 public:
  // Opens the ledger at options.path, creating it if allowed. Fails with
  // NotFound when it does not exist and may not be created, and with
  // InvalidArgument when an existing ledger has another billing offset than a
  // creating caller asked for explicitly (see Ledger::Init).
  static Result<std::unique_ptr<EventStore>> Open(const StoreOptions& options);
  // Whether another process has the ledger at `path` open: holds RocksDB's
  // lock on it, as `ledger append` does while it runs. Only for a process
  // that does not have it open itself: closing the probe's descriptor would
  // release that process's lock (POSIX record locks belong to the process).
  // The holder's process id when one holds it (0 when that process is in
  // another pid namespace, which shows none), nullopt when none does.
  static std::optional<pid_t> OpenElsewhere(const std::string& path);
  ~EventStore();

  int32_t billing_offset_s() const { return billing_offset_s_; }
  // The committed head.
  const Head& head() const { return head_; }

  // The pending batch of the append in progress. It is write-only: whoever
  // writes to it keeps what it wrote visible to later reads itself (the
  // event ids here, the rules' state in StateStore), which costs far less
  // than indexing every write a second time.
  rocksdb::WriteBatch& batch() { return batch_; }
  // A committed point read.
  Status Get(rocksdb::ColumnFamilyHandle* cf, std::string_view key, std::string* value,
             bool* found) const;
  // Writes `batch` on its own, WAL synced (maintenance: projection rebuilds).
  Status WriteSynced(rocksdb::WriteBatch* batch);
  // Writes every memtable to table files and waits, when they hold more than
  // `bytes_min` in all. Not needed for durability (the WAL has it all); it
  // spares the next open replaying the WAL, which after a large append costs
  // seconds. Small appends skip it: they would only leave tiny table files.
  Status FlushMemtablesOver(uint64_t bytes_min);

  // Adds an event to the pending batch: its log entry (its account index and
  // idempotency entries are added at StageIndexEntries or Seal).
  // `envelope->seq` must be pending_head().seq + 1; fills in the hashes.
  Status StageEvent(Envelope* envelope);
  const Head& pending_head() const { return pending_head_; }
  void set_pending_invoices_finalized(uint64_t count) { pending_head_.invoices_finalized = count; }

  // The commit, in three steps so that it can be pipelined (four with
  // StageIndexEntries): Seal adds the batch's account index entries (one per
  // account), its idempotency entries (in key order) and the head it ends
  // on, unless StageIndexEntries did, and takes the pending batch out of
  // the store, which goes on staging the next
  // batch on top of it while another thread Writes the sealed one. The
  // sealed batch's event ids stay visible to FindEventId until Written or
  // Abort. At most one batch is sealed at a time: Written (or Abort) comes
  // before the next Seal.
  struct SealedBatch {
    rocksdb::WriteBatch batch;
    Head head;
  };
  SealedBatch Seal();
  // Seal's first half on its own: adds the pending batch's account index and
  // idempotency entries, its head and, on an older ledger, the format
  // version now, so that Seal then only hands the batch over. The pipelined
  // append calls it while the batch ahead is still being written, so that
  // the writing thread, once that batch is written, waits less for this
  // one. No event may be staged after it until Seal or Abort. Optional:
  // Seal does it when it was not done.
  void StageIndexEntries();
  // Writes a sealed batch, WAL synced. Touches nothing but the database, so
  // it may run beside StageEvent on another thread.
  Status Write(SealedBatch* sealed);
  // Takes back a sealed batch once Write has returned, written or not, on
  // the thread that seals: the pending batch after the next Seal fills its
  // buffer instead of growing a new one by doubling (a batch of 16,384
  // events is about 7 MB), which cost the append page faults and copies.
  void Reuse(rocksdb::WriteBatch&& sealed);
  // Frees the buffers Reuse kept (the end of a stream), so that a ledger
  // left open holds no batch's worth of memory.
  void ReleaseBatchBuffers();
  // The sealed batch ending on `head` was written: it is the committed head.
  void Written(const Head& head);
  // Drops the pending batch and the sealed one, if it was not written: the
  // pending state is the committed one again.
  void Abort();

  // The stored or pending event with this id, if any.
  Result<std::optional<IdempotencyEntry>> FindEventId(std::string_view event_id) const;
  // The append's lookups, a chunk of a batch at a time. PrefetchEventIds
  // reads the database's entries for `event_ids` in one MultiGet (RocksDB
  // then probes each table's filter for many keys at once); FindNextEventId
  // answers as FindEventId does, taking the database's answer from the
  // prefetch when `event_id` is the prefetch's next id. Only the sealed
  // batch's ids reach the database meanwhile, and they stay visible here
  // until Written or Abort, which drop the prefetch.
  Status PrefetchEventIds(std::span<const std::string_view> event_ids);
  Result<std::optional<IdempotencyEntry>> FindNextEventId(std::string_view event_id);

  // Committed reads.
  Status ReadEvent(uint64_t seq, Envelope* envelope) const;
  // Calls `visit` for each stored event with from_seq <= seq <= to_seq, in
  // order, on the calling thread; stops early when it returns false. A long
  // scan decodes ahead on a second thread.
  Status ScanEvents(uint64_t from_seq, uint64_t to_seq,
                    const std::function<bool(const Envelope&)>& visit) const;
  // The stored value of one event, bytes as hashed (FORMAT.md); NotFound
  // when the log has no event `seq` (ReadEvent too).
  Status ReadRawEvent(uint64_t seq, std::string* value) const;
  // The last event recorded at or before `recorded_at_us` (recorded times
  // never decrease along the log); 0 when there is none.
  Result<uint64_t> LastSeqRecordedBy(int64_t recorded_at_us) const;
  // The same for one account's events (the empty account: price events).
  Status ScanAccountEvents(std::string_view account, uint64_t from_seq, uint64_t to_seq,
                           const std::function<bool(const Envelope&)>& visit) const;

  rocksdb::DB* db() const { return db_.get(); }
  // Opened with StoreOptions::secondary: nothing may be written.
  bool secondary() const { return !secondary_dir_.empty(); }
  rocksdb::ColumnFamilyHandle* log_cf() const { return log_cf_; }
  rocksdb::ColumnFamilyHandle* account_index_cf() const { return account_index_cf_; }
  rocksdb::ColumnFamilyHandle* idempotency_cf() const { return idempotency_cf_; }
  rocksdb::ColumnFamilyHandle* state_cf() const { return state_cf_; }
  rocksdb::ColumnFamilyHandle* intervals_cf() const { return intervals_cf_; }
  rocksdb::ColumnFamilyHandle* meta_cf() const { return meta_cf_; }
  // A caller's extra column family, by name; nullptr when not opened.
  rocksdb::ColumnFamilyHandle* column_family(std::string_view name) const;
  // A family by name, made if missing (an existing one is returned as is):
  // the projections' families, made on demand and dropped when replaced.
  // The store's own families can never be dropped.
  Result<rocksdb::ColumnFamilyHandle*> CreateColumnFamily(const std::string& name);
  // The same for several families, in the order of `names`: the missing ones
  // are made in one call, which writes RocksDB's OPTIONS file once instead
  // of once per family (Open makes the store's own this way too).
  Result<std::vector<rocksdb::ColumnFamilyHandle*>> CreateColumnFamilies(
      const std::vector<std::string>& names);
  // Drops the families of `names` that exist, in one call: RocksDB writes
  // its OPTIONS file (a write, an fsync and a rename) once instead of once
  // per family. On an error some may be dropped; their handles stay until
  // the store closes.
  Status DropColumnFamilies(const std::vector<std::string>& names);
  std::vector<std::string> ColumnFamilyNames() const;

 private:
  EventStore() = default;
  Status LoadMeta(const StoreOptions& options, bool fresh);
  // Whether every open family is empty: a database the ledger made but never wrote.
  Result<bool> HoldsNoKeys() const;
  // A database without the ledger's format version: a create cut short
  // before its first write (no keys at all), Ok to make anew when options
  // allow, or another program's database, refused.
  Status CheckWithoutFormat(const StoreOptions& options) const;
  // Before Open makes any of the store's own families the database lacks:
  // only a create cut short may lack them (and only a primary open makes
  // them). A ledger that lost one is damaged, another program's database
  // is not ours; neither has anything made in it.
  Status CheckOwnFamilies(const StoreOptions& options) const;
  // The same, for a primary open of a database that lacks one of them
  // (only then), before it opens: on a read-only instance of the database
  // (`existing`: its families), without an info log, so that a refused open
  // leaves the folder as it found it (RocksDB's open writes a new MANIFEST,
  // OPTIONS file and WAL). The check under the lock still runs after.
  static Status CheckOwnFamiliesReadOnly(rocksdb::DBOptions db_options, const StoreOptions& options,
                                         const std::vector<std::string>& existing);
  Status ReleaseEmptyWals(const std::string& path);
  // Put the idempotency entries of pending_ids_, and the account index
  // entries of pending_account_seqs_, into the batch.
  void StageIdempotencyEntries();
  void StageAccountIndexEntries();
  // The entry of `event_id` in the pending or the sealed batch, if any.
  const IdempotencyEntry* FindUnwrittenEventId(std::string_view event_id) const;
  // The entry of `event_id` in the database (one Get).
  Result<std::optional<IdempotencyEntry>> FindStoredEventId(std::string_view event_id) const;
  void DropPrefetch();
  Status ScanEventsInline(uint64_t from_seq, uint64_t to_seq,
                          const std::function<bool(const Envelope&)>& visit) const;
  // The read-ahead thread of ScanEvents: decodes into chunks taken from
  // `spare` and hands them over through `decoded`.
  void ReadAhead(uint64_t from_seq, uint64_t to_seq,
                 internal::BoundedQueue<std::unique_ptr<internal::DecodedChunk>>* spare,
                 internal::BoundedQueue<std::unique_ptr<internal::DecodedChunk>>* decoded) const;

  std::unique_ptr<rocksdb::DB> db_;
  std::string secondary_dir_;  // the secondary instance's own files; empty if primary
  int secondary_dir_lock_ = -1;  // its flock, held while open (MakeLockedTempDir)
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* meta_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* log_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* account_index_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* idempotency_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* state_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* intervals_cf_ = nullptr;
  rocksdb::WriteOptions write_options_;
  std::function<void(const rocksdb::WriteBatch&)> on_written_;
  rocksdb::WriteBatch batch_;
  rocksdb::WriteBatch spare_batch_;  // given back by Reuse, for the next Seal
  // Event ids of the pending and of the sealed batch (every append looks its
  // id up in both).
  using IdMap = internal::BatchIds<IdempotencyEntry>;
  IdMap pending_ids_;
  IdMap sealed_ids_;
  // PrefetchEventIds' answers, in order; slots and buffers reused.
  struct PrefetchedId {
    std::string event_id;
    std::optional<IdempotencyEntry> entry;
  };
  std::vector<PrefetchedId> prefetched_ids_;
  size_t prefetched_count_ = 0;
  size_t prefetched_next_ = 0;
  std::vector<rocksdb::Slice> prefetch_keys_;
  std::vector<rocksdb::PinnableSlice> prefetch_values_;
  std::vector<rocksdb::Status> prefetch_statuses_;
  // The pending batch's events, per account: one account index entry each.
  absl::flat_hash_map<std::string, std::vector<uint64_t>, internal::StringViewHash, std::equal_to<>>
      pending_account_seqs_;
  int32_t billing_offset_s_ = 0;
  uint32_t format_version_ = 0;  // as stored; raised by the first batch written
  Head head_;
  Head pending_head_;
  std::string value_buffer_;  // reused per staged event
  bool index_staged_ = false;  // StageIndexEntries ran for the pending batch
};

}  // namespace ledger
