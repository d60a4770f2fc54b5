#include "cli/query_output.h"

#include "cli/event_json.h"
#include "cli/json_writer.h"
#include "cli/text_table.h"
#include "ledger/money.h"

namespace ledger::cli {
namespace {

using projections::Invoice;
using projections::InvoiceLine;
using projections::LineKind;

std::string NumberText(const Invoice& invoice) {
  return invoice.finalized ? InvoiceNumberText(invoice.number) : "";
}

std::string StatusText(bool finalized) { return finalized ? "finalized" : "open"; }

// The reference a person looks for on a line: the order, else the resource.
std::string Reference(const InvoiceLine& line) {
  return !line.order_id.empty() ? line.order_id : line.resource_id;
}

void WriteInvoiceLineJson(const InvoiceLine& line, const BillingZone& zone, JsonWriter* w) {
  w->BeginObject().Field("kind", projections::LineKindName(line.kind));
  if (line.kind == LineKind::kHourlyUsage) {
    w->Field("resource_id", line.resource_id).Field("seconds", line.seconds);
  } else {
    w->Field("event_id", line.event_id);
    if (!line.resource_id.empty()) w->Field("resource_id", line.resource_id);
    if (!line.order_id.empty()) w->Field("order_id", line.order_id);
    w->Field("charged_at", zone.Format(line.charged_at_s));
    w->Field("description", line.description);
  }
  w->Field("amount", FormatRoundedAmount(line.amount_e8, 8));
  if (line.list_amount_e8 != 0) {
    w->Field("list_amount", FormatAmount_e8(line.list_amount_e8));
    w->Field("discount", FormatRoundedAmount(line.list_amount_e8 - line.amount_e8, 8));
  }
  if (line.late_from) w->Field("late_from", FormatPeriod(*line.late_from));
  if (line.kind == LineKind::kAdjustment) w->Field("reason", line.reason);
  w->EndObject();
}

std::string InvoiceJson(const Invoice& invoice, const BillingZone& zone) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject().Field("account", invoice.account).Field("period", FormatPeriod(invoice.period));
  w.Field("currency", invoice.currency).Field("status", StatusText(invoice.finalized));
  w.Key("number");
  if (invoice.finalized) {
    w.String(InvoiceNumberText(invoice.number));
  } else {
    w.Null();
  }
  w.Key("lines").BeginArray();
  for (const InvoiceLine& line : invoice.lines) WriteInvoiceLineJson(line, zone, &w);
  w.EndArray();
  w.Field("total_precise", FormatRoundedAmount(invoice.total_e8, 8));
  w.Field("total", FormatRoundedAmount(invoice.total_e8, invoice.minor_digits));
  w.EndObject();
  out.push_back('\n');
  return out;
}

std::string InvoiceText(const Invoice& invoice, const BillingZone& zone) {
  std::string out = "Invoice " + (invoice.finalized ? NumberText(invoice) : "(open)") +
                    "  account " + invoice.account + "  period " + FormatPeriod(invoice.period) +
                    "  currency " + invoice.currency + "  status " +
                    StatusText(invoice.finalized) + "\n\n";
  TextTable table({"KIND", "CHARGED AT", "REFERENCE", "DESCRIPTION", "AMOUNT"},
                  {false, false, false, false, true});
  for (const InvoiceLine& line : invoice.lines) {
    std::string description = line.kind == LineKind::kHourlyUsage
                                  ? "usage, " + std::to_string(line.seconds) + " s"
                                  : line.description;
    if (line.list_amount_e8 != 0) {
      description += " (list " + FormatAmount_e8(line.list_amount_e8) + ", discount " +
                     FormatRoundedAmount(line.list_amount_e8 - line.amount_e8, 8) + ")";
    }
    if (line.late_from) description += " [late from " + FormatPeriod(*line.late_from) + "]";
    table.AddRow({std::string(projections::LineKindName(line.kind)),
                  line.kind == LineKind::kHourlyUsage ? "" : zone.Format(line.charged_at_s),
                  Reference(line), description, FormatRoundedAmount(line.amount_e8, 8)});
  }
  table.AddRow({"", "", "", "total (precise)", FormatRoundedAmount(invoice.total_e8, 8)});
  table.AddRow({"", "", "", "total " + invoice.currency,
                FormatRoundedAmount(invoice.total_e8, invoice.minor_digits)});
  return out + table.Render();
}

std::string InvoiceCsv(const Invoice& invoice, const BillingZone& zone) {
  std::string out = CsvRow({"account", "period", "currency", "status", "number", "kind",
                            "event_id", "resource_id", "order_id", "charged_at", "description",
                            "seconds", "amount", "list_amount", "discount", "late_from", "reason"});
  for (const InvoiceLine& line : invoice.lines) {
    const bool usage = line.kind == LineKind::kHourlyUsage;
    out += CsvRow(
        {invoice.account, FormatPeriod(invoice.period), invoice.currency,
         StatusText(invoice.finalized), NumberText(invoice),
         std::string(projections::LineKindName(line.kind)), line.event_id, line.resource_id,
         line.order_id, usage ? "" : zone.Format(line.charged_at_s), CsvText(line.description),
         usage ? std::to_string(line.seconds) : "", FormatRoundedAmount(line.amount_e8, 8),
         line.list_amount_e8 ? FormatAmount_e8(line.list_amount_e8) : "",
         line.list_amount_e8 ? FormatRoundedAmount(line.list_amount_e8 - line.amount_e8, 8) : "",
         line.late_from ? FormatPeriod(*line.late_from) : "", CsvText(line.reason)});
  }
  return out;
}

std::string SubscriptionEnd(const projections::SubscriptionRow& row, const BillingZone& zone) {
  return row.end_s ? zone.Format(*row.end_s) : "";
}

}  // namespace

