// Replay, audit and historical lookups: verify names exactly what was
// tampered with; rebuilds swap in atomically; a digest proves a prefix.

#include "replay/audit.h"

#include <gtest/gtest.h>

#include <functional>

#include "bench/workload.h"
#include "ledger/bytes.h"
#include "ledger/cereal_io.h"
#include "ledger/event_codec.h"
#include "ledger/internal/state.h"
#include "ledger/keys.h"
#include "projection_test_util.h"
#include "replay/rebuild.h"

namespace ledger {
namespace {

using projection_test::Dump;
using projection_test::TestBook;
using replay::AuditReport;

// A small realistic ledger: generated CCM events, a few hundred.
std::vector<std::string> Workload(uint64_t events) {
  bench::WorkloadOptions options;
  options.events = events;
  options.accounts = 3;
  options.certs_per_account = 2;
  std::vector<std::string> lines;
  bench::GenerateWorkload(options, [&](const std::string& line) { lines.push_back(line); });
  return lines;
}

AuditReport AuditOrDie(TestBook& book, replay::AuditOptions options = {}) {
  Result<AuditReport> report = replay::Audit(book.ledger().store(), options);
  EXPECT_TRUE(report.ok()) << report.status().ToString();
  return report.ok() ? *report : AuditReport{};
}

// The only failure of a report (a copy: reports are temporaries here).
replay::AuditFailure OnlyFailure(const AuditReport& report) {
  EXPECT_EQ(report.failures.size(), 1u);
  return report.failures.empty() ? replay::AuditFailure{"none", 0, "", ""} : report.failures[0];
}

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const AppendResult& result : book_.Append(Workload(400), 64)) {
      ASSERT_EQ(result.outcome, AppendResult::Outcome::kAppended) << result.error.message;
    }
    book_.Reopen(/*with_projections=*/false);
  }

  EventStore& store() { return book_.ledger().store(); }
  std::string AccountOf(uint64_t seq) {
    Envelope envelope;
    EXPECT_TRUE(store().ReadEvent(seq, &envelope).ok());
    return envelope.account;
  }
  // Verify's only failure is the account index check's, at `seq`.
  void ExpectIndexFailure(uint64_t seq, const std::string& problem) {
    const replay::AuditFailure failure = OnlyFailure(AuditOrDie(book_));
    EXPECT_EQ(failure.check, "account_index");
    EXPECT_EQ(failure.seq, seq);
    EXPECT_EQ(failure.problem, problem);
  }
  // The only failure in `report` is the ratings check's, at `seq`, its
  // problem containing `problem_part`.
  static void ExpectRatingsFailure(const AuditReport& report, uint64_t seq,
                                   const std::string& problem_part) {
    const replay::AuditFailure failure = OnlyFailure(report);
    EXPECT_EQ(failure.check, "ratings");
    EXPECT_EQ(failure.seq, seq);
    EXPECT_NE(failure.problem.find(problem_part), std::string::npos) << failure.problem;
  }
  // Appends `lines` in one batch and returns their seqs; none when any was
  // not appended (a failure), so that the caller's count assertion stops it.
  std::vector<uint64_t> AppendAll(const std::vector<std::string>& lines) {
    std::vector<uint64_t> seqs;
    for (const AppendResult& result : book_.Append(lines)) {
      if (result.outcome != AppendResult::Outcome::kAppended) {
        ADD_FAILURE() << "not appended: " << result.error.message;
        return {};
      }
      seqs.push_back(result.seq);
    }
    return seqs;
  }
  std::string StoredValue(uint64_t seq) {
    std::string value;
    EXPECT_TRUE(store().ReadRawEvent(seq, &value).ok());
    return value;
  }
  void PutRaw(rocksdb::ColumnFamilyHandle* family, const std::string& key,
              const std::string& value) {
    ASSERT_TRUE(store().db()->Put(rocksdb::WriteOptions(), family, key, value).ok());
  }
  // The first key at or after `from` in `family`, and its value; an empty
  // key when there is none.
  std::pair<std::string, std::string> FirstRecord(rocksdb::ColumnFamilyHandle* family,
                                                  std::string_view from = "") {
    std::unique_ptr<rocksdb::Iterator> it(
        store().db()->NewIterator(rocksdb::ReadOptions(), family));
    it->Seek(rocksdb::Slice(from.data(), from.size()));
    if (!it->Valid()) return {};
    return {it->key().ToString(), it->value().ToString()};
  }
  // Verify's only failure is the rules' state check's, on a key of the
  // family `key_prefix` names, saying `problem`.
  void ExpectRulesStateFailure(const std::string& key_prefix, const std::string& problem) {
    const replay::AuditFailure failure = OnlyFailure(AuditOrDie(book_));
    EXPECT_EQ(failure.check, "rules_state");
    EXPECT_EQ(failure.key.rfind(key_prefix, 0), 0u) << failure.key;
    EXPECT_NE(failure.problem.find(problem), std::string::npos) << failure.problem;
  }

  // Rewrites the log from `seq` on as someone with write access and the
  // format could: `change` alters event `seq`, every later event is chained
  // again and the head follows; then the projections are rebuilt from the
  // altered log, so that they agree with it.
  void RewriteHistory(uint64_t seq, const std::function<void(Envelope*)>& change,
                      uint64_t invoices_finalized_delta = 0) {
    Head head = store().head();
    Sha256 prev_hash{};
    if (seq > 1) {
      Envelope before;
      ASSERT_TRUE(store().ReadEvent(seq - 1, &before).ok());
      prev_hash = before.hash;
    }
    for (uint64_t s = seq; s <= head.seq; ++s) {
      Envelope envelope;
      ASSERT_TRUE(store().ReadEvent(s, &envelope).ok());
      if (s == seq) change(&envelope);
      std::string value;
      EncodeEnvelope(prev_hash, &envelope, &value);
      PutRaw(store().log_cf(), internal::LogKey(s), value);
      prev_hash = envelope.hash;
    }
    std::string head_value;
    AppendU64BE(head.seq, &head_value);
    head_value.append(reinterpret_cast<const char*>(prev_hash.data()), prev_hash.size());
    AppendU64BE(static_cast<uint64_t>(head.recorded_at_us), &head_value);
    AppendU64BE(head.invoices_finalized + invoices_finalized_delta, &head_value);
    PutRaw(store().meta_cf(), std::string(internal::kMetaHead), head_value);
    book_.Reopen(false);
    ASSERT_TRUE(replay::Rebuild(store(), replay::RebuildOptions()).ok());
    book_.Reopen(false);
  }
  // The first event of `type`.
  uint64_t FirstOfType(EventType type) {
    for (uint64_t seq = 1; seq <= store().head().seq; ++seq) {
      Envelope envelope;
      EXPECT_TRUE(store().ReadEvent(seq, &envelope).ok());
      if (envelope.type() == type) return seq;
    }
    ADD_FAILURE() << "no event of type " << static_cast<int>(type);
    return 0;
  }

  TestBook book_;
};

