#include "strata/segment/csv_sources.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

namespace strata::segment {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool ParseDouble(std::string_view s, double* out) {
  s = Trim(s);
  if (s.empty()) return false;
  // std::from_chars for double is available in GCC 12.
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool ParseInt(std::string_view s, int64_t* out) {
  s = Trim(s);
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

Result<ReadResult> Fail(std::istream& in, std::string what) {
  if (in.bad()) return DataLossError(what + ": read error");
  return InvalidArgumentError(std::move(what));
}

}  // namespace

Result<std::vector<std::string>> SplitCsvLine(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::vector<std::string> fields;
  std::string cur;
  size_t i = 0;
  while (true) {
    cur.clear();
    if (i < line.size() && line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            cur.push_back('"');
            i += 2;
          } else {
            ++i;
            closed = true;
            break;
          }
        } else {
          cur.push_back(line[i++]);
        }
      }
      if (!closed) return InvalidArgumentError("unterminated quoted field");
      if (i < line.size() && line[i] != ',') {
        return InvalidArgumentError("unexpected character after closing quote");
      }
    } else {
      while (i < line.size() && line[i] != ',') cur.push_back(line[i++]);
    }
    fields.push_back(cur);
    if (i >= line.size()) break;
    ++i;  // skip comma
  }
  return fields;
}

Result<ReadResult> ReadOnlineRetail(std::istream& in) {
  static const std::vector<std::string> kHeader = {"InvoiceNo",  "StockCode",   "Description",
                                                   "Quantity",   "InvoiceDate", "UnitPrice",
                                                   "CustomerID", "Country"};
  ReadResult r;
  std::string line;
  if (!std::getline(in, line)) return Fail(in, "online retail: empty input (no header)");
  auto header = SplitCsvLine(line);
  if (!header.ok() || *header != kHeader) {
    return InvalidArgumentError(
        "online retail: line 1: header must be "
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country");
  }
  int64_t lineno = 1;
  while (std::getline(in, line)) {
    ++lineno;
    if (Trim(line).empty()) continue;
    ++r.stats.rows;
    auto err = [&](std::string reason) { r.stats.errors.push_back({lineno, std::move(reason)}); };
    auto fields = SplitCsvLine(line);
    if (!fields.ok()) {
      err(fields.status().message());
      continue;
    }
    const auto& f = *fields;
    if (f.size() != kHeader.size()) {
      err("expected 8 fields, got " + std::to_string(f.size()));
      continue;
    }
    std::string_view cust = Trim(f[6]);
    if (cust.empty() || cust == "NA") {
      ++r.stats.skipped_no_customer;
      continue;
    }
    int64_t qty = 0;
    double price = 0;
    if (!ParseInt(f[3], &qty)) {
      err("Quantity: not an integer '" + f[3] + "'");
      continue;
    }
    if (!ParseDouble(f[5], &price) || !std::isfinite(price)) {
      err("UnitPrice: not a number '" + f[5] + "'");
      continue;
    }
    if (price < 0) {
      err("UnitPrice: negative (" + f[5] + ")");
      continue;
    }
    if (qty == 0) {
      err("Quantity: zero");
      continue;
    }
    auto ts = ParseRfc3339(Trim(f[4]));
    if (!ts.ok()) {
      err("InvoiceDate: " + ts.status().message());
      continue;
    }
    // CustomerIDs are written as "12621" or "12621.0" depending on the export.
    std::string id(cust);
    if (id.size() > 2 && id.ends_with(".0")) id.resize(id.size() - 2);
    Event e;
    e.customer_id = std::move(id);
    e.timestamp = *ts;
    const bool is_return = (!f[0].empty() && (f[0][0] == 'C' || f[0][0] == 'c')) || qty < 0;
    e.type = is_return ? EventType::kReturn : EventType::kPurchase;
    e.quantity = static_cast<int32_t>(std::min<int64_t>(std::llabs(qty), kMaxQuantity));
    e.amount = static_cast<double>(std::llabs(qty)) * price;
    e.product = f[1];
    e.category = f[1].substr(0, 3);
    e.channel = "online";
    e.node = f[7];
    Status valid = ValidateEvent(e);
    if (!valid.ok()) {
      err(valid.message());
      continue;
    }
    r.events.push_back(std::move(e));
    ++r.stats.accepted;
  }
  if (in.bad())
    return DataLossError("online retail: read error after line " + std::to_string(lineno));
  return r;
}

Result<ReadResult> ReadCdnow(std::istream& in) {
  ReadResult r;
  std::string line;
  int64_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (Trim(line).empty()) continue;
    ++r.stats.rows;
    auto err = [&](std::string reason) { r.stats.errors.push_back({lineno, std::move(reason)}); };
    std::istringstream ss(line);
    std::string id, date, n, amount, extra;
    if (!(ss >> id >> date >> n >> amount) || (ss >> extra)) {
      err("expected 4 whitespace-separated fields: id yyyymmdd n_cds amount");
      continue;
    }
    int64_t ymd = 0, ncds = 0;
    double dollars = 0;
    if (date.size() != 8 || !ParseInt(date, &ymd)) {
      err("date: expected yyyymmdd, got '" + date + "'");
      continue;
    }
    const int64_t y = ymd / 10000;
    const unsigned m = static_cast<unsigned>(ymd / 100 % 100), d = static_cast<unsigned>(ymd % 100);
    if (m < 1 || m > 12 || d < 1 || d > 31 || y < 1971) {
      err("date: invalid calendar date '" + date + "'");
      continue;
    }
    if (!ParseInt(n, &ncds) || ncds < 1) {
      err("n_cds: expected a positive integer, got '" + n + "'");
      continue;
    }
    if (!ParseDouble(amount, &dollars)) {
      err("amount: not a number '" + amount + "'");
      continue;
    }
    // Strip zero padding so "00042" and "42" are the same customer.
    size_t nz = id.find_first_not_of('0');
    Event e;
    e.customer_id = nz == std::string::npos ? "0" : id.substr(nz);
    e.timestamp = FromUnixSeconds(static_cast<double>(DaysFromCivil(y, m, d)) * 86400.0 + 43200.0);
    e.type = EventType::kPurchase;
    e.quantity = static_cast<int32_t>(std::min<int64_t>(ncds, kMaxQuantity));
    e.amount = dollars;
    e.category = "cd";
    e.channel = "catalog";
    e.node = "cdnow";
    Status valid = ValidateEvent(e);
    if (!valid.ok()) {
      err(valid.message());
      continue;
    }
    r.events.push_back(std::move(e));
    ++r.stats.accepted;
  }
  if (in.bad()) return DataLossError("cdnow: read error after line " + std::to_string(lineno));
  return r;
}

Result<ReadResult> ReadOnlineRetailFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot open '" + path + "'");
  auto r = ReadOnlineRetail(in);
  if (!r.ok()) return r.status().WithContext(path);
  return r;
}

Result<ReadResult> ReadCdnowFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot open '" + path + "'");
  auto r = ReadCdnow(in);
  if (!r.ok()) return r.status().WithContext(path);
  return r;
}

void SortEventsByTime(std::vector<Event>& events) {
  std::stable_sort(events.begin(), events.end(),
                   [](const Event& a, const Event& b) { return a.timestamp < b.timestamp; });
}

}  // namespace strata::segment
