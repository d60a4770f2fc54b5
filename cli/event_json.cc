#include "cli/event_json.h"

#include <openssl/evp.h>

#include <cstdio>

#include "ledger/event_codec.h"
#include "ledger/event_fields.h"
#include "ledger/money.h"

namespace ledger::cli {
namespace {

// The payload's fields, as the typed append API sees them too.
class JsonFieldWriter : public FieldVisitor {
 public:
  explicit JsonFieldWriter(JsonWriter* w) : w_(w) {}
  void String(std::string_view key, std::string_view text) override { w_->Field(key, text); }
  void Number(std::string_view key, int64_t value) override { w_->Field(key, value); }
  void Bool(std::string_view key, bool value) override { w_->Field(key, value); }

 private:
  JsonWriter* w_;
};

void WriteRating(const Envelope& envelope, const BillingZone& zone, JsonWriter* w) {
  const Rating& r = envelope.rating;
  w->Key("rating").BeginObject();
  switch (envelope.type()) {
    case EventType::kSslCertificatePurchased:
    case EventType::kSslExpansionPurchased:
    case EventType::kResourceCreated:
    case EventType::kSubscriptionRenewed:
      if (r.order_end_s == 0 && envelope.type() == EventType::kResourceCreated) break;  // pay-per-use
      w->Field("amount", FormatAmount_e8(r.amount_e8));
      w->Field("unit_price", FormatPrice_e10(r.unit_price_e10));
      if (r.list_amount_e8 != 0) w->Field("list_amount", FormatAmount_e8(r.list_amount_e8));
      if (r.order_end_s != 0) {
        w->Field("order_start", zone.Format(r.order_start_s));
        w->Field("order_end", zone.Format(r.order_end_s));
      }
      break;
    case EventType::kSslCertificateRefunded:
    case EventType::kAdjustmentPosted:
      w->Field("amount", FormatAmount_e8(r.amount_e8));
      break;
    case EventType::kUsageRecorded:
      w->Key("hours").BeginArray();
      for (const HourSlice& slice : r.hours) {
        w->BeginObject().Field("hour_start", zone.Format(slice.hour_start_s));
        w->Field("seconds", slice.seconds);
        w->Field("unit_price", FormatPrice_e10(slice.price_per_hour_e10)).EndObject();
      }
      w->EndArray();
      break;
    case EventType::kSubscriptionUnsubscribed:
      w->Field("amount", FormatAmount_e8(r.amount_e8));
      w->Key("refunds").BeginArray();
      for (const OrderRefund& refund : r.refunds) {
        w->BeginObject().Field("order_event_id", refund.order_event_id);
        w->Field("paid", FormatAmount_e8(refund.paid_e8));
        w->Field("refund", FormatAmount_e8(-refund.unused_e8));
        w->Field("fee", FormatAmount_e8(refund.fee_e8)).EndObject();
      }
      w->EndArray();
      break;
    case EventType::kInvoiceFinalized:
      w->Field("invoice_number", InvoiceNumberText(r.invoice_number));
      break;
    default:
      break;
  }
  w->EndObject();
}

}  // namespace

std::string InvoiceNumberText(uint64_t invoice_number) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "INV-%06llu", static_cast<unsigned long long>(invoice_number));
  return buffer;
}

std::string FormatRecordedAt(int64_t recorded_at_us, const BillingZone& zone) {
  const int64_t seconds = recorded_at_us / 1'000'000;
  std::string text = zone.Format(seconds);
  char fraction[16];
  std::snprintf(fraction, sizeof fraction, ".%06lld",
                static_cast<long long>(recorded_at_us % 1'000'000));
  text.insert(19, fraction);  // after "YYYY-MM-DDTHH:MM:SS"
  return text;
}

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int size = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                   reinterpret_cast<const unsigned char*>(bytes.data()),
                                   static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(size));
  return out;
}

void WriteEventJson(const Envelope& envelope, const BillingZone& zone,
                    const std::string* stored_value, JsonWriter* w) {
  w->BeginObject();
  w->Field("seq", envelope.seq);
  w->Field("recorded_at", FormatRecordedAt(envelope.recorded_at_us, zone));
  w->Field("prev_hash", HexOf(envelope.prev_hash));
  w->Field("hash", HexOf(envelope.hash));
  w->Field("type", EventTypeName(envelope.type()));
  w->Field("event_id", envelope.event_id);
  if (!envelope.account.empty()) w->Field("account", envelope.account);
  w->Field("occurred_at", zone.Format(envelope.occurred_at_s));
  JsonFieldWriter fields(w);
  VisitPayloadFields(envelope.payload, zone, &fields);
  WriteRating(envelope, zone, w);
  if (stored_value != nullptr) w->Field("stored_value", Base64(*stored_value));
  w->EndObject();
}

}  // namespace ledger::cli