TEST_F(AuditTest, AnUntouchedLedgerVerifies) {
  const AuditReport report = AuditOrDie(book_);
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.events, 400u);
  EXPECT_EQ(report.head_seq, 400u);
  ASSERT_EQ(report.checks.size(), 7u);
  for (const replay::AuditCheck& check : report.checks) {
    EXPECT_TRUE(check.ran && check.ok) << check.name;
  }
  EXPECT_EQ(report.projection_digests.size(), 3u);
}

// Every figure must follow from the events, not only from what the log says
// it charged: a history rewritten with a wrong charge, chained again and its
// projections rebuilt, passes every check but judging each event again.
TEST_F(AuditTest, ARechainedHistoryWithAnAlteredChargeIsCaught) {
  const uint64_t seq = FirstOfType(EventType::kUsageRecorded);
  int64_t hour_start_s = 0;
  RewriteHistory(seq, [&](Envelope* envelope) {
    hour_start_s = envelope->rating.hours[0].hour_start_s;
    envelope->rating.hours[0].seconds += 3600;
  });
  const AuditReport report = AuditOrDie(book_);
  ExpectRatingsFailure(report, seq, "seconds of hour " + std::to_string(hour_start_s));
  for (const replay::AuditCheck& check : report.checks) {
    EXPECT_EQ(check.ok, check.name != "ratings") << check.name;
  }
}

