// The library API without JSON (Ledger::AppendEvents, AppendEventStream):
// a typed event must be judged and stored exactly as the JSON line that
// stands for it (ledger/event_fields.h), on the real RocksDB.

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/workload.h"
#include "ledger/event_decoder.h"
#include "ledger/event_fields.h"
#include "ledger/json_input.h"
#include "ledger/ledger.h"
#include "tests/ledger_test_util.h"
#include "tests/process_util.h"
#include "tests/store_test_util.h"

namespace ledger {
namespace {

using store_test::Append;
using store_test::Describe;
using store_test::Diff;
using store_test::OpenLedger;
using store_test::Snapshot;
using test_util::Quote;
using testing::TempDir;

// The typed event a JSON line decodes to, or nullopt when it is rejected
// before any ledger state is looked at.
std::optional<IncomingEvent> Decoded(const std::string& line) {
  JsonLineParser parser;
  ParsedLine parsed;
  std::string padded = line + std::string(kJsonPaddingBytes, '\0');
  IncomingEvent event;
  if (parser.Parse(std::string_view(padded.data(), line.size()), &parsed) ||
      DecodeEventId(parsed, &event.event_id) || DecodeEvent(parsed, &event)) {
    return std::nullopt;
  }
  return event;
}

// The JSON line whose fields are `event`'s fields, written plainly.
std::string CanonicalLine(const IncomingEvent& event, const BillingZone& zone) {
  ParsedLine fields;
  std::string scratch;
  EXPECT_FALSE(EventFields(event, zone, &fields, &scratch).has_value());
  std::string line = "{";
  for (const JsonField& field : fields.fields) {
    if (line.size() > 1) line += ',';
    line += Quote(field.key) + ':';
    switch (field.kind) {
      case JsonKind::kString: line += Quote(field.text); break;
      case JsonKind::kTrue: line += "true"; break;
      case JsonKind::kFalse: line += "false"; break;
      default: line += field.text; break;
    }
  }
  return line + "}";
}

IncomingEvent AsIncoming(const Envelope& stored) {
  return IncomingEvent{stored.event_id, stored.account, stored.occurred_at_s, stored.payload};
}

std::vector<AppendResult> AppendTyped(Ledger& ledger, const std::vector<IncomingEvent>& events) {
  std::vector<AppendResult> results;
  const Status status = ledger.AppendEvents(events, &results);
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(results.size(), events.size());
  return results;
}

// A generated stream with re-sends (the same event again) and conflicts (the
// same id, other content) mixed in, in batches of at most 1,000.
class TypedStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bench::WorkloadOptions options;
    options.events = 6'000;
    options.accounts = 4;
    std::vector<std::string> lines;
    bench::GenerateWorkload(options, [&](const std::string& line) { lines.push_back(line); });
    for (size_t i = 0; i < lines.size(); ++i) {
      std::optional<IncomingEvent> event = Decoded(lines[i]);
      ASSERT_TRUE(event.has_value()) << lines[i];
      if (i % 1'000 == 0) batches_.emplace_back();
      batches_.back().push_back(*event);
      if (i % 997 == 500) {
        batches_.back().push_back(*event);  // a re-send in the same batch
        IncomingEvent conflict = batches_.back().front();
        conflict.occurred_at_s += 1;
        batches_.back().push_back(conflict);  // an earlier id, other content
      }
    }
  }

