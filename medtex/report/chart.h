// Line charts as inline SVG: train/val loss per epoch, learning curves
// (accuracy against labelled-set size, mean +/- sd over seeds as error bars).
//
// The SVG is plain markup with presentation attributes (no CSS classes needed
// to render, no scripts, no fonts to fetch), so it shows the same in the
// report, printed, or saved on its own. Each series is exactly one <path
// class="series"> (a missing value, NaN, breaks the line with a new "M"), its
// error bars one <path class="errbar">, its points <circle class="marker">.
// Where several series have error bars, each such series is drawn shifted by
// a few pixels along x (4 px apart), so bars at the same x stay readable.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace medtex::report {

struct Series {
  std::string name{};         // the legend entry
  std::vector<double> x{};    // any order; drawn in the order given
  std::vector<double> y{};    // NaN = no value at this x (the line breaks)
  std::vector<double> err{};  // empty, or one half-length per point: bar from y - err to y + err
  std::string color{};        // CSS colour; empty = the next colour of the palette
  bool dashed = false;        // e.g. validation beside a solid training curve
  // Draw a dot at each point; by default only when there are few points
  // (<= 30), where the reader wants to see which x values were measured.
  std::optional<bool> markers{};
};

struct LineChart {
  // Every member has a default, so designated initializers may name any
  // subset: LineChart{.title = "Loss", .x_label = "epoch", .y_label = "loss"}.
  std::string title{};
  std::string x_label{};
  std::string y_label{};
  std::vector<Series> series{};
  // Logarithmic x axis (labelled-set sizes 25, 50, 100, 200 spread evenly).
  // Ticks sit at the data's x values when there are at most 10 distinct ones,
  // else at powers of ten. Every x must then be > 0.
  bool log_x = false;
  // A fixed y range (e.g. accuracy in [0, 1]); otherwise the range is the
  // data's (error bars included) widened to "nice" tick values. Whatever falls
  // outside a fixed range is clipped at the plot's edge.
  std::optional<double> y_min{};
  std::optional<double> y_max{};
  // SVG user units (CSS px at 100%): most of the report's 960 px column, and
  // the chart scales down to fit a narrower window or page.
  int width = 840;
  int height = 380;

  // Appends a series and returns it for further settings.
  Series& add(std::string name, std::vector<double> x, std::vector<double> y,
              std::vector<double> err = {});
};

// The colour-blind-safe palette (Okabe & Ito 2008) series take in turn.
const std::vector<std::string>& chart_palette();

// Tick values for a linear axis covering [lo, hi]: steps of 1, 2 or 5 x 10^k
// chosen to give about `target` ticks, the first <= lo and the last >= hi
// (Heckbert's "nice numbers", Graphics Gems, 1990). lo == hi is widened.
std::vector<double> nice_ticks(double lo, double hi, int target = 6);

// The chart as an <svg> element. `id` must be unique within the page (it names
// the clip path); checks every series' lengths, and x > 0 on a log axis, and
// throws medtex::Error naming the chart and the series otherwise.
std::string render_svg(const LineChart& chart, std::string_view id = "chart");

}  // namespace medtex::report
