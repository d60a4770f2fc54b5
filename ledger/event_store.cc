#include "ledger/event_store.h"

#include <fcntl.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "ledger/constants.h"
#include "ledger/event_codec.h"
#include "ledger/internal/bounded_queue.h"
#include "ledger/internal/info_log.h"
#include "ledger/internal/temp_dir.h"
#include "ledger/keys.h"
#include "ledger/rocks_status.h"

namespace ledger {
namespace {

using internal::AppendU32BE;
using internal::AppendU64BE;
using internal::ReadU64BE;

// Version 2 files an account's events of one batch under one account index
// entry. A version-1 ledger (an entry per event, empty values) is a valid
// version-2 one. Version 3 stores event bodies of class version 2 (the rules
// version each event was judged under); version-1 bodies stay readable.
// Version 4 holds events judged under rules version 3 and the renewal
// records ('n' in the state family) they keep, which an older binary would
// neither check nor keep up. An older ledger is marked with the current
// version by its first append batch, in that batch, so that an older binary
// refuses it from then on (and only then).
constexpr uint32_t kFormatVersion = 4;
constexpr uint32_t kFormatVersionMin = 1;

constexpr const char* kLogCf = "log";
constexpr const char* kAccountIndexCf = "account_index";
constexpr const char* kIdempotencyCf = "idempotency";
constexpr const char* kStateCf = "state";
constexpr const char* kIntervalsCf = "usage_intervals";
// The store's own families, in the order of their handles: the default one
// (its meta keys) and the five above. Every open lists them first
// (FamiliesToOpen).
constexpr std::array<const char*, 6> kOwnFamilies = {"default",      kLogCf,   kAccountIndexCf,
                                                     kIdempotencyCf, kStateCf, kIntervalsCf};

// Keys of the log, account_index and usage_intervals families end in a
// big-endian number that only grows within the rest of the key (a sequence
// number, a tick start). With that rest as the memtable insert hint prefix,
// each insert starts from where the previous insert of the same account or
// resource landed, instead of searching the skip list from the top.
class AllButLast8Bytes : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "ledger.AllButLast8Bytes"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), key.size() - 8);
  }
  bool InDomain(const rocksdb::Slice& key) const override { return key.size() >= 8; }
};

// Memory is bounded for the whole database, not per family: one block cache
// shared by every family, and a cap on all memtables together
// (DBOptions::db_write_buffer_size), so a ledger's RSS stays flat however
// many families (projection generations) it has.
constexpr size_t kBlockCacheBytes = 128 << 20;
constexpr size_t kMemtableBytesMax = 256 << 20;
constexpr size_t kWriteBufferBytes = 32 << 20;

const std::shared_ptr<rocksdb::Cache>& SharedBlockCache() {
  static const std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(kBlockCacheBytes);
  return cache;
}

rocksdb::ColumnFamilyOptions ColumnFamilyOptionsFor(const std::string& name) {
  rocksdb::BlockBasedTableOptions table;
  // Point lookups (event ids, accounts, resources) mostly miss on a growing
  // ledger: a Bloom filter answers those without reading a block.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10, false));
  table.block_cache = SharedBlockCache();
  rocksdb::ColumnFamilyOptions options;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  options.write_buffer_size = kWriteBufferBytes;
  if (name != kLogCf && name != kAccountIndexCf) {
    // Every append asks whether its event id is new, and it nearly always
    // is; the projections ask for an hour or a line that mostly does not
    // exist yet: a whole-key Bloom filter on the memtable answers those
    // without a skip-list search. RocksDB zeroes each memtable's filter
    // when it makes the memtable, at every open too, and a first touch is
    // dear on this VM: a fiftieth of the memtable (640 KB, 12 to 15 bits
    // per entry of a full one) instead of a twentieth made a replay's open
    // and its new families' 0.04 s faster (bench/HISTORY.md).
    options.memtable_prefix_bloom_size_ratio = 0.02;
    options.memtable_whole_key_filtering = true;
  }
  if (name != kIdempotencyCf) {
    // The projections' keys end in a growing number too (an hour start), or
    // are rewritten in place (an invoice line): the same hint serves them.
    options.memtable_insert_with_hint_prefix_extractor = std::make_shared<AllButLast8Bytes>();
  }
  return options;
}

// The ledger's format version from its stored value: one this binary
// reads, or why not.
Status ReadFormatVersion(std::string_view value, uint32_t* version) {
  if (value.size() != 4) return Status::Corruption("ledger format version has a bad size");
  *version = ReadU32BE(value);
  if (*version < kFormatVersionMin || *version > kFormatVersion) {
    // Written by a newer binary, or not by this ledger: not damage.
    return Status::InvalidArgument("unsupported ledger format version " + std::to_string(*version));
  }
  return Status::Ok();
}

std::string EncodeHead(const Head& head) {
  std::string value;
  AppendU64BE(head.seq, &value);
  value.append(reinterpret_cast<const char*>(head.hash.data()), head.hash.size());
  AppendU64BE(static_cast<uint64_t>(head.recorded_at_us), &value);
  AppendU64BE(head.invoices_finalized, &value);
  return value;
}

Status DecodeHead(std::string_view value, Head* head) {
  if (value.size() != 8 + 32 + 8 + 8) return Status::Corruption("meta head has a bad size");
  head->seq = ReadU64BE(value);
  std::copy_n(value.begin() + 8, 32, head->hash.begin());
  head->recorded_at_us = static_cast<int64_t>(ReadU64BE(value.substr(40)));
  head->invoices_finalized = ReadU64BE(value.substr(48));
  return Status::Ok();
}

// Steps or seeks the log iterator `log`, now at *log_seq (0: nowhere), to
// the entry of `seq`.
constexpr uint64_t kLogStepsMax = 4;  // Next() this many times before a Seek

Status PositionLog(rocksdb::Iterator* log, uint64_t seq, uint64_t* log_seq) {
  const std::string target = internal::LogKey(seq);
  if (*log_seq != 0 && *log_seq < seq && seq - *log_seq <= kLogStepsMax) {
    for (uint64_t steps = 0; steps < kLogStepsMax && log->Valid() && log->key().compare(target) < 0;
         ++steps) {
      log->Next();
    }
  } else {
    log->Seek(target);
  }
  *log_seq = 0;
  LEDGER_RETURN_IF_ERROR(FromRocks(log->status(), "read event " + std::to_string(seq)));
  if (!log->Valid() || log->key().ToStringView() != target) {
    return Status::Corruption("the account index names event " + std::to_string(seq) +
                              ", which the log does not have");
  }
  *log_seq = seq;
  return Status::Ok();
}

