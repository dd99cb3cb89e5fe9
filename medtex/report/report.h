// The run report: one self-contained HTML file with the run's metadata,
// sections of text, result tables, line charts (inline SVG) and images
// (PNG as base64 data: URIs). No scripts, no fonts, nothing fetched: it opens
// offline in any browser, can be mailed as one attachment, and prints (each
// table, chart and figure is kept on one page).
//
//   report::Report r("medtex demo");
//   auto info = report::collect_run_info(argc, argv);
//   info.seed = 1;
//   info.versions.insert(info.versions.begin(), {"medtex", MEDTEX_VERSION});
//   r.set_run_info(info);
//   r.section("Teacher");
//   r.paragraph("ResNet-18 trained on the source domain.");
//   report::LineChart loss{.title = "Loss", .x_label = "epoch", .y_label = "loss"};
//   loss.add("train", epochs, train_loss);
//   loss.add("val", epochs, val_loss).dashed = true;
//   r.chart(loss);
//   r.table(results);                       // report::Table, see table.h
//   r.figure_grid(overlays, 4, "Selected patches (yellow) and lesions (cyan)");
//   r.write("runs/demo/report.html");       // temp file + rename
//
// All text is HTML-escaped here; callers pass plain text, never markup.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "medtex/data/image_io.h"
#include "medtex/report/chart.h"
#include "medtex/report/run_info.h"
#include "medtex/report/table.h"

namespace medtex::report {

// One image of a figure grid and its caption (may be empty).
struct Figure {
  data::Image image{};
  std::string caption{};
};

class Report {
 public:
  explicit Report(std::string title);

  const std::string& title() const { return title_; }
  void set_run_info(RunInfo info) { info_ = std::move(info); }

  // A numbered top-level section; the report opens with a list of them.
  void section(std::string_view heading);
  void subsection(std::string_view heading);
  // Plain text; blank lines split it into several paragraphs.
  void paragraph(std::string_view text);
  // Monospaced, whitespace kept: the stdout table, a log excerpt.
  void preformatted(std::string_view text);
  void table(const Table& table);
  void chart(const LineChart& chart);

  // An image (1-4 channels, encoded as PNG) with a caption. display_width in
  // CSS px, 0 = the image's own width; enlarging keeps pixels sharp (no
  // smoothing), so a 64 px fundus can be shown at 256 px as it is.
  void image(const data::Image& img, std::string_view caption = {}, int display_width = 0);
  // An already encoded PNG file's bytes (e.g. one `medtex explain` wrote);
  // its width is read from the PNG header. Throws if the bytes are no PNG.
  void png(std::span<const uint8_t> png_bytes, std::string_view caption = {},
           int display_width = 0);
  // Images side by side, `columns` to a row, each with its own caption, and
  // one caption for the whole grid. Images are scaled to the column width.
  void figure_grid(std::span<const Figure> figures, int columns, std::string_view caption = {});

  // The whole document.
  std::string html() const;
  // Writes html() to a temporary file beside `path`, flushes it to disk and
  // renames it over `path`, so a reader (or a crash) sees either the old file
  // or the complete new one, never a half-written page. Throws medtex::Error
  // naming the path on failure and leaves no temporary file behind.
  void write(const std::string& path) const;

 private:
  std::string title_;
  std::optional<RunInfo> info_;
  std::vector<std::string> toc_;  // section headings, in order
  std::string body_;
  int charts_ = 0;
};

// Writes `content` to `path` atomically, as Report::write does.
void write_file_atomic(const std::string& path, std::string_view content);

}  // namespace medtex::report
