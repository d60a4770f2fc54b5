#include "bench/workload.h"

#include <cstdio>
#include <vector>

#include "ledger/billing_time.h"

namespace ledger::bench {
namespace {

constexpr const char* kCurrencies[] = {"USD", "EUR", "JPY"};

struct Price {
  const char* sku;
  const char* unit_price;
};
constexpr Price kCatalog[] = {
    {"private_cert/hour", "0.0245"},
    {"private_ca/root/hour", "0.56"},
    {"private_ca/subordinate/hour", "0.35"},
    {"private_ca/root/month", "400"},
    {"private_ca/root/year", "4000"},
    {"ssl/DigiCert/OV/single/1y", "420.00"},
    {"ssl/GeoTrust/DV/multi/1y", "99.5"},
    {"ssl_expansion", "12.5"},
};

struct Account {
  std::string id;
  std::string currency;
  std::vector<std::string> certs;  // live pay-per-use resources
  std::string monthly_ca;
  uint32_t generation = 0;
  uint32_t orders = 0;
};

class Generator {
 public:
  Generator(const WorkloadOptions& options, const std::function<void(const std::string&)>& emit)
      : options_(options), emit_(emit), rng_(options.seed), zone_(8 * 3600) {}

  void Run() {
    const int64_t t0 = options_.start_s;
    for (const char* currency : kCurrencies) {
      for (const Price& price : kCatalog) {
        Emit("{\"type\":\"price_set\",\"event_id\":\"price-" + std::string(currency) + "-" +
             price.sku + "\",\"occurred_at\":\"" + zone_.Format(t0 - 86400) + "\",\"sku\":\"" +
             price.sku + "\",\"currency\":\"" + currency + "\",\"unit_price\":\"" +
             price.unit_price + "\"}");
      }
    }
    accounts_.resize(options_.accounts);
    for (uint32_t i = 0; i < options_.accounts; ++i) {
      Account& a = accounts_[i];
      char id[32];
      std::snprintf(id, sizeof id, "acct-%05u", i);
      a.id = id;
      a.currency = kCurrencies[i % 3];
      Emit(Head("account_opened", a.id + "-open", a, t0 - 3600) + ",\"currency\":\"" + a.currency +
           "\"}");
      for (uint32_t k = 0; k < options_.certs_per_account; ++k) CreateCert(a, t0);
      CreatePaygCa(a, t0);
      CreateMonthlyCa(a, t0);
    }
    Period period = zone_.PeriodOf(t0);
    for (int64_t t = t0; !Done(); t += options_.tick_s) {
      if (zone_.PeriodOf(t) != period) {
        MonthBoundary(period, t);
        period = zone_.PeriodOf(t);
      }
      for (Account& a : accounts_) {
        for (size_t k = 0; k < a.certs.size() && !Done(); ++k) Tick(a, a.certs[k], t);
        if (Chance(0.002)) SslPurchase(a, t);
        if (Chance(0.0005)) ReplaceCert(a, t);
      }
    }
  }

 private:
  bool Done() const { return emitted_ >= options_.events; }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  void Emit(const std::string& line) {
    if (Done()) return;
    ++emitted_;
    emit_(line);
  }

  std::string Head(const char* type, const std::string& event_id, const Account& a, int64_t t) {
    return "{\"type\":\"" + std::string(type) + "\",\"event_id\":\"" + event_id +
           "\",\"account\":\"" + a.id + "\",\"occurred_at\":\"" + zone_.Format(t) + "\"";
  }

  std::string NextId(Account& a, const char* kind) {
    return a.id + "-" + kind + "-" + std::to_string(++a.generation);
  }

  void CreateCert(Account& a, int64_t t) {
    const std::string id = NextId(a, "pc");
    Emit(Head("resource_created", id + "-create", a, t) + ",\"resource_id\":\"" + id +
         "\",\"resource_type\":\"private_cert\",\"billing_mode\":\"pay_per_use\"}");
    a.certs.push_back(id);
  }