// The event stored under the log key of `seq` must say it is event `seq`.
Status CheckLogSeq(uint64_t seq, const Envelope& envelope) {
  if (envelope.seq == seq) return Status::Ok();
  return Status::Corruption("event under key " + std::to_string(seq) + " says seq " +
                            std::to_string(envelope.seq));
}

// Decodes the log's entry under `seq` (its hash checked) and checks that it
// is that event.
Status DecodeLogEntry(uint64_t seq, std::string_view value, Envelope* envelope) {
  Status status = DecodeEnvelope(value, envelope);
  if (!status.ok())
    return Status::Corruption("event " + std::to_string(seq) + ": " + status.message());
  return CheckLogSeq(seq, *envelope);
}

// Which flushes the database has recorded: CURRENT's text (the MANIFEST's
// name) and that MANIFEST's size.
std::string RecordedFlushes(const std::string& path) {
  std::ifstream current(std::filesystem::path(path) / "CURRENT");
  std::string manifest;
  std::getline(current, manifest);
  std::error_code ec;
  const uintmax_t bytes = std::filesystem::file_size(std::filesystem::path(path) / manifest, ec);
  return manifest + ":" + (ec ? "?" : std::to_string(bytes));
}

constexpr int kSecondaryOpenAttempts = 10;
constexpr auto kSecondaryOpenPause = std::chrono::milliseconds(50);

// Closes what an open gave (nothing if it failed).
void CloseDb(std::vector<rocksdb::ColumnFamilyHandle*>* handles, rocksdb::DB** db) {
  if (*db != nullptr) {
    for (rocksdb::ColumnFamilyHandle* handle : *handles) {
      IgnoreError(FromRocks((*db)->DestroyColumnFamilyHandle(handle), "close"));
    }
    delete *db;
  }
  handles->clear();
  *db = nullptr;
}

// The families an open of the ledger at options.path holds once open: the
// log's, in the order EventStore keeps their handles, then
// `extra_column_families`, then every other one the database has (RocksDB
// requires them all): projection generations, a rebuild a crash
// interrupted. A secondary instance cannot create one: it opens those there
// are, which for a ledger include every family of the log.
// `existing_names`, if given, gets those of `names` the database has (for a
// fresh one: none), in the same order: what RocksDB is to open.
Status FamiliesToOpen(const rocksdb::DBOptions& db_options, const StoreOptions& options, bool fresh,
                      std::vector<std::string>* names,
                      std::vector<std::string>* existing_names = nullptr) {
  names->assign(kOwnFamilies.begin(), kOwnFamilies.end());
  names->insert(names->end(), options.extra_column_families.begin(),
                options.extra_column_families.end());
  std::vector<std::string> existing;
  if (!fresh) {
    LEDGER_RETURN_IF_ERROR(
        FromRocks(rocksdb::DB::ListColumnFamilies(db_options, options.path, &existing),
                  "list column families of " + options.path));
  }
  for (const std::string& name : existing) {
    if (std::find(names->begin(), names->end(), name) == names->end()) names->push_back(name);
  }
  const auto missing = [&](const std::string& name) {
    return std::find(existing.begin(), existing.end(), name) == existing.end();
  };
  if (existing_names != nullptr) {
    *existing_names = *names;
    std::erase_if(*existing_names, missing);
  }
  // A secondary opens those there are; if the store's own are not all
  // there, EventStore::CheckOwnFamilies says why.
  if (options.secondary) std::erase_if(*names, missing);
  return Status::Ok();
}

// The first of the store's own families that a database lacks, by
// `has(name)`; nullptr when it has them all.
const char* FirstLackingOwnFamily(const std::function<bool(std::string_view)>& has) {
  const auto lacking = std::find_if(kOwnFamilies.begin(), kOwnFamilies.end(),
                                    [&](const char* name) { return !has(name); });
  return lacking == kOwnFamilies.end() ? nullptr : *lacking;
}

// The same, for a database with the families `existing`.
const char* FirstLackingOwnFamily(const std::vector<std::string>& existing) {
  return FirstLackingOwnFamily([&](std::string_view name) {
    return std::find(existing.begin(), existing.end(), name) != existing.end();
  });
}

std::vector<rocksdb::ColumnFamilyDescriptor> Describe(const std::vector<std::string>& names) {
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    descriptors.emplace_back(name, ColumnFamilyOptionsFor(name));
  }
  return descriptors;
}

// The options of each family to open, by name.
std::vector<rocksdb::ColumnFamilyDescriptor> Describe(const std::vector<std::string>& names);

// Opens the ledger at options.path as a secondary instance whose view is a
// prefix of the log: whole batches. RocksDB reads the MANIFEST, then the
// WALs after it; a flush recorded in between (its WALs then deleted) would
// leave each family as of its own last flush, torn across families, and a
// family made or dropped since the listing (a replay or verify beside it)
// fails the open or goes unopened. So an attempt counts only if the
// MANIFEST did not change from before its listing to after its open; the
// families are listed again at each one. Fills `names` with those opened.
Status OpenSecondary(const rocksdb::DBOptions& db_options, const StoreOptions& options,
                     const std::string& own_dir, std::vector<std::string>* names,
                     std::vector<rocksdb::ColumnFamilyHandle*>* handles, rocksdb::DB** db) {
  const std::string what = "open " + options.path + " beside its writer";
  for (int attempt = 1; attempt <= kSecondaryOpenAttempts; ++attempt) {
    const std::string before = RecordedFlushes(options.path);
    const Status listed = FamiliesToOpen(db_options, options, /*fresh=*/false, names);
    Status opened = listed;
    if (listed.ok()) {
      opened = FromRocks(rocksdb::DB::OpenAsSecondary(db_options, options.path, own_dir,
                                                      Describe(*names), handles, db),
                         what);
    }
    if (RecordedFlushes(options.path) == before) return opened;
    CloseDb(handles, db);
    std::this_thread::sleep_for(kSecondaryOpenPause);
  }
  return Status::IoError(what + ": its MANIFEST changed (a flush, or projection families made " +
                         "or dropped) during each of " + std::to_string(kSecondaryOpenAttempts) +
                         " opens; retry");
}

