// Property tests over seeded random event streams:
//  (a) splitting the same usage into different ticks, in any order, never
//      changes a charge: every invoice and every usage hour is the same;
//  (b) projections built incrementally during appends are byte-identical to
//      projections rebuilt by replaying the log from sequence 1;
//  (c) --as-of-seq answers equal the answers captured live at that sequence.

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "cli/query_output.h"
#include "projection_test_util.h"

namespace ledger {
namespace {

using projection_test::Dump;
using projection_test::TestBook;

const BillingZone kZone(8 * 3600);
constexpr int64_t kStart_s = 1'767'196'800;  // 2026-01-01T00:00:00+08:00
constexpr int64_t kDay_s = 86'400;
constexpr int kSeeds = 12;

struct Interval {
  std::string account;
  std::string resource;
  int64_t from_s;
  int64_t to_s;
};

// Builds random but plausible CCM streams. Usage comes as covered intervals
// per resource; how those are cut into ticks is up to the caller.
class StreamBuilder {
 public:
  explicit StreamBuilder(uint64_t seed) : rng_(seed) {}

  std::vector<std::string> Setup() {
    std::vector<std::string> lines;
    const std::string prices[] = {"0.0245", "0.0017", "0.123456789", "3", "0.0000000001"};
    for (const char* currency : {"USD", "EUR"}) {
      lines.push_back(Price("private_cert/hour", currency, prices[Pick(5)]));
      lines.push_back(Price("private_ca/root/hour", currency, prices[Pick(5)]));
      lines.push_back(Price("private_ca/root/year", currency, "1234.5678"));
      lines.push_back(Price("private_ca/root/month", currency, "111.1111"));
      lines.push_back(Price("ssl/DigiCert/OV/single/1y", currency, "420"));
    }
    for (int a = 0; a < 2; ++a) {
      const std::string account = "acct-" + std::to_string(a);
      lines.push_back(Event("account_opened", account + "-open", kStart_s - kDay_s, account,
                            R"("currency":")" + std::string(a == 0 ? "USD" : "EUR") + "\""));
      for (int r = 0; r < 3; ++r) {
        const std::string resource = account + "-pc-" + std::to_string(r);
        resources_.emplace_back(account, resource);
        lines.push_back(Event("resource_created", resource + "-create", kStart_s, account,
                              R"("resource_id":")" + resource + R"(","resource_type":)" +
                                  (r == 2 ? R"("private_ca","ca_type":"root")"
                                          : R"("private_cert")") +
                                  R"(,"billing_mode":"pay_per_use")"));
      }
    }
    return lines;
  }

  // Disjoint covered intervals within Jan-Mar 2026 for each resource.
  std::vector<Interval> Usage() {
    std::vector<Interval> intervals;
    for (const auto& [account, resource] : resources_) {
      int64_t t = kStart_s + Pick(7200);
      while (true) {
        const int64_t length_s = 1 + Pick(Pick(2) ? 3 * 3600 : 4 * kDay_s);
        if (t + length_s > kStart_s + 89 * kDay_s) break;
        intervals.push_back({account, resource, t, t + length_s});
        t += length_s + Pick(3) * Pick(20'000);  // touching or with a gap
      }
    }
    return intervals;
  }

  // Cuts an interval into ticks of at most 31 days, more finely if asked.
  std::vector<std::string> Ticks(const Interval& interval, bool fine) {
    std::vector<std::string> ticks;
    int64_t from_s = interval.from_s;
    while (from_s < interval.to_s) {
      int64_t to_s = std::min(interval.to_s, from_s + 31 * kDay_s);
      if (fine && to_s - from_s > 1) to_s = from_s + 1 + Pick(to_s - from_s - 1);
      if (fine && Pick(4) == 0) to_s = std::min(interval.to_s, from_s + 1 + Pick(3600));
      ticks.push_back(Event("usage_recorded", "tick-" + std::to_string(next_id_++), to_s,
                            interval.account,
                            R"("resource_id":")" + interval.resource + R"(","from":")" +
                                kZone.Format(from_s) + R"(","to":")" + kZone.Format(to_s) + "\""));
      from_s = to_s;
    }
    return ticks;
  }

