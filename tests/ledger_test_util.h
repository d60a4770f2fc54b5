// Test helpers for the billing-rule tests (tests/rules_*_test.cc): a Ledger
// on a fresh temporary folder with a pinned clock, one-line appends, JSON
// event builders, and table-driven scenarios, one Step per event with its
// expected outcome (TigerBeetle's state_machine_tests).
//
// Not thread-safe; each TestLedger belongs to one test. It removes its folder,
// with everything in it, when it is destroyed.

#pragma once

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/billing_time.h"
#include "ledger/constants.h"
#include "ledger/ledger.h"
#include "ledger/money.h"

namespace ledger::test_util {

// 2026-06-01T00:00:00Z: the recorded time of every appended event. The rules
// never look at it, and a pinned value keeps stored events reproducible.
inline constexpr int64_t kPinnedClock_us = 1'780'272'000'000'000;
inline constexpr int32_t kDefaultOffset_s = 8 * 3600;

// ---------------------------------------------------------------------------
// Times and amounts.

// "2026-03-02T10:00:00" is local time in the default billing zone and gets
// "+08:00"; a time that already carries an offset is left alone.
inline std::string T(std::string_view time) {
  std::string out(time);
  if (out.size() == 19) out += "+08:00";
  return out;
}

// Unix seconds of a time written as T() takes it.
inline int64_t Sec(std::string_view time) {
  const std::optional<int64_t> time_s = ParseRfc3339_s(T(time));
  if (!time_s) throw std::invalid_argument("bad test time " + std::string(time));
  return *time_s;
}

// An amount written as a decimal, e.g. "-482.94936131", in 10^-8 units.
inline int64_t E8(std::string_view amount) {
  const std::optional<int64_t> e8 =
      ParseDecimal(amount, kAmountScaleDigits, true, INT64_MAX / kAmountScale);
  if (!e8) throw std::invalid_argument("bad test amount " + std::string(amount));
  return *e8;
}

// A unit price written as a decimal, in 10^-10 units.
inline int64_t E10(std::string_view price) {
  const std::optional<int64_t> e10 =
      ParseDecimal(price, kPriceScaleDigits, false, kUnitPriceUnitsMax);
  if (!e10) throw std::invalid_argument("bad test price " + std::string(price));
  return *e10;
}

// ---------------------------------------------------------------------------
// JSON lines.

// One member of a JSON object: its key and its value, already JSON.
struct Member {
  std::string key;
  std::string json;
};

inline std::string Quote(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

inline Member S(std::string key, std::string_view value) { return {std::move(key), Quote(value)}; }
inline Member N(std::string key, int64_t value) { return {std::move(key), std::to_string(value)}; }
// A value written as raw JSON text: 1.0, true, null, "\u0041".
inline Member Raw(std::string key, std::string json) { return {std::move(key), std::move(json)}; }

inline std::string Obj(std::span<const Member> members) {
  std::string out = "{";
  for (const Member& member : members) {
    if (out.size() > 1) out += ',';
    out += Quote(member.key) + ":" + member.json;
  }
  return out + "}";
}
inline std::string Obj(std::initializer_list<Member> members) {
  return Obj(std::span<const Member>(members.begin(), members.size()));
}

// Events of interface.md. Times go through T(); "acme" style account ids are
// passed explicitly so that tables show whose event each line is.

inline std::vector<Member> EventMembers(std::string_view type, std::string_view event_id,
                                        std::string_view account, std::string_view at) {
  std::vector<Member> members = {S("type", type), S("event_id", event_id)};
  if (!account.empty()) members.push_back(S("account", account));
  members.push_back(S("occurred_at", T(at)));
  return members;
}

inline std::string Event(std::string_view type, std::string_view event_id, std::string_view account,
                         std::string_view at, std::initializer_list<Member> fields) {
  std::vector<Member> members = EventMembers(type, event_id, account, at);
  members.insert(members.end(), fields.begin(), fields.end());
  return Obj(members);
}

inline std::string PriceSet(std::string_view id, std::string_view sku, std::string_view currency,
                            std::string_view unit_price, std::string_view at) {
  return Event("price_set", id, "", at,
               {S("sku", sku), S("currency", currency), S("unit_price", unit_price)});
}

inline std::string AccountOpened(std::string_view id, std::string_view account,
                                 std::string_view currency, std::string_view at) {
  return Event("account_opened", id, account, at, {S("currency", currency)});
}

// A pay-per-use private certificate.
inline std::string CertCreated(std::string_view id, std::string_view account,
                               std::string_view resource, std::string_view at) {
  return Event("resource_created", id, account, at,
               {S("resource_id", resource), S("resource_type", "private_cert"),
                S("billing_mode", "pay_per_use")});
}

// A pay-per-use private CA.
inline std::string CaHourlyCreated(std::string_view id, std::string_view account,
                                   std::string_view resource, std::string_view ca_type,
                                   std::string_view at) {
  return Event("resource_created", id, account, at,
               {S("resource_id", resource), S("resource_type", "private_ca"), S("ca_type", ca_type),
                S("billing_mode", "pay_per_use")});
}

// A yearly/monthly private CA.
inline std::string CaPrepaidCreated(std::string_view id, std::string_view account,
                                    std::string_view resource, std::string_view ca_type,
                                    std::string_view unit, int64_t periods, std::string_view at) {
  return Event(
      "resource_created", id, account, at,
      {S("resource_id", resource), S("resource_type", "private_ca"), S("ca_type", ca_type),
       S("billing_mode", "yearly_monthly"), S("period_unit", unit), N("periods", periods)});
}

// Usage over [from, to), reported at `to`.
inline std::string Tick(std::string_view id, std::string_view account, std::string_view resource,
                        std::string_view from, std::string_view to) {
  return Event("usage_recorded", id, account, to,
               {S("resource_id", resource), S("from", T(from)), S("to", T(to))});
}

inline std::string Renewed(std::string_view id, std::string_view account, std::string_view resource,
                           std::string_view unit, int64_t periods, std::string_view at) {
  return Event("subscription_renewed", id, account, at,
               {S("resource_id", resource), S("period_unit", unit), N("periods", periods)});
}

inline std::string Unsubscribed(std::string_view id, std::string_view account,
                                std::string_view resource, std::string_view at) {
  return Event("subscription_unsubscribed", id, account, at, {S("resource_id", resource)});
}

inline std::string Deleted(std::string_view id, std::string_view account, std::string_view resource,
                           std::string_view at) {
  return Event("resource_deleted", id, account, at, {S("resource_id", resource)});
}

inline std::string ModeChange(std::string_view id, std::string_view account,
                              std::string_view resource, std::string_view mode,
                              std::string_view at) {
  return Event("billing_mode_change_requested", id, account, at,
               {S("resource_id", resource), S("billing_mode", mode)});
}

inline std::string SslPurchased(std::string_view id, std::string_view account,
                                std::string_view order, std::string_view ca,
                                std::string_view cert_type, std::string_view domain_type,
                                int64_t domains, int64_t years, std::string_view at) {
  return Event("ssl_certificate_purchased", id, account, at,
               {S("order_id", order), S("ca", ca), S("cert_type", cert_type),
                S("domain_type", domain_type), N("domains", domains), N("years", years)});
}

inline std::string SslRefunded(std::string_view id, std::string_view account,
                               std::string_view order, std::string_view at) {
  return Event("ssl_certificate_refunded", id, account, at, {S("order_id", order)});
}

inline std::string ExpansionPurchased(std::string_view id, std::string_view account,
                                      std::string_view order, int64_t quantity,
                                      std::string_view at) {
  return Event("ssl_expansion_purchased", id, account, at,
               {S("order_id", order), N("quantity", quantity)});
}

inline std::string Adjustment(std::string_view id, std::string_view account,
                              std::string_view amount, std::string_view reason,
                              std::string_view at) {
  return Event("adjustment_posted", id, account, at, {S("amount", amount), S("reason", reason)});
}

inline std::string Finalized(std::string_view id, std::string_view account, std::string_view period,
                             std::string_view at) {
  return Event("invoice_finalized", id, account, at, {S("period", period)});
}

// ---------------------------------------------------------------------------
// Outcomes.

// "appended", "duplicate" or the error code's wire name.
inline std::string OutcomeName(const AppendResult& result) {
  switch (result.outcome) {
    case AppendResult::Outcome::kAppended:
      return "appended";
    case AppendResult::Outcome::kDuplicate:
      return "duplicate";
    case AppendResult::Outcome::kRejected:
      return std::string(ErrorCodeName(result.error.code));
  }
  return "?";
}

// A Ledger on a fresh folder under $TMPDIR (or /tmp), removed afterwards.
class TestLedger {
 public:
  explicit TestLedger(int32_t billing_offset_s = kDefaultOffset_s)
      : billing_offset_s_(billing_offset_s) {
    spdlog::set_level(spdlog::level::warn);  // no "created ledger" line per test
    const char* base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/ledger-rules-test-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error(std::string("mkdtemp failed: ") + std::strerror(errno));
    }
    path_ = pattern;
    Open();
  }
  ~TestLedger() {
    ledger_.reset();
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TestLedger(const TestLedger&) = delete;
  TestLedger& operator=(const TestLedger&) = delete;

  Ledger& ledger() { return *ledger_; }

  // Closes the ledger and opens it again from its folder.
  void Reopen() {
    ledger_.reset();
    Open();
  }

  // Appends `lines` as one batch.
  std::vector<AppendResult> AppendBatch(const std::vector<std::string>& lines) {
    std::vector<std::string_view> views(lines.begin(), lines.end());
    std::vector<AppendResult> results;
    const Status status = ledger_->AppendBatch(views, &results);
    if (!status.ok()) throw std::runtime_error("AppendBatch failed: " + status.ToString());
    return results;
  }

  AppendResult Append(std::string_view line) { return AppendBatch({std::string(line)})[0]; }

  // Appends a line that must be accepted and returns it as stored, with the
  // Rating the ledger computed.
  Envelope Appended(std::string_view line) {
    const AppendResult result = Append(line);
    Envelope envelope;
    if (result.outcome != AppendResult::Outcome::kAppended) {
      ADD_FAILURE() << "expected appended, got " << OutcomeName(result) << " ("
                    << result.error.message << ") for " << line;
      return envelope;
    }
    return Stored(result.seq);
  }

  // The stored event `seq`.
  Envelope Stored(uint64_t seq) const {
    Envelope envelope;
    const Status status = ledger_->store().ReadEvent(seq, &envelope);
    if (!status.ok()) throw std::runtime_error("ReadEvent failed: " + status.ToString());
    return envelope;
  }

 private:
  void Open() {
    LedgerOptions options;
    options.store.path = path_;
    options.store.billing_offset_s = billing_offset_s_;
    options.clock_us = [] { return kPinnedClock_us; };
    Result<std::unique_ptr<Ledger>> opened = Ledger::Open(std::move(options));
    if (!opened.ok())
      throw std::runtime_error("Ledger::Open failed: " + opened.status().ToString());
    ledger_ = std::move(*opened);
  }

  int32_t billing_offset_s_;
  std::string path_;
  std::unique_ptr<Ledger> ledger_;
};

// One event of a scenario and what the ledger must answer: "appended",
// "duplicate" or an error code name. A non-zero `seq` is checked too.
struct Step {
  std::string line;
  std::string expect;
  uint64_t seq = 0;
};

// Appends the steps one by one, each in its own batch, and checks each
// outcome; a failure names the step's index and its line.
inline void RunSteps(TestLedger& ledger, std::span<const Step> steps) {
  for (size_t i = 0; i < steps.size(); ++i) {
    const AppendResult result = ledger.Append(steps[i].line);
    EXPECT_EQ(OutcomeName(result), steps[i].expect)
        << "step " << i << ": " << steps[i].line << "\n  message: " << result.error.message;
    if (steps[i].seq != 0) {
      EXPECT_EQ(result.seq, steps[i].seq) << "step " << i << ": " << steps[i].line;
    }
  }
}
inline void RunSteps(TestLedger& ledger, std::initializer_list<Step> steps) {
  RunSteps(ledger, std::span<const Step>(steps.begin(), steps.size()));
}

// Appends all the steps as one batch (one WriteBatch) and checks each
// outcome: the rules must see the batch's own earlier events.
inline void RunStepsInOneBatch(TestLedger& ledger, std::span<const Step> steps) {
  std::vector<std::string> lines;
  for (const Step& step : steps) lines.push_back(step.line);
  const std::vector<AppendResult> results = ledger.AppendBatch(lines);
  ASSERT_EQ(results.size(), steps.size());
  for (size_t i = 0; i < steps.size(); ++i) {
    EXPECT_EQ(OutcomeName(results[i]), steps[i].expect)
        << "step " << i << ": " << steps[i].line << "\n  message: " << results[i].error.message;
    if (steps[i].seq != 0) {
      EXPECT_EQ(results[i].seq, steps[i].seq) << "step " << i << ": " << steps[i].line;
    }
  }
}

// The fixture of the rule tests: a fresh ledger in the default zone per test.
class RulesTest : public ::testing::Test {
 protected:
  TestLedger ledger_;
};

}  // namespace ledger::test_util