// What a first open that was cut short leaves (RocksDB writes these before
// CURRENT), and a fresh file system's lost+found: no ledger data.
bool HoldsNoData(const std::string& name) {
  return name == "LOCK" || name == "IDENTITY" || name == "LOG" || name.starts_with("LOG.old.") ||
         name.starts_with("OPTIONS-") || name.starts_with("MANIFEST-") ||
         name.ends_with(".dbtmp") || name == "lost+found";
}

// A folder without a ledger (no CURRENT) must hold no data. RocksDB, told
// to create a database where table files or WALs lie that no CURRENT names
// (a ledger that lost it, another program's folder), would start an empty
// one and delete those files as its own obsolete ones.
Status CheckNothingToLose(const std::string& path) {
  std::error_code ec;
  std::filesystem::directory_iterator entries(path, ec);
  if (ec == std::errc::no_such_file_or_directory) return Status::Ok();
  if (ec) return Status::IoError("cannot look into " + path + ": " + ec.message());
  std::string found;
  for (; entries != std::filesystem::directory_iterator(); entries.increment(ec)) {
    const std::string name = entries->path().filename().string();
    if (!HoldsNoData(name)) found += (found.empty() ? "" : ", ") + name;
    if (found.size() > 80) break;
  }
  if (ec) return Status::IoError("cannot look into " + path + ": " + ec.message());
  if (found.empty()) return Status::Ok();
  return Status::InvalidArgument(
      path +
      " holds files but no ledger: it has no CURRENT file (a ledger that lost it, or "
      "another program's folder), and holds " +
      found +
      ". Nothing was changed: a new ledger is made only where no data lies, and a damaged "
      "one is restored from a backup");
}

}  // namespace

Result<std::unique_ptr<EventStore>> EventStore::Open(const StoreOptions& options) {
  std::error_code ec;
  const bool fresh = !std::filesystem::exists(std::filesystem::path(options.path) / "CURRENT", ec);
  if (ec) return Status::IoError("cannot look into " + options.path + ": " + ec.message());
  if (fresh) LEDGER_RETURN_IF_ERROR(CheckNothingToLose(options.path));
  if (fresh && (!options.create_if_missing || options.secondary)) {
    return Status::NotFound("no ledger at " + options.path);
  }
  std::filesystem::create_directories(options.path, ec);
  if (ec) return Status::IoError("cannot create " + options.path + ": " + ec.message());

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  // The ledger makes missing families itself, all in one call (Open).
  db_options.create_missing_column_families = false;
  db_options.paranoid_checks = true;
  // A damaged record in the middle of a WAL refuses the open, instead of
  // recovering to the point before it and silently dropping the acknowledged
  // events after it (kPointInTimeRecovery); an incomplete last record, a
  // write the crash interrupted and so never acknowledged, is tolerated.
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  // Closed WALs' sizes go in the MANIFEST and are checked at open.
  db_options.track_and_verify_wals_in_manifest = true;
  db_options.IncreaseParallelism(2);
  // An open reads every table file's footer, index and filter (all files
  // stay open), RocksDB's default 16 threads per family at a time: on 2
  // cores, 2 make fewer threads for the same reads. `ledger digest`: 33 →
  // 25 ms on a 1M ledger, 68 → 54 ms on a 10M one (bench/HISTORY.md).
  db_options.max_file_opening_threads = 2;
  // One flush at a time, one compaction. With two at a time (the
  // thirteenth session's choice), two flush results could be installed at
  // once, each counting the other's family as still holding the oldest
  // WAL: that WAL then stayed after both ended, and RocksDB 7.8 does not
  // ask for its flush again (it is marked as being flushed), so the closed
  // WALs grew past max_total_wal_size until a memtable filled. Under disk
  // load, TheClosedWalFilesStayBoundedWhileAnAppendRuns (a 1 MB WAL limit)
  // found 17 MB of closed WALs against its 16 MB check in 2 of 40 runs (44
  // MB once in CI); with one flush, 0 of 60. The flush that ends
  // `ledger append` runs its families one at a time again, yet whole
  // appends are no slower: 1M, six interleaved pairs, 4.58 s with one
  // against 4.61 s with two; 10M, two pairs, 74.8 and 77.4 s against 78.6
  // and 80.3 s (bench/HISTORY.md).
  db_options.max_background_flushes = 1;
  db_options.max_background_compactions = 1;
  db_options.db_write_buffer_size = kMemtableBytesMax;
  db_options.max_total_wal_size = options.wal_bytes_max;
  if (options.env != nullptr) db_options.env = options.env;
  // One thread writes each batch (the pipelined append's writing thread, or a
  // group's leader). Concurrent memtable inserts would only add their
  // synchronization, and would not keep the skip-list splice that sorted
  // event ids insert from (StageIdempotencyEntries).
  db_options.allow_concurrent_memtable_write = false;

  std::vector<std::string> names;  // listed by each attempt of a secondary open
  std::unique_ptr<EventStore> store(new EventStore());
  rocksdb::DB* raw_db = nullptr;
  if (options.secondary) {
    Result<std::pair<std::string, int>> dir = internal::MakeLockedTempDir(
        internal::kSecondaryDirPrefix, "a folder to read beside the writer");
    if (!dir.ok()) return dir.status();
    store->secondary_dir_ = dir->first;
    store->secondary_dir_lock_ = dir->second;
    db_options.max_open_files = -1;  // RocksDB requires it of a secondary instance
    // Its info log too: in the ledger's folder it would mix with the writer's.
    db_options.info_log = internal::OpenInfoLog(dir->first);
    LEDGER_RETURN_IF_ERROR(
        OpenSecondary(db_options, options, dir->first, &names, &store->handles_, &raw_db));
  } else {
    const std::string listed_at = RecordedFlushes(options.path);
    std::vector<std::string> existing;
    LEDGER_RETURN_IF_ERROR(FamiliesToOpen(db_options, options, fresh, &names, &existing));
    if (!fresh && FirstLackingOwnFamily(existing) != nullptr) {
      // Refused on that look only if the database did not change meanwhile
      // (another process making its families); else the check under the
      // lock below decides.
      const Status looked = CheckOwnFamiliesReadOnly(db_options, options, existing);
      if (!looked.ok() && RecordedFlushes(options.path) == listed_at) return looked;
    }
    db_options.info_log = internal::OpenInfoLog(options.path);
    // The ledger opens the families there are (a new one: the default
    // family) and makes the missing ones in one call below: RocksDB's open
    // would make each with an OPTIONS file of its own, written and synced
    // again for every family.
    if (existing.empty()) existing.push_back(rocksdb::kDefaultColumnFamilyName);
    LEDGER_RETURN_IF_ERROR(FromRocks(
        rocksdb::DB::Open(db_options, options.path, Describe(existing), &store->handles_, &raw_db),
        "open " + options.path));
  }
  store->db_.reset(raw_db);
  if (!fresh) LEDGER_RETURN_IF_ERROR(store->CheckOwnFamilies(options));
  // Makes what a new ledger, or a create cut short, lacks; a secondary has
  // every name it lists (FamiliesToOpen), so this only finds them.
  Result<std::vector<rocksdb::ColumnFamilyHandle*>> opened = store->CreateColumnFamilies(names);
  if (!opened.ok()) return opened.status();
  rocksdb::ColumnFamilyHandle** own[] = {&store->meta_cf_,          &store->log_cf_,
                                         &store->account_index_cf_, &store->idempotency_cf_,
                                         &store->state_cf_,         &store->intervals_cf_};
  static_assert(std::size(own) == kOwnFamilies.size());
  for (size_t i = 0; i < kOwnFamilies.size(); ++i) {
    *own[i] = store->column_family(kOwnFamilies[i]);
    LEDGER_CHECK(*own[i] != nullptr);
  }
  store->write_options_.sync = options.sync;
  store->on_written_ = options.on_written;
  LEDGER_RETURN_IF_ERROR(store->LoadMeta(options, fresh));
  if (!store->secondary()) LEDGER_RETURN_IF_ERROR(store->ReleaseEmptyWals(options.path));
  return store;
}

