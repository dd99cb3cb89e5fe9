#include "medtex/report/table.h"

#include <algorithm>
#include <cmath>

#include "kernels/common/error.h"
#include "medtex/report/text.h"

namespace medtex::report {
namespace {

constexpr const char* kDagger = "\xE2\x80\xA0";     // U+2020
constexpr const char* kPlusMinus = "\xC2\xB1";      // U+00B1
constexpr const char* kThinSpace = "\xE2\x80\x89";  // U+2009

// The value as printed with d decimals, as an integer count of 10^-d: two
// cells that print the same compare equal.
long long printed(double v, int d) {
  return std::llround(v * std::pow(10.0, d));
}

}  // namespace

std::string render_table(const Table& t) {
  const size_t ncol = t.headers.size();
  for (size_t r = 0; r < t.rows.size(); ++r) {
    MT_CHECK(t.rows[r].cells.size() <= ncol, "table '", t.caption, "': row ", r, " has ",
             t.rows[r].cells.size(), " cells for ", ncol, " columns");
  }
  auto cell = [&](size_t r, size_t c) -> const Cell* {
    return c < t.rows[r].cells.size() ? &t.rows[r].cells[c] : nullptr;
  };

  std::vector<int> decimals(ncol, 0);
  std::vector<long long> best_value(ncol, 0);
  std::vector<bool> has_best(ncol, false);
  for (size_t c = 0; c < ncol; ++c) {
    std::vector<double> values;
    for (size_t r = 0; r < t.rows.size(); ++r) {
      const Cell* x = cell(r, c);
      if (x && x->kind == Cell::Kind::kNumber) {
        values.push_back(x->value);
        if (std::isfinite(x->spread)) values.push_back(x->spread);
      }
    }
    decimals[c] =
        c < t.decimals.size() && t.decimals[c] >= 0 ? t.decimals[c] : auto_decimals(values);
    const Table::Best b = c < t.best.size() ? t.best[c] : Table::Best::kNone;
    if (b == Table::Best::kNone) continue;
    for (size_t r = 0; r < t.rows.size(); ++r) {
      const Cell* x = cell(r, c);
      if (t.rows[r].privileged || !x || x->kind != Cell::Kind::kNumber ||
          !std::isfinite(x->value)) {
        continue;
      }
      const long long p = printed(x->value, decimals[c]);
      if (!has_best[c] || (b == Table::Best::kMax ? p > best_value[c] : p < best_value[c])) {
        best_value[c] = p;
        has_best[c] = true;
      }
    }
  }

  bool any_privileged = false;
  std::string o = "<table class=\"results\">\n";
  if (!t.caption.empty()) o += "<caption>" + html_escape(t.caption) + "</caption>\n";
  o += "<thead><tr>";
  for (size_t c = 0; c < ncol; ++c) {
    const Table::Best b = c < t.best.size() ? t.best[c] : Table::Best::kNone;
    const char* hint = b == Table::Best::kMax   ? " \xE2\x86\x91"
                       : b == Table::Best::kMin ? " \xE2\x86\x93"
                                                : "";
    o += "<th scope=\"col\">" + html_escape(t.headers[c]) +
         (*hint ? std::string("<span class=\"dir\">") + hint + "</span>" : std::string()) + "</th>";
  }
  o += "</tr></thead>\n<tbody>\n";
  for (size_t r = 0; r < t.rows.size(); ++r) {
    const bool priv = t.rows[r].privileged;
    any_privileged = any_privileged || priv;
    o += priv ? "<tr class=\"privileged\">" : "<tr>";
    for (size_t c = 0; c < ncol; ++c) {
      const Cell* x = cell(r, c);
      std::string content;
      std::string cls;
      if (x && x->kind == Cell::Kind::kText) {
        content = html_escape(x->text);
      } else if (x && x->kind == Cell::Kind::kNumber) {
        cls = "num";
        content = html_escape(format_fixed(x->value, decimals[c]));
        if (std::isfinite(x->spread)) {
          content += std::string(kThinSpace) + "<span class=\"sd\">" + kPlusMinus + kThinSpace +
                     html_escape(format_fixed(x->spread, decimals[c])) + "</span>";
        }
        if (has_best[c] && !priv && std::isfinite(x->value) &&
            printed(x->value, decimals[c]) == best_value[c]) {
          cls += " best";
        }
      }
      if (c == 0 && priv) {
        content += "<sup class=\"mark\">" + std::string(kDagger) + "</sup>";
      }
      const std::string tag = c == 0 ? "th" : "td";
      o += "<" + tag + (c == 0 ? " scope=\"row\"" : "") +
           (cls.empty() ? "" : " class=\"" + cls + "\"") + ">" + content + "</" + tag + ">";
    }
    o += "</tr>\n";
  }
  o += "</tbody>\n";
  const bool any_best = std::any_of(has_best.begin(), has_best.end(), [](bool b) { return b; });
  if (any_privileged || any_best) {
    const std::string td = "<tr><td colspan=\"" + std::to_string(std::max<size_t>(ncol, 1)) + "\">";
    o += "<tfoot>";
    if (any_best) {
      o += td +
           "Bold: the best value of a column (\xE2\x86\x91 higher is better, \xE2\x86\x93 lower is "
           "better).</td></tr>";
    }
    if (any_privileged) {
      o += td + "<sup class=\"mark\">" + kDagger + "</sup> " + html_escape(t.privileged_note) +
           "</td></tr>";
    }
    o += "</tfoot>\n";
  }
  o += "</table>\n";
  return o;
}

}  // namespace medtex::report