TEST_F(AuditTest, ARechainedEventTheRulesRejectIsCaught) {
  // A usage tick moved onto a resource that does not exist.
  const uint64_t seq = FirstOfType(EventType::kUsageRecorded);
  RewriteHistory(seq, [](Envelope* envelope) {
    std::get<UsageRecorded>(envelope->payload).resource_id = "no-such-resource";
  });
  const AuditReport report = AuditOrDie(book_);
  ExpectRatingsFailure(report, seq,
                       "the rules (version 3) reject this event now: unknown_resource");
  // The rules' state is not rebuilt past that event: its check is skipped.
  for (const replay::AuditCheck& check : report.checks) {
    EXPECT_EQ(check.ran, check.name != "rules_state") << check.name;
  }
}

// A re-chained event is judged by its fields' checks too, as a line would
// be: a tick that ends before it starts is refused, not rated (nothing is
// applied after it, so the rules' state is not rebuilt past it).
TEST_F(AuditTest, ARechainedEventWithImpossibleFieldsIsCaught) {
  const uint64_t seq = FirstOfType(EventType::kUsageRecorded);
  RewriteHistory(seq, [](Envelope* envelope) {
    auto& usage = std::get<UsageRecorded>(envelope->payload);
    std::swap(usage.from_s, usage.to_s);
    envelope->rating.hours.clear();
  });
  const AuditReport report = AuditOrDie(book_);
  ExpectRatingsFailure(report, seq, "reject this event now: invalid_field");
}

// Each event is judged again under the rules version it was stored with: a
// rule added later (version 2: nothing dated before its account's opening)
// does not condemn an event stored before it, and does condemn one stored
// after it.
TEST_F(AuditTest, EventsAreJudgedAgainUnderTheRulesTheyWereStoredWith) {
  book_.Reopen();
  const std::vector<uint64_t> seqs = AppendAll(
      {R"({"type":"account_opened","event_id":"late-open","account":"late",)"
       R"("occurred_at":"2026-03-01T00:00:00+08:00","currency":"USD"})",
       R"({"type":"adjustment_posted","event_id":"late-adj","account":"late",)"
       R"("occurred_at":"2026-03-02T00:00:00+08:00","amount":"-1.5","reason":"credit"})"});
  ASSERT_EQ(seqs.size(), 2u);
  book_.Reopen(false);
  const uint64_t seq = seqs[1];
  const int64_t before_opening_s = 1'772'294'400 - 86'400;  // 2026-02-28T00:00:00+08:00
  RewriteHistory(seq, [&](Envelope* envelope) {
    envelope->occurred_at_s = before_opening_s;
    envelope->rules_version = 1;
  });
  EXPECT_TRUE(AuditOrDie(book_).ok()) << OnlyFailure(AuditOrDie(book_)).problem;

  RewriteHistory(seq, [](Envelope* envelope) { envelope->rules_version = 2; });
  ExpectRatingsFailure(AuditOrDie(book_), seq,
                       "the rules (version 2) reject this event now: invalid_field, "
                       "occurred_at precedes the opening of account late");
}