void StopRocksPerfCounters() { rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable); }

RocksPerfCountersStopped::RocksPerfCountersStopped() : callers_level_(rocksdb::GetPerfLevel()) {
  StopRocksPerfCounters();
}

RocksPerfCountersStopped::~RocksPerfCountersStopped() { rocksdb::SetPerfLevel(callers_level_); }

std::optional<pid_t> EventStore::OpenElsewhere(const std::string& path) {
  const int fd = open((std::filesystem::path(path) / "LOCK").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;  // no ledger yet, so nobody holds it
  // RocksDB locks the whole file for writing (fcntl F_SETLK).
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  const bool held = fcntl(fd, F_GETLK, &lock) == 0 && lock.l_type != F_UNLCK;
  close(fd);
  if (!held) return std::nullopt;
  return lock.l_pid;
}

// RocksDB starts a new WAL at every open, and deletes the empty ones of
// earlier opens only after it flushes a memtable, which a query never makes
// it do: every read-only command would leave one more empty file. Past
// kEmptyWalsMax of them, the head is written again, unchanged, and the meta
// family flushed; RocksDB then deletes them.
constexpr size_t kEmptyWalsMax = 8;

Status EventStore::ReleaseEmptyWals(const std::string& path) {
  size_t empty = 0;
  std::error_code ec;
  for (const std::filesystem::directory_entry& entry :
       std::filesystem::directory_iterator(path, ec)) {
    empty +=
        entry.path().extension() == ".log" && entry.is_regular_file(ec) && entry.file_size(ec) == 0;
  }
  if (ec || empty <= kEmptyWalsMax) return Status::Ok();
  rocksdb::WriteOptions synced;
  synced.sync = true;
  LEDGER_RETURN_IF_ERROR(
      FromRocks(db_->Put(synced, meta_cf_, internal::kMetaHead, EncodeHead(head_)), "write head"));
  rocksdb::FlushOptions flush;
  flush.wait = true;
  return FromRocks(db_->Flush(flush, meta_cf_), "flush meta");
}

EventStore::~EventStore() {
  for (rocksdb::ColumnFamilyHandle* handle : handles_) {
    IgnoreError(FromRocks(db_->DestroyColumnFamilyHandle(handle), "close"));
  }
  db_.reset();
  if (secondary()) {
    std::error_code ignored;
    std::filesystem::remove_all(secondary_dir_, ignored);
    close(secondary_dir_lock_);  // once removed: no sweep takes it first
  }
}

Status EventStore::LoadMeta(const StoreOptions& options, bool fresh) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_cf_, internal::kMetaFormatVersion, &value);
  if (s.IsNotFound()) {
    if (!fresh) LEDGER_RETURN_IF_ERROR(CheckWithoutFormat(options));
    // A new ledger: its format and billing zone, written once and synced.
    rocksdb::WriteBatch init;
    std::string version;
    AppendU32BE(kFormatVersion, &version);
    std::string offset;
    AppendU32BE(static_cast<uint32_t>(options.billing_offset_s), &offset);
    LEDGER_RETURN_IF_ERROR(FromRocks(init.Put(meta_cf_, internal::kMetaFormatVersion, version), "init"));
    LEDGER_RETURN_IF_ERROR(FromRocks(init.Put(meta_cf_, internal::kMetaBillingOffset, offset), "init"));
    LEDGER_RETURN_IF_ERROR(FromRocks(init.Put(meta_cf_, internal::kMetaHead, EncodeHead(Head{})), "init"));
    rocksdb::WriteOptions synced;
    synced.sync = true;
    LEDGER_RETURN_IF_ERROR(FromRocks(db_->Write(synced, &init), "init"));
    spdlog::info("created ledger at {} with billing offset {}s", options.path, options.billing_offset_s);
    value = version;
  } else {
    LEDGER_RETURN_IF_ERROR(FromRocks(s, "read format version"));
  }
  LEDGER_RETURN_IF_ERROR(ReadFormatVersion(value, &format_version_));
  LEDGER_RETURN_IF_ERROR(
      FromRocks(db_->Get(rocksdb::ReadOptions(), meta_cf_, internal::kMetaBillingOffset, &value),
                "read billing offset"));
  if (value.size() != 4) return Status::Corruption("meta billing offset has a bad size");
  uint32_t offset = 0;
  for (char c : value) offset = (offset << 8) | static_cast<uint8_t>(c);
  billing_offset_s_ = static_cast<int32_t>(offset);
  LEDGER_RETURN_IF_ERROR(
      FromRocks(db_->Get(rocksdb::ReadOptions(), meta_cf_, internal::kMetaHead, &value), "read head"));
  LEDGER_RETURN_IF_ERROR(DecodeHead(value, &head_));
  pending_head_ = head_;
  return Status::Ok();
}

