#include "replay/audit.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <type_traits>
#include <utility>

#include "ledger/bytes.h"
#include "ledger/event_codec.h"
#include "ledger/event_fields.h"
#include "ledger/internal/state_store.h"
#include "ledger/internal/temp_dir.h"
#include "ledger/keys.h"
#include "ledger/rocks_status.h"
#include "ledger/rules.h"
#include "projections/internal/records.h"
#include "projections/projection_set.h"
#include "projections/snapshot_projection.h"

namespace ledger::replay {
namespace {

constexpr uint64_t kProgressEvery = 100'000;
// Events applied between writes of the rebuilt rules' state.
constexpr uint64_t kRulesStateBatchEvents = 50'000;

// A throwaway ledger in a folder of its own in the temporary folder,
// removed with everything in it; locked while in use, so that the next
// verify removes one a killed verify left (internal/temp_dir.h).
struct ScratchLedger {
  std::filesystem::path path;
  int lock = -1;
  std::unique_ptr<EventStore> store;

  static Result<ScratchLedger> Create(int32_t billing_offset_s) {
    Result<std::pair<std::string, int>> dir =
        internal::MakeLockedTempDir(internal::kVerifyDirPrefix, "a scratch folder for verify");
    if (!dir.ok()) return dir.status();
    ScratchLedger scratch;
    scratch.path = dir->first;
    scratch.lock = dir->second;
    StoreOptions options;
    options.path = dir->first;
    options.billing_offset_s = billing_offset_s;
    Result<std::unique_ptr<EventStore>> opened = EventStore::Open(options);
    if (!opened.ok()) return opened.status();
    scratch.store = std::move(*opened);
    return scratch;
  }
  ScratchLedger() = default;
  ScratchLedger(ScratchLedger&& other) noexcept
      : path(std::exchange(other.path, {})),
        lock(std::exchange(other.lock, -1)),
        store(std::move(other.store)) {}
  ~ScratchLedger() {
    store.reset();
    std::error_code ignored;
    if (!path.empty()) std::filesystem::remove_all(path, ignored);
    if (lock >= 0) close(lock);  // once removed: no sweep takes it first
  }
};

// An order-independent digest of a set of records: the XOR of their
// SHA-256s, with their count. Two sets of distinct records are equal when
// both agree; memory stays flat whatever the set's size.
struct SetDigest {
  Sha256 xor_of_hashes{};
  uint64_t count = 0;

  void Add(std::string_view record) {
    const Sha256 hash = HashBytes(record);
    for (size_t i = 0; i < hash.size(); ++i) xor_of_hashes[i] ^= hash[i];
    ++count;
  }
  bool operator==(const SetDigest&) const = default;
};

// One event filed under one account: the records the index digests are
// compared by, whichever entries file them.
std::string IndexRecord(std::string_view account, uint64_t seq) {
  return internal::AccountIndexKey(account, seq);
}

// An account index entry: the account and the events it files.
struct IndexEntry {
  std::string_view account;
  internal::IndexedSeqs seqs;
};

// An account index key's account and seq; nullopt when it is malformed.
std::optional<std::pair<std::string_view, uint64_t>> ParseIndexKey(std::string_view key) {
  const size_t account_size = key.empty() ? 0 : static_cast<uint8_t>(key[0]);
  if (key.size() != 1 + account_size + 8) return std::nullopt;
  return std::make_pair(key.substr(1, account_size), ReadU64BE(key.substr(1 + account_size)));
}

// The seq an account index key names; 0 when the key is malformed.
uint64_t KeySeq(std::string_view key) {
  const auto parsed = ParseIndexKey(key);
  return parsed ? parsed->second : 0;
}

// The entries of the index in key order: each of an account's entries must
// file events after the last one its entry before files (ScanAccountEvents
// relies on it; the set of events filed cannot show it).
class EntryOrder {
 public:
  // The last event of the account's entry before, when `entry` does not
  // follow it.
  std::optional<uint64_t> Follow(const IndexEntry& entry) {
    const bool same_account = any_ && entry.account == account_;
    const uint64_t before = last_seq_;
    any_ = true;
    account_ = entry.account;
    last_seq_ = entry.seqs[entry.seqs.size() - 1];
    if (same_account && entry.seqs[0] <= before) return before;
    return std::nullopt;
  }

 private:
  bool any_ = false;  // an entry was seen
  std::string account_;
  uint64_t last_seq_ = 0;
};

// nullopt when the key or the value is malformed.
std::optional<IndexEntry> ParseIndexEntry(std::string_view key, std::string_view value) {
  const auto parsed = ParseIndexKey(key);
  if (!parsed) return std::nullopt;
  IndexEntry entry{parsed->first, internal::IndexedSeqs(parsed->second, value)};
  if (!entry.seqs.valid()) return std::nullopt;
  return entry;
}

std::string IdempotencyRecord(std::string_view event_id, uint64_t seq, const Sha256& digest) {
  std::string record;
  AppendShortString(event_id.substr(0, 255), &record);
  record.append(event_id.size() > 255 ? event_id.substr(255) : std::string_view());
  AppendU64BE(seq, &record);
  record.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  return record;
}

// A key as a person can read it: printable ASCII as is, other bytes as \xNN.
std::string Printable(std::string_view key) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char c : key) {
    const auto byte = static_cast<uint8_t>(c);
    if (byte >= 0x20 && byte < 0x7f && c != '\\') {
      out.push_back(c);
    } else {
      out += "\\x";
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 15]);
    }
  }
  return out;
}

