// Unit tests of the stored-event encoding (ledger/event_codec.h) and of the
// JSON Lines input parser and its idempotency digest (ledger/json_input.h).

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ledger/constants.h"
#include "ledger/event.h"
#include "ledger/event_codec.h"
#include "ledger/json_input.h"
#include "ledger/rule_error.h"
#include "ledger/status.h"

namespace ledger {
namespace {

// ---------------------------------------------------------------------------
// Helpers.

Sha256 FilledHash(uint8_t first) {
  Sha256 hash{};
  for (size_t i = 0; i < hash.size(); ++i) hash[i] = static_cast<uint8_t>(first + i * 7);
  return hash;
}

// A rating with every field set, vectors included, so that a field the codec
// forgets shows up whatever the event type.
Rating FullRating(int64_t base) {
  Rating r;
  r.amount_e8 = base * 100 + 1;
  r.unit_price_e10 = base * 1000 + 2;
  r.list_amount_e8 = base * 100 + 3;
  r.order_start_s = 1'767'196'800 + base;
  r.order_end_s = 1'798'732'799 + base;
  r.hours = {HourSlice{1'767'196'800, 3000, 245'000'000},
             HourSlice{1'767'200'400, 3600, -1},  // a negative value survives too
             HourSlice{1'767'204'000, 1, INT64_MAX}};
  r.refunds = {OrderRefund{"order-a", 150'000'000'000, 48'294'936'131, 4'829'493'613},
               OrderRefund{"order-b", 150'000'000'000, 150'000'000'000, 0}};
  r.invoice_number = static_cast<uint64_t>(base) + 7;
  return r;
}

// One envelope of each event type, with non-default values in every field.
std::vector<Envelope> OneEnvelopePerType() {
  std::vector<Payload> payloads = {
      PriceSet{"private_cert/hour", "USD", 245'000'000},
      AccountOpened{"EUR"},
      SslCertificatePurchased{"PO-2026-0077", "TrustAsia", "DV", "multi", 17, 3},
      SslCertificateRefunded{"PO-2026-0077"},
      SslExpansionPurchased{"PO-9", 42},
      ResourceCreated{"pca-issuing", ResourceType::kPrivateCa, CaType::kSubordinate,
                      BillingMode::kYearlyMonthly, PeriodUnit::kYear, 3, true},
      UsageRecorded{"pc-web-01", 1'782'825'000, 1'782'829'530},
      SubscriptionRenewed{"pca-issuing", PeriodUnit::kMonth, 11},
      SubscriptionUnsubscribed{"pca-issuing"},
      ResourceDeleted{"pc-web-01"},
      BillingModeChangeRequested{"pc-1", BillingMode::kYearlyMonthly},
      AdjustmentPosted{-200'000'000, "outage credit \xE2\x82\xAC \"quoted\""},
      InvoiceFinalized{Period{2026, 4}},
  };
  std::vector<Envelope> envelopes;
  for (size_t i = 0; i < payloads.size(); ++i) {
    Envelope e;
    e.seq = 1000 + i;
    e.event_id = "event-" + std::to_string(i);
    e.account = TypeOf(payloads[i]) == EventType::kPriceSet ? "" : "acct-" + std::to_string(i);
    e.occurred_at_s = 1'775'000'000 + static_cast<int64_t>(i);
    e.recorded_at_us = 1'775'000'000'123'456 + static_cast<int64_t>(i);
    e.content_digest = FilledHash(static_cast<uint8_t>(i));
    e.payload = std::move(payloads[i]);
    e.rating = FullRating(static_cast<int64_t>(i));
    envelopes.push_back(std::move(e));
  }
  return envelopes;
}

void ExpectSamePayload(const PriceSet& a, const PriceSet& b) {
  EXPECT_EQ(a.sku, b.sku);
  EXPECT_EQ(a.currency, b.currency);
  EXPECT_EQ(a.unit_price_e10, b.unit_price_e10);
}
void ExpectSamePayload(const AccountOpened& a, const AccountOpened& b) {
  EXPECT_EQ(a.currency, b.currency);
}
void ExpectSamePayload(const SslCertificatePurchased& a, const SslCertificatePurchased& b) {
  EXPECT_EQ(a.order_id, b.order_id);
  EXPECT_EQ(a.ca, b.ca);
  EXPECT_EQ(a.cert_type, b.cert_type);
  EXPECT_EQ(a.domain_type, b.domain_type);
  EXPECT_EQ(a.domains, b.domains);
  EXPECT_EQ(a.years, b.years);
}
void ExpectSamePayload(const SslCertificateRefunded& a, const SslCertificateRefunded& b) {
  EXPECT_EQ(a.order_id, b.order_id);
}
void ExpectSamePayload(const SslExpansionPurchased& a, const SslExpansionPurchased& b) {
  EXPECT_EQ(a.order_id, b.order_id);
  EXPECT_EQ(a.quantity, b.quantity);
}
void ExpectSamePayload(const ResourceCreated& a, const ResourceCreated& b) {
  EXPECT_EQ(a.resource_id, b.resource_id);
  EXPECT_EQ(a.resource_type, b.resource_type);
  EXPECT_EQ(a.ca_type, b.ca_type);
  EXPECT_EQ(a.billing_mode, b.billing_mode);
  EXPECT_EQ(a.period_unit, b.period_unit);
  EXPECT_EQ(a.periods, b.periods);
  EXPECT_EQ(a.auto_renew, b.auto_renew);
}
void ExpectSamePayload(const UsageRecorded& a, const UsageRecorded& b) {
  EXPECT_EQ(a.resource_id, b.resource_id);
  EXPECT_EQ(a.from_s, b.from_s);
  EXPECT_EQ(a.to_s, b.to_s);
}
void ExpectSamePayload(const SubscriptionRenewed& a, const SubscriptionRenewed& b) {
  EXPECT_EQ(a.resource_id, b.resource_id);
  EXPECT_EQ(a.period_unit, b.period_unit);
  EXPECT_EQ(a.periods, b.periods);
}
void ExpectSamePayload(const SubscriptionUnsubscribed& a, const SubscriptionUnsubscribed& b) {
  EXPECT_EQ(a.resource_id, b.resource_id);
}
void ExpectSamePayload(const ResourceDeleted& a, const ResourceDeleted& b) {
  EXPECT_EQ(a.resource_id, b.resource_id);
}
void ExpectSamePayload(const BillingModeChangeRequested& a, const BillingModeChangeRequested& b) {
  EXPECT_EQ(a.resource_id, b.resource_id);
  EXPECT_EQ(a.billing_mode, b.billing_mode);
}
void ExpectSamePayload(const AdjustmentPosted& a, const AdjustmentPosted& b) {
  EXPECT_EQ(a.amount_e8, b.amount_e8);
  EXPECT_EQ(a.reason, b.reason);
}
void ExpectSamePayload(const InvoiceFinalized& a, const InvoiceFinalized& b) {
  EXPECT_EQ(a.period, b.period);
}

void ExpectSameRating(const Rating& a, const Rating& b) {
  EXPECT_EQ(a.amount_e8, b.amount_e8);
  EXPECT_EQ(a.unit_price_e10, b.unit_price_e10);
  EXPECT_EQ(a.list_amount_e8, b.list_amount_e8);
  EXPECT_EQ(a.order_start_s, b.order_start_s);
  EXPECT_EQ(a.order_end_s, b.order_end_s);
  ASSERT_EQ(a.hours.size(), b.hours.size());
  for (size_t i = 0; i < a.hours.size(); ++i) {
    SCOPED_TRACE("hours[" + std::to_string(i) + "]");
    EXPECT_EQ(a.hours[i].hour_start_s, b.hours[i].hour_start_s);
    EXPECT_EQ(a.hours[i].seconds, b.hours[i].seconds);
    EXPECT_EQ(a.hours[i].price_per_hour_e10, b.hours[i].price_per_hour_e10);
  }
  ASSERT_EQ(a.refunds.size(), b.refunds.size());
  for (size_t i = 0; i < a.refunds.size(); ++i) {
    SCOPED_TRACE("refunds[" + std::to_string(i) + "]");
    EXPECT_EQ(a.refunds[i].order_event_id, b.refunds[i].order_event_id);
    EXPECT_EQ(a.refunds[i].paid_e8, b.refunds[i].paid_e8);
    EXPECT_EQ(a.refunds[i].unused_e8, b.refunds[i].unused_e8);
    EXPECT_EQ(a.refunds[i].fee_e8, b.refunds[i].fee_e8);
  }
  EXPECT_EQ(a.invoice_number, b.invoice_number);
}

// Every field, hashes included.
void ExpectSameEnvelope(const Envelope& expected, const Envelope& actual) {
  EXPECT_EQ(expected.seq, actual.seq);
  EXPECT_EQ(expected.event_id, actual.event_id);
  EXPECT_EQ(expected.account, actual.account);
  EXPECT_EQ(expected.occurred_at_s, actual.occurred_at_s);
  EXPECT_EQ(expected.recorded_at_us, actual.recorded_at_us);
  EXPECT_EQ(expected.content_digest, actual.content_digest);
  ASSERT_EQ(expected.payload.index(), actual.payload.index()) << "different event types";
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        ExpectSamePayload(e, std::get<T>(actual.payload));
      },
      expected.payload);
  ExpectSameRating(expected.rating, actual.rating);
  EXPECT_EQ(expected.prev_hash, actual.prev_hash);
  EXPECT_EQ(expected.hash, actual.hash);
}

std::string Encode(const Sha256& prev_hash, Envelope* envelope) {
  std::string value;
  EncodeEnvelope(prev_hash, envelope, &value);
  return value;
}

// ---------------------------------------------------------------------------
// event_codec.h

TEST(EventCodecTest, HashBytesIsSha256) {
  EXPECT_EQ(HexOf(HashBytes("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexOf(HashBytes("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HexOf(Sha256{}), std::string(64, '0'));
}

TEST(EventCodecTest, HasherOverPiecesEqualsHashOfTheWhole) {
  const std::string text = "The quick brown fox jumps over the lazy dog";
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    Sha256Hasher hasher;
    hasher.Update(std::string_view(text).substr(0, cut));
    hasher.Update("");
    hasher.Update(std::string_view(text).substr(cut));
    EXPECT_EQ(HexOf(hasher.Finish()), HexOf(HashBytes(text))) << "cut at " << cut;
  }
  Sha256Hasher abc;
  abc.Update("a");
  abc.Update("bc");
  EXPECT_EQ(HexOf(abc.Finish()), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(EventCodecTest, RoundTripOfEveryEventType) {
  const std::vector<Envelope> envelopes = OneEnvelopePerType();
  ASSERT_EQ(envelopes.size(), size_t{kEventTypeMax});
  for (size_t i = 0; i < envelopes.size(); ++i) {
    Envelope original = envelopes[i];
    SCOPED_TRACE(std::string(EventTypeName(original.type())));
    ASSERT_EQ(static_cast<size_t>(original.type()), i + 1);
    const Sha256 prev_hash = FilledHash(static_cast<uint8_t>(100 + i));
    const std::string value = Encode(prev_hash, &original);

    // The encoder chains the event and seals the value with its hash.
    EXPECT_EQ(original.prev_hash, prev_hash);
    ASSERT_GE(value.size(), 1u + 64u);
    EXPECT_EQ(static_cast<uint8_t>(value[0]), kValueFormatV1);
    EXPECT_EQ(original.hash, HashBytes(std::string_view(value).substr(0, value.size() - 32)));
    EXPECT_EQ(value.substr(value.size() - 64, 32),
              std::string(reinterpret_cast<const char*>(prev_hash.data()), 32));

    Envelope decoded;
    const Status status = DecodeEnvelope(value, &decoded);
    ASSERT_TRUE(status.ok()) << status.ToString();
    ExpectSameEnvelope(original, decoded);
  }
}

// FORMAT.md is the contract for every stored byte: the values of one event
// of each type, with a full rating and with an empty one, are pinned by the
// SHA-256 of their bytes. A change of the codec that changes a byte fails
// here. A deliberate one raises a class version (FORMAT.md, "Versioning")
// and is pinned anew, with a test that the older version still decodes:
// body version 2 (the rules version) was, 2026-11-28
// (StoredValueRegressionTest.AVersionOneBodyWasJudgedUnderRulesVersionOne).
// The values are pinned as judged under rules version 2: a later rules
// version changes that field's value only, not the codec.
TEST(EventCodecTest, StoredBytesArePinned) {
  const std::vector<std::string> full = {
      "57239233f2da35389c4bfa879ac59e382c5c5b50b32263e062febfc677477730",
      "3beff9bef663797c6a2ccd686d89929b65d1df23ba5df42feed919a0478114df",
      "8a64029c9a55fae35aeb066bc52b0eb358ce6d59f5d7124449ec58669831670d",
      "2d68b549f93bea14e45ab2f935dc8759dee686bf6af07b552a775207bd194cb4",
      "1ed49554c50533aa05b73b266f820430d0d288ae6592b595b7c897e167a50aa9",
      "36dabd7da828c6a6712622b5bda787892f4d5d8165656dc30dda85a249f9187e",
      "36c5c6e923f56e6e4da68e5dee3b0573484b4a98900fd046e9abc8204574a0ff",
      "b5504675cdf266e88a53327562b727ff5fece2f1e914a3fbbe17c1cad5eaeb96",
      "a503d1f029c0b03c1ed439d3b3f51d8a12b3612c61c9b17ed0bf829fb20e3124",
      "6b3a1212288bd70b5ea6bda167c581174599be0b3720af8ff095822133fa19c4",
      "bfb3ed4592dfca0cf9f647f6cea6fed6e6e3826019b9e36f31c4bc2a7b6896ea",
      "38cb6f72c20158b2731986ad130ca38c879a0605aef0766c7993400ea7f2178b",
      "c5d1f5ee0760af9919bdd4b45dadf61b02464e454518ce4251d8af45a3b9032c",
  };
  const std::vector<std::string> empty_rating = {
      "6497fde5fed81cf5bfaef8e769c7c8c56789839272529999ef9ee0a4e9e80353",
      "0a4f8984742355cebdc68d6d8fe1e76d460c3a464aa4b4a77bcd9296c1ea80a1",
      "145cf6e6fdbe664f255780839f60e80ae3d751b170b14cb9931bd481cdb2b69b",
      "49f16b8139306324616e8221f6657359258f21809c5a4837eee2bf8b4af653ac",
      "58e40aaa4a8a7322ede553ecc63cfaa6e040a555999dadf8e02c838cd36c42ec",
      "d2e2fd50d802c28ad1a7202944ff8c648bc01a75f1b5efda3d2ea3c454a93d61",
      "0b0cff0fe1b88f41ce726d956ba1c4e577a2968556c6f1319cc0fe25a6948769",
      "f113fe7c249ce3f3f3d2d9d834a34aa8e7e80b6afa3ff3f24d79c31b1cf71eb3",
      "d38a87041672d688c51e3b5043a01ec2d30352e90714b43a26d091cf917078f3",
      "ec79115cf8751368303466a62e75fb9e46a16d10bb1b1712f685450eb1630371",
      "5ee4658366b04cc340a2ff30762b0d0900497e8998fbfa39a586d66dbc17c3ce",
      "62445558688ec9413e746085ff0e805e1a4043ef660f481b49ce9187f162048b",
      "faf61314d9ba6bfa7a65e030c8206bf9e898e4611bd77823146b024cd37bb158",
  };
  std::vector<Envelope> envelopes = OneEnvelopePerType();
  ASSERT_EQ(envelopes.size(), full.size());
  for (size_t i = 0; i < envelopes.size(); ++i) {
    SCOPED_TRACE(std::string(EventTypeName(envelopes[i].type())));
    envelopes[i].rules_version = 2;
    Envelope with_rating = envelopes[i];
    EXPECT_EQ(HexOf(HashBytes(Encode(FilledHash(static_cast<uint8_t>(100 + i)), &with_rating))),
              full[i]);
    Envelope without = envelopes[i];
    without.rating = Rating{};
    EXPECT_EQ(HexOf(HashBytes(Encode(FilledHash(static_cast<uint8_t>(100 + i)), &without))),
              empty_rating[i]);
  }
}

TEST(EventCodecTest, EncodingIsDeterministic) {
  for (Envelope e : OneEnvelopePerType()) {
    Envelope copy = e;
    EXPECT_EQ(Encode(Sha256{}, &e), Encode(Sha256{}, &copy)) << EventTypeName(e.type());
    EXPECT_EQ(e.hash, copy.hash);
  }
}

TEST(EventCodecTest, EmptyRatingAndEmptyStringsRoundTrip) {
  Envelope original;
  original.seq = 1;
  original.event_id = "e";
  original.payload = PriceSet{};
  const std::string value = Encode(Sha256{}, &original);
  Envelope decoded;
  decoded.rating = FullRating(5);  // decoding must overwrite, not merge
  const Status status = DecodeEnvelope(value, &decoded);
  ASSERT_TRUE(status.ok()) << status.ToString();
  ExpectSameEnvelope(original, decoded);
}

// A flipped byte anywhere, in the body, the chained hash or the seal, is
// Corruption.
TEST(EventCodecTest, EveryFlippedByteIsCorruption) {
  Envelope original = OneEnvelopePerType()[static_cast<size_t>(EventType::kUsageRecorded) - 1];
  const std::string value = Encode(FilledHash(9), &original);
  for (const uint8_t mask : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xFF}}) {
    for (size_t i = 0; i < value.size(); ++i) {
      std::string damaged = value;
      damaged[i] = static_cast<char>(static_cast<uint8_t>(damaged[i]) ^ mask);
      Envelope decoded;
      const Status status = DecodeEnvelope(damaged, &decoded);
      EXPECT_EQ(status.code(), Status::Code::kCorruption)
          << "byte " << i << " of " << value.size() << " xor " << int{mask} << ": "
          << status.ToString();
    }
  }
}

TEST(EventCodecTest, EveryTruncationIsCorruption) {
  Envelope original = OneEnvelopePerType()[static_cast<size_t>(EventType::kResourceCreated) - 1];
  const std::string value = Encode(Sha256{}, &original);
  for (size_t size = 0; size < value.size(); ++size) {
    Envelope decoded;
    const Status status = DecodeEnvelope(std::string_view(value).substr(0, size), &decoded);
    EXPECT_EQ(status.code(), Status::Code::kCorruption) << "first " << size << " bytes";
  }
  // A value with a byte too many is not a stored event either.
  Envelope decoded;
  EXPECT_EQ(DecodeEnvelope(value + '\0', &decoded).code(), Status::Code::kCorruption);
}

// A sealed value whose enum bytes are outside their enums (only a writer's
// bug could store one): Corruption that names the field, not a value the
// projections would misread.
TEST(EventCodecTest, SealedEnumBytesOutsideTheirEnumsAreCorruption) {
  const auto decode_with = [](auto mutate) {
    Envelope original =
        OneEnvelopePerType()[static_cast<size_t>(EventType::kResourceCreated) - 1];
    mutate(&std::get<ResourceCreated>(original.payload));
    const std::string value = Encode(Sha256{}, &original);
    Envelope decoded;
    return DecodeEnvelope(value, &decoded);
  };
  const Status type = decode_with([](ResourceCreated* e) { e->resource_type = ResourceType{9}; });
  EXPECT_EQ(type.code(), Status::Code::kCorruption);
  EXPECT_NE(type.message().find("resource_type byte 9"), std::string::npos) << type.ToString();
  EXPECT_EQ(decode_with([](ResourceCreated* e) { e->ca_type = CaType{3}; }).code(),
            Status::Code::kCorruption);
  EXPECT_EQ(decode_with([](ResourceCreated* e) { e->billing_mode = BillingMode{0}; }).code(),
            Status::Code::kCorruption);
  EXPECT_EQ(decode_with([](ResourceCreated* e) { e->period_unit = PeriodUnit{7}; }).code(),
            Status::Code::kCorruption);
  EXPECT_TRUE(decode_with([](ResourceCreated*) {}).ok());

  Envelope renewal =
      OneEnvelopePerType()[static_cast<size_t>(EventType::kSubscriptionRenewed) - 1];
  std::get<SubscriptionRenewed>(renewal.payload).period_unit = PeriodUnit::kNone;
  Envelope decoded;
  EXPECT_EQ(DecodeEnvelope(Encode(Sha256{}, &renewal), &decoded).code(),
            Status::Code::kCorruption);
}

// Values whose seal is right but whose contents are not an event: the codec
// must say Corruption, never throw or accept them.
TEST(EventCodecTest, SealedGarbageIsCorruption) {
  const auto seal = [](std::string hashed) {
    const Sha256 hash = HashBytes(hashed);
    hashed.append(reinterpret_cast<const char*>(hash.data()), hash.size());
    return hashed;
  };
  const std::string zeros_hash(32, '\0');
  Envelope original = OneEnvelopePerType()[0];
  const std::string value = Encode(Sha256{}, &original);
  const std::string body = value.substr(1, value.size() - 1 - 64);

  struct Case {
    const char* what;
    std::string value;
  };
  const std::vector<Case> cases = {
      {"unknown format byte", seal(std::string(1, '\x02') + body + zeros_hash)},
      {"body of zeros", seal(std::string(1, '\x01') + std::string(40, '\0') + zeros_hash)},
      {"body of 0xff", seal(std::string(1, '\x01') + std::string(40, '\xff') + zeros_hash)},
      {"empty body", seal(std::string(1, '\x01') + zeros_hash)},
      {"trailing byte after the body", seal(std::string(1, '\x01') + body + "x" + zeros_hash)},
      {"body cut short", seal(std::string(1, '\x01') + body.substr(0, body.size() - 1) + zeros_hash)},
  };
  for (const Case& c : cases) {
    Envelope decoded;
    Status status = Status::Ok();
    EXPECT_NO_THROW(status = DecodeEnvelope(c.value, &decoded)) << c.what;
    EXPECT_EQ(status.code(), Status::Code::kCorruption) << c.what << ": " << status.ToString();
  }
  // The same construction with the real body decodes: the cases above fail
  // for their contents, not for the sealing.
  Envelope decoded;
  EXPECT_TRUE(DecodeEnvelope(seal(std::string(1, '\x01') + body + zeros_hash), &decoded).ok());
}

// ---------------------------------------------------------------------------
// json_input.h

struct Parsed {
  std::optional<RuleError> error;
  ParsedLine line;
};

// Parses `text` as the ledger parses an input line.
Parsed ParseLine(std::string_view text) {
  static JsonLineParser parser;
  Parsed parsed;
  parsed.error = parser.ParseCopy(text, &parsed.line);
  return parsed;
}

Sha256 DigestOf(std::string_view text) {
  Parsed parsed = ParseLine(text);
  EXPECT_FALSE(parsed.error.has_value())
      << text << ": " << (parsed.error ? parsed.error->message : "");
  return parsed.line.content_digest;
}

TEST(JsonInputTest, FieldsInInputOrderWithTheirText) {
  const Parsed parsed = ParseLine(
      R"({"type":"usage_recorded", "n" : 1.50 , "t":true,"f":false,"z":null,"esc":"a\"b\u00e9\/"})");
  ASSERT_FALSE(parsed.error.has_value()) << parsed.error->message;
  const std::vector<JsonField>& fields = parsed.line.fields;
  ASSERT_EQ(fields.size(), 6u);
  EXPECT_EQ(fields[0].key, "type");
  EXPECT_EQ(fields[0].kind, JsonKind::kString);
  EXPECT_EQ(fields[0].text, "usage_recorded");
  EXPECT_EQ(fields[1].key, "n");
  EXPECT_EQ(fields[1].kind, JsonKind::kNumber);
  EXPECT_EQ(fields[1].text, "1.50") << "a number keeps its own text";
  EXPECT_EQ(fields[2].kind, JsonKind::kTrue);
  EXPECT_EQ(fields[3].kind, JsonKind::kFalse);
  EXPECT_EQ(fields[4].kind, JsonKind::kNull);
  EXPECT_EQ(fields[5].kind, JsonKind::kString);
  EXPECT_EQ(fields[5].text, "a\"b\xC3\xA9/") << "strings are unescaped";
  ASSERT_NE(parsed.line.Find("n"), nullptr);
  EXPECT_EQ(parsed.line.Find("n")->text, "1.50");
  EXPECT_EQ(parsed.line.Find("missing"), nullptr);
}

TEST(JsonInputTest, SameValueSameDigest) {
  const Sha256 base = DigestOf(R"({"a":"x","b":1,"c":true,"d":null,"e":{"p":1,"q":[1,"2"]}})");
  const std::vector<std::string> same = {
      // key order, at the top and inside a nested object
      R"({"e":{"q":[1,"2"],"p":1},"d":null,"c":true,"b":1,"a":"x"})",
      // white space everywhere it may go
      " {\t\"a\" : \"x\" ,\n\"b\":1 , \"c\" : true,\"d\" :null, \"e\":{ \"p\" : 1, \"q\" : [ 1 , \"2\" ] } }  ",
      // escapes that spell the same text, in values and in keys
      R"({"a":"\u0078","b":1,"c":true,"d":null,"e":{"p":1,"q":[1,"\u0032"]}})",
      R"({"\u0061":"x","b":1,"c":true,"d":null,"e":{"\u0070":1,"q":[1,"2"]}})",
  };
  for (const std::string& line : same) EXPECT_EQ(DigestOf(line), base) << line;
  EXPECT_EQ(DigestOf(R"({"s":"a/b"})"), DigestOf(R"({"s":"a\/b"})"));
  EXPECT_EQ(DigestOf(R"({"s":"é"})"), DigestOf(R"({"s":"\u00e9"})"));
}

TEST(JsonInputTest, DifferentValueDifferentDigest) {
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {R"({"n":1})", R"({"n":1.0})"},    // numbers compare by their text
      {R"({"n":100})", R"({"n":1e2})"},
      {R"({"n":1})", R"({"n":"1"})"},    // a number is not a string
      {R"({"b":true})", R"({"b":"true"})"},
      {R"({"z":null})", R"({"z":"null"})"},
      {R"({"z":null})", R"({})"},        // null is not absent
      {R"({"s":"x"})", R"({"s":"x "})"},
      {R"({"s":"x"})", R"({"S":"x"})"},  // keys are case-sensitive
      {R"({"a":"b","c":"d"})", R"({"a":"bc","":"d"})"},  // no ambiguity of concatenation
      {R"({"e":{"p":1}})", R"({"e":{"p":"1"}})"},
      {R"({"q":[1,2]})", R"({"q":[2,1]})"},  // array order matters
      {R"({"q":[]})", R"({"q":{}})"},
  };
  for (const auto& [a, b] : pairs) EXPECT_NE(DigestOf(a), DigestOf(b)) << a << " vs " << b;
}

TEST(JsonInputTest, InvalidJsonCases) {
  const std::vector<std::string> invalid = {
      "",
      "   ",
      R"({"type":"usage_recorded","event_id":"fb-tick-3","account":"fabrikam",)",  // truncated
      R"({"a":1,})",                 // trailing comma
      R"({"a" 1})",                  // missing colon
      R"({'a':1})",                  // single quotes
      R"({"a":tru})",                // bad literal
      R"({"a":01})",                 // leading zero
      R"({"a":1.})",                 // no fraction digits
      R"({"a":-})",                  // sign without digits
      R"({"a":.5})",                 // no integer digits
      R"({"a":+1})",                 // plus sign
      R"({"a":NaN})",
      R"({"a":"x\qy"})",             // bad escape
      R"({"a":"\ud800"})",           // lone surrogate
      "{\"a\":\"x\ty\"}",            // raw control character in a string
      "{\"a\":\"\xff\"}",            // not UTF-8
      R"({"a":1}x)",                 // content after the object
      R"({"a":1}{"b":2})",           // two objects
      R"({"a":1}})",                 // stray brace
      R"({"a":1,"a":1})",            // a key twice
      R"({"a":[1,2})",               // unclosed array
      R"([{"a":1}])",                // not an object
      R"("text")",
      "42",
      "null",
  };
  for (const std::string& line : invalid) {
    const Parsed parsed = ParseLine(line);
    ASSERT_TRUE(parsed.error.has_value()) << "accepted: " << line;
    EXPECT_EQ(parsed.error->code, ErrorCode::kInvalidJson) << line;
    EXPECT_FALSE(parsed.error->message.empty()) << line;
  }
}

TEST(JsonInputTest, LineLengthLimit) {
  const std::string head = R"({"reason":")";
  const std::string tail = R"("})";
  const std::string at_limit = head + std::string(kLineBytesMax - head.size() - tail.size(), 'x') + tail;
  ASSERT_EQ(at_limit.size(), kLineBytesMax);
  EXPECT_FALSE(ParseLine(at_limit).error.has_value()) << "a line of exactly the limit is fine";