  void CreatePaygCa(Account& a, int64_t t) {
    const std::string id = NextId(a, "pca");
    Emit(Head("resource_created", id + "-create", a, t) + ",\"resource_id\":\"" + id +
         "\",\"resource_type\":\"private_ca\",\"ca_type\":\"subordinate\","
         "\"billing_mode\":\"pay_per_use\"}");
    a.certs.push_back(id);
  }

  void CreateMonthlyCa(Account& a, int64_t t) {
    a.monthly_ca = NextId(a, "mca");
    Emit(Head("resource_created", a.monthly_ca + "-create", a, t) + ",\"resource_id\":\"" +
         a.monthly_ca +
         "\",\"resource_type\":\"private_ca\",\"ca_type\":\"root\",\"billing_mode\":"
         "\"yearly_monthly\",\"period_unit\":\"month\",\"periods\":1,\"auto_renew\":true}");
  }

  void Tick(Account& a, const std::string& resource, int64_t t) {
    Emit(Head("usage_recorded", resource + "-" + std::to_string(t), a, t + options_.tick_s + 5) +
         ",\"resource_id\":\"" + resource + "\",\"from\":\"" + zone_.Format(t) + "\",\"to\":\"" +
         zone_.Format(t + options_.tick_s) + "\"}");
  }

  void SslPurchase(Account& a, int64_t t) {
    const std::string order = a.id + "-po-" + std::to_string(++a.orders);
    if (Chance(0.5)) {
      Emit(Head("ssl_certificate_purchased", order, a, t) + ",\"order_id\":\"" + order +
           "\",\"ca\":\"DigiCert\",\"cert_type\":\"OV\",\"domain_type\":\"single\","
           "\"domains\":1,\"years\":1}");
      if (Chance(0.1)) {
        Emit(Head("ssl_certificate_refunded", order + "-refund", a, t + 3600) +
             ",\"order_id\":\"" + order + "\"}");
      }
    } else {
      Emit(Head("ssl_expansion_purchased", order, a, t) + ",\"order_id\":\"" + order +
           "\",\"quantity\":" + std::to_string(1 + rng_() % 5) + "}");
    }
  }

  void ReplaceCert(Account& a, int64_t t) {
    if (a.certs.empty()) return;
    const size_t k = rng_() % a.certs.size();
    // Deleted at the end of the tick just recorded for it.
    t += options_.tick_s;
    Emit(Head("resource_deleted", a.certs[k] + "-delete", a, t) + ",\"resource_id\":\"" +
         a.certs[k] + "\"}");
    a.certs.erase(a.certs.begin() + static_cast<long>(k));
    CreateCert(a, t);
  }

  void MonthBoundary(Period ended, int64_t t) {
    for (Account& a : accounts_) {
      Emit(Head("invoice_finalized", a.id + "-close-" + FormatPeriod(ended), a, t) +
           ",\"period\":\"" + FormatPeriod(ended) + "\"}");
      if (Chance(0.05)) {
        Emit(Head("subscription_unsubscribed", a.monthly_ca + "-unsubscribe", a, t) +
             ",\"resource_id\":\"" + a.monthly_ca + "\"}");
        CreateMonthlyCa(a, t);
      } else {
        Emit(Head("subscription_renewed", a.monthly_ca + "-renew-" + FormatPeriod(ended), a, t) +
             ",\"resource_id\":\"" + a.monthly_ca + "\",\"period_unit\":\"month\",\"periods\":1}");
      }
    }
  }

  const WorkloadOptions& options_;
  const std::function<void(const std::string&)>& emit_;
  std::mt19937_64 rng_;
  BillingZone zone_;
  std::vector<Account> accounts_;
  uint64_t emitted_ = 0;
};

}  // namespace

void GenerateWorkload(const WorkloadOptions& options,
                      const std::function<void(const std::string&)>& emit) {
  Generator(options, emit).Run();
}

bool LineDecoder::Decode(std::string_view line, IncomingEvent* event) {
  return !parser_.ParseCopy(line, &parsed_) &&
         !DecodeEventId(parsed_, &event->event_id) && !DecodeEvent(parsed_, event);
}

}  // namespace ledger::bench
