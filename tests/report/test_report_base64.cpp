#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "medtex/report/base64.h"

namespace medtex {
namespace {

std::string b64(const std::string& s) {
  const std::vector<uint8_t> bytes(s.begin(), s.end());
  return report::base64_encode(bytes);
}

TEST(Base64, Rfc4648TestVectors) {
  // RFC 4648 §10.
  EXPECT_EQ(b64(""), "");
  EXPECT_EQ(b64("f"), "Zg==");
  EXPECT_EQ(b64("fo"), "Zm8=");
  EXPECT_EQ(b64("foo"), "Zm9v");
  EXPECT_EQ(b64("foob"), "Zm9vYg==");
  EXPECT_EQ(b64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(b64("foobar"), "Zm9vYmFy");
}

TEST(Base64, HighBitsAndTheLastTwoDigits) {
  // 0xFB 0xFF = 111110 111111 1111(00): digits 62 and 63 are '+' and '/'.
  EXPECT_EQ(report::base64_encode(std::vector<uint8_t>{0xFB, 0xFF}), "+/8=");
  EXPECT_EQ(report::base64_encode(std::vector<uint8_t>{0x00, 0x00, 0x00}), "AAAA");
  EXPECT_EQ(report::base64_encode(std::vector<uint8_t>{0xFF, 0xFF, 0xFF}), "////");
  EXPECT_EQ(report::base64_encode(std::vector<uint8_t>{0x89, 'P', 'N', 'G'}), "iVBORw==");
}

TEST(Base64, EveryByteValueRoundTrips) {
  std::vector<uint8_t> all(256);
  for (int i = 0; i < 256; ++i) all[size_t(i)] = uint8_t(i);
  const std::string enc = report::base64_encode(all);
  ASSERT_EQ(enc.size(), 344u);  // ceil(256 / 3) * 4
  // Decode by the alphabet's positions and compare.
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::vector<uint8_t> dec;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : enc) {
    if (c == '=') break;
    const size_t v = alphabet.find(c);
    ASSERT_NE(v, std::string::npos) << c;
    acc = acc << 6 | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      dec.push_back(uint8_t(acc >> bits & 0xFF));
    }
  }
  EXPECT_EQ(dec, all);
}

}  // namespace
}  // namespace medtex
