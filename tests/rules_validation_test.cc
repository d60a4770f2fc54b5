// What an event must look like (interface.md): JSON, ids, types, fields and
// their values; idempotency (billing-rules.md section 9); and the first code
// an event breaking several rules gets, in interface.md's order.

#include "tests/ledger_test_util.h"

namespace ledger::test_util {
namespace {

// A complete, valid event of every type, as members, so that a test can drop
// or add one. Stateless checks come before every state rule, so these lines
// need no prices, accounts or resources to be judged on their fields.
std::vector<std::vector<Member>> OneEventOfEachType() {
  const auto with = [](std::string_view type, std::string_view account,
                       std::initializer_list<Member> fields) {
    std::vector<Member> members =
        EventMembers(type, std::string(type) + "-1", account, "2026-03-02T10:00:00");
    members.insert(members.end(), fields.begin(), fields.end());
    return members;
  };
  return {
      with("price_set", "",
           {S("sku", "private_cert/hour"), S("currency", "USD"), S("unit_price", "0.01")}),
      with("account_opened", "acme", {S("currency", "USD")}),
      with("ssl_certificate_purchased", "acme",
           {S("order_id", "o-1"), S("ca", "DigiCert"), S("cert_type", "OV"),
            S("domain_type", "single"), N("domains", 1), N("years", 1)}),
      with("ssl_certificate_refunded", "acme", {S("order_id", "o-1")}),
      with("ssl_expansion_purchased", "acme", {S("order_id", "x-1"), N("quantity", 1)}),
      with("resource_created", "acme",
           {S("resource_id", "pc-1"), S("resource_type", "private_cert"),
            S("billing_mode", "pay_per_use")}),
      with("usage_recorded", "acme",
           {S("resource_id", "pc-1"), S("from", T("2026-03-02T09:00:00")),
            S("to", T("2026-03-02T10:00:00"))}),
      with("subscription_renewed", "acme",
           {S("resource_id", "ca-1"), S("period_unit", "month"), N("periods", 1)}),
      with("subscription_unsubscribed", "acme", {S("resource_id", "ca-1")}),
      with("resource_deleted", "acme", {S("resource_id", "pc-1")}),
      with("billing_mode_change_requested", "acme",
           {S("resource_id", "pc-1"), S("billing_mode", "yearly_monthly")}),
      with("adjustment_posted", "acme", {S("amount", "-1.5"), S("reason", "credit")}),
      with("invoice_finalized", "acme", {S("period", "2026-02")}),
  };
}

// An account_opened line whose occurred_at is `at`, written as is.
std::string OpenedAt(std::string_view id, std::string_view at) {
  return Obj({S("type", "account_opened"), S("event_id", id), S("account", id),
              S("occurred_at", at), S("currency", "USD")});
}

// Prices, the account `acme` (USD), a pay-per-use certificate `pc-1` and a
// monthly root CA `ca-y`, for the tests that reach the state rules.
std::vector<Step> StateSetup() {
  return {
      {PriceSet("p-cert", "private_cert/hour", "USD", "0.01", "2026-03-01T00:00:00"), "appended"},
      {PriceSet("p-month", "private_ca/root/month", "USD", "100", "2026-03-01T00:00:00"),
       "appended"},
      {AccountOpened("open", "acme", "USD", "2026-03-01T00:00:00"), "appended"},
      {CertCreated("create-pc", "acme", "pc-1", "2026-03-02T08:00:00"), "appended"},
      {CaPrepaidCreated("create-ca", "acme", "ca-y", "root", "month", 1, "2026-03-02T08:00:00"),
       "appended"},
  };
}

using RulesValidationTest = RulesTest;

// ---------------------------------------------------------------------------
// JSON.

TEST_F(RulesValidationTest, LineMustBeOneJsonObject) {
  const std::string ok = AccountOpened("e-1", "acme", "USD", "2026-03-01T00:00:00");
  const std::string cases[] = {
      R"({"type":"account_opened","event_id":"e-1")",  // truncated
      R"({"type":"account_opened","event_id":"e-1",)",
      R"([1,2])",
      R"("account_opened")",
      "42",
      "null",
      ok + " x",                                         // trailing garbage
      ok + ok,                                           // two objects
      ok + "}",                                          // a stray brace
      R"({"type":"account_opened","event_id":"e-1",})",  // trailing comma
      R"({"type":"account_opened","event_id":"e-1","\u0074ype":"account_opened"})",
      R"({'type':'account_opened','event_id':'e-1'})",
      R"({type:"account_opened","event_id":"e-1"})",
      R"({"type":"account_opened","event_id":"e-1","occurred_at":"2026-03-01T00:00:00Z","account":"acme","currency":"USD","currency":"USD"})",
      R"({"type":"adjustment_posted","event_id":"e-1","account":"acme","occurred_at":"2026-03-01T00:00:00Z","amount":"1","reason":"bad \x escape"})",
      R"({"type":"ssl_expansion_purchased","event_id":"e-1","account":"acme","occurred_at":"2026-03-01T00:00:00Z","order_id":"x","quantity":01})",
      R"({"type":"ssl_expansion_purchased","event_id":"e-1","account":"acme","occurred_at":"2026-03-01T00:00:00Z","order_id":"x","quantity":NaN})",
      R"({"type":"ssl_expansion_purchased","event_id":"e-1","account":"acme","occurred_at":"2026-03-01T00:00:00Z","order_id":"x","quantity":1.})",
      // Invalid UTF-8, in a value and in a key.
      "{\"type\":\"adjustment_posted\",\"event_id\":\"e-1\",\"account\":\"acme\","
      "\"occurred_at\":\"2026-03-01T00:00:00Z\",\"amount\":\"1\",\"reason\":\"caf\xc3\"}",
      "{\"type\":\"adjustment_posted\",\"event_id\":\"e-1\",\"account\":\"acme\","
      "\"occurred_at\":\"2026-03-01T00:00:00Z\",\"amount\":\"1\",\"reason\":\"x\",\"\xff\":1}",
      // A NUL byte inside a string and after the object.
      std::string("{\"type\":\"adjustment_posted\",\"event_id\":\"e-1\",\"account\":\"acme\","
                  "\"occurred_at\":\"2026-03-01T00:00:00Z\",\"amount\":\"1\",\"reason\":\"a") +
          '\0' + "b\"}",
      ok + std::string(1, '\0'),
      // A raw control character inside a string.
      "{\"type\":\"adjustment_posted\",\"event_id\":\"e-1\",\"account\":\"acme\","
      "\"occurred_at\":\"2026-03-01T00:00:00Z\",\"amount\":\"1\",\"reason\":\"a\tb\"}",
      // Longer than a line may be.
      Obj({S("type", "account_opened"), S("event_id", "e-1"),
           S("pad", std::string(kLineBytesMax, 'x'))}),
  };
  for (size_t i = 0; i < std::size(cases); ++i) {
    const AppendResult result = ledger_.Append(cases[i]);
    EXPECT_EQ(OutcomeName(result), "invalid_json") << "case " << i << ": " << cases[i];
    EXPECT_FALSE(result.event_id.has_value()) << "case " << i;
  }
  // White space around the object and inside it is free; non-ASCII text is
  // fine where the field allows it.
  const Step steps[] = {
      {" \t" + ok + " \r", "appended"},
      {R"( { "type" : "adjustment_posted" , "event_id" : "e-2" , "account" : "acme" ,)"
       R"( "occurred_at" : "2026-03-01T00:00:00Z" , "amount" : "1" , "reason" : "café \u00e9" } )",
       "appended"},
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesValidationTest, NestedValuesAreValidJsonButUnknownFields) {
  const Step steps[] = {
      {Event("account_opened", "e-1", "acme", "2026-03-01T00:00:00",
             {S("currency", "USD"), Raw("tags", R"({"b":[1,{"c":null}],"a":true})")}),
       "invalid_field"},
      {Event("account_opened", "e-2", "acme", "2026-03-01T00:00:00",
             {Raw("currency", R"(["USD"])")}),
       "invalid_field"},
  };
  RunSteps(ledger_, steps);
}

// ---------------------------------------------------------------------------
// Ids.

TEST_F(RulesValidationTest, EventIdIsOneTo128PrintableAsciiCharacters) {
  const auto opened = [](std::string_view account, Member id) {
    return Obj({S("type", "account_opened"), id, S("account", account),
                S("occurred_at", T("2026-03-01T00:00:00")), S("currency", "USD")});
  };
  const Step steps[] = {
      {opened("a1", Raw("event_id", "null")), "invalid_field"},
      {opened("a2", Raw("event_id", "17")), "invalid_field"},
      {opened("a3", S("event_id", "")), "invalid_field"},
      {opened("a4", S("event_id", std::string(129, 'e'))), "invalid_field"},
      {opened("a5", S("event_id", "tab\there")), "invalid_field"},
      {opened("a6", Raw("event_id", R"("caf\u00e9")")), "invalid_field"},
      {opened("a7", Raw("event_id", R"("del\u007f")")), "invalid_field"},
      {opened("a8", S("event_id", std::string(128, 'e'))), "appended"},
      {opened("a9", S("event_id", " !\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~")), "appended"},
  };
  RunSteps(ledger_, steps);
  // Without an event_id the result carries none.
  const AppendResult missing =
      ledger_.Append(Obj({S("type", "account_opened"), S("account", "a10"),
                          S("occurred_at", T("2026-03-01T00:00:00")), S("currency", "USD")}));
  EXPECT_EQ(OutcomeName(missing), "missing_field");
  EXPECT_FALSE(missing.event_id.has_value());
  const AppendResult invalid = ledger_.Append(opened("a11", S("event_id", "")));
  EXPECT_FALSE(invalid.event_id.has_value());
  const AppendResult valid = ledger_.Append(opened("a12", S("event_id", "e-12")));
  EXPECT_EQ(valid.event_id, "e-12");
}

TEST_F(RulesValidationTest, AccountIdIsOneTo64OfASafeAlphabet) {
  const Step steps[] = {
      {AccountOpened("e-1", std::string(64, 'a'), "USD", "2026-03-01T00:00:00"), "appended"},
      {AccountOpened("e-2", std::string(65, 'a'), "USD", "2026-03-01T00:00:00"), "invalid_field"},
      {AccountOpened("e-3", "acme/eu", "USD", "2026-03-01T00:00:00"), "invalid_field"},
      {Obj({S("type", "account_opened"), S("event_id", "e-4"), S("account", ""),
            S("occurred_at", T("2026-03-01T00:00:00")), S("currency", "USD")}),
       "invalid_field"},
      {AccountOpened("e-5", "ac me", "USD", "2026-03-01T00:00:00"), "invalid_field"},
      {AccountOpened("e-6", "acmé", "USD", "2026-03-01T00:00:00"), "invalid_field"},
      {Event("account_opened", "e-7", "", "2026-03-01T00:00:00",
             {Raw("account", "7"), S("currency", "USD")}),
       "invalid_field"},
      {AccountOpened("e-8", "Az09._-", "USD", "2026-03-01T00:00:00"), "appended"},
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesValidationTest, ResourceAndOrderIdsUseTheIdAlphabet) {
  const Step steps[] = {
      {AccountOpened("open", "acme", "USD", "2026-03-01T00:00:00"), "appended"},
      {CertCreated("c-1", "acme", std::string(65, 'r'), "2026-03-02T08:00:00"), "invalid_field"},
      {CertCreated("c-2", "acme", "pc/1", "2026-03-02T08:00:00"), "invalid_field"},
      {CertCreated("c-3", "acme", std::string(64, 'r'), "2026-03-02T08:00:00"), "appended"},
      {SslRefunded("r-1", "acme", "PO 1", "2026-03-02T08:00:00"), "invalid_field"},
      {ExpansionPurchased("x-1", "acme", std::string(65, 'o'), 1, "2026-03-02T08:00:00"),
       "invalid_field"},
  };
  RunSteps(ledger_, steps);
}

// ---------------------------------------------------------------------------
// Types and fields.

TEST_F(RulesValidationTest, TypeIsRequiredAndKnown) {
  const Step steps[] = {
      {Obj({S("event_id", "e-1"), S("account", "acme"), S("occurred_at", T("2026-03-01T00:00:00")),
            S("currency", "USD")}),
       "missing_field"},
      {Event("account_closed", "e-2", "acme", "2026-03-01T00:00:00", {}), "unknown_type"},
      {Event("Account_Opened", "e-3", "acme", "2026-03-01T00:00:00", {S("currency", "USD")}),
       "unknown_type"},
      {Obj({Raw("type", "2"), S("event_id", "e-4")}), "unknown_type"},
      {Obj({Raw("type", "null"), S("event_id", "e-5")}), "unknown_type"},
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesValidationTest, EveryFieldOfEveryTypeIsRequired) {
  for (const std::vector<Member>& event : OneEventOfEachType()) {
    for (size_t drop = 0; drop < event.size(); ++drop) {
      std::vector<Member> members = event;
      members.erase(members.begin() + static_cast<ptrdiff_t>(drop));
      const std::string line = Obj(members);
      const AppendResult result = ledger_.Append(line);
      EXPECT_EQ(OutcomeName(result), "missing_field")
          << "without " << event[drop].key << ": " << line;
    }
  }
}

TEST_F(RulesValidationTest, UnknownFieldsAreRejectedForEveryType) {
  for (const std::vector<Member>& event : OneEventOfEachType()) {
    std::vector<Member> members = event;
    members.push_back(N("duration_s", 3600));
    const std::string line = Obj(members);
    EXPECT_EQ(OutcomeName(ledger_.Append(line)), "invalid_field") << line;
  }
  // Keys are case-sensitive, and price_set takes no account.
  const Step steps[] = {
      {Event("account_opened", "e-1", "acme", "2026-03-01T00:00:00", {S("Currency", "USD")}),
       "invalid_field"},
      {Event("price_set", "e-2", "acme", "2026-03-01T00:00:00",
             {S("sku", "private_cert/hour"), S("currency", "USD"), S("unit_price", "1")}),
       "invalid_field"},
  };
  RunSteps(ledger_, steps);
}

// SPEC READING: a field that is present with the value null is there, with
// an invalid value (invalid_field), not missing.
TEST_F(RulesValidationTest, NullValueIsInvalidNotMissing) {
  const Step steps[] = {
      {Event("account_opened", "e-1", "acme", "2026-03-01T00:00:00", {Raw("currency", "null")}),
       "invalid_field"},
      {Obj({S("type", "account_opened"), S("event_id", "e-2"), S("account", "acme"),
            Raw("occurred_at", "null"), S("currency", "USD")}),
       "invalid_field"},
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesValidationTest, TimesAreRfc3339WholeSecondsWithAnOffset) {
  const std::pair<std::string, std::string> cases[] = {
      {"2026-03-01T00:00:00+08:00", "appended"},
      {"2026-03-01T00:00:00Z", "appended"},
      {"2026-03-01T00:00:00-05:30", "appended"},
      {"2026-03-01T00:00:00+14:00", "appended"},
      {"2026-03-01T00:00:00-14:00", "appended"},
      // RFC 3339 section 5.6 allows a lower-case t and z.
      {"2026-03-01t00:00:00z", "appended"},
      {"2028-02-29T12:00:00Z", "appended"},
      {"2000-01-01T00:00:00Z", "appended"},
      {"2199-12-31T23:59:59Z", "appended"},
      {"2026-03-01T00:00:00", "invalid_field"},     // no offset
      {"2026-03-01T00:00:00.5Z", "invalid_field"},  // fractional seconds
      {"2026-03-01T00:00:00.000+08:00", "invalid_field"},
      {"2026-03-01 00:00:00Z", "invalid_field"},
      {"2026-03-01T00:00Z", "invalid_field"},
      {"2026-03-01T00:00:00+0800", "invalid_field"},
      {"2026-03-01T00:00:00+08", "invalid_field"},
      {"2026-3-01T00:00:00Z", "invalid_field"},
      {"2026-02-30T00:00:00Z", "invalid_field"},  // impossible dates
      {"2026-02-29T00:00:00Z", "invalid_field"},
      {"2026-04-31T00:00:00Z", "invalid_field"},
      {"2026-13-01T00:00:00Z", "invalid_field"},
      {"2026-00-10T00:00:00Z", "invalid_field"},
      {"2026-03-00T00:00:00Z", "invalid_field"},
      {"2026-03-01T24:00:00Z", "invalid_field"},
      {"2026-03-01T23:60:00Z", "invalid_field"},
      {"2026-03-01T23:59:60Z", "invalid_field"},  // no leap seconds in Unix time
      {"2026-03-01T00:00:00+08:60", "invalid_field"},
      // Past the real zones' offsets (constants.h, kBillingOffsetMax_s).
      {"2026-03-01T00:00:00+14:01", "invalid_field"},
      {"2026-03-01T00:00:00-14:01", "invalid_field"},
      {"2026-03-01T00:00:00+18:00", "invalid_field"},
      {"1999-12-31T23:59:59Z", "invalid_field"},  // before 2000 (constants.h)
      {"2200-01-01T00:00:00Z", "invalid_field"},
      {"", "invalid_field"},
      {"yesterday", "invalid_field"},
  };
  for (size_t i = 0; i < std::size(cases); ++i) {
    const std::string line = OpenedAt("a" + std::to_string(i), cases[i].first);
    EXPECT_EQ(OutcomeName(ledger_.Append(line)), cases[i].second) << cases[i].first;
  }
  // The message says which offsets are taken.
  const AppendResult far = ledger_.Append(OpenedAt("far", "2026-03-01T00:00:00+18:00"));
  EXPECT_NE(far.error.message.find("an explicit offset from -14:00 to +14:00"), std::string::npos)
      << far.error.message;
  const Step steps[] = {
      {Obj({S("type", "account_opened"), S("event_id", "n-1"), S("account", "n1"),
            Raw("occurred_at", "1772294400"), S("currency", "USD")}),
       "invalid_field"},
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesValidationTest, CurrenciesAreTheKnownIsoCodes) {
  std::vector<Step> steps;
  for (const std::string_view code : {"USD", "EUR", "GBP", "CNY", "HKD", "SGD", "JPY", "KRW"}) {
    const std::string id = "open-" + std::string(code);
    steps.push_back({AccountOpened(id, id, code, "2026-03-01T00:00:00"), "appended"});
    steps.push_back(
        {PriceSet("price-" + std::string(code), "ssl_expansion", code, "1", "2026-03-01T00:00:00"),
         "appended"});
  }
  for (const std::string_view code : {"XYZ", "usd", "US", "USDD", "", "XXX"}) {
    const std::string id = "bad-" + std::string(code);
    steps.push_back({AccountOpened(id, id, code, "2026-03-01T00:00:00"), "invalid_field"});
    steps.push_back({PriceSet("price-" + id, "ssl_expansion", code, "1", "2026-03-01T00:00:00"),
                     "invalid_field"});
  }
  RunSteps(ledger_, steps);
}

TEST_F(RulesValidationTest, SkusAreThoseOfTheCatalog) {
  const Step steps[] = {
      {PriceSet("p-1", "ssl/DigiCert/OV/multi/3y", "USD", "1", "2026-03-01T00:00:00"), "appended"},
      {PriceSet("p-2", "ssl/vTrus/EV_PRO/wildcard/1y", "USD", "1", "2026-03-01T00:00:00"),
       "appended"},
      {PriceSet("p-3", "ssl_expansion", "USD", "1", "2026-03-01T00:00:00"), "appended"},
      {PriceSet("p-4", "private_cert/hour", "USD", "1", "2026-03-01T00:00:00"), "appended"},
      {PriceSet("p-5", "private_ca/subordinate/year", "USD", "1", "2026-03-01T00:00:00"),
       "appended"},
      {PriceSet("p-6", "ssl/DigiCert/OV/multi/4y", "USD", "1", "2026-03-01T00:00:00"),
       "invalid_field"},
      {PriceSet("p-7", "ssl/Acme/OV/multi/1y", "USD", "1", "2026-03-01T00:00:00"), "invalid_field"},
      {PriceSet("p-8", "ssl/digicert/OV/multi/1y", "USD", "1", "2026-03-01T00:00:00"),
       "invalid_field"},
      {PriceSet("p-9", "private_ca/root/day", "USD", "1", "2026-03-01T00:00:00"), "invalid_field"},
      {PriceSet("p-10", "private_ca/intermediate/hour", "USD", "1", "2026-03-01T00:00:00"),
       "invalid_field"},
      {PriceSet("p-11", "private_cert/month", "USD", "1", "2026-03-01T00:00:00"), "invalid_field"},
      {PriceSet("p-12", "private_ca/root/hour/", "USD", "1", "2026-03-01T00:00:00"),
       "invalid_field"},
      {PriceSet("p-13", "", "USD", "1", "2026-03-01T00:00:00"), "invalid_field"},
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesValidationTest, UnitPriceIsANonNegativeDecimalWithUpTo10Places) {
  const Step steps[] = {
      {PriceSet("p-1", "ssl_expansion", "USD", "0.0000000001", "2026-03-01T00:00:00"), "appended"},
      {PriceSet("p-2", "ssl_expansion", "USD", "0.00000000001", "2026-03-01T00:00:00"),
       "invalid_field"},
      {PriceSet("p-3", "ssl_expansion", "USD", "-1", "2026-03-01T00:00:00"), "invalid_field"},
      {PriceSet("p-4", "ssl_expansion", "USD", "-0.5", "2026-03-01T00:00:00"), "invalid_field"},
      {PriceSet("p-5", "ssl_expansion", "USD", "1e3", "2026-03-01T00:00:00"), "invalid_field"},
      {PriceSet("p-6", "ssl_expansion", "USD", ".5", "2026-03-01T00:00:00"), "invalid_field"},
      {PriceSet("p-7", "ssl_expansion", "USD", "5.", "2026-03-01T00:00:00"), "invalid_field"},
      {PriceSet("p-8", "ssl_expansion", "USD", "+5", "2026-03-01T00:00:00"), "invalid_field"},
      {PriceSet("p-9", "ssl_expansion", "USD", "1,5", "2026-03-01T00:00:00"), "invalid_field"},
      {PriceSet("p-10", "ssl_expansion", "USD", "", "2026-03-01T00:00:00"), "invalid_field"},
      {Event("price_set", "p-11", "", "2026-03-01T00:00:00",
             {S("sku", "ssl_expansion"), S("currency", "USD"), Raw("unit_price", "1.5")}),
       "invalid_field"},
      {PriceSet("p-12", "ssl_expansion", "USD", "0", "2026-03-01T00:00:00"), "appended"},
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesValidationTest, UnitPriceIsStoredExactlyOrRejected) {
  // A price is kept in 10^-10 units in an int64: 999999999.9999999999 does
  // not fit (10^19 > 2^63) and must be rejected, never stored wrapped.
  const Step steps[] = {
      {PriceSet("p-1", "ssl_expansion", "USD", "999999999.9999999999", "2026-03-01T00:00:00"),
       "invalid_field"},
      {PriceSet("p-2", "ssl_expansion", "USD", "922337203.6854775808", "2026-03-01T00:00:00"),
       "invalid_field"},
  };
  RunSteps(ledger_, steps);
  const Envelope price = ledger_.Appended(
      PriceSet("p-3", "ssl_expansion", "USD", "900000000.0000000001", "2026-03-01T00:00:00"));
  EXPECT_EQ(price.rating.unit_price_e10, 9'000'000'000'000'000'001);
  // The largest price is INT64_MAX units of 10^-10, and the refusal says so.
  const Envelope largest = ledger_.Appended(
      PriceSet("p-4", "ssl_expansion", "USD", "922337203.6854775807", "2026-03-01T00:00:00"));
  EXPECT_EQ(largest.rating.unit_price_e10, INT64_MAX);
  const AppendResult over =
      ledger_.Append(PriceSet("p-5", "ssl_expansion", "USD", "999999999", "2026-03-01T00:00:00"));
  EXPECT_EQ(over.error.code, ErrorCode::kInvalidField);
  EXPECT_NE(over.error.message.find("at most 922337203.6854775807"), std::string::npos)
      << over.error.message;
}

TEST_F(RulesValidationTest, AdjustmentAmountsAreBoundedAsTheRefusalSays) {
  RunSteps(ledger_, {{AccountOpened("open", "acme", "USD", "2026-03-01T00:00:00"), "appended"}});
  const auto adjustment = [](std::string_view id, std::string_view amount) {
    return Event("adjustment_posted", id, "acme", "2026-03-02T10:00:00",
                 {S("amount", amount), S("reason", "bound")});
  };
  EXPECT_EQ(ledger_.Appended(adjustment("a-1", "10000000000.99999999")).rating.amount_e8,
            1'000'000'000'099'999'999);
  EXPECT_EQ(ledger_.Appended(adjustment("a-2", "-10000000000.99999999")).rating.amount_e8,
            -1'000'000'000'099'999'999);
  const AppendResult over = ledger_.Append(adjustment("a-3", "10000000001"));
  EXPECT_EQ(over.error.code, ErrorCode::kInvalidField);
  EXPECT_NE(over.error.message.find("at most 10000000000.99999999 either way"), std::string::npos)
      << over.error.message;
}

TEST_F(RulesValidationTest, IntegersAreJsonIntegers) {
  const Step steps[] = {
      {Event("ssl_expansion_purchased", "x-1", "acme", "2026-03-02T10:00:00",
             {S("order_id", "x-1"), S("quantity", "1")}),
       "invalid_field"},
      {Event("ssl_expansion_purchased", "x-2", "acme", "2026-03-02T10:00:00",
             {S("order_id", "x-2"), Raw("quantity", "1.0")}),
       "invalid_field"},
      {Event("ssl_expansion_purchased", "x-3", "acme", "2026-03-02T10:00:00",
             {S("order_id", "x-3"), Raw("quantity", "1e0")}),
       "invalid_field"},
      {Event("ssl_expansion_purchased", "x-4", "acme", "2026-03-02T10:00:00",
             {S("order_id", "x-4"), Raw("quantity", "true")}),
       "invalid_field"},
      {Event("ssl_expansion_purchased", "x-5", "acme", "2026-03-02T10:00:00",
             {S("order_id", "x-5"), Raw("quantity", "99999999999999999999")}),
       "invalid_field"},
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesValidationTest, ResourceFieldsDependOnTypeAndBillingMode) {
  const auto created = [](std::string_view id, std::initializer_list<Member> fields) {
    std::vector<Member> members =
        EventMembers("resource_created", id, "acme", "2026-03-02T10:00:00");
    members.push_back(S("resource_id", id));
    members.insert(members.end(), fields.begin(), fields.end());
    return Obj(members);
  };
  const Step steps[] = {
      {AccountOpened("open", "acme", "USD", "2026-03-01T00:00:00"), "appended"},
      {PriceSet("p-month", "private_ca/root/month", "USD", "100", "2026-03-01T00:00:00"),
       "appended"},
      // A private certificate is pay-per-use only and has no CA type.
      {created("c-1", {S("resource_type", "private_cert"), S("billing_mode", "pay_per_use")}),
       "appended"},
      {created("c-2", {S("resource_type", "private_cert"), S("billing_mode", "yearly_monthly"),
                       S("period_unit", "month"), N("periods", 1)}),
       "invalid_field"},
      {created("c-3", {S("resource_type", "private_cert"), S("ca_type", "root"),
                       S("billing_mode", "pay_per_use")}),
       "invalid_field"},
      // A private CA names its CA type.
      {created("c-4", {S("resource_type", "private_ca"), S("billing_mode", "pay_per_use")}),
       "missing_field"},
      {created("c-5", {S("resource_type", "private_ca"), S("ca_type", "intermediate"),
                       S("billing_mode", "pay_per_use")}),
       "invalid_field"},
      {created("c-6", {S("resource_type", "private_ca"), S("ca_type", "root"),
                       S("billing_mode", "pay_per_use")}),
       "appended"},
      // Yearly/monthly needs its order; pay-per-use takes none.
      {created("c-7", {S("resource_type", "private_ca"), S("ca_type", "root"),
                       S("billing_mode", "yearly_monthly"), N("periods", 1)}),
       "missing_field"},
      {created("c-8", {S("resource_type", "private_ca"), S("ca_type", "root"),
                       S("billing_mode", "yearly_monthly"), S("period_unit", "month")}),
       "missing_field"},
      {created("c-9", {S("resource_type", "private_ca"), S("ca_type", "root"),
                       S("billing_mode", "pay_per_use"), N("periods", 1)}),
       "invalid_field"},
      {created("c-10", {S("resource_type", "private_ca"), S("ca_type", "root"),
                        S("billing_mode", "pay_per_use"), S("period_unit", "month")}),
       "invalid_field"},
      {created("c-11", {S("resource_type", "private_ca"), S("ca_type", "root"),
                        S("billing_mode", "yearly_monthly"), S("period_unit", "month"),
                        N("periods", 1), Raw("auto_renew", "\"yes\"")}),
       "invalid_field"},
      {created("c-12", {S("resource_type", "private_ca"), S("ca_type", "root"),
                        S("billing_mode", "yearly_monthly"), S("period_unit", "month"),
                        N("periods", 1), Raw("auto_renew", "true")}),
       "appended"},
      {created("c-13",
               {S("resource_type", "private_ca"), S("ca_type", "root"),
                S("billing_mode", "yearly_monthly"), S("period_unit", "month"), N("periods", 1)}),
       "appended"},
      {created("c-16", {S("resource_type", "private_cert"), S("billing_mode", "pay_per_use"),
                        Raw("auto_renew", "false")}),
       "invalid_field"},
      {created("c-14", {S("resource_type", "ssl_certificate"), S("billing_mode", "pay_per_use")}),
       "invalid_field"},
      {created("c-15", {S("resource_type", "private_cert"), S("billing_mode", "one_time")}),
       "invalid_field"},
  };
  RunSteps(ledger_, steps);
}

// ---------------------------------------------------------------------------
// Idempotency.

TEST_F(RulesValidationTest, IdenticalResendIsDuplicateWithTheOriginalSeq) {
  const Step steps[] = {
      {R"({"type":"account_opened","event_id":"e-1","account":"acme","occurred_at":"2026-03-01T00:00:00+08:00","currency":"USD"})",
       "appended", 1},
      {R"({"type":"adjustment_posted","event_id":"e-2","account":"acme","occurred_at":"2026-03-02T00:00:00+08:00","amount":"1.50","reason":"a/b credit"})",
       "appended", 2},
      // Byte for byte.
      {R"({"type":"account_opened","event_id":"e-1","account":"acme","occurred_at":"2026-03-01T00:00:00+08:00","currency":"USD"})",
       "duplicate", 1},
      // Key order and white space do not matter.
      {R"( { "currency" : "USD", "occurred_at":"2026-03-01T00:00:00+08:00",  "account":"acme","event_id":"e-1","type":"account_opened" } )",
       "duplicate", 1},
      // Strings compare by their value: escapes that spell the same text.
      {R"({"type":"account_opened","event_id":"e\u002d1","account":"\u0061cme","occurred_at":"2026-03-01T00:00:00+08:00","currency":"US\u0044"})",
       "duplicate", 1},
      {R"({"type":"adjustment_posted","event_id":"e-2","account":"acme","occurred_at":"2026-03-02T00:00:00+08:00","amount":"1.50","reason":"a\/b credit"})",
       "duplicate", 2},
  };
  RunSteps(ledger_, steps);
  EXPECT_EQ(ledger_.ledger().head().seq, 2u);
  const AppendResult duplicate = ledger_.Append(
      R"({"type":"account_opened","event_id":"e-1","account":"acme","occurred_at":"2026-03-01T00:00:00+08:00","currency":"USD"})");
  EXPECT_EQ(duplicate.event_id, "e-1");
}

TEST_F(RulesValidationTest, SameIdWithOtherContentIsAConflict) {
  const Step steps[] = {
      {PriceSet("p-1", "ssl/DigiCert/OV/single/1y", "USD", "10", "2026-03-01T00:00:00"),
       "appended"},
      {AccountOpened("e-1", "acme", "USD", "2026-03-01T00:00:00"), "appended"},
      {R"({"type":"ssl_certificate_purchased","event_id":"b-1","account":"acme","occurred_at":"2026-03-02T10:00:00+08:00","order_id":"o-1","ca":"DigiCert","cert_type":"OV","domain_type":"single","domains":1,"years":1})",
       "appended"},
      {AccountOpened("e-1", "acme", "EUR", "2026-03-01T00:00:00"), "event_id_conflict"},
      {AccountOpened("e-1", "acme", "USD", "2026-03-01T00:00:01"), "event_id_conflict"},
      // The same instant written differently is different text.
      {AccountOpened("e-1", "acme", "USD", "2026-02-28T16:00:00Z"), "event_id_conflict"},
      {Event("account_opened", "e-1", "acme", "2026-03-01T00:00:00",
             {S("currency", "USD"), S("note", "x")}),
       "event_id_conflict"},
      {Event("account_opened", "e-1", "acme", "2026-03-01T00:00:00", {}), "event_id_conflict"},
      {AccountOpened("e-1", "globex", "USD", "2026-03-01T00:00:00"), "event_id_conflict"},
      {Adjustment("e-1", "acme", "1", "r", "2026-03-01T00:00:00"), "event_id_conflict"},
      // Numbers compare by their text: 1, 1.0 and 1e0 differ.
      {R"({"type":"ssl_certificate_purchased","event_id":"b-1","account":"acme","occurred_at":"2026-03-02T10:00:00+08:00","order_id":"o-1","ca":"DigiCert","cert_type":"OV","domain_type":"single","domains":1.0,"years":1})",
       "event_id_conflict"},
      {R"({"type":"ssl_certificate_purchased","event_id":"b-1","account":"acme","occurred_at":"2026-03-02T10:00:00+08:00","order_id":"o-1","ca":"DigiCert","cert_type":"OV","domain_type":"single","domains":1e0,"years":1})",
       "event_id_conflict"},
      {R"({"type":"ssl_certificate_purchased","event_id":"b-1","account":"acme","occurred_at":"2026-03-02T10:00:00+08:00","order_id":"o-1","ca":"DigiCert","cert_type":"OV","domain_type":"single","domains":"1","years":1})",
       "event_id_conflict"},
      {R"({"type":"ssl_certificate_purchased","event_id":"b-1","account":"acme","occurred_at":"2026-03-02T10:00:00+08:00","order_id":"o-1","ca":"DigiCert","cert_type":"OV","domain_type":"single","domains":1,"years":1})",
       "duplicate", 3},
  };
  RunSteps(ledger_, steps);
  EXPECT_EQ(ledger_.ledger().head().seq, 3u);
}

TEST_F(RulesValidationTest, IdempotencyIsJudgedBeforeTheTypeFieldsAndRules) {
  const Step steps[] = {
      {AccountOpened("e-1", "acme", "USD", "2026-03-01T00:00:00"), "appended"},
      // The id is known: a conflict, whatever else is wrong with the line.
      {Obj({S("event_id", "e-1"), S("account", "acme")}), "event_id_conflict"},
      {Event("account_closed", "e-1", "acme", "2026-03-01T00:00:00", {}), "event_id_conflict"},
      {Event("account_opened", "e-1", "acme", "2026-03-01T00:00:00",
             {S("currency", "USD"), N("extra", 1)}),
       "event_id_conflict"},
      {Event("account_opened", "e-1", "acme", "2026-03-01T00:00:00", {S("currency", "XYZ")}),
       "event_id_conflict"},
      // But the line must be JSON and the id valid to be looked up at all.
      {R"({"type":"account_opened","event_id":"e-1")", "invalid_json"},
      {R"({"type":"account_opened","event_id":"e-1","event_id":"e-1"})", "invalid_json"},
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesValidationTest, ResendOfAnEventThatWouldNowBeRejectedIsStillDuplicate) {
  const std::string open = AccountOpened("open", "acme", "USD", "2026-03-01T00:00:00");
  const std::string price =
      PriceSet("p-cert", "private_cert/hour", "USD", "0.01", "2026-03-01T00:00:00");
  const std::string tick =
      Tick("t-1", "acme", "pc-1", "2026-03-02T10:00:00", "2026-03-02T11:00:00");
  const std::string ssl_price =
      PriceSet("p-ssl", "ssl/DigiCert/OV/single/1y", "USD", "10", "2026-03-01T00:00:00");
  const std::string buy =
      SslPurchased("b-1", "acme", "o-1", "DigiCert", "OV", "single", 1, 1, "2026-03-02T10:00:00");
  const std::string refund = SslRefunded("r-1", "acme", "o-1", "2026-03-03T10:00:00");
  const std::string close = Finalized("f-1", "acme", "2026-03", "2026-04-01T00:00:00");
  const Step steps[] = {
      {price, "appended", 1},
      {open, "appended", 2},
      {CertCreated("create", "acme", "pc-1", "2026-03-02T08:00:00"), "appended", 3},
      {tick, "appended", 4},
      {Deleted("delete", "acme", "pc-1", "2026-03-02T11:00:00"), "appended", 5},
      {ssl_price, "appended", 6},
      {buy, "appended", 7},
      {refund, "appended", 8},
      {close, "appended", 9},
      // Each of these would now break a rule if it were new.
      {open, "duplicate", 2},    // account_exists
      {price, "duplicate", 1},   // price_backdated
      {tick, "duplicate", 4},    // usage_overlap
      {buy, "duplicate", 7},     // order_exists
      {refund, "duplicate", 8},  // already_refunded
      {close, "duplicate", 9},   // period_finalized
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesValidationTest, RejectedEventLeavesNoTrace) {
  const std::string credit = Adjustment("a-1", "acme", "-2", "credit", "2026-03-02T10:00:00");
  const Step steps[] = {
      {credit, "unknown_account"},
      {Adjustment("a-2", "acme", "-2", "credit", "2026-03-02T10:00:00"), "unknown_account"},
      {AccountOpened("open", "acme", "USD", "2026-03-01T00:00:00"), "appended", 1},
      // The rejected ids were never stored: the same line is now new, and so
      // is other content under the other id.
      {credit, "appended", 2},
      {Adjustment("a-2", "acme", "-3", "other credit", "2026-03-02T10:00:00"), "appended", 3},
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesValidationTest, IdempotencyWithinOneBatchAndAcrossReopen) {
  const std::string open = AccountOpened("open", "acme", "USD", "2026-03-01T00:00:00");
  const std::vector<AppendResult> results = ledger_.AppendBatch({
      open,
      open,
      AccountOpened("open", "acme", "EUR", "2026-03-01T00:00:00"),
      AccountOpened("open-2", "acme", "USD", "2026-03-01T00:00:00"),
  });
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(OutcomeName(results[0]), "appended");
  EXPECT_EQ(OutcomeName(results[1]), "duplicate");
  EXPECT_EQ(results[1].seq, results[0].seq);
  EXPECT_EQ(OutcomeName(results[2]), "event_id_conflict");
  EXPECT_EQ(OutcomeName(results[3]), "account_exists");
  ledger_.Reopen();
  const Step steps[] = {
      {open, "duplicate", 1},
      {AccountOpened("open", "acme", "EUR", "2026-03-01T00:00:00"), "event_id_conflict"},
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesValidationTest, StoredEventsFormAGaplessHashChain) {
  // billing-rules.md section 9: gapless sequence numbers, a recorded time,
  // and each event's hash chained to its predecessor's.
  const Step steps[] = {
      {AccountOpened("e-1", "acme", "USD", "2026-03-01T00:00:00"), "appended", 1},
      {AccountOpened("e-2", "acme", "USD", "2026-03-01T00:00:00"), "account_exists"},
      {Adjustment("e-3", "acme", "1", "r", "2026-03-02T00:00:00"), "appended", 2},
      {Adjustment("e-4", "nobody", "1", "r", "2026-03-02T00:00:00"), "unknown_account"},
      {Adjustment("e-5", "acme", "2", "r", "2026-03-02T00:00:00"), "appended", 3},
  };
  RunSteps(ledger_, steps);
  Sha256 previous{};
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    const Envelope event = ledger_.Stored(seq);
    EXPECT_EQ(event.seq, seq);
    EXPECT_EQ(event.recorded_at_us, kPinnedClock_us);
    EXPECT_EQ(event.prev_hash, previous) << seq;
    EXPECT_NE(event.hash, Sha256{}) << seq;
    previous = event.hash;
  }
  EXPECT_EQ(ledger_.Stored(2).event_id, "e-3");
  EXPECT_EQ(ledger_.Stored(3).event_id, "e-5");
}

// ---------------------------------------------------------------------------
// The first code that applies (interface.md).

TEST_F(RulesValidationTest, FirstCodeOfTheStatelessChecks) {
  RunSteps(ledger_, StateSetup());
  const Step steps[] = {
      // invalid_json before anything.
      {R"({"event_id":"o-1","type":"nope",)", "invalid_json"},
      // A missing or invalid event_id before the type.
      {Obj({S("type", "nope"), S("account", "acme")}), "missing_field"},
      {Obj({S("type", "nope"), S("event_id", std::string(129, 'e'))}), "invalid_field"},
      // A missing or unknown type before unknown fields.
      {Obj({S("event_id", "o-2"), N("bogus", 1)}), "missing_field"},
      {Obj({S("type", "nope"), S("event_id", "o-3"), N("bogus", 1)}), "unknown_type"},
      // Unknown fields before missing ones.
      {Event("usage_recorded", "o-4", "acme", "2026-03-02T10:00:00",
             {S("resource_id", "pc-1"), S("from", T("2026-03-02T09:00:00")), N("bogus", 1)}),
       "invalid_field"},
      // Missing fields before invalid values.
      {Event("usage_recorded", "o-5", "acme", "2026-03-02T10:00:00",
             {S("resource_id", "pc-1"), S("from", "not a time")}),
       "missing_field"},
      {Obj({S("type", "usage_recorded"), S("event_id", "o-6"), S("account", "acme/x"),
            S("resource_id", "pc-1"), S("from", T("2026-03-02T09:00:00")),
            S("to", T("2026-03-02T10:00:00"))}),
       "missing_field"},  // no occurred_at
      // Field values before checks across fields.
      {Tick("o-7", "acme", "pc/1", "2026-03-02T10:00:00", "2026-03-02T09:00:00"), "invalid_field"},
      {SslPurchased("o-8", "acme", "o-8", "DigiCert", "XX", "single", 2, 1, "2026-03-02T10:00:00"),
       "invalid_field"},
  };
  RunSteps(ledger_, steps);
}

// The fields a resource needs because of another field's value are required
// fields too: missing, they come before an invalid value elsewhere.
TEST_F(RulesValidationTest, ConditionallyRequiredFieldsAreMissingBeforeInvalidValues) {
  RunSteps(ledger_, StateSetup());
  const Step steps[] = {
      {Event("resource_created", "o-1", "acme", "2026-03-02T10:00:00",
             {S("resource_id", "ca/1"), S("resource_type", "private_ca"),
              S("billing_mode", "pay_per_use")}),
       "missing_field"},  // ca_type
      {Event("resource_created", "o-2", "acme", "2026-03-02T10:00:00",
             {S("resource_id", "ca/1"), S("resource_type", "private_ca"), S("ca_type", "root"),
              S("billing_mode", "yearly_monthly"), S("period_unit", "month")}),
       "missing_field"},  // periods
      {Event("resource_created", "o-3", "acme", "2026-03-02T10:00:00",
             {S("resource_id", "ca-1"), S("resource_type", "private_ca"), S("ca_type", "root"),
              S("billing_mode", "yearly_monthly"), N("periods", 13)}),
       "missing_field"},  // period_unit
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesValidationTest, StatelessChecksComeBeforeTheAccount) {
  RunSteps(ledger_, StateSetup());
  const Step steps[] = {
      {Event("adjustment_posted", "o-1", "initech", "2026-03-02T10:00:00", {S("amount", "1")}),
       "missing_field"},
      {Adjustment("o-2", "initech", "1.000000001", "r", "2026-03-02T10:00:00"), "invalid_field"},
      {Tick("o-3", "initech", "pc-1", "2026-03-02T10:00:00", "2026-03-02T10:00:00"),
       "invalid_field"},
      {CaPrepaidCreated("o-4", "initech", "ca-2", "root", "month", 12, "2026-03-02T10:00:00"),
       "invalid_field"},
  };
  RunSteps(ledger_, steps);
}

TEST_F(RulesValidationTest, FirstCodeOfTheStateRules) {
  RunSteps(ledger_, StateSetup());
  const Step steps[] = {
      {AccountOpened("open-2", "globex", "USD", "2026-03-01T00:00:00"), "appended"},
      {CaPrepaidCreated("create-u", "acme", "ca-u", "root", "month", 1, "2026-03-02T08:00:00"),
       "appended"},
      {Tick("t-1", "acme", "pc-1", "2026-03-02T10:00:00", "2026-03-02T11:00:00"), "appended"},
      // unknown_account before unknown_resource.
      {Tick("o-1", "initech", "pc-9", "2026-03-02T10:00:00", "2026-03-02T11:00:00"),
       "unknown_account"},
      // unknown_resource before no_price (no year price exists).
      {Renewed("o-2", "acme", "ca-9", "year", 1, "2026-03-03T10:00:00"), "unknown_resource"},
      {Renewed("o-3", "globex", "ca-y", "month", 1, "2026-03-03T10:00:00"), "unknown_resource"},
      // unknown_order before anything about the order.
      {SslRefunded("o-4", "acme", "o-9", "2026-03-03T10:00:00"), "unknown_order"},
      // usage_outside_lifetime before usage_overlap.
      {Tick("o-5", "acme", "pc-1", "2026-03-02T07:30:00", "2026-03-02T10:30:00"),
       "usage_outside_lifetime"},
      // usage_overlap before no_price (no price before 03-01).
      {AccountOpened("open-early", "early", "USD", "2026-02-01T00:00:00"), "appended"},
      {CertCreated("create-early", "early", "pc-e", "2026-02-28T00:00:00"), "appended"},
      {Tick("t-2", "early", "pc-e", "2026-03-01T00:00:00", "2026-03-01T01:00:00"), "appended"},
      {Tick("o-7", "early", "pc-e", "2026-02-28T23:00:00", "2026-03-01T00:30:00"), "usage_overlap"},
      // subscription_ended before no_price (no year price exists).
      {Unsubscribed("unsub", "acme", "ca-u", "2026-03-03T10:00:00"), "appended"},
      {Renewed("o-8", "acme", "ca-u", "year", 1, "2026-03-04T10:00:00"), "subscription_ended"},
      // billing_mode_mismatch before resource_deleted before subscription_ended.
      {Deleted("delete-u", "acme", "ca-u", "2026-03-05T10:00:00"), "appended"},
      {Tick("o-9", "acme", "ca-u", "2026-03-05T11:00:00", "2026-03-05T12:00:00"),
       "billing_mode_mismatch"},
      {Renewed("o-10", "acme", "ca-u", "month", 1, "2026-03-06T10:00:00"), "resource_deleted"},
      {Unsubscribed("o-11", "acme", "ca-u", "2026-03-06T10:00:00"), "resource_deleted"},
      // resource_deleted before no_price on re-creation (no year price).
      {CaPrepaidCreated("o-12", "acme", "ca-u", "root", "year", 1, "2026-03-06T10:00:00"),
       "resource_deleted"},
      // resource_exists before no_price.
      {CaPrepaidCreated("o-13", "acme", "ca-y", "root", "year", 1, "2026-03-06T10:00:00"),
       "resource_exists"},
      // account_exists, whatever the currency.
      {AccountOpened("o-14", "acme", "EUR", "2026-03-06T10:00:00"), "account_exists"},
  };
  RunSteps(ledger_, steps);
}

// An account's events cannot be dated before it was opened (a choice where
// the spec is silent): invalid_field, judged with "the remaining state
// rules", after the codes interface.md orders before them and before
// no_price. A finalization of a period that ended before the opening would
// number an invoice of a month the account did not exist in.
TEST_F(RulesValidationTest, NoEventOfAnAccountPrecedesItsOpening) {
  RunSteps(ledger_, StateSetup());  // acme opened 2026-03-01T00:00:00
  const Step steps[] = {
      {Event("adjustment_posted", "adj-early", "acme", "2026-02-28T23:59:59",
             {S("amount", "-1"), S("reason", "early")}),
       "invalid_field"},
      {Event("adjustment_posted", "adj-on-time", "acme", "2026-03-01T00:00:00",
             {S("amount", "-1"), S("reason", "on time")}),
       "appended"},
      // Codes ordered before the state rules still come first.
      {Tick("o-1", "acme", "pc-9", "2026-02-20T10:00:00", "2026-02-20T11:00:00"),
       "unknown_resource"},
      // And it comes before no_price (no year price exists).
      {CaPrepaidCreated("o-2", "acme", "ca-early", "root", "year", 1, "2026-02-20T10:00:00"),
       "invalid_field"},
      {Finalized("f-feb", "acme", "2026-02", "2026-04-01T00:00:00"), "invalid_field"},
      {Finalized("f-mar", "acme", "2026-03", "2026-04-01T00:00:00"), "appended"},
  };
  RunSteps(ledger_, steps);
  const AppendResult early =
      ledger_.Append(Event("adjustment_posted", "adj-early-2", "acme", "2026-02-01T00:00:00",
                           {S("amount", "-1"), S("reason", "early")}));
  EXPECT_EQ(early.error.message,
            "occurred_at precedes the opening of account acme at 2026-03-01T00:00:00+08:00");
}

}  // namespace
}  // namespace ledger::test_util
