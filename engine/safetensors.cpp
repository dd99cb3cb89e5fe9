#include "engine/safetensors.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include <nlohmann/json.hpp>

namespace medtex {

namespace {
using nlohmann::json;

// Safetensors names: F32, F64, I32, I64 are the ones medtex stores.
const char* st_name(DType t) {
  switch (t) {
    case DType::F32:
      return "F32";
    case DType::F64:
      return "F64";
    case DType::I32:
      return "I32";
    case DType::I64:
      return "I64";
  }
  return "?";
}

DType st_dtype(const std::string& path, const std::string& tensor, const std::string& name) {
  if (name == "F32") return DType::F32;
  if (name == "F64") return DType::F64;
  if (name == "I32") return DType::I32;
  if (name == "I64") return DType::I64;
  fail(path, ": tensor '", tensor, "' has dtype ", name, ", which medtex does not read");
}
}  // namespace

SafetensorsFile load_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  MT_CHECK(in.good(), path, ": cannot open");
  in.seekg(0, std::ios::end);
  const auto file_size = uint64_t(in.tellg());
  in.seekg(0);
  MT_CHECK(file_size >= 8, path, ": truncated (", file_size, " bytes, no header length)");
  unsigned char len_bytes[8];
  in.read(reinterpret_cast<char*>(len_bytes), 8);
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | len_bytes[i];
  MT_CHECK(header_len <= file_size - 8, path, ": truncated (header says ", header_len,
           " bytes, file has ", file_size - 8, ")");
  std::string header(header_len, '\0');
  in.read(header.data(), std::streamsize(header_len));
  const uint64_t data_size = file_size - 8 - header_len;

  json j;
  try {
    j = json::parse(header);
  } catch (const json::exception& e) {
    fail(path, ": header is not valid JSON (", e.what(), ")");
  }
  MT_CHECK(j.is_object(), path, ": header is not a JSON object");

  SafetensorsFile out;
  struct Entry {
    std::string name;
    DType dtype;
    Shape shape;
    uint64_t begin, end;
  };
  std::vector<Entry> entries;
  try {
    for (auto& [name, value] : j.items()) {
      if (name == "__metadata__") {
        for (auto& [k, v] : value.items()) {
          MT_CHECK(v.is_string(), path, ": metadata '", k, "' is not a string");
          out.metadata[k] = v.get<std::string>();
        }
        continue;
      }
      Entry e{name, st_dtype(path, name, value.at("dtype").get<std::string>()), {}, 0, 0};
      for (auto& d : value.at("shape")) {
        const int64_t ext = d.get<int64_t>();
        MT_CHECK(ext >= 0, path, ": tensor '", name, "' has a negative extent");
        e.shape.push_back(ext);
      }
      const auto& offs = value.at("data_offsets");
      MT_CHECK(offs.is_array() && offs.size() == 2, path, ": tensor '", name,
               "' has malformed data_offsets");
      e.begin = offs[0].get<uint64_t>();
      e.end = offs[1].get<uint64_t>();
      MT_CHECK(e.begin <= e.end && e.end <= data_size, path, ": tensor '", name,
               "' lies outside the file's data (truncated file?)");
      MT_CHECK(e.end - e.begin == uint64_t(numel(e.shape)) * dtype_size(e.dtype), path,
               ": tensor '", name, "' has ", e.end - e.begin, " bytes for shape ", e.shape);
      entries.push_back(std::move(e));
    }
  } catch (const json::exception& e) {
    fail(path, ": malformed header (", e.what(), ")");
  }

  for (const Entry& e : entries) {
    Tensor t = Tensor::empty(e.shape, e.dtype);
    in.seekg(std::streamoff(8 + header_len + e.begin));
    in.read(static_cast<char*>(t.raw_data()), std::streamsize(e.end - e.begin));
    MT_CHECK(in.good(), path, ": read error in tensor '", e.name, "'");
    out.tensors.emplace(e.name, t);
  }
  return out;
}

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    header[name] = {{"dtype", st_name(t.dtype())},
                    {"shape", std::vector<int64_t>(t.shape().begin(), t.shape().end())},
                    {"data_offsets", {offset, offset + t.nbytes()}}};
    offset += t.nbytes();
  }
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // the format pads the header with spaces

  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    MT_CHECK(out.good(), path, ": cannot write (", tmp, ")");
    unsigned char len_bytes[8];
    for (int i = 0; i < 8; ++i) len_bytes[i] = uint8_t(uint64_t(text.size()) >> (8 * i));
    out.write(reinterpret_cast<const char*>(len_bytes), 8);
    out.write(text.data(), std::streamsize(text.size()));
    for (const auto& [name, t] : tensors) {
      const Tensor host = t.to(Device::cpu());  // device tensors are downloaded one at a time
      out.write(static_cast<const char*>(host.raw_data()), std::streamsize(host.nbytes()));
    }
    out.flush();
    MT_CHECK(out.good(), path, ": write failed (disk full?)");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  MT_CHECK(!ec, path, ": cannot rename ", tmp, " into place (", ec.message(), ")");
}

}  // namespace medtex
