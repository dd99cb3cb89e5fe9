// Text for the HTML report: escaping and number formatting.
//
// Everything that reaches the page from outside (titles, captions, a command
// line, a CSV's class names) goes through html_escape, so a '<' in a file
// name can neither break the page's structure nor inject markup.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace medtex::report {

// Escapes & < > " ' to entities, so the result is safe both as element text
// and inside a double- or single-quoted attribute. The report is UTF-8: valid
// multi-byte sequences pass through; invalid bytes and C0 control characters
// other than tab, newline and carriage return (which HTML forbids) become
// U+FFFD, so a stray byte from a mis-encoded file name cannot make the
// document invalid.
std::string html_escape(std::string_view text);

// A number for a table cell or an axis tick, with `decimals` digits after the
// point. Non-finite values read "NaN", "∞", "−∞"; a value that would round to
// zero but is not zero is written in scientific notation (1.2e-05) rather
// than as a misleading 0.000; -0 prints as 0.
std::string format_fixed(double value, int decimals);

// The decimals that show every value of a column with three significant digits
// for its largest magnitude (0.953 -> 3, 12.3 -> 1, 1234 -> 0), and 0 when all
// finite values are integers (counts, image sizes). Capped at 6.
int auto_decimals(std::span<const double> values);

// One value on its own: auto_decimals of that value.
std::string format_number(double value);

}  // namespace medtex::report
