// The spec's worked examples through the projections: usage split at hours,
// the interface.md invoice, late lines, invoice numbers, subscription states.

#include <gtest/gtest.h>

#include "cli/query_output.h"
#include "ledger/billing_time.h"
#include "projection_test_util.h"
#include "projections/internal/inline_string.h"

namespace ledger {
namespace {

using projection_test::TestBook;
using projections::Invoice;
using projections::LineKind;

const BillingZone kZone(8 * 3600);

int64_t At(const char* text) { return *ParseRfc3339_s(text); }

std::string Price(const std::string& id, const std::string& sku, const std::string& currency,
                  const std::string& price, const std::string& at = "2026-01-01T00:00:00+08:00") {
  return R"({"type":"price_set","event_id":")" + id + R"(","occurred_at":")" + at +
         R"(","sku":")" + sku + R"(","currency":")" + currency + R"(","unit_price":")" + price +
         R"("})";
}

std::string Event(const std::string& type, const std::string& id, const std::string& at,
                  const std::string& fields, const std::string& account = "acme") {
  return R"({"type":")" + type + R"(","event_id":")" + id + R"(","account":")" + account +
         R"(","occurred_at":")" + at + R"(")" + (fields.empty() ? "" : "," + fields) + "}";
}

std::string Tick(const std::string& id, const std::string& resource, const std::string& from,
                 const std::string& to, const std::string& account = "acme") {
  return Event("usage_recorded", id, to, R"("resource_id":")" + resource + R"(","from":")" + from +
                                             R"(","to":")" + to + R"(")",
               account);
}

std::vector<std::string> AcmeWithCertificate(const std::string& price_per_hour) {
  return {Price("p-cert", "private_cert/hour", "USD", price_per_hour),
          Event("account_opened", "open", "2026-01-01T00:00:00+08:00", R"("currency":"USD")"),
          Event("resource_created", "create-cert-1", "2026-03-01T00:00:00+08:00",
                R"("resource_id":"cert-1","resource_type":"private_cert","billing_mode":"pay_per_use")")};
}

void ExpectAllAppended(const std::vector<AppendResult>& results) {
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].outcome, AppendResult::Outcome::kAppended)
        << "line " << i + 1 << ": " << ErrorCodeName(results[i].error.code) << " "
        << results[i].error.message;
  }
}

Invoice ReadInvoiceOrDie(const TestBook& book, const char* account, Period period) {
  Result<std::optional<Invoice>> invoice = projections::ReadInvoice(book.readers(), account, period);
  EXPECT_TRUE(invoice.ok());
  EXPECT_TRUE(invoice->has_value());
  return **invoice;
}

// The projection cache's strings: inline up to their size, on the heap
// beyond, the same bytes either way, through growth, shrinking, copies and
// moves.
TEST(InlineStringTest, KeepsItsBytesInlineOrOnTheHeap) {
  using Small = projections::internal::InlineString<8>;
  const std::string exact(8, 'a');
  const std::string longer = "0123456789abcdefghij";
  Small s;
  EXPECT_EQ(s.view(), "");
  s.assign(exact);
  EXPECT_EQ(s.view(), exact);
  s.assign(longer);
  EXPECT_EQ(s.view(), longer);
  s.assign("short");  // back inline, the heap block freed
  EXPECT_EQ(s.view(), "short");
  s.assign(longer.substr(0, 12));
  EXPECT_EQ(s.view(), longer.substr(0, 12));
  const Small copy = s;
  s.assign("x");
  EXPECT_EQ(copy.view(), longer.substr(0, 12));
  Small moved_heap(std::move(s = Small(longer)));
  EXPECT_EQ(moved_heap.view(), longer);
  Small moved_inline(Small(std::string_view("in")));
  EXPECT_EQ(moved_inline.view(), "in");
  moved_inline = std::move(moved_heap);
  EXPECT_EQ(moved_inline.view(), longer);
  moved_inline = Small(longer + "!");  // a heap block replaced by another
  EXPECT_EQ(moved_inline.view(), longer + "!");
  moved_inline.assign(longer);  // shorter: the same block
  EXPECT_EQ(moved_inline.view(), longer);
  EXPECT_EQ(sizeof(Small), 16u);  // sizes and the heap pointer over the inline bytes
  std::string zeros("a\0b", 3);
  EXPECT_EQ(Small(zeros).view(), zeros);
}