// Checks one proj_snapshots family against the log (Auditor::CheckProjections):
// its checkpoint, every account's counter, and every snapshot. The
// snapshots are compared during the audit's rebuild of the read models
// (AtEvent, called after each event): a snapshot of account A at seq S must
// equal A's keys in the rebuilt read models right after event S. Reports
// the first finding: checkpoint, then counters, then snapshots (a malformed
// key or one after the head, found before the rebuild, first; then the
// first snapshot in seq order that differs).
class SnapshotAuditor {
 public:
  SnapshotAuditor(const EventStore& store, rocksdb::ColumnFamilyHandle* family, uint64_t head_seq)
      : store_(store), reader_(store.db(), family), head_seq_(head_seq) {}

  // Before the rebuild: where the stored snapshots are.
  Status CollectSnapshots() {
    const std::string begin(1, projections::internal::kTagSnapshot);
    Status status;
    LEDGER_RETURN_IF_ERROR(reader_.Scan(
        begin, projections::internal::PrefixEnd(begin),
        [&](std::string_view key, std::string_view) {
          const size_t account_size = key.size() > 1 ? static_cast<uint8_t>(key[1]) : 0;
          if (key.size() != 2 + account_size + 8) {
            FailSnapshot(0, Printable(key), "a snapshot key of the wrong size");
            return false;
          }
          const std::string account(key.substr(2, account_size));
          const uint64_t seq = ReadU64BE(key.substr(2 + account_size));
          if (seq > head_seq_) {
            FailSnapshot(seq, Printable(key),
                         "a snapshot of account '" + account + "' after the log's head");
            return false;
          }
          if (seq == 0) {  // before any event: the empty state, a format byte alone
            status = CompareSnapshot(
                account, seq, std::string(1, static_cast<char>(projections::kSnapshotFormatV1)));
          } else {
            snapshot_accounts_[seq].push_back(account);
          }
          return status.ok() && !snapshot_failure_;
        }));
    return status;
  }

  // During the rebuild, right after event `envelope` was applied to
  // `read_models`: compares the snapshots stored at its seq. Events come in
  // seq order, so those are the first ones not compared yet, if any.
  Status AtEvent(const Envelope& envelope,
                 const std::vector<projections::ProjectionStore*>& read_models) {
    if (snapshot_failure_) return Status::Ok();
    const auto due = snapshot_accounts_.begin();
    if (due == snapshot_accounts_.end() || due->first != envelope.seq) return Status::Ok();
    for (const std::string& account : due->second) {
      std::string rebuilt;
      LEDGER_RETURN_IF_ERROR(projections::CaptureSnapshot(read_models, account, &rebuilt));
      LEDGER_RETURN_IF_ERROR(CompareSnapshot(account, envelope.seq, rebuilt));
      if (snapshot_failure_) break;
    }
    snapshot_accounts_.erase(due);
    return Status::Ok();
  }

  // After the rebuild: the first finding, if any. The counters are counted
  // through the account index: not checked when it is bad (already
  // reported), whose faults they would only echo.
  Result<std::optional<AuditFailure>> Finish(bool check_counters) {
    Result<uint64_t> checkpoint = projections::ReadCheckpoint(reader_);
    if (!checkpoint.ok()) return checkpoint.status();
    if (*checkpoint != head_seq_) {
      Fail(0, Printable(projections::internal::kCheckpointKey),
           "the snapshots' checkpoint is seq " + std::to_string(*checkpoint) + ", the log's head " +
               std::to_string(head_seq_));
      return std::move(failure_);
    }
    if (check_counters) LEDGER_RETURN_IF_ERROR(CheckCounters());
    if (!snapshot_accounts_.empty()) {  // a rebuild that stopped short
      const auto& [seq, accounts] = *snapshot_accounts_.begin();
      FailSnapshot(seq, Printable(projections::internal::SnapshotKey(accounts.front(), seq)),
                   "the rebuild did not reach this snapshot's seq");
    }
    if (!failure_) failure_ = std::move(snapshot_failure_);
    return std::move(failure_);
  }

 private:
  static constexpr size_t kFamilies = 3;  // the read models, MakeProjections' order

  void Fail(uint64_t seq, std::string key, std::string problem) {
    if (failure_) return;
    failure_ = MakeFailure(seq, std::move(key), std::move(problem));
  }
  void FailSnapshot(uint64_t seq, std::string key, std::string problem) {
    if (snapshot_failure_) return;
    snapshot_failure_ = MakeFailure(seq, std::move(key), std::move(problem));
  }
  static AuditFailure MakeFailure(uint64_t seq, std::string key, std::string problem) {
    return AuditFailure{"projections", seq,
                        std::string(projections::kSnapshotsFamily) + " " + std::move(key),
                        std::move(problem)};
  }