std::string RenderInvoice(const Invoice& invoice, const BillingZone& zone, OutputFormat format) {
  switch (format) {
    case OutputFormat::kJson: return InvoiceJson(invoice, zone);
    case OutputFormat::kCsv: return InvoiceCsv(invoice, zone);
    case OutputFormat::kText: return InvoiceText(invoice, zone);
  }
  return "";
}

std::string RenderInvoiceList(std::string_view account, const projections::InvoiceList& list,
                              OutputFormat format) {
  std::string out;
  if (format == OutputFormat::kJson) {
    JsonWriter w(&out);
    w.BeginArray();
    for (const projections::InvoiceSummary& s : list.invoices) {
      w.BeginObject().Field("account", account).Field("period", FormatPeriod(s.period));
      w.Field("currency", list.currency).Field("status", StatusText(s.finalized)).Key("number");
      if (s.finalized) {
        w.String(InvoiceNumberText(s.number));
      } else {
        w.Null();
      }
      w.Field("lines", static_cast<uint64_t>(s.line_count));
      w.Field("total_precise", FormatRoundedAmount(s.total_e8, 8));
      w.Field("total", FormatRoundedAmount(s.total_e8, list.minor_digits)).EndObject();
    }
    w.EndArray();
    return out + "\n";
  }
  const std::vector<std::string> header = {"period", "status", "number", "lines", "currency",
                                           "total_precise", "total"};
  TextTable table({"PERIOD", "STATUS", "NUMBER", "LINES", "CURRENCY", "TOTAL PRECISE", "TOTAL"},
                  {false, false, false, true, false, true, true});
  if (format == OutputFormat::kCsv) out = CsvRow(header);
  for (const projections::InvoiceSummary& s : list.invoices) {
    std::vector<std::string> row = {FormatPeriod(s.period), StatusText(s.finalized),
                                    s.finalized ? InvoiceNumberText(s.number) : "",
                                    std::to_string(s.line_count), list.currency,
                                    FormatRoundedAmount(s.total_e8, 8),
                                    FormatRoundedAmount(s.total_e8, list.minor_digits)};
    if (format == OutputFormat::kCsv) {
      out += CsvRow(row);
    } else {
      table.AddRow(std::move(row));
    }
  }
  return format == OutputFormat::kCsv ? out : "Invoices of " + std::string(account) + "\n\n" + table.Render();
}