  // One-time charges, subscriptions, adjustments and finalizations.
  std::vector<std::string> Others() {
    std::vector<std::string> lines;
    for (int a = 0; a < 2; ++a) {
      const std::string account = "acct-" + std::to_string(a);
      for (int i = 0; i < 4; ++i) {
        const int64_t at_s = kStart_s + Pick(85 * kDay_s);
        const std::string order = account + "-po-" + std::to_string(i);
        lines.push_back(Event("ssl_certificate_purchased", order, at_s, account,
                              R"("order_id":")" + order +
                                  R"(","ca":"DigiCert","cert_type":"OV","domain_type":"single","domains":1,"years":1)"));
        if (Pick(2)) {
          lines.push_back(Event("ssl_certificate_refunded", order + "-refund", at_s + Pick(8 * kDay_s),
                                account, R"("order_id":")" + order + "\""));
        }
        lines.push_back(Event("adjustment_posted", account + "-adj-" + std::to_string(i),
                              kStart_s + Pick(85 * kDay_s), account,
                              R"("amount":"-)" + std::to_string(1 + Pick(999)) +
                                  R"(.125","reason":"credit")"));
      }
      const std::string ca = account + "-yearly";
      const int64_t bought_s = kStart_s + Pick(30 * kDay_s);
      lines.push_back(Event("resource_created", ca, bought_s, account,
                            R"("resource_id":")" + ca +
                                R"(","resource_type":"private_ca","ca_type":"root","billing_mode":"yearly_monthly","period_unit":")" +
                                (Pick(2) ? "year\",\"periods\":1" : "month\",\"periods\":2")));
      lines.push_back(Event("subscription_renewed", ca + "-renew", bought_s + Pick(20 * kDay_s),
                            account, R"("resource_id":")" + ca + R"(","period_unit":"month","periods":3)"));
      lines.push_back(Event("subscription_unsubscribed", ca + "-unsub",
                            bought_s + 20 * kDay_s + Pick(30 * kDay_s), account,
                            R"("resource_id":")" + ca + "\""));
      for (const char* period : {"2026-01", "2026-02"}) {
        lines.push_back(Event("invoice_finalized", account + "-close-" + period,
                              kStart_s + 95 * kDay_s, account,
                              R"("period":")" + std::string(period) + "\""));
      }
    }
    return lines;
  }

  int64_t Pick(int64_t bound) {
    return std::uniform_int_distribution<int64_t>(0, bound - 1)(rng_);
  }
  std::mt19937_64& rng() { return rng_; }

 private:
  std::string Price(const std::string& sku, const std::string& currency, const std::string& price) {
    return R"({"type":"price_set","event_id":"price-)" + sku + "-" + currency +
           R"(","occurred_at":")" + kZone.Format(kStart_s - 2 * kDay_s) + R"(","sku":")" + sku +
           R"(","currency":")" + currency + R"(","unit_price":")" + price + R"("})";
  }

  std::string Event(const std::string& type, const std::string& id, int64_t at_s,
                    const std::string& account, const std::string& fields) {
    return R"({"type":")" + type + R"(","event_id":")" + id + R"(","account":")" + account +
           R"(","occurred_at":")" + kZone.Format(at_s) + R"(",)" + fields + "}";
  }

  std::mt19937_64 rng_;
  std::vector<std::pair<std::string, std::string>> resources_;
  int next_id_ = 0;
};

// Every answer a user can ask of the accounts, as JSON text.
std::string Answers(const projections::ProjectionReaders& readers,
                    const std::vector<std::string>& accounts = {"acct-0", "acct-1"}) {
  std::string out;
  for (const std::string& account : accounts) {
    for (int month = 1; month <= 6; ++month) {
      Result<std::optional<projections::Invoice>> invoice =
          projections::ReadInvoice(readers, account, Period{2026, month});
      EXPECT_TRUE(invoice.ok());
      if (invoice.ok() && *invoice) {
        out += cli::RenderInvoice(**invoice, kZone, cli::OutputFormat::kJson);
      }
    }
    Result<std::optional<std::vector<projections::UsageRow>>> usage = projections::ReadUsage(
        readers, account, std::nullopt, kStart_s - kDay_s, kStart_s + 120 * kDay_s);
    EXPECT_TRUE(usage.ok());
    if (usage.ok() && *usage) out += cli::RenderUsage(**usage, kZone, cli::OutputFormat::kJson);
    for (int64_t day : {10, 40, 70, 100}) {
      Result<std::optional<std::vector<projections::SubscriptionRow>>> rows =
          projections::ReadSubscriptions(readers, account, kStart_s + day * kDay_s);
      EXPECT_TRUE(rows.ok());
      if (rows.ok() && *rows) out += cli::RenderSubscriptions(**rows, kZone, cli::OutputFormat::kJson);
    }
  }
  return out;
}

