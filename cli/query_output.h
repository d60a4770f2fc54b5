// The three forms of every query result: `json` exactly as interface.md
// fixes it (the stable machine form), `text` an aligned table for a person,
// `csv` with a header row for spreadsheets and finance tools. Times print in
// the billing zone; amounts keep 8 places, totals the currency's minor unit.

#pragma once

#include <string>
#include <vector>

#include "ledger/billing_time.h"
#include "projections/queries.h"

namespace ledger::cli {

enum class OutputFormat { kText, kJson, kCsv };

std::string RenderInvoice(const projections::Invoice& invoice, const BillingZone& zone,
                          OutputFormat format);
std::string RenderInvoiceList(std::string_view account, const projections::InvoiceList& list,
                              OutputFormat format);
std::string RenderSubscriptions(const std::vector<projections::SubscriptionRow>& rows,
                                const BillingZone& zone, OutputFormat format);
std::string RenderUsage(const std::vector<projections::UsageRow>& rows, const BillingZone& zone,
                        OutputFormat format);

}  // namespace ledger::cli
