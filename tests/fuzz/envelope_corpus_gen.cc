// Writes the seed corpus of event_decoder_fuzz: stored values (EncodeEnvelope)
// of every event type, with empty, typical and extreme fields, chained the way
// the event store chains them. Run by hand when the encoding changes:
//
//   build-fuzz/tests/fuzz/envelope_corpus_gen tests/fuzz/corpus/envelope
//
// Reads nothing and fetches nothing; the output depends on this file only.

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "ledger/event_codec.h"

namespace {

using namespace ledger;

Rating FullRating() {
  Rating r;
  r.amount_e8 = 90'000'000'000;
  r.unit_price_e10 = 9'000'000'000'000;
  r.list_amount_e8 = 120'000'000'000;
  r.order_start_s = 1'767'196'800;
  r.order_end_s = 1'798'732'799;
  r.hours = {HourSlice{1'767'196'800, 3000, 245'000'000}, HourSlice{1'767'200'400, 3600, 1}};
  r.refunds = {OrderRefund{"e-7", 150'000'000'000, 48'294'936'131, 4'829'493'613}};
  r.invoice_number = 3;
  return r;
}

struct Seed {
  const char* name;
  Payload payload;
  Rating rating;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  Rating usage;
  usage.hours = {HourSlice{1'782'824'400, 600, 245'000'000},
                 HourSlice{1'782'828'000, 1530, 245'000'000}};
  Rating refunds;
  refunds.amount_e8 = -43'465'442'518;
  refunds.refunds = {OrderRefund{"e-3", 150'000'000'000, 48'294'936'131, 4'829'493'613},
                     OrderRefund{"e-9", 150'000'000'000, 150'000'000'000, 15'000'000'000}};
  Rating price;
  price.unit_price_e10 = 245'000'000;
  Rating ssl;
  ssl.amount_e8 = 25'000'000'000;
  ssl.unit_price_e10 = 2'500'000'000'000;
  Rating adjustment;
  adjustment.amount_e8 = -200'000'000;
  Rating finalized;
  finalized.invoice_number = 1;
  Rating extreme;
  extreme.amount_e8 = INT64_MIN;
  extreme.unit_price_e10 = INT64_MAX;
  extreme.hours = {HourSlice{INT64_MIN, INT64_MAX, -1}};

  const std::vector<Seed> seeds = {
      {"price_set", PriceSet{"private_cert/hour", "USD", 245'000'000}, price},
      {"account_opened", AccountOpened{"USD"}, {}},
      {"ssl_purchased", SslCertificatePurchased{"PO-1", "TrustAsia", "DV", "single", 1, 1}, ssl},
      {"ssl_purchased_multi",
       SslCertificatePurchased{"PO-2026-0077", "DigiCert", "OV", "multi", 250, 3}, ssl},
      {"ssl_refunded", SslCertificateRefunded{"PO-1"}, adjustment},
      {"expansion", SslExpansionPurchased{"PO-9", 10'000}, ssl},
      {"ca_yearly",
       ResourceCreated{"pca-root", ResourceType::kPrivateCa, CaType::kRoot,
                       BillingMode::kYearlyMonthly, PeriodUnit::kYear, 1, true},
       FullRating()},
      {"cert_hourly",
       ResourceCreated{"pc-1", ResourceType::kPrivateCert, CaType::kNone, BillingMode::kPayPerUse,
                       PeriodUnit::kNone, 0, false},
       {}},
      {"usage", UsageRecorded{"pc-1", 1'782'825'000, 1'782'829'530}, usage},
      {"renewed", SubscriptionRenewed{"pca-root", PeriodUnit::kMonth, 11}, FullRating()},
      {"unsubscribed", SubscriptionUnsubscribed{"pca-root"}, refunds},
      {"deleted", ResourceDeleted{"pc-1"}, {}},
      {"mode_change", BillingModeChangeRequested{"pc-1", BillingMode::kYearlyMonthly}, {}},
      {"adjustment", AdjustmentPosted{-200'000'000, "outage credit \xE2\x82\xAC \"q\""},
       adjustment},
      {"finalized", InvoiceFinalized{Period{2026, 4}}, finalized},
      {"empty_strings", AccountOpened{""}, {}},
      {"extreme_numbers", UsageRecorded{"", INT64_MIN, INT64_MAX}, extreme},
      {"full_rating", AdjustmentPosted{1, std::string(256, 'r')}, FullRating()},
  };

  Sha256 prev_hash{};
  uint64_t seq = 0;
  for (const Seed& seed : seeds) {
    Envelope e;
    e.seq = ++seq;
    e.event_id = std::string("e-") + seed.name;
    e.account = TypeOf(seed.payload) == EventType::kPriceSet ? "" : "acme";
    e.occurred_at_s = 1'775'000'000 + static_cast<int64_t>(seq);
    e.recorded_at_us = 1'780'272'000'000'000 + static_cast<int64_t>(seq);
    e.content_digest = HashBytes(e.event_id);
    e.payload = seed.payload;
    e.rating = seed.rating;
    std::string value;
    EncodeEnvelope(prev_hash, &e, &value);
    prev_hash = e.hash;
    std::ofstream out(dir + "/" + seed.name, std::ios::binary | std::ios::trunc);
    out.write(value.data(), static_cast<std::streamsize>(value.size()));
    if (!out) {
      std::fprintf(stderr, "cannot write %s/%s\n", dir.c_str(), seed.name);
      return 1;
    }
  }
  return 0;
}