TEST(ProjectionPropertyTest, SplittingUsageDifferentlyNeverChangesACharge) {
  for (int seed = 1; seed <= kSeeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    StreamBuilder builder(seed);
    const std::vector<std::string> setup = builder.Setup();
    const std::vector<Interval> usage = builder.Usage();
    std::vector<std::string> coarse = setup;
    std::vector<std::string> fine = setup;
    std::vector<std::string> fine_ticks;
    for (const Interval& interval : usage) {
      for (std::string& tick : builder.Ticks(interval, false)) coarse.push_back(std::move(tick));
      for (std::string& tick : builder.Ticks(interval, true)) fine_ticks.push_back(std::move(tick));
    }
    // The fine ticks arrive in any order: out-of-order ticks fill gaps.
    std::shuffle(fine_ticks.begin(), fine_ticks.end(), builder.rng());
    fine.insert(fine.end(), fine_ticks.begin(), fine_ticks.end());
    ASSERT_GT(fine.size(), coarse.size());

    TestBook coarse_book;
    TestBook fine_book;
    for (const AppendResult& r : coarse_book.Append(coarse)) {
      ASSERT_EQ(r.outcome, AppendResult::Outcome::kAppended) << r.error.message;
    }
    for (const AppendResult& r : fine_book.Append(fine, 1 + builder.Pick(500))) {
      ASSERT_EQ(r.outcome, AppendResult::Outcome::kAppended) << r.error.message;
    }
    const std::string answers = Answers(coarse_book.readers());
    EXPECT_NE(answers.find("hourly_usage"), std::string::npos);
    EXPECT_EQ(Answers(fine_book.readers()), answers);
  }
}

TEST(ProjectionPropertyTest, IncrementalProjectionsEqualAReplayFromTheFirstEvent) {
  for (int seed = 1; seed <= kSeeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    StreamBuilder builder(100 + seed);
    std::vector<std::string> lines = builder.Setup();
    std::vector<std::string> rest = builder.Others();
    for (const Interval& interval : builder.Usage()) {
      for (std::string& tick : builder.Ticks(interval, builder.Pick(2) == 0)) {
        rest.push_back(std::move(tick));
      }
    }
    // Any order: late ticks after finalizations, refunds before purchases
    // (rejected), renewals after unsubscriptions (rejected), and so on.
    std::shuffle(rest.begin(), rest.end(), builder.rng());
    lines.insert(lines.end(), rest.begin(), rest.end());

    TestBook book;
    // Random batch sizes, and the live answers after each batch.
    std::vector<std::pair<uint64_t, std::string>> live;
    size_t appended = 0;
    for (size_t begin = 0; begin < lines.size();) {
      const size_t size = 1 + static_cast<size_t>(builder.Pick(300));
      for (const AppendResult& result : book.Append(std::vector<std::string>(
               lines.begin() + begin, lines.begin() + std::min(lines.size(), begin + size)))) {
        appended += result.outcome == AppendResult::Outcome::kAppended;
      }
      begin += size;
      if (builder.Pick(3) == 0) live.emplace_back(book.ledger().head().seq, Answers(book.readers()));
    }
    // Most events are stored; some are rejected, as in a real feed.
    EXPECT_GT(appended, lines.size() * 8 / 10) << appended << " of " << lines.size();
    const auto invoices_live = Dump(*book.readers().invoices);
    EXPECT_NE(Answers(book.readers()).find("late_from"), std::string::npos)
        << "the stream should produce late lines";

    // Replay every stored event from seq 1 into fresh in-memory families.
    projections::MemoryKv usage, invoices, subscriptions;
    auto all = projections::MakeProjections(kZone);
    const Status replayed = book.ledger().store().ScanEvents(1, UINT64_MAX, [&](const Envelope& e) {
      for (auto& projection : all) {
        projections::ProjectionStore& store =
            projection->name() == projections::kUsageFamily      ? static_cast<projections::ProjectionStore&>(usage)
            : projection->name() == projections::kInvoicesFamily ? invoices
                                                                 : subscriptions;
        EXPECT_TRUE(projection->Apply(e, store).ok());
      }
      return true;
    });
    ASSERT_TRUE(replayed.ok());
    EXPECT_EQ(Dump(usage), Dump(*book.readers().usage));
    EXPECT_EQ(Dump(invoices), invoices_live);
    EXPECT_EQ(Dump(subscriptions), Dump(*book.readers().subscriptions));

    // (c) Historical answers, built from one account's events up to a
    // sequence, equal the answers that were live at that sequence.
    ASSERT_FALSE(live.empty());
    for (const auto& [seq, answers] : live) {
      std::string historical;
      for (const std::string account : {"acct-0", "acct-1"}) {
        Result<std::unique_ptr<projections::HistoricalProjections>> built =
            projections::HistoricalProjections::Build(book.ledger().store(), account, seq);
        ASSERT_TRUE(built.ok());
        historical += Answers((*built)->readers(), {account});
      }
      EXPECT_EQ(historical, answers) << "as of seq " << seq;
    }
  }
}

}  // namespace
}  // namespace ledger