  // Every account with events has a counter equal to its event count, and
  // no counter names an account without events: one pass over the index.
  Status CheckCounters() {
    size_t accounts = 0;
    std::string account;
    uint64_t events = 0;
    const auto account_done = [&]() -> Status {
      if (events == 0 || account.empty()) return Status::Ok();  // price events: no counter
      ++accounts;
      return CheckCounter(account, events);
    };
    std::unique_ptr<rocksdb::Iterator> it(
        store_.db()->NewIterator(rocksdb::ReadOptions(), store_.account_index_cf()));
    // Only called once the index checked out: every entry parses.
    for (it->SeekToFirst(); it->Valid() && !failure_; it->Next()) {
      const std::optional<IndexEntry> entry =
          ParseIndexEntry(it->key().ToStringView(), it->value().ToStringView());
      LEDGER_CHECK(entry.has_value());
      if (entry->account != account) {
        LEDGER_RETURN_IF_ERROR(account_done());
        account = std::string(entry->account);
        events = 0;
      }
      events += entry->seqs.size();
    }
    if (!it->status().ok()) return FromRocks(it->status(), "scan account index");
    if (!failure_) LEDGER_RETURN_IF_ERROR(account_done());
    if (!failure_) LEDGER_RETURN_IF_ERROR(CheckNoStrayCounter(accounts));
    return Status::Ok();
  }

  Status CheckCounter(const std::string& account, uint64_t events) {
    const std::string key = projections::internal::SnapshotCounterKey(account);
    std::string value;
    bool found = false;
    LEDGER_RETURN_IF_ERROR(reader_.Get(key, &value, &found));
    if (!found || value.size() != 16 || ReadU64BE(value) != events) {
      Fail(0, Printable(key),
           "the snapshot counter of account '" + account + "' " +
               (found && value.size() == 16 ? "says " + std::to_string(ReadU64BE(value)) + " events"
                                            : "is missing or malformed") +
               "; the log has " + std::to_string(events));
    }
    return Status::Ok();
  }

  // CheckCounter matched `accounts` counters; any other is stray.
  Status CheckNoStrayCounter(size_t accounts) {
    const std::string begin(1, projections::internal::kTagSnapshotCounter);
    size_t counters = 0;
    LEDGER_RETURN_IF_ERROR(reader_.Scan(begin, projections::internal::PrefixEnd(begin),
                                        [&](std::string_view key, std::string_view) {
                                          if (++counters <= accounts) return true;
                                          Fail(0, Printable(key),
                                               "a snapshot counter for an account without events");
                                          return false;
                                        }));
    return Status::Ok();
  }

  // The stored snapshot of `account` at `seq` against the rebuilt state:
  // equal bytes, or else equal entries (the order aside).
  Status CompareSnapshot(const std::string& account, uint64_t seq, const std::string& rebuilt) {
    const std::string key = projections::internal::SnapshotKey(account, seq);
    std::string snapshot;
    bool found = false;
    LEDGER_RETURN_IF_ERROR(reader_.Get(key, &snapshot, &found));
    if (found && snapshot == rebuilt) return Status::Ok();
    std::string problem = "it vanished during the audit";
    if (found) {
      std::vector<projections::MemoryKv> state(kFamilies);
      LEDGER_RETURN_IF_ERROR(projections::ForEachSnapshotEntry(
          rebuilt, kFamilies,
          [&](uint8_t family, std::string_view entry_key, std::string_view value) {
            state[family].Put(entry_key, value);
            return true;
          }));
      problem = SnapshotDifference(snapshot, state);
    }
    if (!problem.empty()) {
      FailSnapshot(seq, Printable(key),
                   "the snapshot of account '" + account + "' at seq " + std::to_string(seq) +
                       " differs from a replay of the log: " + problem);
    }
    return Status::Ok();
  }

  // What first differs between a snapshot and the replayed state; empty
  // when they are equal.
  static std::string SnapshotDifference(std::string_view snapshot,
                                        const std::vector<projections::MemoryKv>& state) {
    std::string problem;
    std::vector<size_t> counts(kFamilies);
    std::string replayed;
    const Status decoded = projections::ForEachSnapshotEntry(
        snapshot, kFamilies, [&](uint8_t family, std::string_view key, std::string_view value) {
          ++counts[family];
          bool found = false;
          IgnoreError(state[family].Get(key, &replayed, &found));  // MemoryKv reads cannot fail
          if (!found || replayed != value) {
            problem = std::string(projections::kProjectionFamilies[family]) + " key " +
                      Printable(key) +
                      (found ? " has another value in the replay" : " is not in the replay");
          }
          return problem.empty();
        });
    if (!decoded.ok()) return "it is malformed (" + decoded.message() + ")";
    for (size_t family = 0; family < kFamilies && problem.empty(); ++family) {
      if (counts[family] != state[family].size()) {
        problem = std::string(projections::kProjectionFamilies[family]) + " has " +
                  std::to_string(state[family].size()) + " keys in the replay, " +
                  std::to_string(counts[family]) + " in the snapshot";
      }
    }
    return problem;
  }

  const EventStore& store_;
  const projections::RocksKvReader reader_;
  const uint64_t head_seq_;
  // Accounts with a snapshot at each seq not yet compared.
  std::map<uint64_t, std::vector<std::string>> snapshot_accounts_;
  std::optional<AuditFailure> failure_;           // checkpoint and counters
  std::optional<AuditFailure> snapshot_failure_;  // the snapshots
};