Status EventStore::CheckWithoutFormat(const StoreOptions& options) const {
  Result<bool> empty = HoldsNoKeys();
  if (!empty.ok()) return empty.status();
  // Not a ledger (another RocksDB database): nothing damaged, nothing to read.
  if (!*empty) {
    return Status::InvalidArgument(options.path + " is not a ledger: it has no format version");
  }
  // A create cut short before its first write (RocksDB made the database,
  // the ledger had not yet written its format): made anew, or none yet.
  if (!options.create_if_missing || secondary()) {
    return Status::NotFound("no ledger at " + options.path +
                            " (its creation was cut short; a write makes it)");
  }
  return Status::Ok();
}

Status EventStore::CheckOwnFamilies(const StoreOptions& options) const {
  const char* lacking =
      FirstLackingOwnFamily([&](std::string_view name) { return column_family(name) != nullptr; });
  if (lacking == nullptr) return Status::Ok();
  rocksdb::ColumnFamilyHandle* meta = column_family(rocksdb::kDefaultColumnFamilyName);
  LEDGER_CHECK(meta != nullptr);  // RocksDB opens the default family always
  std::string value;
  const rocksdb::Status read =
      db_->Get(rocksdb::ReadOptions(), meta, internal::kMetaFormatVersion, &value);
  if (read.ok()) {
    uint32_t version = 0;
    LEDGER_RETURN_IF_ERROR(ReadFormatVersion(value, &version));
    return Status::Corruption(options.path + " is a damaged ledger: its family '" + lacking +
                              "' is gone. Its data were left as they are: restore it from a " +
                              "backup");
  }
  if (!read.IsNotFound()) return FromRocks(read, "read format version");
  return CheckWithoutFormat(options);
}

Status EventStore::CheckOwnFamiliesReadOnly(rocksdb::DBOptions db_options,
                                            const StoreOptions& options,
                                            const std::vector<std::string>& existing) {
  // No info log: a read-only open given none makes none (RocksDB 6.20 on).
  LEDGER_CHECK(db_options.info_log == nullptr);
  db_options.create_if_missing = false;  // a pure read: not even the folder made
  std::unique_ptr<EventStore> probe(new EventStore());
  rocksdb::DB* raw_db = nullptr;
  LEDGER_RETURN_IF_ERROR(
      FromRocks(rocksdb::DB::OpenForReadOnly(db_options, options.path, Describe(existing),
                                             &probe->handles_, &raw_db),
                "open " + options.path + " to look into it"));
  probe->db_.reset(raw_db);
  return probe->CheckOwnFamilies(options);
}

Result<bool> EventStore::HoldsNoKeys() const {
  for (rocksdb::ColumnFamilyHandle* family : handles_) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), family));
    it->SeekToFirst();
    LEDGER_RETURN_IF_ERROR(FromRocks(it->status(), "read " + family->GetName()));
    if (it->Valid()) return false;
  }
  return true;
}

Result<rocksdb::ColumnFamilyHandle*> EventStore::CreateColumnFamily(const std::string& name) {
  Result<std::vector<rocksdb::ColumnFamilyHandle*>> created = CreateColumnFamilies({name});
  if (!created.ok()) return created.status();
  return created->front();
}

Result<std::vector<rocksdb::ColumnFamilyHandle*>> EventStore::CreateColumnFamilies(
    const std::vector<std::string>& names) {
  std::vector<std::string> missing;
  for (const std::string& name : names) {
    const bool listed = std::find(missing.begin(), missing.end(), name) != missing.end();
    if (!listed && column_family(name) == nullptr) missing.push_back(name);
  }
  if (!missing.empty()) {
    std::vector<rocksdb::ColumnFamilyHandle*> created;
    const rocksdb::Status status = db_->CreateColumnFamilies(Describe(missing), &created);
    // Those made before a failure stay open, so that they can be dropped.
    handles_.insert(handles_.end(), created.begin(), created.end());
    const std::string& failed = missing[std::min(created.size(), missing.size() - 1)];
    LEDGER_RETURN_IF_ERROR(FromRocks(status, "create " + failed));
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  for (const std::string& name : names) handles.push_back(column_family(name));
  return handles;
}

Status EventStore::DropColumnFamilies(const std::vector<std::string>& names) {
  std::vector<rocksdb::ColumnFamilyHandle*> dropped;
  for (rocksdb::ColumnFamilyHandle* handle : handles_) {
    if (std::find(names.begin(), names.end(), handle->GetName()) == names.end()) continue;
    LEDGER_CHECK(std::find(kOwnFamilies.begin(), kOwnFamilies.end(), handle->GetName()) ==
                 kOwnFamilies.end());
    dropped.push_back(handle);
  }
  if (dropped.empty()) return Status::Ok();
  LEDGER_RETURN_IF_ERROR(FromRocks(db_->DropColumnFamilies(dropped), "drop column families"));
  for (rocksdb::ColumnFamilyHandle* handle : dropped) {
    std::erase(handles_, handle);
    LEDGER_RETURN_IF_ERROR(
        FromRocks(db_->DestroyColumnFamilyHandle(handle), "drop column families"));
  }
  return Status::Ok();
}

std::vector<std::string> EventStore::ColumnFamilyNames() const {
  std::vector<std::string> names;
  for (rocksdb::ColumnFamilyHandle* handle : handles_) names.push_back(handle->GetName());
  return names;
}

rocksdb::ColumnFamilyHandle* EventStore::column_family(std::string_view name) const {
  for (rocksdb::ColumnFamilyHandle* handle : handles_) {
    if (handle->GetName() == name) return handle;
  }
  return nullptr;
}

Status EventStore::Get(rocksdb::ColumnFamilyHandle* cf, std::string_view key, std::string* value,
                       bool* found) const {
  const rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf, key, value);
  *found = s.ok();
  if (s.IsNotFound()) return Status::Ok();
  return FromRocks(s, "read");
}

Status EventStore::WriteSynced(rocksdb::WriteBatch* batch) {
  rocksdb::WriteOptions options;
  options.sync = true;
  return FromRocks(db_->Write(options, batch), "write");
}

