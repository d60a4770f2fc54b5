#include "ledger/sku.h"

#include <algorithm>
#include <vector>

namespace ledger {
namespace {

template <size_t N>
bool OneOf(std::string_view text, const std::string_view (&choices)[N]) {
  return std::find(std::begin(choices), std::end(choices), text) != std::end(choices);
}

std::vector<std::string_view> SplitSlash(std::string_view text) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t slash = text.find('/', start);
    parts.push_back(text.substr(start, slash - start));
    if (slash == std::string_view::npos) return parts;
    start = slash + 1;
  }
}

}  // namespace

bool IsValidSku(std::string_view sku) {
  if (sku == kSslExpansionSku || sku == kPrivateCertHourSku) return true;
  const std::vector<std::string_view> parts = SplitSlash(sku);
  if (parts.size() == 3 && parts[0] == "private_ca") {
    return (parts[1] == "root" || parts[1] == "subordinate") &&
           (parts[2] == "hour" || parts[2] == "month" || parts[2] == "year");
  }
  if (parts.size() == 5 && parts[0] == "ssl") {
    return OneOf(parts[1], kSslCas) && OneOf(parts[2], kSslCertTypes) &&
           OneOf(parts[3], kSslDomainTypes) &&
           (parts[4] == "1y" || parts[4] == "2y" || parts[4] == "3y");
  }
  return false;
}

std::string SslSku(const SslCertificatePurchased& purchase) {
  return "ssl/" + purchase.ca + "/" + purchase.cert_type + "/" + purchase.domain_type + "/" +
         std::to_string(purchase.years) + "y";
}

std::string PrivateCaSku(CaType ca_type, std::string_view unit) {
  return "private_ca/" + std::string(CaTypeName(ca_type)) + "/" + std::string(unit);
}

}  // namespace ledger