// The first field where a stored rating and the rules' differ, both values.
std::string RatingDifference(const Rating& stored, const Rating& judged) {
  std::string difference;
  const auto compare = [&difference](const std::string& field, const auto& a, const auto& b) {
    if (!difference.empty() || a == b) return;
    const auto text = [](const auto& value) {
      if constexpr (std::is_same_v<std::decay_t<decltype(value)>, std::string>) {
        return value;
      } else {
        return std::to_string(value);
      }
    };
    difference = field + ": stored " + text(a) + ", the rules give " + text(b);
  };
  compare("amount_e8", stored.amount_e8, judged.amount_e8);
  compare("unit_price_e10", stored.unit_price_e10, judged.unit_price_e10);
  compare("list_amount_e8", stored.list_amount_e8, judged.list_amount_e8);
  compare("order_start_s", stored.order_start_s, judged.order_start_s);
  compare("order_end_s", stored.order_end_s, judged.order_end_s);
  compare("invoice_number", stored.invoice_number, judged.invoice_number);
  compare("hours", stored.hours.size(), judged.hours.size());
  for (size_t i = 0; difference.empty() && i < stored.hours.size(); ++i) {
    const HourSlice& a = stored.hours[i];
    const HourSlice& b = judged.hours[i];
    const std::string of_hour = " of hour " + std::to_string(a.hour_start_s);
    compare("hour_start_s", a.hour_start_s, b.hour_start_s);
    compare("seconds" + of_hour, a.seconds, b.seconds);
    compare("price_per_hour_e10" + of_hour, a.price_per_hour_e10, b.price_per_hour_e10);
  }
  compare("refunds", stored.refunds.size(), judged.refunds.size());
  for (size_t i = 0; difference.empty() && i < stored.refunds.size(); ++i) {
    const OrderRefund& a = stored.refunds[i];
    const OrderRefund& b = judged.refunds[i];
    const std::string of_order = " of " + a.order_event_id;
    compare("refund order", a.order_event_id, b.order_event_id);
    compare("paid_e8" + of_order, a.paid_e8, b.paid_e8);
    compare("unused_e8" + of_order, a.unused_e8, b.unused_e8);
    compare("fee_e8" + of_order, a.fee_e8, b.fee_e8);
  }
  // Empty only while operator== compares no other field.
  return difference.empty() ? "equal field by field" : difference;
}

class Auditor {
 public:
  Auditor(EventStore& store, const AuditOptions& options)
      : store_(store), options_(options), zone_(store.billing_offset_s()) {}

  Result<AuditReport> Run() {
    report_.head_seq = store_.head().seq;
    report_.head_hash = store_.head().hash;
    LEDGER_RETURN_IF_ERROR(Check("table_files", true, [&] { return CheckTableFiles(); }));
    LEDGER_RETURN_IF_ERROR(Check("hash_chain", true, [&] { return CheckChain(); }));
    // The checks below read the log through the chain; a damaged block
    // elsewhere (a filter, another family's) does not stop them.
    const bool chain_ok = report_.checks.back().ok;
    LEDGER_RETURN_IF_ERROR(Check("account_index", chain_ok, [&] { return CheckAccountIndex(); }));
    index_ok_ = chain_ok && report_.checks.back().ok;
    LEDGER_RETURN_IF_ERROR(Check("idempotency", chain_ok, [&] { return CheckIdempotency(); }));
    LEDGER_RETURN_IF_ERROR(Check("rules_state", chain_ok, [&] { return CheckRulesState(); }));
    // Found while the rules' state is rebuilt: every event judged again.
    LEDGER_RETURN_IF_ERROR(
        Check("ratings", chain_ok && events_judged_, [&] { return ReportRatings(); }));
    LEDGER_RETURN_IF_ERROR(
        Check("projections", chain_ok && options_.projections, [&] { return CheckProjections(); }));
    if (options_.digest) {
      LEDGER_RETURN_IF_ERROR(Check("digest", chain_ok, [&] { return CheckDigest(); }));
    }
    return std::move(report_);
  }

 private:
  Status Check(const std::string& name, bool run, const std::function<Status()>& check) {
    AuditCheck& entry = report_.checks.emplace_back();
    entry.name = name;
    entry.ran = run;
    if (!run) return Status::Ok();
    const size_t failures_before = report_.failures.size();
    const Status status = check();
    // Damaged files under this check (a block that fails its checksum, a
    // missing table file) fail it, and the checks that need not read them
    // still run: an auditor sees every check's verdict, `table_files`'s
    // naming the damaged file among them.
    if (status.code() == Status::Code::kCorruption) {
      Fail(name, 0, "", status.message());
    } else {
      LEDGER_RETURN_IF_ERROR(status);
    }
    entry.ok = report_.failures.size() == failures_before;
    return Status::Ok();
  }

  void Fail(const std::string& check, uint64_t seq, std::string key, std::string problem) {
    report_.failures.push_back({check, seq, std::move(key), std::move(problem)});
  }

  // Every block of every table file against its checksum, including those
  // that the reads below never check: a damaged Bloom filter block is
  // passed over by RocksDB's reads (they search the data blocks instead),
  // so that only this finds it (a tester's flipped bytes, 3 of 84 missed).
  Status CheckTableFiles() {
    const rocksdb::Status verified = store_.db()->VerifyChecksum();
    if (verified.IsCorruption()) Fail("table_files", 0, "", verified.ToString());
    if (verified.IsCorruption() || verified.ok()) return Status::Ok();
    return FromRocks(verified, "verify table files");
  }