// Rules version 3 refuses a subscription's deletion dated before a renewal
// already recorded. A deletion stored under version 2 is judged again
// under version 2, which had no such rule; the same event stored under
// version 3 is caught.
TEST_F(AuditTest, AnEndingBeforeARenewalIsJudgedUnderItsOwnRulesVersion) {
  book_.Reopen();
  const std::vector<uint64_t> seqs =
      AppendAll({R"({"type":"account_opened","event_id":"sub-open","account":"sub",)"
                 R"("occurred_at":"2026-03-01T00:00:00+08:00","currency":"USD"})",
                 R"({"type":"resource_created","event_id":"sub-buy","account":"sub",)"
                 R"("occurred_at":"2026-03-01T10:00:00+08:00","resource_id":"ca-m",)"
                 R"("resource_type":"private_ca","ca_type":"root","billing_mode":"yearly_monthly",)"
                 R"("period_unit":"month","periods":1})",
                 R"({"type":"subscription_renewed","event_id":"sub-renew","account":"sub",)"
                 R"("occurred_at":"2026-03-20T10:00:00+08:00","resource_id":"ca-m",)"
                 R"("period_unit":"month","periods":1})",
                 R"({"type":"resource_deleted","event_id":"sub-delete","account":"sub",)"
                 R"("occurred_at":"2026-03-21T10:00:00+08:00","resource_id":"ca-m"})"});
  ASSERT_EQ(seqs.size(), 4u);
  book_.Reopen(false);
  const uint64_t seq = seqs[3];
  const int64_t before_renewal_s = 1'773'972'000 - 86'400;  // 2026-03-19T10:00:00+08:00
  RewriteHistory(seq, [&](Envelope* envelope) {
    envelope->occurred_at_s = before_renewal_s;
    envelope->rules_version = 2;
  });
  // The forger rewrites the rules' state to match: the deletion's time.
  const std::string key = internal::ScopedKey(internal::kTagResource, "sub", "ca-m");
  std::string value;
  bool found = false;
  ASSERT_TRUE(store().Get(store().state_cf(), key, &value, &found).ok());
  ASSERT_TRUE(found);
  internal::ResourceState resource;
  ASSERT_TRUE(DecodeCereal(value, &resource).ok());
  resource.deleted_at_s = before_renewal_s;
  value.clear();
  EncodeCereal(resource, &value);
  PutRaw(store().state_cf(), key, value);
  EXPECT_TRUE(AuditOrDie(book_).ok()) << OnlyFailure(AuditOrDie(book_)).problem;

  RewriteHistory(seq, [](Envelope* envelope) { envelope->rules_version = 3; });
  ExpectRatingsFailure(AuditOrDie(book_), seq,
                       "the rules (version 3) reject this event now: invalid_field, "
                       "occurred_at precedes the renewal of ca-m at "
                       "2026-03-20T10:00:00+08:00");
}

// Invoice numbers are one gapless sequence: the head's count of finalized
// invoices, from which the next number is given, must be the log's.
TEST_F(AuditTest, AHeadCountingOtherInvoicesIsCaught) {
  RewriteHistory(
      store().head().seq, [](Envelope*) {}, /*invoices_finalized_delta=*/5);
  const replay::AuditFailure failure = OnlyFailure(AuditOrDie(book_));
  EXPECT_EQ(failure.check, "ratings");
  EXPECT_EQ(failure.key, "meta head");
  EXPECT_NE(failure.problem.find("finalized invoices, the log has"), std::string::npos)
      << failure.problem;
}

TEST_F(AuditTest, AFlippedByteNamesItsEvent) {
  std::string value = StoredValue(137);
  value[value.size() / 2] ^= 0x01;
  PutRaw(store().log_cf(), internal::LogKey(137), value);
  const replay::AuditFailure failure = OnlyFailure(AuditOrDie(book_));
  EXPECT_EQ(failure.check, "hash_chain");
  EXPECT_EQ(failure.seq, 137u);
  EXPECT_EQ(AuditOrDie(book_).events, 136u);  // the events proven before it
  EXPECT_NE(failure.problem.find("damaged"), std::string::npos) << failure.problem;
}

TEST_F(AuditTest, AFlippedByteInTheHashOrPrevHashIsCaughtToo) {
  std::string value = StoredValue(50);
  value[value.size() - 40] ^= 0x80;  // inside prev_hash
  PutRaw(store().log_cf(), internal::LogKey(50), value);
  EXPECT_EQ(OnlyFailure(AuditOrDie(book_)).seq, 50u);
}

TEST_F(AuditTest, ADeletedEventIsAGap) {
  ASSERT_TRUE(
      store().db()->Delete(rocksdb::WriteOptions(), store().log_cf(), internal::LogKey(200)).ok());
  const replay::AuditFailure failure = OnlyFailure(AuditOrDie(book_));
  EXPECT_EQ(failure.check, "hash_chain");
  EXPECT_EQ(failure.seq, 200u);
  EXPECT_NE(failure.problem.find("missing"), std::string::npos) << failure.problem;
}