Status EventStore::StageEvent(Envelope* envelope) {
  LEDGER_CHECK(!index_staged_);  // the batch's index entries are final
  LEDGER_CHECK(envelope->seq == pending_head_.seq + 1);
  value_buffer_.clear();
  EncodeEnvelope(pending_head_.hash, envelope, &value_buffer_);
  LEDGER_RETURN_IF_ERROR(
      FromRocks(batch_.Put(log_cf_, internal::LogKey(envelope->seq), value_buffer_), "stage"));
  // The account index and idempotency entries go in the batch at
  // StageIndexEntries or Seal.
  pending_account_seqs_[envelope->account].push_back(envelope->seq);
  pending_ids_.InsertOrAssign(envelope->event_id,
                              IdempotencyEntry{envelope->seq, envelope->content_digest});
  pending_head_.seq = envelope->seq;
  pending_head_.hash = envelope->hash;
  pending_head_.recorded_at_us = envelope->recorded_at_us;
  return Status::Ok();
}

// Event ids arrive in no order. In key order, each insert into the
// idempotency family's skip list starts from where the previous one landed
// (RocksDB keeps that splice for one writer at a time: see
// allow_concurrent_memtable_write), instead of searching from the top: 10%
// less append CPU on the benchmark stream at 1M events.
void EventStore::StageIdempotencyEntries() {
  std::vector<const IdMap::Map::value_type*> ids;
  ids.reserve(pending_ids_.map().size());
  for (const IdMap::Map::value_type& id : pending_ids_.map()) ids.push_back(&id);
  std::sort(ids.begin(), ids.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
  std::string value;
  for (const IdMap::Map::value_type* id : ids) {
    value.clear();
    AppendU64BE(id->second.seq, &value);
    value.append(reinterpret_cast<const char*>(id->second.content_digest.data()), 32);
    LEDGER_CHECK(batch_.Put(idempotency_cf_, internal::IdempotencyKey(id->first), value).ok());
  }
}

// One entry per account and batch instead of one per event: the key files
// the account's first event of the batch, the value the others. A batch of
// 16,384 events over 100 accounts writes 100 keys, where a key per event
// cost a tenth of the append's CPU (judged, logged, inserted, flushed).
void EventStore::StageAccountIndexEntries() {
  std::string value;
  for (const auto& [account, seqs] : pending_account_seqs_) {
    value.clear();
    for (size_t i = 1; i < seqs.size(); ++i) AppendU64BE(seqs[i], &value);
    LEDGER_CHECK(
        batch_.Put(account_index_cf_, internal::AccountIndexKey(account, seqs[0]), value).ok());
  }
  pending_account_seqs_.clear();
}

void EventStore::StageIndexEntries() {
  LEDGER_CHECK(!index_staged_);
  StageAccountIndexEntries();
  StageIdempotencyEntries();
  LEDGER_CHECK(batch_.Put(meta_cf_, internal::kMetaHead, EncodeHead(pending_head_)).ok());
  if (format_version_ < kFormatVersion) {
    // An older ledger: this batch's entries are the first of this version.
    // The batch ahead, if it is not yet written, marks it too: the same
    // value, put twice.
    std::string version;
    AppendU32BE(kFormatVersion, &version);
    LEDGER_CHECK(batch_.Put(meta_cf_, internal::kMetaFormatVersion, version).ok());
  }
  index_staged_ = true;
}

EventStore::SealedBatch EventStore::Seal() {
  LEDGER_CHECK(sealed_ids_.empty());  // one sealed batch at a time
  SealedBatch sealed;
  sealed.head = pending_head_;
  if (!index_staged_) StageIndexEntries();
  index_staged_ = false;
  std::swap(sealed.batch, batch_);
  std::swap(batch_, spare_batch_);
  batch_.Clear();  // Reuse gave back a batch with its entries
  std::swap(sealed_ids_, pending_ids_);
  return sealed;
}

Status EventStore::FlushMemtablesOver(uint64_t bytes_min) {
  uint64_t bytes = 0;
  if (!db_->GetAggregatedIntProperty(rocksdb::DB::Properties::kCurSizeAllMemTables, &bytes)) {
    return Status::IoError("cannot read the memtables' size");
  }
  if (bytes <= bytes_min) return Status::Ok();
  // RocksDB flushes the families of one call one after the other, waiting
  // for each: scheduling them all first lets its flush thread go from one
  // to the next without waiting for this one. Scheduling may be refused
  // (TryAgain while writes are stopped for too many unflushed memtables):
  // the waiting call then flushes what is left, and its status is the one
  // that counts.
  rocksdb::FlushOptions options;
  options.wait = false;
  IgnoreError(FromRocks(db_->Flush(options, handles_), "schedule the memtables' flush"));
  options.wait = true;
  return FromRocks(db_->Flush(options, handles_), "flush memtables");
}

Status EventStore::Write(SealedBatch* sealed) {
  const Status status = FromRocks(db_->Write(write_options_, &sealed->batch), "commit");
  if (!status.ok()) {
    // RocksDB stops all writes after a failed WAL write, so that nothing is
    // acknowledged after a hole. Resume() clears that once the cause is gone
    // (space freed, a transient I/O error); if it cannot, later appends keep
    // failing with a Status until the ledger is reopened.
    IgnoreError(FromRocks(db_->Resume(), "resume after a failed commit"));
  } else if (on_written_) {
    on_written_(sealed->batch);
  }
  return status;
}

void EventStore::Reuse(rocksdb::WriteBatch&& sealed) { spare_batch_ = std::move(sealed); }

void EventStore::ReleaseBatchBuffers() {
  spare_batch_ = rocksdb::WriteBatch();
  if (batch_.Count() == 0) batch_ = rocksdb::WriteBatch();  // else something is pending
}

void EventStore::Written(const Head& head) {
  head_ = head;
  format_version_ = kFormatVersion;
  sealed_ids_.Clear();
  DropPrefetch();
}

void EventStore::Abort() {
  index_staged_ = false;
  batch_.Clear();
  pending_account_seqs_.clear();
  pending_ids_.Clear();
  sealed_ids_.Clear();
  DropPrefetch();
  pending_head_ = head_;
}

namespace {

Result<std::optional<IdempotencyEntry>> DecodeIdempotencyValue(std::string_view event_id,
                                                               std::string_view value) {
  if (value.size() != internal::kIdempotencyValueBytes) {
    return Status::Corruption("idempotency entry of " + std::string(event_id) + " has a bad size");
  }
  IdempotencyEntry entry;
  entry.seq = ReadU64BE(value);
  std::copy_n(value.begin() + 8, 32, entry.content_digest.begin());
  return std::optional<IdempotencyEntry>(entry);
}

}  // namespace

const IdempotencyEntry* EventStore::FindUnwrittenEventId(std::string_view event_id) const {
  for (const IdMap* ids : {&pending_ids_, &sealed_ids_}) {
    if (const IdempotencyEntry* entry = ids->Find(event_id)) return entry;
  }
  return nullptr;
}

Result<std::optional<IdempotencyEntry>> EventStore::FindEventId(std::string_view event_id) const {
  if (const IdempotencyEntry* entry = FindUnwrittenEventId(event_id)) {
    return std::optional<IdempotencyEntry>(*entry);
  }
  return FindStoredEventId(event_id);
}

Result<std::optional<IdempotencyEntry>> EventStore::FindStoredEventId(
    std::string_view event_id) const {
  std::string value;
  bool found = false;
  LEDGER_RETURN_IF_ERROR(Get(idempotency_cf_, internal::IdempotencyKey(event_id), &value, &found));
  if (!found) return std::optional<IdempotencyEntry>();
  return DecodeIdempotencyValue(event_id, value);
}

Status EventStore::PrefetchEventIds(std::span<const std::string_view> event_ids) {
  DropPrefetch();
  const size_t count = event_ids.size();
  LEDGER_CHECK(count <= kAppendBatchEventsMax);
  if (count == 0) return Status::Ok();
  if (prefetched_ids_.size() < count) prefetched_ids_.resize(count);
  if (prefetch_values_.size() < count) prefetch_values_.resize(count);
  prefetch_keys_.clear();
  for (std::string_view event_id : event_ids) {
    prefetch_keys_.emplace_back(internal::IdempotencyKey(event_id));
  }
  prefetch_statuses_.assign(count, rocksdb::Status());
  db_->MultiGet(rocksdb::ReadOptions(), idempotency_cf_, count, prefetch_keys_.data(),
                prefetch_values_.data(), prefetch_statuses_.data());
  prefetch_keys_.clear();  // they point into the caller's strings
  Status status;
  for (size_t i = 0; i < count && status.ok(); ++i) {
    PrefetchedId& slot = prefetched_ids_[i];
    slot.event_id = event_ids[i];
    slot.entry.reset();
    const rocksdb::Status& read = prefetch_statuses_[i];
    if (read.ok()) {
      Result<std::optional<IdempotencyEntry>> entry =
          DecodeIdempotencyValue(event_ids[i], prefetch_values_[i].ToStringView());
      if (entry.ok()) slot.entry = *entry;
      status = entry.status();
    } else if (!read.IsNotFound()) {
      status = FromRocks(read, "read");
    }
  }
  for (size_t i = 0; i < count; ++i) prefetch_values_[i].Reset();
  if (status.ok()) prefetched_count_ = count;
  return status;
}

Result<std::optional<IdempotencyEntry>> EventStore::FindNextEventId(std::string_view event_id) {
  const PrefetchedId* prefetched = nullptr;
  if (prefetched_next_ < prefetched_count_ &&
      prefetched_ids_[prefetched_next_].event_id == event_id) {
    prefetched = &prefetched_ids_[prefetched_next_++];
  }
  if (const IdempotencyEntry* entry = FindUnwrittenEventId(event_id)) {
    return std::optional<IdempotencyEntry>(*entry);
  }
  if (prefetched == nullptr) return FindStoredEventId(event_id);
  return prefetched->entry;
}

void EventStore::DropPrefetch() {
  prefetched_count_ = 0;
  prefetched_next_ = 0;
}

Status EventStore::ReadEvent(uint64_t seq, Envelope* envelope) const {
  std::string value;
  LEDGER_RETURN_IF_ERROR(ReadRawEvent(seq, &value));
  LEDGER_RETURN_IF_ERROR(DecodeEnvelope(value, envelope));
  return CheckLogSeq(seq, *envelope);
}

Status EventStore::ReadRawEvent(uint64_t seq, std::string* value) const {
  const std::string what = "read event " + std::to_string(seq);
  const rocksdb::Status read =
      db_->Get(rocksdb::ReadOptions(), log_cf_, internal::LogKey(seq), value);
  if (read.IsNotFound()) return Status::NotFound(what + ": the log has no such event");
  return FromRocks(read, what);
}

Result<uint64_t> EventStore::LastSeqRecordedBy(int64_t recorded_at_us) const {
  // Binary search for the last seq with recorded_at <= the bound.
  uint64_t low = 0;            // recorded by the bound (or 0: none)
  uint64_t high = head_.seq;   // candidates are in (low, high]
  Envelope envelope;
  while (low < high) {
    const uint64_t middle = low + (high - low + 1) / 2;
    LEDGER_RETURN_IF_ERROR(ReadEvent(middle, &envelope));
    if (envelope.recorded_at_us <= recorded_at_us) {
      low = middle;
    } else {
      high = middle - 1;
    }
  }
  return low;
}

namespace {

// A long scan decodes on a second thread, a chunk of events at a time, while
// the caller's thread visits the chunk before: decoding (Cereal and the
// SHA-256 check) and reading blocks were half of a replay.
constexpr uint64_t kReadAheadEventsMin = 4096;  // shorter scans stay on one thread
constexpr size_t kChunkEvents = 256;
// Bounds the read-ahead's memory (16,384 Envelopes of 432 bytes, about 7 MB,
// plus their strings). Deep enough to keep reading
// while the visitor writes a replay batch (tens of ms): 8 chunks left each
// thread waiting a quarter of a 1M-event replay for the other. Of 8, 16,
// 32, 64, 128 and 256, 64 was fastest: 10-12% faster than 8 (interleaved
// runs).
constexpr size_t kChunksInFlight = 64;
constexpr size_t kReadAheadBytes = 2 << 20;  // RocksDB's file read-ahead for the scan

// The events were decoded on the reader's core: asking for the cache lines
// of the event two ahead while the visitor works on this one hides part of
// that transfer (a 1M-event replay 2-4% faster, interleaved runs).
void PrefetchEnvelope(const Envelope& envelope) {
  const char* bytes = reinterpret_cast<const char*>(&envelope);
  for (size_t offset = 0; offset < sizeof(Envelope); offset += 64) __builtin_prefetch(bytes + offset);
  if (!envelope.event_id.empty()) __builtin_prefetch(envelope.event_id.data());
}

}  // namespace

// Decoded events, and the error that ended the scan after them, if any.
struct internal::DecodedChunk {
  std::vector<Envelope> events;  // the first `size` are this chunk's
  size_t size = 0;
  Status status;
};
using internal::DecodedChunk;
using ChunkQueue = internal::BoundedQueue<std::unique_ptr<DecodedChunk>>;

Status EventStore::ScanEvents(uint64_t from_seq, uint64_t to_seq,
                              const std::function<bool(const Envelope&)>& visit) const {
  // Decided on the range alone: head_ belongs to the appending thread.
  if (to_seq < from_seq || to_seq - from_seq < kReadAheadEventsMin) {
    return ScanEventsInline(from_seq, to_seq, visit);
  }
  ChunkQueue decoded(kChunksInFlight);
  ChunkQueue spare(kChunksInFlight);
  for (size_t i = 0; i < kChunksInFlight; ++i) spare.Push(std::make_unique<DecodedChunk>());
  std::thread reader([&] {
    StopRocksPerfCounters();
    ReadAhead(from_seq, to_seq, &spare, &decoded);
    decoded.Close();
  });
  // However the scan ends, a visitor's exception included: closing both
  // queues stops the reader wherever it waits, and it is joined.
  struct StopReader {
    ChunkQueue& spare;
    ChunkQueue& decoded;
    std::thread& reader;
    ~StopReader() {
      spare.Close();
      decoded.Close();
      reader.join();
    }
  } stop_reader{spare, decoded, reader};
  Status status;
  while (std::optional<std::unique_ptr<DecodedChunk>> chunk = decoded.Pop()) {
    bool go_on = true;
    const std::vector<Envelope>& events = (*chunk)->events;
    for (size_t i = 0; i < (*chunk)->size && go_on; ++i) {
      if (i + 2 < (*chunk)->size) PrefetchEnvelope(events[i + 2]);
      go_on = visit(events[i]);
    }
    // A damaged event after the one the visitor stopped at is not its
    // concern: the one-thread scan would never have read it.
    if (!go_on) break;
    status = std::move((*chunk)->status);
    if (!status.ok()) break;
    spare.Push(std::move(*chunk));
  }
  return status;
}

void EventStore::ReadAhead(uint64_t from_seq, uint64_t to_seq, ChunkQueue* spare,
                           ChunkQueue* decoded) const {
  rocksdb::ReadOptions options;
  options.readahead_size = kReadAheadBytes;
  options.fill_cache = false;  // a one-pass scan: keep the cache for the hot blocks
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, log_cf_));
  std::optional<std::unique_ptr<DecodedChunk>> chunk = spare->Pop();
  if (!chunk) return;
  for (it->Seek(internal::LogKey(from_seq)); it->Valid(); it->Next()) {
    const uint64_t seq = ReadU64BE(it->key().ToStringView());
    if (seq > to_seq) break;
    DecodedChunk& current = **chunk;
    if (current.events.size() == current.size) current.events.emplace_back();
    current.status = DecodeLogEntry(seq, it->value().ToStringView(), &current.events[current.size]);
    if (!current.status.ok()) break;
    if (++current.size < kChunkEvents) continue;
    if (!decoded->Push(std::move(*chunk))) return;
    chunk = spare->Pop();
    if (!chunk) return;
    (*chunk)->size = 0;
  }
  if ((*chunk)->status.ok()) (*chunk)->status = FromRocks(it->status(), "scan log");
  decoded->Push(std::move(*chunk));
}