std::string RenderSubscriptions(const std::vector<projections::SubscriptionRow>& rows,
                                const BillingZone& zone, OutputFormat format) {
  std::string out;
  if (format == OutputFormat::kJson) {
    JsonWriter w(&out);
    w.BeginArray();
    for (const projections::SubscriptionRow& row : rows) {
      w.BeginObject().Field("resource_id", row.resource_id);
      w.Field("resource_type", ResourceTypeName(row.resource_type)).Key("ca_type");
      if (row.ca_type == CaType::kNone) {
        w.Null();
      } else {
        w.String(CaTypeName(row.ca_type));
      }
      w.Field("billing_mode", BillingModeName(row.billing_mode)).Key("period_unit");
      if (row.period_unit == PeriodUnit::kNone) {
        w.Null();
      } else {
        w.String(PeriodUnitName(row.period_unit));
      }
      w.Field("start", zone.Format(row.start_s)).Key("end");
      if (row.end_s) {
        w.String(zone.Format(*row.end_s));
      } else {
        w.Null();
      }
      w.Field("auto_renew", row.auto_renew);
      w.Field("status", projections::SubscriptionStatusName(row.status)).EndObject();
    }
    w.EndArray();
    return out + "\n";
  }
  TextTable table({"RESOURCE", "TYPE", "CA TYPE", "BILLING MODE", "UNIT", "START", "END",
                   "AUTO RENEW", "STATUS"},
                  {false, false, false, false, false, false, false, false, false});
  if (format == OutputFormat::kCsv) {
    out = CsvRow({"resource_id", "resource_type", "ca_type", "billing_mode", "period_unit", "start",
                  "end", "auto_renew", "status"});
  }
  for (const projections::SubscriptionRow& row : rows) {
    std::vector<std::string> fields = {
        row.resource_id, std::string(ResourceTypeName(row.resource_type)),
        std::string(CaTypeName(row.ca_type)), std::string(BillingModeName(row.billing_mode)),
        std::string(PeriodUnitName(row.period_unit)), zone.Format(row.start_s),
        SubscriptionEnd(row, zone), row.auto_renew ? "true" : "false",
        std::string(projections::SubscriptionStatusName(row.status))};
    if (format == OutputFormat::kCsv) {
      out += CsvRow(fields);
    } else {
      table.AddRow(std::move(fields));
    }
  }
  return format == OutputFormat::kCsv ? out : table.Render();
}

std::string RenderUsage(const std::vector<projections::UsageRow>& rows, const BillingZone& zone,
                        OutputFormat format) {
  std::string out;
  if (format == OutputFormat::kJson) {
    JsonWriter w(&out);
    w.BeginArray();
    for (const projections::UsageRow& row : rows) {
      w.BeginObject().Field("resource_id", row.resource_id);
      w.Field("hour_start", zone.Format(row.hour_start_s)).Field("seconds", row.seconds);
      w.Field("unit_price", FormatPrice_e10(row.price_per_hour_e10));
      w.Field("amount", FormatAmount_e8(row.amount_e8)).EndObject();
    }
    w.EndArray();
    return out + "\n";
  }
  TextTable table({"RESOURCE", "HOUR START", "SECONDS", "UNIT PRICE", "AMOUNT"},
                  {false, false, true, true, true});
  if (format == OutputFormat::kCsv) {
    out = CsvRow({"resource_id", "hour_start", "seconds", "unit_price", "amount"});
  }
  Int128 total_e8 = 0;
  int64_t total_seconds = 0;
  for (const projections::UsageRow& row : rows) {
    std::vector<std::string> fields = {row.resource_id, zone.Format(row.hour_start_s),
                                       std::to_string(row.seconds),
                                       FormatPrice_e10(row.price_per_hour_e10),
                                       FormatAmount_e8(row.amount_e8)};
    total_e8 += row.amount_e8;
    total_seconds += row.seconds;
    if (format == OutputFormat::kCsv) {
      out += CsvRow(fields);
    } else {
      table.AddRow(std::move(fields));
    }
  }
  if (format == OutputFormat::kCsv) return out;
  table.AddRow({"total", "", std::to_string(total_seconds), "", FormatRoundedAmount(total_e8, 8)});
  return table.Render();
}

}  // namespace ledger::cli