TEST_F(AuditTest, TwoSwappedEventsAreNamed) {
  const std::string a = StoredValue(300);
  const std::string b = StoredValue(301);
  PutRaw(store().log_cf(), internal::LogKey(300), b);
  PutRaw(store().log_cf(), internal::LogKey(301), a);
  const replay::AuditFailure failure = OnlyFailure(AuditOrDie(book_));
  EXPECT_EQ(failure.check, "hash_chain");
  EXPECT_EQ(failure.seq, 300u);
  EXPECT_NE(failure.problem.find("holds event seq 301"), std::string::npos) << failure.problem;
}

TEST_F(AuditTest, AnAlteredProjectionValueNamesItsKey) {
  rocksdb::ColumnFamilyHandle* invoices = store().column_family("proj_invoices");
  ASSERT_NE(invoices, nullptr);
  // Change the amount of the first hourly-usage line.
  auto [key, value] = FirstRecord(invoices, "u");
  ASSERT_TRUE(key.starts_with("u")) << key;
  value[15] ^= 0x01;
  PutRaw(invoices, key, value);
  const AuditReport report = AuditOrDie(book_);
  const replay::AuditFailure failure = OnlyFailure(report);
  EXPECT_EQ(failure.check, "projections");
  EXPECT_EQ(failure.key.rfind("proj_invoices u", 0), 0u) << failure.key;
  EXPECT_NE(failure.problem.find("differs"), std::string::npos) << failure.problem;
  // The scratch families of the check are gone again.
  for (const std::string& name : store().ColumnFamilyNames()) {
    EXPECT_EQ(name.find('#'), std::string::npos) << name;
  }
}

// The rules' state is not a figure anyone reads, but later appends are
// judged and rated from it: verify rebuilds it from the log and compares.
TEST_F(AuditTest, AnAlteredRulesStateRecordNamesItsKey) {
  auto [key, value] = FirstRecord(store().state_cf());
  ASSERT_FALSE(value.empty());
  value.back() ^= 0x01;
  PutRaw(store().state_cf(), key, value);
  ExpectRulesStateFailure("state ", "differs from a replay of the log");
}

TEST_F(AuditTest, ADeletedUsageIntervalIsNamed) {
  const std::string key = FirstRecord(store().intervals_cf()).first;
  ASSERT_FALSE(key.empty());
  ASSERT_TRUE(store().db()->Delete(rocksdb::WriteOptions(), store().intervals_cf(), key).ok());
  ExpectRulesStateFailure("usage_intervals ", "a replay of the log has this key");
}

TEST_F(AuditTest, ADroppedIdempotencyEntryNamesItsEvent) {
  Envelope envelope;
  ASSERT_TRUE(store().ReadEvent(222, &envelope).ok());
  ASSERT_TRUE(store()
                  .db()
                  ->Delete(rocksdb::WriteOptions(), store().idempotency_cf(), envelope.event_id)
                  .ok());
  const replay::AuditFailure failure = OnlyFailure(AuditOrDie(book_));
  EXPECT_EQ(failure.check, "idempotency");
  EXPECT_EQ(failure.seq, 222u);
  EXPECT_NE(failure.problem.find(envelope.event_id), std::string::npos) << failure.problem;
}