  Status CheckChain() {
    std::unique_ptr<rocksdb::Iterator> it(
        store_.db()->NewIterator(rocksdb::ReadOptions(), store_.log_cf()));
    uint64_t expected = 1;
    Sha256 prev_hash{};
    Envelope envelope;
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++expected) {
      report_.events = expected - 1;  // proven so far, should this one break the chain
      const std::string_view key = it->key().ToStringView();
      if (key.size() != 8) {
        Fail("hash_chain", expected, Printable(key), "a log key that is not a sequence number");
        return Status::Ok();
      }
      const uint64_t seq = ReadU64BE(key);
      if (seq != expected) {
        Fail("hash_chain", expected, "",
             "event " + std::to_string(expected) + " is missing: the next stored event is " +
                 std::to_string(seq));
        return Status::Ok();
      }
      const Status decoded = DecodeEnvelope(it->value().ToStringView(), &envelope);
      if (!decoded.ok()) {
        Fail("hash_chain", seq, "",
             "stored event " + std::to_string(seq) + " is damaged: " + decoded.message());
        return Status::Ok();
      }
      if (envelope.seq != seq) {
        Fail("hash_chain", seq, "",
             "the log's entry " + std::to_string(seq) + " holds event seq " +
                 std::to_string(envelope.seq));
        return Status::Ok();
      }
      if (envelope.prev_hash != prev_hash) {
        Fail("hash_chain", seq, "",
             "prev_hash of event " + std::to_string(seq) + " is not the hash of event " +
                 std::to_string(seq - 1));
        return Status::Ok();
      }
      prev_hash = envelope.hash;
      index_from_log_.Add(IndexRecord(envelope.account, seq));
      ids_from_log_.Add(IdempotencyRecord(envelope.event_id, seq, envelope.content_digest));
      if (seq % kProgressEvery == 0 && options_.progress) options_.progress(seq, report_.head_seq);
    }
    if (!it->status().ok()) return FromRocks(it->status(), "scan log");
    report_.events = expected - 1;
    if (report_.events != report_.head_seq || prev_hash != report_.head_hash) {
      Fail("hash_chain", report_.events + 1, "",
           "the ledger's head says seq " + std::to_string(report_.head_seq) + " hash " +
               HexOf(report_.head_hash) + ", the log ends at seq " +
               std::to_string(report_.events) + " hash " + HexOf(prev_hash));
    }
    return Status::Ok();
  }

  Status CheckAccountIndex() {
    SetDigest stored;
    EntryOrder order;
    bool malformed = false;
    LEDGER_RETURN_IF_ERROR(
        ScanFamily(store_.account_index_cf(), [&](std::string_view key, std::string_view value) {
          const std::optional<IndexEntry> entry = ParseIndexEntry(key, value);
          if (!entry || order.Follow(*entry).has_value()) return !(malformed = true);
          for (size_t i = 0; i < entry->seqs.size(); ++i) {
            stored.Add(IndexRecord(entry->account, entry->seqs[i]));
          }
          return true;
        }));
    if (!malformed && stored == index_from_log_) return Status::Ok();
    // Find the first entry that is wrong, then the first event not filed:
    // a bit per event of the log, which the chain check proved to hold seqs
    // 1..head. Entries in order, each filing only its account's events,
    // cannot file an event twice.
    const uint64_t head = store_.head().seq;
    std::vector<bool> filed(head + 1);
    order = EntryOrder();
    bool found = false;
    LEDGER_RETURN_IF_ERROR(
        ScanFamily(store_.account_index_cf(), [&](std::string_view key, std::string_view value) {
          const std::optional<IndexEntry> entry = ParseIndexEntry(key, value);
          if (!entry) {
            Fail("account_index", KeySeq(key), Printable(key), "a malformed account index entry");
            return !(found = true);
          }
          if (const std::optional<uint64_t> before = order.Follow(*entry)) {
            Fail("account_index", entry->seqs[0], Printable(key),
                 "overlaps the account's entry before, which files events up to " +
                     std::to_string(*before));
            return !(found = true);
          }
          for (size_t i = 0; i < entry->seqs.size(); ++i) {
            const uint64_t seq = entry->seqs[i];
            if (!CheckIndexed(entry->account, seq, Printable(key))) return !(found = true);
            filed[seq] = true;
          }
          return true;
        }));
    if (found) return Status::Ok();
    for (uint64_t seq = 1; seq <= head; ++seq) {
      if (filed[seq]) continue;
      Envelope envelope;
      LEDGER_RETURN_IF_ERROR(store_.ReadEvent(seq, &envelope));
      Fail("account_index", seq, Printable(IndexRecord(envelope.account, seq)),
           "event " + std::to_string(seq) + " has no account index entry");
      return Status::Ok();
    }
    return Status::Ok();
  }

  // Whether the log's event `seq` is under `account`; fails the check if not.
  bool CheckIndexed(std::string_view account, uint64_t seq, std::string key) {
    Envelope envelope;
    const Status read = store_.ReadEvent(seq, &envelope);
    if (read.ok() && envelope.account == account) return true;
    Fail("account_index", seq, std::move(key),
         read.ok() ? "files event " + std::to_string(seq) + " under account '" +
                         std::string(account) + "', but its account is '" + envelope.account + "'"
         : read.code() == Status::Code::kNotFound
             ? "names event " + std::to_string(seq) + ", which the log does not have"
             : "names event " + std::to_string(seq) + ", which cannot be read: " + read.ToString());
    return false;
  }

  Status CheckIdempotency() {
    SetDigest stored;
    bool malformed = false;
    LEDGER_RETURN_IF_ERROR(
        ScanFamily(store_.idempotency_cf(), [&](std::string_view key, std::string_view value) {
          if (value.size() != internal::kIdempotencyValueBytes) {
            Fail("idempotency", 0, Printable(key), "an idempotency entry of the wrong size");
            malformed = true;
            return false;
          }
          Sha256 digest;
          std::copy_n(value.begin() + 8, 32, digest.begin());
          stored.Add(IdempotencyRecord(key, ReadU64BE(value), digest));
          return true;
        }));
    if (malformed || stored == ids_from_log_) return Status::Ok();
    bool found = false;
    LEDGER_RETURN_IF_ERROR(
        ScanFamily(store_.idempotency_cf(), [&](std::string_view key, std::string_view value) {
          const uint64_t seq = ReadU64BE(value);
          Envelope envelope;
          const Status read = store_.ReadEvent(seq, &envelope);
          Sha256 digest;
          std::copy_n(value.begin() + 8, 32, digest.begin());
          if (!read.ok() || envelope.event_id != key || envelope.content_digest != digest) {
            Fail("idempotency", seq, Printable(key),
                 "the entry for event id '" + std::string(key) + "' does not match event " +
                     std::to_string(seq));
            return !(found = true);
          }
          return true;
        }));
    if (found) return Status::Ok();
    return store_.ScanEvents(1, UINT64_MAX, [&](const Envelope& envelope) {
      Result<std::optional<IdempotencyEntry>> entry = store_.FindEventId(envelope.event_id);
      if (!entry.ok() || !*entry) {
        Fail("idempotency", envelope.seq, Printable(envelope.event_id),
             "event " + std::to_string(envelope.seq) + " ('" + envelope.event_id +
                 "') has no idempotency entry: a re-send would be stored twice");
        return false;
      }
      return true;
    });
  }

  Status CheckProjections() {
    Result<uint64_t> generation = projections::CurrentGeneration(store_);
    if (!generation.ok()) return generation.status();
    const uint64_t scratch = *generation + 1;
    RebuildOptions rebuild_options;
    rebuild_options.progress = options_.progress;
    rebuild_options.snapshots = false;  // the stored ones are proven another way
    std::optional<SnapshotAuditor> snapshots = SnapshotsToCheck(*generation);
    if (snapshots) {
      LEDGER_RETURN_IF_ERROR(snapshots->CollectSnapshots());
      rebuild_options.after_event = [&](const Envelope& envelope, const auto& read_models) {
        return snapshots->AtEvent(envelope, read_models);
      };
    }
    Result<RebuildResult> fresh =
        BuildGeneration(store_, scratch, report_.head_seq, rebuild_options);
    if (!fresh.ok()) {
      IgnoreError(DropGeneration(store_, scratch));  // else dropped at the next build
      return fresh.status();
    }
    Status status;
    for (const FamilyDigest& expected : fresh->digests) {
      rocksdb::ColumnFamilyHandle* stored_family =
          store_.column_family(projections::FamilyName(expected.family, *generation));
      if (stored_family == nullptr) {
        Fail("projections", 0, expected.family, "the projection family does not exist");
        continue;
      }
      const projections::RocksKvReader stored(store_.db(), stored_family);
      Result<FamilyDigest> digest = DigestFamily(stored, expected.family);
      if (!digest.ok()) {
        status = digest.status();
        break;
      }
      report_.projection_digests.push_back(*digest);
      if (digest->digest == expected.digest) continue;
      status = ReportFirstDifference(expected.family, *generation, scratch);
      if (!status.ok()) break;
    }
    LEDGER_RETURN_IF_ERROR(DropGeneration(store_, scratch));
    LEDGER_RETURN_IF_ERROR(status);
    if (!snapshots) return Status::Ok();
    Result<std::optional<AuditFailure>> failure = snapshots->Finish(index_ok_);
    if (!failure.ok()) return failure.status();
    if (*failure) report_.failures.push_back(std::move(**failure));
    return Status::Ok();
  }

  // Snapshots sit where the account's event count crossed the interval the
  // writer used, which the log does not record, and a ledger may have been
  // caught up without them: so they are not compared with a rebuild's
  // snapshots, but each stored one is proven equal to the rebuilt state at
  // its seq, and each counter equal to its account's event count. Missing
  // snapshots are no finding: they only make queries slower. None on a
  // ledger older than snapshots.
  std::optional<SnapshotAuditor> SnapshotsToCheck(uint64_t generation) {
    rocksdb::ColumnFamilyHandle* family =
        store_.column_family(projections::FamilyName(projections::kSnapshotsFamily, generation));
    if (family == nullptr) return std::nullopt;
    return std::optional<SnapshotAuditor>(std::in_place, store_, family, report_.head_seq);
  }

  // Walks both families in key order, side by side, to the first key where
  // they differ. Iterators keep memory flat.
  Status ReportFirstDifference(const std::string& family, uint64_t stored_generation,
                               uint64_t fresh_generation) {
    std::unique_ptr<rocksdb::Iterator> stored(store_.db()->NewIterator(
        rocksdb::ReadOptions(),
        store_.column_family(projections::FamilyName(family, stored_generation))));
    std::unique_ptr<rocksdb::Iterator> fresh(store_.db()->NewIterator(
        rocksdb::ReadOptions(),
        store_.column_family(projections::FamilyName(family, fresh_generation))));
    ReportFirstDifference("projections", family, "stored projection", stored.get(), fresh.get());
    return Status::Ok();
  }

  // The first key where `stored` and `fresh` (a replay of the log) differ,
  // reported under `check` as `family` plus the key.
  void ReportFirstDifference(const std::string& check, const std::string& family,
                             const std::string& what, rocksdb::Iterator* stored,
                             rocksdb::Iterator* fresh) {
    stored->SeekToFirst();
    fresh->SeekToFirst();
    while (stored->Valid() || fresh->Valid()) {
      // A scan that ended on damage is no missing key (reported below).
      if (!stored->status().ok() || !fresh->status().ok()) break;
      const int order = !stored->Valid()  ? 1
                        : !fresh->Valid() ? -1
                                          : stored->key().compare(fresh->key());
      if (order < 0) {
        Fail(check, 0, family + " " + Printable(stored->key().ToStringView()),
             "the " + what + " has this key, a replay of the log does not");
        return;
      }
      if (order > 0) {
        Fail(check, 0, family + " " + Printable(fresh->key().ToStringView()),
             "a replay of the log has this key, the " + what + " does not");
        return;
      }
      if (stored->value() != fresh->value()) {
        Fail(check, 0, family + " " + Printable(stored->key().ToStringView()),
             "the " + what + "'s value differs from a replay of the log");
        return;
      }
      stored->Next();
      fresh->Next();
    }
    if (!stored->status().ok() || !fresh->status().ok()) {
      Fail(check, 0, family,
           "a scan failed: " + stored->status().ToString() + " / " + fresh->status().ToString());
    } else if (check == "projections") {
      Fail(check, 0, family, "the digests differ but no key does (a scan error?)");
    }
  }

  // The rules' state (families `state` and `usage_intervals`) follows from
  // the log too: RuleEngine::Apply of each event, in order. A wrong record
  // there bills no figure already shown but makes later appends judge and
  // rate wrongly. Rebuilt in a scratch ledger in the temporary folder and
  // compared key by key; the first difference is reported.
  //
  // On the way, each event is judged again against the rebuilt state, as
  // `ledger append` judged it (Ledger::AppendParsed), under the rules version
  // it was stored with: its fields' checks, then the rules, which must accept
  // it and give its stored rating; each finalized invoice must take the next
  // number. So every charge follows from the events and the price catalog in
  // the log, not only from what the log says it charged. The rebuild stops
  // at the first event that fails (Apply takes only events the rules accept,
  // as they rated them), and this check is then skipped.
  Status CheckRulesState() {
    Result<ScratchLedger> scratch = ScratchLedger::Create(store_.billing_offset_s());
    if (!scratch.ok()) return scratch.status();
    EventStore& fresh = *scratch->store;
    internal::StateStore state(&fresh);
    LEDGER_RETURN_IF_ERROR(state.Load());
    RuleEngine rules(&state, zone_);
    rocksdb::WriteOptions unlogged;  // a scratch ledger, dropped afterwards
    unlogged.disableWAL = true;
    const auto write = [&]() -> Status {
      state.Flush();
      const rocksdb::Status written = fresh.db()->Write(unlogged, &fresh.batch());
      if (!written.ok()) return FromRocks(written, "rules state rebuild");
      fresh.batch().Clear();
      state.OnWritten();
      return Status::Ok();
    };
    Status status;
    uint64_t applied = 0;
    uint64_t invoices_finalized = 0;
    LEDGER_RETURN_IF_ERROR(store_.ScanEvents(1, report_.head_seq, [&](const Envelope& envelope) {
      status = JudgeAgain(rules, envelope, invoices_finalized);
      if (!status.ok() || rating_failure_) return false;
      if (envelope.type() == EventType::kInvoiceFinalized) ++invoices_finalized;
      status = rules.Apply(envelope);
      if (status.ok() && ++applied % kRulesStateBatchEvents == 0) status = write();
      return status.ok();
    }));
    LEDGER_RETURN_IF_ERROR(status);
    events_judged_ = true;
    if (rating_failure_) {
      report_.checks.back().ran = false;  // the ratings check names the event
      return Status::Ok();
    }
    LEDGER_RETURN_IF_ERROR(write());
    if (invoices_finalized != store_.head().invoices_finalized) {
      rating_failure_ = AuditFailure{
          "ratings", 0, "meta head",
          "the head counts " + std::to_string(store_.head().invoices_finalized) +
              " finalized invoices, the log has " + std::to_string(invoices_finalized)};
    }
    const rocksdb::ReadOptions read_options;
    const std::pair<const char*, rocksdb::ColumnFamilyHandle* (EventStore::*)() const> families[] =
        {{"state", &EventStore::state_cf}, {"usage_intervals", &EventStore::intervals_cf}};
    for (const auto& [name, family] : families) {
      std::unique_ptr<rocksdb::Iterator> stored(
          store_.db()->NewIterator(read_options, (store_.*family)()));
      std::unique_ptr<rocksdb::Iterator> rebuilt(
          fresh.db()->NewIterator(read_options, (fresh.*family)()));
      ReportFirstDifference("rules_state", name, "stored rules' state", stored.get(),
                            rebuilt.get());
    }
    return Status::Ok();
  }

  // Judges a stored event again (CheckRulesState), as the typed append does:
  // its fields as the line that stands for it, then the rules. The first
  // event that fails either, or is rated otherwise, is the ratings check's
  // failure (rating_failure_).
  Status JudgeAgain(RuleEngine& rules, const Envelope& envelope, uint64_t invoices_finalized) {
    stored_event_.event_id = envelope.event_id;
    stored_event_.account = envelope.account;
    stored_event_.occurred_at_s = envelope.occurred_at_s;
    stored_event_.payload = envelope.payload;
    std::optional<RuleError> error =
        EventFields(stored_event_, zone_, &stored_line_, &fields_scratch_);
    if (!error) {
      judged_event_.event_id = envelope.event_id;
      error = DecodeEvent(stored_line_, &judged_event_);
    }
    if (!error) {
      rules.set_rules_version(envelope.rules_version);
      Result<std::optional<RuleError>> verdict =
          rules.Check(judged_event_, invoices_finalized, &judged_rating_);
      if (!verdict.ok()) return verdict.status();
      error = std::move(*verdict);
    }
    std::string problem;
    if (error) {
      problem = "the rules (version " + std::to_string(envelope.rules_version) +
                ") reject this event now: " + std::string(ErrorCodeName(error->code)) + ", " +
                error->message;
    } else if (judged_rating_ != envelope.rating) {
      problem = "its stored rating differs from the rules' (" +
                RatingDifference(envelope.rating, judged_rating_) + ")";
    }
    if (!problem.empty()) {
      rating_failure_ = AuditFailure{"ratings", envelope.seq, "",
                                     "event " + envelope.event_id + ": " + std::move(problem)};
    }
    return Status::Ok();
  }

  Status ReportRatings() {
    if (rating_failure_) report_.failures.push_back(std::move(*rating_failure_));
    return Status::Ok();
  }

  Status CheckDigest() {
    const LedgerDigest& digest = *options_.digest;
    if (digest.seq == 0) {
      // An empty ledger's digest (`ledger digest` before any event): the
      // chain's start, a prefix of every log.
      if (digest.hash != Sha256{}) {
        Fail("digest", 0, "", "a digest at seq 0 is the chain's start, whose hash is all zeros");
      }
      return Status::Ok();
    }
    if (digest.seq > report_.events) {
      Fail("digest", digest.seq, "",
           "the log has " + std::to_string(report_.events) + " events, fewer than the digest's " +
               std::to_string(digest.seq));
      return Status::Ok();
    }
    Envelope envelope;
    LEDGER_RETURN_IF_ERROR(store_.ReadEvent(digest.seq, &envelope));
    if (envelope.hash != digest.hash) {
      Fail("digest", digest.seq, "",
           "event " + std::to_string(digest.seq) + " has hash " + HexOf(envelope.hash) +
               ", not the digest's " + HexOf(digest.hash) +
               ": the first events are not the ones the digest was taken over");
    }
    return Status::Ok();
  }

  Status ScanFamily(rocksdb::ColumnFamilyHandle* family,
                    const std::function<bool(std::string_view, std::string_view)>& visit) {
    std::unique_ptr<rocksdb::Iterator> it(store_.db()->NewIterator(rocksdb::ReadOptions(), family));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (!visit(it->key().ToStringView(), it->value().ToStringView())) break;
    }
    if (!it->status().ok()) return FromRocks(it->status(), "scan");
    return Status::Ok();
  }

  EventStore& store_;
  const AuditOptions& options_;
  const BillingZone zone_;
  AuditReport report_;
  SetDigest index_from_log_;
  SetDigest ids_from_log_;
  bool index_ok_ = false;
  IncomingEvent stored_event_;  // reused by JudgeAgain: the event as stored,
  ParsedLine stored_line_;      // its fields,
  std::string fields_scratch_;
  IncomingEvent judged_event_;  // and as they decode
  Rating judged_rating_;
  std::optional<AuditFailure> rating_failure_;
  bool events_judged_ = false;  // CheckRulesState read the whole log (or to a rating failure)
};

}  // namespace

std::optional<LedgerDigest> ParseLedgerDigest(std::string_view text) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || text.size() - colon - 1 != 64) {
    return std::nullopt;
  }
  LedgerDigest digest;
  for (const char c : text.substr(0, colon)) {
    if (c < '0' || c > '9' || digest.seq > UINT64_MAX / 10 - 9) return std::nullopt;
    digest.seq = digest.seq * 10 + static_cast<uint64_t>(c - '0');
  }
  const std::string_view hex = text.substr(colon + 1);
  for (size_t i = 0; i < 32; ++i) {
    int byte = 0;
    for (const char c : hex.substr(2 * i, 2)) {
      const int nibble = c >= '0' && c <= '9'   ? c - '0'
                         : c >= 'a' && c <= 'f' ? c - 'a' + 10
                         : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                : -1;
      if (nibble < 0) return std::nullopt;
      byte = byte * 16 + nibble;
    }
    digest.hash[i] = static_cast<uint8_t>(byte);
  }
  return digest;
}

Result<AuditReport> Audit(EventStore& store, const AuditOptions& options) {
  return Auditor(store, options).Run();
}

}  // namespace ledger::replay