  std::vector<std::vector<IncomingEvent>> batches_;
};

TEST_F(TypedStreamTest, StoresWhatItsCanonicalLinesStore) {
  const BillingZone zone(StoreOptions().billing_offset_s);  // the default billing zone
  TempDir typed_dir;
  TempDir stream_dir;
  TempDir json_dir;
  std::unique_ptr<Ledger> typed = OpenLedger(typed_dir.path(), true, true);
  std::unique_ptr<Ledger> stream = OpenLedger(stream_dir.path(), true, true);
  std::unique_ptr<Ledger> json = OpenLedger(json_dir.path(), true, true);
  ASSERT_TRUE(typed && stream && json);
  ASSERT_EQ(typed->zone().offset_s(), zone.offset_s());

  std::vector<AppendResult> typed_results;
  std::vector<AppendResult> json_results;
  for (const std::vector<IncomingEvent>& batch : batches_) {
    const std::vector<AppendResult> results = AppendTyped(*typed, batch);
    typed_results.insert(typed_results.end(), results.begin(), results.end());
    std::vector<std::string> lines;
    for (const IncomingEvent& event : batch) lines.push_back(CanonicalLine(event, zone));
    const std::vector<AppendResult> line_results = Append(*json, lines);
    json_results.insert(json_results.end(), line_results.begin(), line_results.end());
  }
  std::vector<AppendResult> stream_results;
  size_t next = 0;
  const Status streamed = stream->AppendEventStream(
      [&](std::vector<IncomingEvent>* events) {
        if (next == batches_.size()) return false;
        *events = batches_[next++];
        return true;
      },
      [&](std::span<const AppendResult> results) {
        stream_results.insert(stream_results.end(), results.begin(), results.end());
      });
  ASSERT_TRUE(streamed.ok()) << streamed.ToString();

  ASSERT_EQ(typed_results.size(), json_results.size());
  ASSERT_EQ(stream_results.size(), json_results.size());
  size_t duplicates = 0;
  size_t conflicts = 0;
  for (size_t i = 0; i < json_results.size(); ++i) {
    EXPECT_EQ(Describe(typed_results[i]), Describe(json_results[i])) << "result " << i;
    EXPECT_EQ(Describe(stream_results[i]), Describe(json_results[i])) << "result " << i;
    duplicates += typed_results[i].outcome == AppendResult::Outcome::kDuplicate;
    conflicts += typed_results[i].outcome == AppendResult::Outcome::kRejected &&
                 typed_results[i].error.code == ErrorCode::kEventIdConflict;
  }
  EXPECT_EQ(duplicates, 6u);
  EXPECT_EQ(conflicts, 6u);
  EXPECT_EQ(typed->head().seq, 6'000u);
  // Every column family byte for byte: the log (content digests and hash
  // chain included), the indexes, the rules' state and the projections.
  const store_test::DbContents json_contents = Snapshot(json->store());
  EXPECT_TRUE(Diff(json_contents, Snapshot(typed->store())).empty());
  EXPECT_TRUE(Diff(json_contents, Snapshot(stream->store())).empty());
}

TEST_F(TypedStreamTest, JudgesTheGeneratedLinesAlike) {
  // The generator's own lines ("420.00", not "420") differ in text from the
  // typed events' lines, so their digests differ, but every verdict and seq
  // is the same.
  TempDir typed_dir;
  TempDir json_dir;
  std::unique_ptr<Ledger> typed = OpenLedger(typed_dir.path());
  std::unique_ptr<Ledger> json = OpenLedger(json_dir.path());
  ASSERT_TRUE(typed && json);
  bench::WorkloadOptions options;
  options.events = 3'000;
  options.accounts = 3;
  std::vector<std::string> lines;
  bench::GenerateWorkload(options, [&](const std::string& line) { lines.push_back(line); });
  std::vector<IncomingEvent> events;
  for (const std::string& line : lines) events.push_back(*Decoded(line));
  for (size_t begin = 0; begin < lines.size(); begin += 1'000) {
    const std::vector<std::string> line_batch(lines.begin() + static_cast<long>(begin),
                                              lines.begin() + static_cast<long>(begin + 1'000));
    const std::vector<IncomingEvent> event_batch(events.begin() + static_cast<long>(begin),
                                                 events.begin() + static_cast<long>(begin + 1'000));
    const std::vector<AppendResult> from_lines = Append(*json, line_batch);
    const std::vector<AppendResult> from_events = AppendTyped(*typed, event_batch);
    for (size_t i = 0; i < from_lines.size(); ++i) {
      ASSERT_EQ(Describe(from_events[i]), Describe(from_lines[i])) << lines[begin + i];
    }
  }
  for (uint64_t seq : {1ull, 1'500ull, 3'000ull}) {
    Envelope from_line;
    Envelope from_event;
    ASSERT_TRUE(json->store().ReadEvent(seq, &from_line).ok());
    ASSERT_TRUE(typed->store().ReadEvent(seq, &from_event).ok());
    EXPECT_EQ(CanonicalLine(AsIncoming(from_event), json->zone()),
              CanonicalLine(AsIncoming(from_line), json->zone()));
    EXPECT_EQ(from_event.rating.amount_e8, from_line.rating.amount_e8) << "seq " << seq;
  }
}

// ---------------------------------------------------------------------------
// One event at a time, in the default test zone (+08:00).

class TypedAppendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(ledger_.Append(test_util::PriceSet("p-1", "private_cert/hour", "USD", "0.12",
                                                 "2026-03-01T00:00:00"))
                  .outcome,
              AppendResult::Outcome::kAppended);
    ASSERT_EQ(ledger_.Append(test_util::AccountOpened("o-1", "acme", "USD", "2026-03-01T00:00:00"))
                  .outcome,
              AppendResult::Outcome::kAppended);
  }

  AppendResult AppendOne(const IncomingEvent& event) {
    std::vector<AppendResult> results;
    const Status status = ledger_.ledger().AppendEvents({&event, 1}, &results);
    EXPECT_TRUE(status.ok()) << status.ToString();
    return results.at(0);
  }

  static IncomingEvent Event(std::string event_id, Payload payload,
                             std::string_view at = "2026-03-02T10:00:00") {
    IncomingEvent event;
    event.event_id = std::move(event_id);
    event.account = "acme";
    event.occurred_at_s = test_util::Sec(at);
    event.payload = std::move(payload);
    return event;
  }

  test_util::TestLedger ledger_;
};

TEST_F(TypedAppendTest, ARateIsStoredAndReSentAsItsLineOrTyped) {
  const IncomingEvent credit = Event("adj-1", AdjustmentPosted{-200'000'000, "outage credit"});
  const AppendResult appended = AppendOne(credit);
  ASSERT_EQ(test_util::OutcomeName(appended), "appended") << appended.error.message;
  EXPECT_EQ(appended.seq, 3u);
  EXPECT_EQ(ledger_.Stored(3).rating.amount_e8, -200'000'000);

  // The same event again, typed or as the line that stands for it (any key
  // order): a duplicate of seq 3.
  EXPECT_EQ(test_util::OutcomeName(AppendOne(credit)), "duplicate");
  const AppendResult as_line = ledger_.Append(
      R"({"reason":"outage credit","amount":"-2.00000000","occurred_at":"2026-03-02T10:00:00+08:00",)"
      R"("account":"acme","event_id":"adj-1","type":"adjustment_posted"})");
  EXPECT_EQ(test_util::OutcomeName(as_line), "duplicate");
  EXPECT_EQ(as_line.seq, 3u);
  // Another text of the same amount is another JSON value (interface.md).
  EXPECT_EQ(test_util::OutcomeName(ledger_.Append(
                test_util::Adjustment("adj-1", "acme", "-2.00", "outage credit",
                                      "2026-03-02T10:00:00"))),
            "event_id_conflict");
  // And a typed event with other content under the same id.
  EXPECT_EQ(test_util::OutcomeName(
                AppendOne(Event("adj-1", AdjustmentPosted{-300'000'000, "outage credit"}))),
            "event_id_conflict");
}

TEST_F(TypedAppendTest, RejectsWithTheCodesOfTheJsonPath) {
  ResourceCreated cert{.resource_id = "pc-1"};
  ResourceCreated odd_type = cert;
  odd_type.resource_type = static_cast<ResourceType>(9);
  ResourceCreated ppu_with_periods{.resource_id = "ca-1",
                                   .resource_type = ResourceType::kPrivateCa,
                                   .ca_type = CaType::kRoot,
                                   .periods = 3};
  ResourceCreated yearly_without_unit{.resource_id = "ca-2",
                                      .resource_type = ResourceType::kPrivateCa,
                                      .ca_type = CaType::kRoot,
                                      .billing_mode = BillingMode::kYearlyMonthly,
                                      .periods = 1};
  IncomingEvent no_account = Event("e-4", cert);
  no_account.account.clear();
  IncomingEvent price_with_account = Event("e-5", PriceSet{"private_cert/hour", "USD", 1});
  IncomingEvent far_future = Event("e-6", UsageRecorded{"pc-1", 0, INT64_MAX});
  IncomingEvent stranger = Event("e-7", cert);
  stranger.account = "globex";
  IncomingEvent bad_id = Event("e 8", cert);
  bad_id.event_id = std::string("e-\x01");

  struct Case {
    IncomingEvent event;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {Event("e-1", odd_type), "invalid_field"},
      {Event("e-2", ppu_with_periods), "invalid_field"},
      {Event("e-3", yearly_without_unit), "missing_field"},
      {no_account, "invalid_field"},
      {price_with_account, "invalid_field"},
      {far_future, "invalid_field"},
      {Event("e-9", AdjustmentPosted{100, "bad \xff byte"}), "invalid_field"},
      {Event("e-10", AdjustmentPosted{0, "nothing"}), "invalid_field"},
      {stranger, "unknown_account"},
      {bad_id, "invalid_field"},
      {Event("e-11", UsageRecorded{"pc-9", test_util::Sec("2026-03-02T09:00:00"),
                                   test_util::Sec("2026-03-02T10:00:00")}),
       "unknown_resource"},
      {Event("e-12", BillingModeChangeRequested{"pc-1", BillingMode::kPayPerUse}),
       "billing_mode_immutable"},
  };
  for (const Case& c : cases) {
    const AppendResult result = AppendOne(c.event);
    EXPECT_EQ(test_util::OutcomeName(result), c.expect)
        << c.event.event_id << ": " << result.error.message;
  }
  const std::optional<std::string> utf8_id = AppendOne(cases[6].event).event_id;
  EXPECT_FALSE(utf8_id.has_value());  // rejected before its id is read, as invalid JSON is
  EXPECT_EQ(ledger_.ledger().head().seq, 2u);  // nothing of it stored

  // The certificate itself is fine, and its usage is rated.
  ASSERT_EQ(test_util::OutcomeName(AppendOne(Event("e-13", cert))), "appended");
  const AppendResult tick = AppendOne(Event(
      "e-14", UsageRecorded{"pc-1", test_util::Sec("2026-03-02T10:00:00"),
                            test_util::Sec("2026-03-02T11:00:00")},
      "2026-03-02T11:00:00"));
  ASSERT_EQ(test_util::OutcomeName(tick), "appended") << tick.error.message;
  EXPECT_EQ(ledger_.Stored(tick.seq).rating.hours.at(0).price_per_hour_e10, 1'200'000'000);
}

}  // namespace
}  // namespace ledger