// The account index entry that files event `seq` of `account`: its key and
// the events it files. One entry per account and batch (the workload is
// appended 64 events at a time), so most events are not their entry's key.
struct FiledEntry {
  std::string key;
  std::vector<uint64_t> seqs;
};
FiledEntry EntryFiling(EventStore& store, const std::string& account, uint64_t seq) {
  const std::string prefix = internal::AccountIndexPrefix(account);
  std::unique_ptr<rocksdb::Iterator> it(
      store.db()->NewIterator(rocksdb::ReadOptions(), store.account_index_cf()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    const internal::IndexedSeqs seqs(ReadU64BE(it->key().ToStringView().substr(prefix.size())),
                                     it->value().ToStringView());
    FiledEntry entry{it->key().ToString(), {}};
    for (size_t i = 0; i < seqs.size(); ++i) entry.seqs.push_back(seqs[i]);
    if (std::find(entry.seqs.begin(), entry.seqs.end(), seq) != entry.seqs.end()) return entry;
  }
  ADD_FAILURE() << "no entry files event " << seq;
  return {};
}

// The entry's value for events `seqs` (the first is in the key).
std::string IndexValue(const std::vector<uint64_t>& seqs) {
  std::string value;
  for (size_t i = 1; i < seqs.size(); ++i) AppendU64BE(seqs[i], &value);
  return value;
}

TEST_F(AuditTest, AWrongAccountIndexEntryIsNamed) {
  const std::string account = AccountOf(99);
  const FiledEntry entry = EntryFiling(store(), account, 99);
  ASSERT_GE(entry.seqs.size(), 3u);
  ASSERT_NE(entry.seqs.front(), 99u);
  std::vector<uint64_t> others = entry.seqs;
  others.erase(std::find(others.begin(), others.end(), 99));
  PutRaw(store().account_index_cf(), entry.key, IndexValue(others));
  PutRaw(store().account_index_cf(), internal::AccountIndexKey("someone-else", 99), "");
  ExpectIndexFailure(
      99, "files event 99 under account 'someone-else', but its account is '" + account + "'");
}

TEST_F(AuditTest, AnEventDroppedFromItsIndexEntryIsNamed) {
  const std::string account = AccountOf(99);
  const FiledEntry entry = EntryFiling(store(), account, 99);
  std::vector<uint64_t> others = entry.seqs;
  others.erase(std::find(others.begin(), others.end(), 99));
  ASSERT_FALSE(others.empty());
  ASSERT_TRUE(
      store().db()->Delete(rocksdb::WriteOptions(), store().account_index_cf(), entry.key).ok());
  PutRaw(store().account_index_cf(), internal::AccountIndexKey(account, others.front()),
         IndexValue(others));
  ExpectIndexFailure(99, "event 99 has no account index entry");
}

// Filed twice, by its own entry and by one of its own: the set of events
// filed shows it, and so does the order an account's scan relies on.
TEST_F(AuditTest, AnEntryOverlappingTheOneBeforeIsNamed) {
  const std::string account = AccountOf(99);
  const FiledEntry entry = EntryFiling(store(), account, 99);
  ASSERT_NE(entry.seqs.front(), 99u);
  PutRaw(store().account_index_cf(), internal::AccountIndexKey(account, 99), "");
  ExpectIndexFailure(99, "overlaps the account's entry before, which files events up to " +
                             std::to_string(entry.seqs.back()));
}

// The same set of events, filed in two entries that interleave: no event
// is missing or doubled, but a scan from the second entry's key would miss
// the first entry's later events.
TEST_F(AuditTest, InterleavedEntriesAreNamed) {
  const std::string account = AccountOf(99);
  const FiledEntry entry = EntryFiling(store(), account, 99);
  ASSERT_GE(entry.seqs.size(), 3u);
  ASSERT_NE(entry.seqs.front(), 99u);
  // [a, b, c, ...] becomes [a, c, ...] and [b].
  std::vector<uint64_t> without_second = entry.seqs;
  without_second.erase(without_second.begin() + 1);
  PutRaw(store().account_index_cf(), entry.key, IndexValue(without_second));
  PutRaw(store().account_index_cf(), internal::AccountIndexKey(account, entry.seqs[1]), "");
  ExpectIndexFailure(entry.seqs[1],
                     "overlaps the account's entry before, which files events up to " +
                         std::to_string(entry.seqs.back()));
}

TEST_F(AuditTest, AnEntryNamingAnEventTheLogLacksIsNamed) {
  const std::string account = AccountOf(99);
  const FiledEntry entry = EntryFiling(store(), account, 99);
  std::vector<uint64_t> more = entry.seqs;
  more.push_back(store().head().seq + 1);
  PutRaw(store().account_index_cf(), entry.key, IndexValue(more));
  ExpectIndexFailure(
      store().head().seq + 1,
      "names event " + std::to_string(store().head().seq + 1) + ", which the log does not have");
}

TEST_F(AuditTest, AMalformedAccountIndexValueIsNamed) {
  const std::string account = AccountOf(99);
  const FiledEntry entry = EntryFiling(store(), account, 99);
  ASSERT_GE(entry.seqs.size(), 3u);
  // Events out of order: the last one first.
  std::vector<uint64_t> shuffled(entry.seqs.begin() + 1, entry.seqs.end());
  std::rotate(shuffled.begin(), shuffled.end() - 1, shuffled.end());
  shuffled.insert(shuffled.begin(), entry.seqs.front());
  PutRaw(store().account_index_cf(), entry.key, IndexValue(shuffled));
  ExpectIndexFailure(entry.seqs.front(), "a malformed account index entry");
}

TEST_F(AuditTest, AnAccountIndexValueOfPartSeqsIsNamed) {
  const FiledEntry entry = EntryFiling(store(), AccountOf(99), 99);
  PutRaw(store().account_index_cf(), entry.key, IndexValue(entry.seqs) + "\x01");
  ExpectIndexFailure(entry.seqs.front(), "a malformed account index entry");
}

TEST_F(AuditTest, AMalformedAccountIndexKeyIsNamed) {
  PutRaw(store().account_index_cf(),
         std::string("\x05"
                     "acme"
                     "\x01",
                     6),
         "");  // 8 seq bytes short
  ExpectIndexFailure(0, "a malformed account index entry");
}

TEST_F(AuditTest, ADigestProvesThePrefixAfterMoreAppends) {
  const Head head = book_.ledger().head();
  book_.Reopen();
  std::vector<std::string> more = Workload(450);
  more.erase(more.begin(), more.begin() + 400);
  book_.Append(more);
  book_.Reopen(false);
  ASSERT_GT(book_.ledger().head().seq, head.seq);
  replay::AuditOptions options;
  options.digest = replay::LedgerDigest{head.seq, head.hash};
  EXPECT_TRUE(AuditOrDie(book_, options).ok());
  options.digest->hash[0] ^= 1;
  const replay::AuditFailure failure = OnlyFailure(AuditOrDie(book_, options));
  EXPECT_EQ(failure.check, "digest");
  EXPECT_EQ(failure.seq, head.seq);
  options.digest = replay::LedgerDigest{head.seq + 1000, head.hash};
  EXPECT_EQ(OnlyFailure(AuditOrDie(book_, options)).check, "digest");
}

// `ledger digest` of an empty ledger prints seq 0 and the zero hash: the
// chain's start, which every log extends.
TEST_F(AuditTest, TheEmptyLedgersDigestProvesTheEmptyPrefix) {
  replay::AuditOptions options;
  options.digest = replay::ParseLedgerDigest("0:" + std::string(64, '0'));
  ASSERT_TRUE(options.digest.has_value());
  EXPECT_TRUE(AuditOrDie(book_, options).ok());
  options.digest = replay::ParseLedgerDigest("0:" + std::string(63, '0') + "1");
  const replay::AuditFailure failure = OnlyFailure(AuditOrDie(book_, options));
  EXPECT_EQ(failure.check, "digest");
  EXPECT_NE(failure.problem.find("whose hash is all zeros"), std::string::npos) << failure.problem;
}

TEST_F(AuditTest, ParsesDigestsAsPrinted) {
  const std::string hex(64, 'a');
  const std::optional<replay::LedgerDigest> digest = replay::ParseLedgerDigest("42:" + hex);
  ASSERT_TRUE(digest.has_value());
  EXPECT_EQ(digest->seq, 42u);
  EXPECT_EQ(digest->hash[31], 0xaa);
  EXPECT_FALSE(replay::ParseLedgerDigest("42:" + hex.substr(1)).has_value());
  EXPECT_FALSE(replay::ParseLedgerDigest(":" + hex).has_value());
  EXPECT_FALSE(replay::ParseLedgerDigest("4x:" + hex).has_value());
}

TEST_F(AuditTest, ARebuildInstallsAnIdenticalGenerationAndDropsTheOld) {
  const auto stored = [&] {
    std::vector<std::map<std::string, std::string>> dumps;
    for (const char* family : {"proj_usage", "proj_invoices", "proj_subscriptions"}) {
      Result<uint64_t> generation = projections::CurrentGeneration(store());
      dumps.push_back(Dump(projections::RocksKvReader(
          store().db(), store().column_family(projections::FamilyName(family, *generation)))));
    }
    return dumps;
  };
  const auto before = stored();
  replay::RebuildOptions options;
  options.batch_events_max = 37;  // many small batches
  Result<replay::RebuildResult> rebuilt = replay::Rebuild(store(), options);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().ToString();
  EXPECT_EQ(rebuilt->events, 400u);
  EXPECT_EQ(rebuilt->generation, 1u);
  EXPECT_EQ(*projections::CurrentGeneration(store()), 1u);
  EXPECT_EQ(stored(), before);
  // Every family of generation 0 is dropped, in the database too.
  for (const std::string_view base : projections::kProjectionFamilies) {
    EXPECT_EQ(store().column_family(projections::FamilyName(base, 0)), nullptr) << base;
  }
  // Queries and appends go on against generation 1.
  book_.Reopen();
  for (const std::string_view base : projections::kProjectionFamilies) {
    EXPECT_EQ(store().column_family(projections::FamilyName(base, 0)), nullptr) << base;
    EXPECT_NE(store().column_family(projections::FamilyName(base, 1)), nullptr) << base;
  }
  std::vector<std::string> more = Workload(420);
  more.erase(more.begin(), more.begin() + 400);
  for (const AppendResult& result : book_.Append(more)) {
    EXPECT_EQ(result.outcome, AppendResult::Outcome::kAppended) << result.error.message;
  }
  book_.Reopen(false);
  EXPECT_TRUE(AuditOrDie(book_).ok());
}

TEST_F(AuditTest, ARebuildToAnEarlierSeqReportsButDoesNotInstall) {
  replay::RebuildOptions options;
  options.to_seq = 100;
  options.install = false;
  Result<replay::RebuildResult> rebuilt = replay::Rebuild(store(), options);
  ASSERT_TRUE(rebuilt.ok());
  EXPECT_EQ(rebuilt->events, 100u);
  EXPECT_EQ(*projections::CurrentGeneration(store()), 0u);
  options.install = true;
  EXPECT_EQ(replay::Rebuild(store(), options).status().code(), Status::Code::kInvalidArgument);
}

TEST_F(AuditTest, LeftoversOfAnInterruptedRebuildAreDroppedAtOpen) {
  // As a replay killed midway leaves them: generation 1 half built.
  ASSERT_TRUE(store().CreateColumnFamily("proj_invoices#1").ok());
  book_.Reopen();
  EXPECT_EQ(book_.ledger().store().column_family("proj_invoices#1"), nullptr);
  EXPECT_NE(book_.ledger().store().column_family("proj_invoices"), nullptr);
}

TEST(HistoricalTest, LastSeqRecordedByATime) {
  TestBook book;
  const std::vector<std::string> lines = Workload(30);
  for (int batch = 0; batch < 3; ++batch) {
    book.set_clock_us(1'000'000'000'000'000 + batch * 1'000'000);
    book.Append(
        std::vector<std::string>(lines.begin() + batch * 10, lines.begin() + batch * 10 + 10));
  }
  const EventStore& store = book.ledger().store();
  EXPECT_EQ(*store.LastSeqRecordedBy(999'999'999'999'999), 0u);
  EXPECT_EQ(*store.LastSeqRecordedBy(1'000'000'000'000'000), 10u);
  EXPECT_EQ(*store.LastSeqRecordedBy(1'000'000'000'999'999), 10u);
  EXPECT_EQ(*store.LastSeqRecordedBy(1'000'000'001'000'000), 20u);
  EXPECT_EQ(*store.LastSeqRecordedBy(INT64_MAX), 30u);
}

}  // namespace
}  // namespace ledger

namespace ledger {
namespace {

// Regression: an empty ledger's projections (no checkpoint yet) were reported
// as differing from a replay, which wrote a checkpoint of 0.
TEST(AuditEmptyTest, AnEmptyLedgerVerifies) {
  projection_test::TestBook book;
  book.Reopen(/*with_projections=*/false);
  Result<replay::AuditReport> report = replay::Audit(book.ledger().store(), {});
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << (report->failures.empty() ? "" : report->failures[0].problem);
  EXPECT_EQ(report->events, 0u);
}

}  // namespace
}  // namespace ledger