TEST(ProjectionsTest, UsageIsSplitAtTheHoursOfTheBillingZone) {
  // billing-rules.md section 5: 10:09:06-12:53:16 gives 3054 s, 3600 s, 3196 s;
  // at 0.0017 an hour the first costs 0.00144217.
  TestBook book;
  std::vector<std::string> lines = AcmeWithCertificate("0.0017");
  lines.push_back(Tick("t1", "cert-1", "2026-03-10T10:09:06+08:00", "2026-03-10T12:53:16+08:00"));
  ExpectAllAppended(book.Append(lines));
  Result<std::optional<std::vector<projections::UsageRow>>> rows =
      projections::ReadUsage(book.readers(), "acme", std::nullopt, At("2026-03-10T00:00:00+08:00"),
                             At("2026-03-11T00:00:00+08:00"));
  ASSERT_TRUE(rows.ok() && rows->has_value());
  ASSERT_EQ((*rows)->size(), 3u);
  EXPECT_EQ((**rows)[0].hour_start_s, At("2026-03-10T10:00:00+08:00"));
  EXPECT_EQ((**rows)[0].seconds, 3054);
  EXPECT_EQ((**rows)[0].amount_e8, 144'217);
  EXPECT_EQ((**rows)[1].seconds, 3600);
  EXPECT_EQ((**rows)[1].amount_e8, 170'000);
  EXPECT_EQ((**rows)[2].seconds, 3196);
  EXPECT_EQ((**rows)[2].amount_e8, 150'922);
}

TEST(ProjectionsTest, TheInterfaceInvoiceExample) {
  // interface.md: a yearly root CA at 900 (list 1200 from 100 a month) and a
  // certificate's 9850 s at 0.0017 an hour: 900.00465139, total 900.00.
  TestBook book;
  std::vector<std::string> lines = AcmeWithCertificate("0.0017");
  lines.push_back(Price("p-year", "private_ca/root/year", "USD", "900"));
  lines.push_back(Price("p-month", "private_ca/root/month", "USD", "100"));
  lines.push_back(Event("resource_created", "e-7", "2026-03-02T09:00:00+08:00",
                        R"("resource_id":"ca-1","resource_type":"private_ca","ca_type":"root",)"
                        R"("billing_mode":"yearly_monthly","period_unit":"year","periods":1)"));
  lines.push_back(Tick("t1", "cert-1", "2026-03-10T10:09:06+08:00", "2026-03-10T12:53:16+08:00"));
  ExpectAllAppended(book.Append(lines));
  const Invoice invoice = ReadInvoiceOrDie(book, "acme", Period{2026, 3});
  EXPECT_EQ(cli::RenderInvoice(invoice, kZone, cli::OutputFormat::kJson),
            R"({"account":"acme","period":"2026-03","currency":"USD","status":"open","number":null,)"
            R"("lines":[{"kind":"new_purchase","event_id":"e-7","resource_id":"ca-1",)"
            R"("charged_at":"2026-03-02T09:00:00+08:00","description":"private CA root, 1 year",)"
            R"("amount":"900.00000000","list_amount":"1200.00000000","discount":"300.00000000"},)"
            R"({"kind":"hourly_usage","resource_id":"cert-1","seconds":9850,"amount":"0.00465139"}],)"
            R"("total_precise":"900.00465139","total":"900.00"})"
            "\n");
}

TEST(ProjectionsTest, LateUsageJoiningABilledHourIsChargedTheDifference) {
  // 0.0245 an hour. June is billed with 1800 s of the 23:00 hour, then
  // finalized; 1800 more seconds of that hour arrive late and land on July:
  // charge(3600) - charge(1800) = 0.0245 - 0.01225 = 0.01225.
  TestBook book;
  std::vector<std::string> lines = AcmeWithCertificate("0.0245");
  lines[2] = Event("resource_created", "create-cert-1", "2026-06-30T22:00:00+08:00",
                   R"("resource_id":"cert-1","resource_type":"private_cert","billing_mode":"pay_per_use")");
  lines.push_back(Tick("t1", "cert-1", "2026-06-30T23:00:00+08:00", "2026-06-30T23:30:00+08:00"));
  lines.push_back(Event("invoice_finalized", "close-06", "2026-07-01T00:00:00+08:00",
                        R"("period":"2026-06")"));
  lines.push_back(Tick("t2", "cert-1", "2026-06-30T23:30:00+08:00", "2026-07-01T00:30:00+08:00"));
  ExpectAllAppended(book.Append(lines));

  const Invoice june = ReadInvoiceOrDie(book, "acme", Period{2026, 6});
  EXPECT_TRUE(june.finalized);
  EXPECT_EQ(june.number, 1u);
  ASSERT_EQ(june.lines.size(), 1u);
  EXPECT_EQ(june.lines[0].seconds, 1800);
  EXPECT_EQ(june.lines[0].amount_e8, 1'225'000);

  const Invoice july = ReadInvoiceOrDie(book, "acme", Period{2026, 7});
  EXPECT_FALSE(july.finalized);
  ASSERT_EQ(july.lines.size(), 2u);
  // Its own 00:00 hour first (no late_from sorts first), then the late line.
  EXPECT_EQ(july.lines[0].seconds, 1800);
  EXPECT_EQ(july.lines[0].amount_e8, 1'225'000);
  EXPECT_FALSE(july.lines[0].late_from.has_value());
  EXPECT_EQ(july.lines[1].seconds, 1800);
  EXPECT_EQ(july.lines[1].amount_e8, 1'225'000);
  EXPECT_EQ(july.lines[1].late_from, (Period{2026, 6}));
}

TEST(ProjectionsTest, LateChargesSkipEveryFinalizedPeriodAndNumbersAreGapless) {
  TestBook book;
  std::vector<std::string> lines = AcmeWithCertificate("0.0245");
  lines.push_back(Event("account_opened", "open-b", "2026-01-01T00:00:00+08:00",
                        R"("currency":"USD")", "beta"));
  // Finalized out of order, across two accounts: numbers follow the log.
  lines.push_back(Event("invoice_finalized", "close-a-05", "2026-08-01T00:00:00+08:00",
                        R"("period":"2026-05")"));
  lines.push_back(Event("invoice_finalized", "close-b-04", "2026-08-01T00:00:00+08:00",
                        R"("period":"2026-04")", "beta"));
  lines.push_back(Event("invoice_finalized", "close-a-04", "2026-08-01T00:00:00+08:00",
                        R"("period":"2026-04")"));
  lines.push_back(Event("adjustment_posted", "adj-1", "2026-04-15T00:00:00+08:00",
                        R"("amount":"-2.50","reason":"goodwill")"));
  ExpectAllAppended(book.Append(lines));
  EXPECT_EQ(ReadInvoiceOrDie(book, "acme", Period{2026, 5}).number, 1u);
  EXPECT_EQ(ReadInvoiceOrDie(book, "beta", Period{2026, 4}).number, 2u);
  EXPECT_EQ(ReadInvoiceOrDie(book, "acme", Period{2026, 4}).number, 3u);
  // April and May are closed: the April adjustment lands on June.
  EXPECT_TRUE(ReadInvoiceOrDie(book, "acme", Period{2026, 4}).lines.empty());
  const Invoice june = ReadInvoiceOrDie(book, "acme", Period{2026, 6});
  ASSERT_EQ(june.lines.size(), 1u);
  EXPECT_EQ(june.lines[0].kind, LineKind::kAdjustment);
  EXPECT_EQ(june.lines[0].amount_e8, -250'000'000);
  EXPECT_EQ(june.lines[0].late_from, (Period{2026, 4}));
  EXPECT_EQ(june.lines[0].reason, "goodwill");
}

TEST(ProjectionsTest, NegativeTotalsRoundHalfAwayFromZeroAndJpyHasNoMinorUnit) {
  TestBook book;
  ExpectAllAppended(book.Append(
      {Event("account_opened", "open", "2026-01-01T00:00:00+08:00", R"("currency":"JPY")", "tokyo"),
       Event("adjustment_posted", "adj", "2026-02-01T00:00:00+08:00",
             R"("amount":"-2.5","reason":"credit")", "tokyo")}));
  const Invoice invoice = ReadInvoiceOrDie(book, "tokyo", Period{2026, 2});
  const std::string json = cli::RenderInvoice(invoice, kZone, cli::OutputFormat::kJson);
  EXPECT_NE(json.find(R"("total_precise":"-2.50000000","total":"-3")"), std::string::npos) << json;
}

TEST(ProjectionsTest, AnEmptyPeriodIsAnOpenInvoiceWithNoLines) {
  TestBook book;
  ExpectAllAppended(book.Append(AcmeWithCertificate("0.0245")));
  const Invoice invoice = ReadInvoiceOrDie(book, "acme", Period{2027, 1});
  EXPECT_EQ(cli::RenderInvoice(invoice, kZone, cli::OutputFormat::kJson),
            R"({"account":"acme","period":"2027-01","currency":"USD","status":"open","number":null,)"
            R"("lines":[],"total_precise":"0.00000000","total":"0.00"})"
            "\n");
  Result<std::optional<Invoice>> unknown =
      projections::ReadInvoice(book.readers(), "nobody", Period{2027, 1});
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->has_value());
}

// The status of `resource` in acme's subscriptions at `time`.
std::optional<projections::SubscriptionStatus> StatusAt(TestBook& book, std::string_view resource,
                                                        const char* time) {
  Result<std::optional<std::vector<projections::SubscriptionRow>>> rows =
      projections::ReadSubscriptions(book.readers(), "acme", At(time));
  if (!rows.ok() || !rows->has_value()) {
    ADD_FAILURE() << "no subscriptions at " << time;
    return std::nullopt;
  }
  for (const projections::SubscriptionRow& row : **rows) {
    if (row.resource_id == resource) return row.status;
  }
  ADD_FAILURE() << "no " << resource << " at " << time;
  return std::nullopt;
}

TEST(ProjectionsTest, SubscriptionStateAtAnyTime) {
  TestBook book;
  ExpectAllAppended(book.Append(
      {Price("p-month", "private_ca/root/month", "USD", "100"),
       Event("account_opened", "open", "2026-01-01T00:00:00+08:00", R"("currency":"USD")"),
       // 2026-01-31 + 1 month ends 2026-02-28 23:59:59; renewed for one month
       // on 03-05 (after it expired) it ends 2026-03-28 23:59:59.
       Event("resource_created", "buy", "2026-01-31T10:00:00+08:00",
             R"("resource_id":"ca-m","resource_type":"private_ca","ca_type":"root",)"
             R"("billing_mode":"yearly_monthly","period_unit":"month","periods":1,"auto_renew":true)"),
       Event("subscription_renewed", "renew", "2026-03-05T00:00:00+08:00",
             R"("resource_id":"ca-m","period_unit":"month","periods":1)"),
       Event("resource_deleted", "delete", "2026-03-20T00:00:00+08:00", R"("resource_id":"ca-m")")}));
  const auto at = [&](const char* time) {
    Result<std::optional<std::vector<projections::SubscriptionRow>>> rows =
        projections::ReadSubscriptions(book.readers(), "acme", At(time));
    EXPECT_TRUE(rows.ok() && rows->has_value());
    return **rows;
  };
  EXPECT_TRUE(at("2026-01-31T09:59:59+08:00").empty());  // not created yet
  auto rows = at("2026-02-28T23:59:59+08:00");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, projections::SubscriptionStatus::kActive);
  EXPECT_EQ(rows[0].end_s, At("2026-02-28T23:59:59+08:00"));
  EXPECT_TRUE(rows[0].auto_renew);
  rows = at("2026-03-01T00:00:00+08:00");
  EXPECT_EQ(rows[0].status, projections::SubscriptionStatus::kExpired);
  rows = at("2026-03-06T00:00:00+08:00");
  EXPECT_EQ(rows[0].status, projections::SubscriptionStatus::kActive);
  EXPECT_EQ(rows[0].end_s, At("2026-03-28T23:59:59+08:00"));
  // Active at t unless deleted or unsubscribed *before* t (billing-rules.md
  // section 6): at the deletion's own second it is still active.
  rows = at("2026-03-20T00:00:00+08:00");
  EXPECT_EQ(rows[0].status, projections::SubscriptionStatus::kActive);
  rows = at("2026-03-20T00:00:01+08:00");
  EXPECT_EQ(rows[0].status, projections::SubscriptionStatus::kDeleted);
  EXPECT_EQ(rows[0].end_s, At("2026-03-28T23:59:59+08:00"));  // keeps its paid-up end
}

TEST(ProjectionsTest, AnUnsubscribedSubscriptionIsActiveUntilTheSecondAfter) {
  TestBook book;
  ExpectAllAppended(book.Append(
      {Price("p-year", "private_ca/root/year", "USD", "1000"),
       Event("account_opened", "open", "2026-01-01T00:00:00+08:00", R"("currency":"USD")"),
       Event(
           "resource_created", "buy", "2026-02-01T10:00:00+08:00",
           R"("resource_id":"ca-y","resource_type":"private_ca","ca_type":"root",)"
           R"("billing_mode":"yearly_monthly","period_unit":"year","periods":1,"auto_renew":false)"),
       Event("subscription_unsubscribed", "unsub", "2026-05-10T12:00:00+08:00",
             R"("resource_id":"ca-y")")}));
  EXPECT_EQ(StatusAt(book, "ca-y", "2026-05-10T11:59:59+08:00"),
            projections::SubscriptionStatus::kActive);
  EXPECT_EQ(StatusAt(book, "ca-y", "2026-05-10T12:00:00+08:00"),
            projections::SubscriptionStatus::kActive);
  EXPECT_EQ(StatusAt(book, "ca-y", "2026-05-10T12:00:01+08:00"),
            projections::SubscriptionStatus::kUnsubscribed);
}

// A pay-per-use resource bills nothing from its deletion's second on (a
// tick starting then is resource_deleted): it is deleted from that second.
TEST(ProjectionsTest, APayPerUseResourceIsDeletedFromItsDeletionsSecond) {
  TestBook book;
  std::vector<std::string> lines = AcmeWithCertificate("0.0245");
  lines.push_back(Event("resource_deleted", "delete", "2026-03-05T12:00:00+08:00",
                        R"("resource_id":"cert-1")"));
  ExpectAllAppended(book.Append(lines));
  EXPECT_EQ(StatusAt(book, "cert-1", "2026-03-05T11:59:59+08:00"),
            projections::SubscriptionStatus::kActive);
  EXPECT_EQ(StatusAt(book, "cert-1", "2026-03-05T12:00:00+08:00"),
            projections::SubscriptionStatus::kDeleted);
}

TEST(ProjectionsTest, AProjectionBehindTheLogCatchesUpOnOpen) {
  TestBook book;
  ExpectAllAppended(book.Append(AcmeWithCertificate("0.0245")));
  book.Append({Tick("t1", "cert-1", "2026-03-01T00:00:00+08:00", "2026-03-01T02:00:00+08:00")});
  const auto before = projection_test::Dump(*book.readers().invoices);
  // Drop the invoice family's contents and checkpoint, as on a ledger made
  // before the projection existed; reopening rebuilds it from the log.
  {
    rocksdb::DB* db = book.ledger().store().db();
    rocksdb::ColumnFamilyHandle* family = book.ledger().store().column_family("proj_invoices");
    ASSERT_NE(family, nullptr);
    ASSERT_TRUE(db->DeleteRange(rocksdb::WriteOptions(), family, std::string(1, '\0'),
                                std::string(1, '\xff'))
                    .ok());
  }
  EXPECT_TRUE(projection_test::Dump(*book.readers().invoices).empty());
  book.Reopen();
  EXPECT_EQ(projection_test::Dump(*book.readers().invoices), before);
  Result<uint64_t> checkpoint = projections::ReadCheckpoint(*book.readers().invoices);
  ASSERT_TRUE(checkpoint.ok());
  EXPECT_EQ(*checkpoint, book.ledger().head().seq);
}

}  // namespace
}  // namespace ledger