  const std::string over = head + std::string(kLineBytesMax - head.size() - tail.size() + 1, 'x') + tail;
  const Parsed parsed = ParseLine(over);
  ASSERT_TRUE(parsed.error.has_value());
  EXPECT_EQ(parsed.error->code, ErrorCode::kInvalidJson);
}

// A parser reused after an error answers the next line afresh.
TEST(JsonInputTest, ParserRecoversAfterAnError) {
  const Sha256 before = DigestOf(R"({"a":1})");
  EXPECT_TRUE(ParseLine(R"({"a":)").error.has_value());
  EXPECT_EQ(DigestOf(R"({"a":1})"), before);
  const Parsed parsed = ParseLine(R"({"b":2})");
  ASSERT_FALSE(parsed.error.has_value());
  ASSERT_EQ(parsed.line.fields.size(), 1u) << "fields of an earlier line must not linger";
  EXPECT_EQ(parsed.line.fields[0].key, "b");
}

// The ledger parses line after line into the same ParsedLine, whose fields
// are overwritten in place: each parse holds that line's fields alone, with
// the digest a fresh ParsedLine gets, whether the line before had more
// fields, fewer, or failed half way.
TEST(JsonInputTest, AReusedParsedLineHoldsOnlyTheLastLine) {
  JsonLineParser parser;
  ParsedLine reused;
  const auto expect_parse = [&](std::string_view text, std::vector<std::string> fields) {
    SCOPED_TRACE(text);
    const std::optional<RuleError> error = parser.ParseCopy(text, &reused);
    ASSERT_FALSE(error.has_value()) << error->message;
    std::vector<std::string> got;
    for (const JsonField& field : reused.fields) {
      got.push_back(field.key + "=" + std::to_string(static_cast<int>(field.kind)) + ":" +
                    field.text);
    }
    EXPECT_EQ(got, fields);
    EXPECT_EQ(HexOf(reused.content_digest), HexOf(DigestOf(text)));
  };
  const auto expect_invalid = [&](std::string_view text) {
    const std::optional<RuleError> error = parser.ParseCopy(text, &reused);
    ASSERT_TRUE(error.has_value()) << text;
    EXPECT_EQ(ErrorCodeName(error->code), ErrorCodeName(ErrorCode::kInvalidJson)) << text;
  };
  const std::string long_text = "a long value, longer than a short string";
  // Kinds: 0 string, 1 number, 2 true, 3 false, 4 null, 5 object, 6 array.
  expect_parse(R"({"a":")" + long_text + R"(","b":1,"c":"x","d":true})",
               {"a=0:" + long_text, "b=1:1", "c=0:x", "d=2:"});
  expect_parse(R"({"c":"y","a":"z"})", {"c=0:y", "a=0:z"});
  // Every kind that carries no text of its own, where a long string was.
  for (const auto& [value, kind] :
       std::vector<std::pair<std::string, int>>{{"true", 2}, {"false", 3}, {"null", 4}}) {
    expect_parse(R"({"a":")" + long_text + R"("})", {"a=0:" + long_text});
    expect_parse(R"({"a":)" + value + "}", {"a=" + std::to_string(kind) + ":"});
  }
  expect_parse(R"({"a":")" + long_text + R"("})", {"a=0:" + long_text});
  for (const std::string object_or_array : {R"({"x":1})", R"([1,"x"])"}) {
    const std::string line = R"({"a":)" + object_or_array + "}";
    const Parsed fresh = ParseLine(line);
    ASSERT_EQ(fresh.line.fields.size(), 1u);
    const std::string kind = std::to_string(static_cast<int>(fresh.line.fields[0].kind));
    expect_parse(R"({"a":")" + long_text + R"("})", {"a=0:" + long_text});
    expect_parse(line, {"a=" + kind + ":" + fresh.line.fields[0].text});
  }
  expect_invalid(R"({"p":1,"q":2,"r":)");
  expect_parse(R"({"q":"after a failed line"})", {"q=0:after a failed line"});
  expect_invalid(R"({"k":1,"k":2})");  // a repeated key
  expect_parse(R"({"k":1,"l":2,"m":3,"n":4,"o":5})", {"k=1:1", "l=1:2", "m=1:3", "n=1:4", "o=1:5"});
}

}  // namespace
}  // namespace ledger
