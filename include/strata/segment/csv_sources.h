// CSV event sources: readers for the UCI "Online Retail" export and the CDNOW master file.
//
// Both readers are batch parsers from a std::istream: they return every valid row as an Event
// plus ReadStats that count and explain every row that was not turned into an event (nothing is
// dropped silently). Only a missing/unknown header or an unreadable stream fails the whole read.
// Thread-safety: free functions without shared state; safe to call concurrently on distinct
// streams.
//
//   STRATA_ASSIGN_OR_RETURN(auto read, ReadOnlineRetailFile("online_retail_sample.csv"));
//   SortEventsByTime(read.events);
//   for (const auto& [line, reason] : read.stats.errors) std::cerr << line << ": " << reason;
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "strata/core/status.h"
#include "strata/segment/event.h"

namespace strata::segment {

struct LineError {
  int64_t line = 0;  // 1-based line number in the input
  std::string reason;
};

struct ReadStats {
  int64_t rows = 0;                 // data rows seen (header and blank lines excluded)
  int64_t accepted = 0;             // rows turned into events
  int64_t skipped_no_customer = 0;  // rows whose CustomerID is empty or "NA"
  std::vector<LineError> errors;    // every other rejected row, with its reason
};

struct ReadResult {
  std::vector<Event> events;
  ReadStats stats;
};

// Splits one RFC 4180 CSV line (no embedded newlines): quoted fields, "" escapes.
// InvalidArgument on an unterminated quote or garbage after a closing quote.
Result<std::vector<std::string>> SplitCsvLine(std::string_view line);

// UCI Online Retail: header InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,
// CustomerID,Country. Mapping: invoices starting with 'C' or negative quantities become returns
// (quantity = |Quantity|); amount = |Quantity| * UnitPrice; product = StockCode; category = first
// 3 characters of StockCode (the data has no category); channel = "online"; node = Country.
// InvalidArgument when the header is missing or has other columns.
Result<ReadResult> ReadOnlineRetail(std::istream& in);
// NotFound when the file cannot be opened.
Result<ReadResult> ReadOnlineRetailFile(const std::string& path);

// CDNOW master: whitespace-separated "customer_id yyyymmdd n_cds dollar_amount", no header, CRLF
// tolerated. Every row becomes a purchase at 12:00 UTC; category "cd", channel "catalog".
Result<ReadResult> ReadCdnow(std::istream& in);
Result<ReadResult> ReadCdnowFile(const std::string& path);

// Stable sort by timestamp (ties keep input order).
void SortEventsByTime(std::vector<Event>& events);

}  // namespace strata::segment
