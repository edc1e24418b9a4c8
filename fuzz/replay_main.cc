// SPDX-License-Identifier: MIT
// The standalone driver every target links when no fuzzing engine is configured (GCC, plain
// builds): it runs LLVMFuzzerTestOneInput once on every file named on the command line, and on
// every regular file inside every directory named (sorted, so runs are repeatable). A target that
// finds a property violated aborts, so CTest reports the input as a failure. Arguments that start
// with '-' (libFuzzer options) are ignored, so the same command lines work with both drivers.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

namespace {

bool is_dir(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Appends the regular files of dir (not recursive). False if it cannot be read.
bool list_dir(const std::string& dir, std::vector<std::string>& out) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return false;
  std::vector<std::string> names;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    const std::string p = dir + "/" + e->d_name;
    if (!is_dir(p)) names.push_back(p);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  out.insert(out.end(), names.begin(), names.end());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.empty() || a[0] == '-') continue;
    if (is_dir(a)) {
      if (!list_dir(a, files)) {
        std::fprintf(stderr, "replay: cannot read directory %s\n", a.c_str());
        return 2;
      }
    } else {
      files.push_back(a);
    }
  }
  if (files.empty()) {
    // No corpus yet: still exercise the empty input, so the target is at least run once.
    LLVMFuzzerTestOneInput(nullptr, 0);
    std::printf("replay: no inputs; ran the empty input\n");
    return 0;
  }
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "replay: cannot read %s\n", f.c_str());
      return 2;
    }
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
    // A copy of exactly the file's length: reading past it is then a sanitizer-visible overflow.
    std::vector<std::uint8_t> data(bytes.begin(), bytes.end());
    LLVMFuzzerTestOneInput(data.empty() ? nullptr : data.data(), data.size());
  }
  std::printf("replay: %zu inputs, all passed\n", files.size());
  return 0;
}
