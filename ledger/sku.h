// The price catalog's stock-keeping units (billing-rules.md section 4): which
// sku names exist and which sku prices which charge.
//
// Constants and stateless functions; thread-safe.

#pragma once

#include <string>
#include <string_view>

#include "ledger/event.h"

namespace ledger {

inline constexpr std::string_view kSslCas[] = {"DigiCert", "GeoTrust", "GlobalSign", "RapidSSL",
                                               "CFCA",     "TrustAsia", "vTrus"};
inline constexpr std::string_view kSslCertTypes[] = {"DV", "DV_BASIC", "OV", "OV_PRO", "EV",
                                                     "EV_PRO"};
inline constexpr std::string_view kSslDomainTypes[] = {"single", "multi", "wildcard"};

inline constexpr std::string_view kSslExpansionSku = "ssl_expansion";
inline constexpr std::string_view kPrivateCertHourSku = "private_cert/hour";
// PrivateCaSku(ca_type, "hour") of each CA type, for rating usage ticks
// without building a string per tick.
inline constexpr std::string_view kPrivateCaRootHourSku = "private_ca/root/hour";
inline constexpr std::string_view kPrivateCaSubordinateHourSku = "private_ca/subordinate/hour";

// True for every sku of the catalog table, e.g. "ssl/DigiCert/OV/multi/2y".
bool IsValidSku(std::string_view sku);

std::string SslSku(const SslCertificatePurchased& purchase);
// "private_ca/<ca_type>/<hour|month|year>".
std::string PrivateCaSku(CaType ca_type, std::string_view unit);

}  // namespace ledger
