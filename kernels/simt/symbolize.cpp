#include "kernels/simt/symbolize.h"

#include <cxxabi.h>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace simt::detail {
namespace {

std::string demangle(const char* name) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> out(
      abi::__cxa_demangle(name, nullptr, nullptr, &status), &std::free);
  return status == 0 && out ? std::string(out.get()) : std::string(name);
}

// The loaded object that contains an address: its file and load bias.
struct Module {
  uintptr_t address = 0;
  std::string path;
  uintptr_t bias = 0;
  bool found = false;
};

int find_module(dl_phdr_info* info, size_t, void* data) {
  auto* m = static_cast<Module*>(data);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    const uintptr_t start = info->dlpi_addr + ph.p_vaddr;
    if (m->address >= start && m->address < start + ph.p_memsz) {
      m->path = info->dlpi_name != nullptr && info->dlpi_name[0] != '\0' ? info->dlpi_name
                                                                         : "/proc/self/exe";
      m->bias = info->dlpi_addr;
      m->found = true;
      return 1;
    }
  }
  return 0;
}

// Kernels are usually local to the test binary, absent from the dynamic
// symbol table dladdr reads, so the full symbol table (.symtab) is searched.
std::string from_symbol_table(const Module& m) {
  const int fd = open(m.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  struct stat st {};
  std::string name;
  if (fstat(fd, &st) == 0 && static_cast<size_t>(st.st_size) >= sizeof(ElfW(Ehdr))) {
    const size_t size = static_cast<size_t>(st.st_size);
    void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map != MAP_FAILED) {
      const auto* bytes = static_cast<const unsigned char*>(map);
      const auto* eh = static_cast<const ElfW(Ehdr)*>(map);
      const bool valid = std::memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 &&
                         eh->e_shoff + uint64_t{eh->e_shnum} * sizeof(ElfW(Shdr)) <= size;
      const uintptr_t target = m.address - m.bias;
      for (int pass = 0; valid && pass < 2 && name.empty(); ++pass) {
        const auto* sh = reinterpret_cast<const ElfW(Shdr)*>(bytes + eh->e_shoff);
        const uint32_t wanted = pass == 0 ? SHT_SYMTAB : SHT_DYNSYM;
        for (int s = 0; s < eh->e_shnum && name.empty(); ++s) {
          if (sh[s].sh_type != wanted || sh[s].sh_link >= eh->e_shnum) continue;
          const ElfW(Shdr)& strings = sh[sh[s].sh_link];
          if (sh[s].sh_offset + sh[s].sh_size > size || strings.sh_offset + strings.sh_size > size)
            continue;
          const auto* syms = reinterpret_cast<const ElfW(Sym)*>(bytes + sh[s].sh_offset);
          const size_t count = sh[s].sh_size / sizeof(ElfW(Sym));
          for (size_t k = 0; k < count; ++k) {
            // The type is the low four bits of st_info in both ELF classes.
            if ((syms[k].st_info & 0xf) != STT_FUNC || syms[k].st_value != target) continue;
            if (syms[k].st_name >= strings.sh_size) continue;
            name = demangle(
                reinterpret_cast<const char*>(bytes + strings.sh_offset + syms[k].st_name));
            break;
          }
        }
      }
      munmap(map, size);
    }
  }
  close(fd);
  return name;
}

}  // namespace

std::string function_name(const void* address) {
  Dl_info info{};
  if (dladdr(address, &info) != 0 && info.dli_sname != nullptr && info.dli_saddr == address) {
    return demangle(info.dli_sname);
  }
  Module m;
  m.address = reinterpret_cast<uintptr_t>(address);
  dl_iterate_phdr(&find_module, &m);
  if (m.found) {
    std::string name = from_symbol_table(m);
    if (!name.empty()) return name;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%p", address);
  return buffer;
}

}  // namespace simt::detail
