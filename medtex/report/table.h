// Result tables for the HTML report: text and numbers (optionally mean +/- sd),
// each numeric column printed with one number of decimals, the best value of a
// column highlighted, and "privileged" rows (methods that use what the
// comparison's setting forbids, e.g. transfer needs the source images) marked
// with a dagger, explained under the table and left out of the ranking.
#pragma once

#include <cmath>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace medtex::report {

struct Cell {
  enum class Kind { kEmpty, kText, kNumber };
  Kind kind = Kind::kEmpty;
  std::string text;
  double value = NAN;
  double spread = NAN;  // shown as "value ± spread" when finite (e.g. sd over seeds)

  Cell() = default;
  Cell(std::string t) : kind(Kind::kText), text(std::move(t)) {}  // NOLINT: implicit by design
  Cell(const char* t) : kind(Kind::kText), text(t) {}             // NOLINT
  template <class T>
  requires std::is_arithmetic_v<T> Cell(T v) : kind(Kind::kNumber), value(double(v)) {}  // NOLINT
  static Cell mean_sd(double mean, double sd) {
    Cell c(mean);
    c.spread = sd;
    return c;
  }
};

struct Table {
  enum class Best { kNone, kMax, kMin };
  struct Row {
    std::vector<Cell> cells{};
    bool privileged = false;
  };

  std::string caption{};               // shown above the table
  std::vector<std::string> headers{};  // one per column
  std::vector<Row> rows{};
  // Per column (missing entries mean kNone / auto): which value is best, and
  // the decimals to print (-1 = auto_decimals over the column's values).
  std::vector<Best> best{};
  std::vector<int> decimals{};
  // The footnote for rows marked privileged; shown only when there are some.
  std::string privileged_note =
      "privileged reference: uses the source-domain images, which the clinic does not have; "
      "not ranked.";

  void add_row(std::vector<Cell> cells, bool privileged = false) {
    rows.push_back({std::move(cells), privileged});
  }
};

// The table as a <table> element (with <caption>, <thead>, <tbody> and, when
// a row is privileged, <tfoot> holding the note). The best value of a column
// is the largest (kMax) or smallest (kMin) among the non-privileged rows'
// finite numbers, compared as printed, so values that print the same tie and
// are all highlighted. Rows shorter than the header are padded with empty
// cells; longer ones throw medtex::Error naming the table.
std::string render_table(const Table& table);

}  // namespace medtex::report