Status EventStore::ScanEventsInline(uint64_t from_seq, uint64_t to_seq,
                                    const std::function<bool(const Envelope&)>& visit) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), log_cf_));
  Envelope envelope;
  for (it->Seek(internal::LogKey(from_seq)); it->Valid(); it->Next()) {
    const uint64_t seq = ReadU64BE(it->key().ToStringView());
    if (seq > to_seq) break;
    LEDGER_RETURN_IF_ERROR(DecodeLogEntry(seq, it->value().ToStringView(), &envelope));
    if (!visit(envelope)) return Status::Ok();
  }
  return FromRocks(it->status(), "scan log");
}

Status EventStore::ScanAccountEvents(std::string_view account, uint64_t from_seq, uint64_t to_seq,
                                     const std::function<bool(const Envelope&)>& visit) const {
  const std::string prefix = internal::AccountIndexPrefix(account);
  std::unique_ptr<rocksdb::Iterator> index(
      db_->NewIterator(rocksdb::ReadOptions(), account_index_cf_));
  // One iterator over the log instead of a point read per event: an
  // account's events are often consecutive (a busy account, a lone one), and
  // stepping to the next key costs far less than a Get. It seeks only when
  // the wanted event is not a few keys ahead.
  std::unique_ptr<rocksdb::Iterator> log(db_->NewIterator(rocksdb::ReadOptions(), log_cf_));
  uint64_t log_seq = 0;  // the log iterator's key; 0: not positioned
  const auto of_account = [&] {
    const std::string_view key = index->key().ToStringView();
    return key.starts_with(prefix) && key.size() == prefix.size() + 8;
  };
  // The entry that files from_seq may begin before it: start from the last
  // entry at or before it, or else from the first after it.
  const std::string start = internal::AccountIndexKey(account, from_seq);
  index->SeekForPrev(start);
  if (!index->Valid() || !of_account()) index->Seek(start);
  Envelope envelope;
  uint64_t last_seq = 0;  // of the entries before
  for (; index->Valid() && of_account(); index->Next()) {
    const internal::IndexedSeqs seqs(ReadU64BE(index->key().ToStringView().substr(prefix.size())),
                                     index->value().ToStringView());
    if (!seqs.valid() || seqs[0] <= last_seq) {
      return Status::Corruption("account index entry of seq " + std::to_string(seqs[0]) +
                                " is malformed or overlaps the one before");
    }
    last_seq = seqs[seqs.size() - 1];
    for (size_t i = 0; i < seqs.size(); ++i) {
      const uint64_t seq = seqs[i];
      if (seq < from_seq) continue;
      if (seq > to_seq) return FromRocks(index->status(), "scan account index");
      LEDGER_RETURN_IF_ERROR(PositionLog(log.get(), seq, &log_seq));
      LEDGER_RETURN_IF_ERROR(DecodeLogEntry(seq, log->value().ToStringView(), &envelope));
      if (!visit(envelope)) return Status::Ok();
    }
  }
  return FromRocks(index->status(), "scan account index");
}

}  // namespace ledger
