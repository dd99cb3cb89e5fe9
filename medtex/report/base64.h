// Base64 (RFC 4648 §4, the standard alphabet with '=' padding): how the report
// embeds PNG images as data: URIs, so the HTML file needs nothing beside it.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace medtex::report {

std::string base64_encode(std::span<const uint8_t> bytes);

}  // namespace medtex::report
