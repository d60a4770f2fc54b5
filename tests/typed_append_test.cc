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
#include "ledger/event_codec.h"
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
  bench::LineDecoder decoder;
  IncomingEvent event;
  if (!decoder.Decode(line, &event)) return std::nullopt;
  return event;
}

// A stored event's bytes without its content digest and chain: everything
// the ledger stored of the event itself, its rating included.
std::string BytesWithoutDigest(Envelope envelope) {
  envelope.content_digest = {};
  std::string value;
  EncodeEnvelope(Sha256{}, &envelope, &value);
  return value;
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
      case JsonKind::kString:
        line += Quote(field.text);
        break;
      case JsonKind::kTrue:
        line += "true";
        break;
      case JsonKind::kFalse:
        line += "false";
        break;
      default:
        line += field.text;
        break;
    }
  }
  return line + "}";
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
  ASSERT_EQ(typed->head().seq, 3'000u);
  for (uint64_t seq = 1; seq <= 3'000; ++seq) {
    Envelope from_line;
    Envelope from_event;
    ASSERT_TRUE(json->store().ReadEvent(seq, &from_line).ok());
    ASSERT_TRUE(typed->store().ReadEvent(seq, &from_event).ok());
    ASSERT_EQ(BytesWithoutDigest(from_event), BytesWithoutDigest(from_line)) << "seq " << seq;
  }
}

// ---------------------------------------------------------------------------
// One event at a time, in the default test zone (+08:00).

class TypedAppendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(ledger_
                  .Append(test_util::PriceSet("p-1", "private_cert/hour", "USD", "0.12",
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
  EXPECT_EQ(test_util::OutcomeName(ledger_.Append(test_util::Adjustment(
                "adj-1", "acme", "-2.00", "outage credit", "2026-03-02T10:00:00"))),
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
  IncomingEvent far_future =
      Event("e-6", UsageRecorded{"pc-1", test_util::Sec("2026-03-02T09:00:00"), INT64_MAX});
  IncomingEvent far_past = Event("e-15", cert);
  far_past.occurred_at_s = INT64_MIN;
  IncomingEvent stranger = Event("e-7", cert);
  stranger.account = "globex";
  IncomingEvent bad_id = Event(std::string("e-\x01"), cert);

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
      {far_past, "invalid_field"},
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
  const std::optional<std::string> utf8_id =
      AppendOne(Event("e-9", AdjustmentPosted{100, "bad \xff byte"})).event_id;
  EXPECT_FALSE(utf8_id.has_value());           // rejected before its id is read, as invalid JSON is
  EXPECT_EQ(ledger_.ledger().head().seq, 2u);  // nothing of it stored

  // The certificate itself is fine, and its usage is rated.
  ASSERT_EQ(test_util::OutcomeName(AppendOne(Event("e-13", cert))), "appended");
  const AppendResult tick =
      AppendOne(Event("e-14",
                      UsageRecorded{"pc-1", test_util::Sec("2026-03-02T10:00:00"),
                                    test_util::Sec("2026-03-02T11:00:00")},
                      "2026-03-02T11:00:00"));
  ASSERT_EQ(test_util::OutcomeName(tick), "appended") << tick.error.message;
  EXPECT_EQ(ledger_.Stored(tick.seq).rating.hours.at(0).price_per_hour_e10, 1'200'000'000);
}

// Each event type, typed and then as a line written by hand with the texts
// event_fields.h promises (those `ledger events` prints): the line is a
// duplicate of the typed event. billing_mode_change_requested is left out:
// it is never stored.
TEST_F(TypedAppendTest, EachTypeIsTheLineWithItsExportedTexts) {
  const auto at = [](std::string_view time) { return test_util::Sec(time); };
  IncomingEvent ca_month_price = Event(
      "t-1", PriceSet{"private_ca/root/month", "USD", 4'000'000'000'000}, "2026-03-01T00:00:00");
  ca_month_price.account.clear();
  IncomingEvent multi_price = Event(
      "t-2", PriceSet{"ssl/GeoTrust/DV/multi/1y", "USD", 995'000'000'000}, "2026-03-01T00:00:00");
  multi_price.account.clear();
  IncomingEvent expansion_price =
      Event("t-3", PriceSet{"ssl_expansion", "USD", 125'000'000'000}, "2026-03-01T00:00:00");
  expansion_price.account.clear();
  IncomingEvent globex = Event("t-4", AccountOpened{"USD"}, "2026-03-01T00:00:00");
  globex.account = "globex";
  const ResourceCreated yearly_ca{.resource_id = "ca-1",
                                  .resource_type = ResourceType::kPrivateCa,
                                  .ca_type = CaType::kRoot,
                                  .billing_mode = BillingMode::kYearlyMonthly,
                                  .period_unit = PeriodUnit::kMonth,
                                  .periods = 1};
  const std::string acme = R"("account":"acme",)";
  struct Case {
    IncomingEvent event;
    std::string line;
  };
  const std::vector<Case> cases = {
      {ca_month_price,
       R"({"type":"price_set","event_id":"t-1","occurred_at":"2026-03-01T00:00:00+08:00",)"
       R"("sku":"private_ca/root/month","currency":"USD","unit_price":"400"})"},
      {multi_price,
       R"({"type":"price_set","event_id":"t-2","occurred_at":"2026-03-01T00:00:00+08:00",)"
       R"("sku":"ssl/GeoTrust/DV/multi/1y","currency":"USD","unit_price":"99.5"})"},
      {expansion_price,
       R"({"type":"price_set","event_id":"t-3","occurred_at":"2026-03-01T00:00:00+08:00",)"
       R"("sku":"ssl_expansion","currency":"USD","unit_price":"12.5"})"},
      {globex, R"({"type":"account_opened","event_id":"t-4","account":"globex",)"
               R"("occurred_at":"2026-03-01T00:00:00+08:00","currency":"USD"})"},
      {Event("t-5", SslCertificatePurchased{"ord-1", "GeoTrust", "DV", "multi", 2, 1}),
       R"({"type":"ssl_certificate_purchased","event_id":"t-5",)" + acme +
           R"("occurred_at":"2026-03-02T10:00:00+08:00","order_id":"ord-1","ca":"GeoTrust",)"
           R"("cert_type":"DV","domain_type":"multi","domains":2,"years":1})"},
      {Event("t-6", SslExpansionPurchased{"ord-2", 3}, "2026-03-02T11:00:00"),
       R"({"type":"ssl_expansion_purchased","event_id":"t-6",)" + acme +
           R"("occurred_at":"2026-03-02T11:00:00+08:00","order_id":"ord-2","quantity":3})"},
      {Event("t-7", SslCertificateRefunded{"ord-1"}, "2026-03-03T10:00:00"),
       R"({"type":"ssl_certificate_refunded","event_id":"t-7",)" + acme +
           R"("occurred_at":"2026-03-03T10:00:00+08:00","order_id":"ord-1"})"},
      {Event("t-8", yearly_ca),
       R"({"type":"resource_created","event_id":"t-8",)" + acme +
           R"("occurred_at":"2026-03-02T10:00:00+08:00","resource_id":"ca-1",)"
           R"("resource_type":"private_ca","ca_type":"root","billing_mode":"yearly_monthly",)"
           R"("period_unit":"month","periods":1,"auto_renew":false})"},
      {Event("t-9", ResourceCreated{.resource_id = "pc-1"}),
       R"({"type":"resource_created","event_id":"t-9",)" + acme +
           R"("occurred_at":"2026-03-02T10:00:00+08:00","resource_id":"pc-1",)"
           R"("resource_type":"private_cert","billing_mode":"pay_per_use"})"},
      {Event("t-10", UsageRecorded{"pc-1", at("2026-03-02T10:00:00"), at("2026-03-02T10:30:00")},
             "2026-03-02T10:30:00"),
       R"({"type":"usage_recorded","event_id":"t-10",)" + acme +
           R"("occurred_at":"2026-03-02T10:30:00+08:00","resource_id":"pc-1",)"
           R"("from":"2026-03-02T10:00:00+08:00","to":"2026-03-02T10:30:00+08:00"})"},
      {Event("t-11", SubscriptionRenewed{"ca-1", PeriodUnit::kMonth, 2}, "2026-03-05T00:00:00"),
       R"({"type":"subscription_renewed","event_id":"t-11",)" + acme +
           R"("occurred_at":"2026-03-05T00:00:00+08:00","resource_id":"ca-1",)"
           R"("period_unit":"month","periods":2})"},
      {Event("t-12", SubscriptionUnsubscribed{"ca-1"}, "2026-03-06T00:00:00"),
       R"({"type":"subscription_unsubscribed","event_id":"t-12",)" + acme +
           R"("occurred_at":"2026-03-06T00:00:00+08:00","resource_id":"ca-1"})"},
      {Event("t-13", ResourceDeleted{"pc-1"}, "2026-03-07T00:00:00"),
       R"({"type":"resource_deleted","event_id":"t-13",)" + acme +
           R"("occurred_at":"2026-03-07T00:00:00+08:00","resource_id":"pc-1"})"},
      {Event("t-14", AdjustmentPosted{150'000'000, "goodwill"}, "2026-03-08T00:00:00"),
       R"({"type":"adjustment_posted","event_id":"t-14",)" + acme +
           R"("occurred_at":"2026-03-08T00:00:00+08:00","amount":"1.50000000","reason":"goodwill"})"},
      {Event("t-15", InvoiceFinalized{Period{2026, 3}}, "2026-04-01T01:00:00"),
       R"({"type":"invoice_finalized","event_id":"t-15",)" + acme +
           R"("occurred_at":"2026-04-01T01:00:00+08:00","period":"2026-03"})"},
  };
  for (const Case& c : cases) {
    const AppendResult typed = AppendOne(c.event);
    ASSERT_EQ(test_util::OutcomeName(typed), "appended")
        << c.event.event_id << ": " << typed.error.message;
    const AppendResult line = ledger_.Append(c.line);
    EXPECT_EQ(test_util::OutcomeName(line), "duplicate") << c.line << ": " << line.error.message;
    EXPECT_EQ(line.seq, typed.seq) << c.line;
  }
}

}  // namespace
}  // namespace ledger
