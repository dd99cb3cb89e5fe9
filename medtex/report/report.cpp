#include "medtex/report/report.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "kernels/common/error.h"
#include "medtex/report/base64.h"
#include "medtex/report/text.h"

namespace medtex::report {
namespace {

// The page's width for content, in CSS px: main's max-width less its padding.
constexpr int kContentWidth = 960;
constexpr int kGridGap = 14;

// One stylesheet for screen and print. System fonts only (nothing to
// download); numbers in tables use tabular figures so columns align; print
// keeps the highlight colours and never splits a table, chart or figure.
constexpr const char* kStyle = R"css(
*{box-sizing:border-box}
body{margin:0;background:#eef0f3;color:#1d232b;
  font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1040px;margin:0 auto;padding:36px 40px 40px;background:#fff;min-height:100vh;
  box-shadow:0 0 0 1px #dde1e6}
h1{font-size:27px;line-height:1.25;margin:0 0 4px;letter-spacing:-0.01em}
.subtitle{color:#5b6470;margin:0 0 18px;font-size:14px}
h2{font-size:20px;margin:38px 0 12px;padding-bottom:5px;border-bottom:2px solid #1d232b}
h2 .num{color:#8a93a0;margin-right:10px;font-weight:500}
h3{font-size:16px;margin:26px 0 8px}
p{margin:8px 0;max-width:78ch}
a{color:#0b5cad;text-decoration:none}
table.meta{border-collapse:collapse;font-size:13px;margin:0 0 8px}
table.meta th{text-align:left;color:#5b6470;font-weight:500;padding:2px 18px 2px 0;vertical-align:top;
  white-space:nowrap}
table.meta td{padding:2px 0;font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,"DejaVu Sans Mono",
  monospace;font-size:12.5px;overflow-wrap:anywhere}
nav.toc{display:inline-block;min-width:320px;background:#f6f7f9;border:1px solid #e3e6ea;border-radius:6px;
  padding:10px 24px 10px 18px;margin:18px 0 8px;font-size:14px}
nav.toc strong{display:block;font-size:12px;text-transform:uppercase;letter-spacing:.06em;color:#5b6470}
nav.toc ol{margin:4px 0 0;padding-left:22px}
nav.toc ol.long{columns:2;column-gap:32px}
pre{background:#f6f7f9;border:1px solid #e3e6ea;border-radius:4px;padding:10px 14px;font-size:12.5px;
  line-height:1.4;overflow-x:auto;font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,
  "DejaVu Sans Mono",monospace}
table.results{border-collapse:collapse;margin:14px 0 22px;font-size:14px;font-variant-numeric:tabular-nums;
  border-top:2px solid #1d232b;border-bottom:2px solid #1d232b}
table.results caption{caption-side:top;text-align:left;font-weight:600;padding:0 0 6px}
table.results thead th{border-bottom:1px solid #1d232b;text-align:right;font-weight:600;padding:6px 14px;
  white-space:nowrap;vertical-align:bottom}
table.results thead th:first-child{text-align:left}
table.results tbody th{text-align:left;font-weight:500;padding:5px 14px;white-space:nowrap}
table.results td{padding:5px 14px;text-align:left}
table.results td.num{text-align:right;white-space:nowrap}
table.results tbody tr:nth-child(even){background:#f8f9fb}
table.results td.best{font-weight:700;background:#dff1e4}
table.results .sd{color:#6b7380;font-size:.88em;font-weight:400}
table.results .dir{color:#8a93a0;font-weight:400}
tr.privileged th,tr.privileged td{color:#6b7380;font-style:italic}
.mark{color:#b35c00;font-style:normal;font-weight:600}
table.results tfoot td{font-size:12.5px;color:#5b6470;padding:3px 14px;text-align:left}
table.results tfoot tr:first-child td{border-top:1px solid #c9ced6;padding-top:6px}
figure{margin:18px 0 26px}
figure svg{max-width:100%;height:auto;display:block;margin:0 auto}
figcaption{font-size:13px;color:#5b6470;margin-top:6px}
figure img{display:block;max-width:100%;height:auto}
img.pixelated{image-rendering:pixelated}
.grid{display:grid;gap:14px}
.grid figure{margin:0}
.grid img{width:100%}
.grid figcaption{margin-top:3px;font-size:12px;text-align:center}
.table-wrap{overflow-x:auto;max-width:100%}
@media (max-width:760px){main{padding:20px 16px}}
footer{margin-top:44px;font-size:12px;color:#8a93a0;border-top:1px solid #e3e6ea;padding-top:8px}
@page{margin:15mm}
@media print{
  body{background:#fff;font-size:10.5pt}
  main{max-width:none;padding:0;box-shadow:none;min-height:0}
  table.results,figure,pre,table.meta,nav.toc{break-inside:avoid}
  .table-wrap{overflow:visible}
  h2,h3{break-after:avoid}
  *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
)css";

// Width of a PNG from its IHDR chunk: the 8-byte signature, the chunk's
// length and type (8 bytes), then the width as a big-endian uint32.
int png_width(std::span<const uint8_t> b) {
  static constexpr uint8_t kSig[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  MT_CHECK(b.size() >= 24 && std::memcmp(b.data(), kSig, 8) == 0 &&
               std::memcmp(b.data() + 12, "IHDR", 4) == 0,
           "report: image data is not a PNG (", b.size(), " bytes)");
  const uint32_t w = uint32_t(b[16]) << 24 | uint32_t(b[17]) << 16 | uint32_t(b[18]) << 8 | b[19];
  MT_CHECK(w > 0 && w < (1u << 24), "report: PNG header gives width ", w);
  return int(w);
}

std::string data_uri(std::span<const uint8_t> png) {
  return "data:image/png;base64," + base64_encode(png);
}

std::string caption_html(std::string_view caption) {
  return caption.empty() ? std::string() : "<figcaption>" + html_escape(caption) + "</figcaption>";
}

void meta_row(std::string& o, std::string_view name, std::string_view value) {
  o += "<tr><th scope=\"row\">" + html_escape(name) + "</th><td>" + html_escape(value) +
       "</td></tr>\n";
}

void close_quietly(int fd) {
  if (fd >= 0) ::close(fd);
}

}  // namespace

Report::Report(std::string title) : title_(std::move(title)) {}

void Report::section(std::string_view heading) {
  toc_.emplace_back(heading);
  const std::string n = std::to_string(toc_.size());
  body_ += "<h2 id=\"s" + n + "\"><span class=\"num\">" + n + "</span>" + html_escape(heading) +
           "</h2>\n";
}

void Report::subsection(std::string_view heading) {
  body_ += "<h3>" + html_escape(heading) + "</h3>\n";
}

void Report::paragraph(std::string_view text) {
  // Blank lines separate paragraphs; single newlines are ordinary spaces.
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find("\n\n", start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view part = text.substr(start, end - start);
    const auto b = part.find_first_not_of(" \t\r\n");
    if (b != std::string_view::npos) {
      part.remove_prefix(b);
      part = part.substr(0, part.find_last_not_of(" \t\r\n") + 1);
      body_ += "<p>" + html_escape(part) + "</p>\n";
    }
    start = end + 2;
  }
}

void Report::preformatted(std::string_view text) {
  body_ += "<pre>" + html_escape(text) + "</pre>\n";
}

void Report::table(const Table& t) {
  // A wide table scrolls sideways on a narrow screen instead of spilling out.
  body_ += "<div class=\"table-wrap\">\n" + render_table(t) + "</div>\n";
}

void Report::chart(const LineChart& c) {
  ++charts_;
  body_ += "<figure class=\"chart\">\n" + render_svg(c, "chart" + std::to_string(charts_)) +
           "</figure>\n";
}

void Report::image(const data::Image& img, std::string_view caption, int display_width) {
  png(data::encode_png(img), caption, display_width);
}

void Report::png(std::span<const uint8_t> bytes, std::string_view caption, int display_width) {
  const int w = png_width(bytes);
  const int shown = display_width > 0 ? display_width : w;
  // Enlarged images keep their pixels square and sharp (a 64 px fundus at 4x
  // is meant to show its pixels); shrunken ones are smoothed by the browser.
  const char* cls = shown > w ? " class=\"pixelated\"" : "";
  body_ += "<figure class=\"image\"><img" + std::string(cls) + " src=\"" + data_uri(bytes) +
           "\" width=\"" + std::to_string(shown) + "\" alt=\"" + html_escape(caption) + "\">" +
           caption_html(caption) + "</figure>\n";
}

void Report::figure_grid(std::span<const Figure> figures, int columns, std::string_view caption) {
  MT_CHECK(columns >= 1, "report: figure grid needs at least one column, got ", columns);
  const int column_width = (kContentWidth - kGridGap * (columns - 1)) / columns;
  std::string o =
      "<figure class=\"grid-figure\"><div class=\"grid\" style=\"grid-template-columns:"
      "repeat(" +
      std::to_string(columns) + ",minmax(0,1fr))\">\n";
  for (const Figure& f : figures) {
    const std::vector<uint8_t> bytes = data::encode_png(f.image);
    const char* cls = f.image.width < column_width ? " class=\"pixelated\"" : "";
    o += "<figure><img" + std::string(cls) + " src=\"" + data_uri(bytes) + "\" width=\"" +
         std::to_string(f.image.width) + "\" height=\"" + std::to_string(f.image.height) +
         "\" alt=\"" + html_escape(f.caption) + "\">" + caption_html(f.caption) + "</figure>\n";
  }
  o += "</div>" + caption_html(caption) + "</figure>\n";
  body_ += o;
}

std::string Report::html() const {
  std::string o;
  o += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  o += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  o += "<meta name=\"generator\" content=\"medtex\">\n";
  o += "<title>" + html_escape(title_) + "</title>\n<style>" + kStyle + "</style>\n</head>\n";
  o += "<body>\n<main>\n<header>\n<h1>" + html_escape(title_) + "</h1>\n";
  if (info_) {
    const RunInfo& r = *info_;
    o += "<p class=\"subtitle\">Run report";
    if (!r.date.empty()) o += " \xC2\xB7 " + html_escape(r.date);
    o += "</p>\n<table class=\"meta\">\n";
    if (!r.command_line.empty()) meta_row(o, "command", r.command_line);
    if (r.seed) meta_row(o, "seed", std::to_string(*r.seed));
    if (!r.date.empty()) meta_row(o, "date", r.date);
    std::string machine;
    if (r.nproc > 0) machine = std::to_string(r.nproc) + " logical CPUs";
    if (!r.cpu_model.empty()) machine += (machine.empty() ? "" : ", ") + r.cpu_model;
    if (!machine.empty()) meta_row(o, "machine", machine);
    std::string versions;
    for (const auto& [name, version] : r.versions) {
      versions += (versions.empty() ? "" : "; ") + name + " " + version;
    }
    if (!versions.empty()) meta_row(o, "versions", versions);
    for (const auto& [name, value] : r.extra) meta_row(o, name, value);
    o += "</table>\n";
  }
  if (toc_.size() >= 2) {
    // Two columns only when one would make a long list.
    o += std::string("<nav class=\"toc\"><strong>Contents</strong><ol") +
         (toc_.size() > 6 ? " class=\"long\"" : "") + ">\n";
    for (size_t i = 0; i < toc_.size(); ++i) {
      o +=
          "<li><a href=\"#s" + std::to_string(i + 1) + "\">" + html_escape(toc_[i]) + "</a></li>\n";
    }
    o += "</ol></nav>\n";
  }
  o += "</header>\n";
  o += body_;
  o += "<footer>Written by medtex. One self-contained file: no scripts, fonts or images are "
       "loaded from elsewhere.</footer>\n</main>\n</body>\n</html>\n";
  return o;
}

void Report::write(const std::string& path) const {
  write_file_atomic(path, html());
}

void write_file_atomic(const std::string& path, std::string_view content) {
  // A unique name in the same directory (rename is only atomic within one
  // file system): the process id, and a counter for threads of one process.
  static std::atomic<unsigned> counter{0};
  const std::string tmp =
      path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  MT_CHECK(fd >= 0, path, ": cannot create temporary file ", tmp, " (", std::strerror(errno), ")");
  auto give_up = [&](const char* what) {
    const int err = errno;
    close_quietly(fd);
    std::remove(tmp.c_str());
    ::medtex::fail(path, ": ", what, " (", std::strerror(err), ")");
  };
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) give_up("write failed");
    done += size_t(n);
  }
  // On disk before it takes the final name, so a crash right after the rename
  // cannot leave an empty file under that name.
  if (::fsync(fd) != 0) give_up("fsync failed");
  if (::close(fd) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    ::medtex::fail(path, ": write failed on close (", std::strerror(err), ")");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    ::medtex::fail(path, ": cannot rename ", tmp, " to it (", std::strerror(err), ")");
  }
}

}  // namespace medtex::report
