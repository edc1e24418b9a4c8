// SPDX-License-Identifier: MIT
// Checks the structure-aware mutators' codecs (fuzz/mutators/*.hpp), in every build:
//   codec_test CORPUS_DIR
// 1. Lossless: encode(decode(x)) == x for every file of the handshake and frame corpora and for
//    random inputs, so a mutator never loses what it does not understand.
// 2. Pinned encoding: the recorded seeds (written by make_corpus in the targets' input format)
//    decode to the structure they were recorded from. If a target's input encoding changes
//    (frame_decode's stream events, the handshake read events), these checks fail and the
//    mutator must follow.
// 3. Mutations and crossovers stay within the room they are given and keep the input decodable.
#include <dirent.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "frame_stream.hpp"
#include "handshake_transcript.hpp"

namespace {

namespace mut = mon::fuzz::mut;
int failures = 0;

#define EXPECT(cond)                                                               \
  do {                                                                             \
    if (!(cond)) {                                                                 \
      std::fprintf(stderr, "%s:%d: expected %s (%s)\n", __FILE__, __LINE__, #cond, \
                   current.c_str());                                               \
      ++failures;                                                                  \
    }                                                                              \
  } while (0)

std::string current;  // the input being checked, for messages

mut::bytes read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return mut::bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

std::vector<std::string> list(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') out.push_back(dir + "/" + e->d_name);
    ::closedir(d);
  }
  return out;
}

void check_lossless(const mut::bytes& x) {
  EXPECT(mut::encode_handshake(mut::decode_handshake(x, true)) == x);
  EXPECT(mut::encode_handshake(mut::decode_handshake(x, false)) == x);
  EXPECT(mut::encode_frames(mut::decode_frames(x)) == x);
}

const mut::bytes hello = {'m', 'o', 'n', 'H', 1, 1, 0, 0};
const mut::bytes accept = {'m', 'o', 'n', 'H', 1, 2, 0, 0};

void pinned(const std::string& corpus) {
  {
    current = "handshake_server/seed-accept-stream-split3";
    const auto h = mut::decode_handshake(
        read_file(corpus + "/handshake_server/seed-accept-stream-split3"), true);
    EXPECT(h.has_flags && h.flags == 0 && h.prefix.size() == 12);
    EXPECT(h.reads.size() == 3 && mut::handshake_message(h) == hello);
    if (h.reads.size() == 3) {
      EXPECT(h.reads[0].data.size() == 3 && h.reads[1].data.size() == 3 &&
             h.reads[2].data.size() == 2);
      EXPECT(h.reads[0].op == 0);  // the kernel's credentials, no descriptor
    }
    EXPECT(h.tail == mut::bytes({3, 3}));  // the accept's write sizes
  }
  {
    current = "handshake_server/seed-extension-accept";
    const auto h =
        mut::decode_handshake(read_file(corpus + "/handshake_server/seed-extension-accept"), true);
    const auto m = mut::handshake_message(h);
    EXPECT(m.size() == 14 && m[7] == 6 && m[8] == 0 && m[9] == 7);
  }
  {
    current = "handshake_client/seed-accept-stream";
    const auto h =
        mut::decode_handshake(read_file(corpus + "/handshake_client/seed-accept-stream"), false);
    EXPECT(h.has_flags && h.flags == 0 && h.prefix.empty() && h.writes == mut::bytes({8}));
    EXPECT(h.reads.size() == 1 && mut::handshake_message(h) == accept && h.tail.empty());
    if (!h.reads.empty()) EXPECT(h.reads[0].op == 1);  // no control data at all
  }
  {
    current = "frame_decode/seed-fd";
    const auto f = mut::decode_frames(read_file(corpus + "/frame_decode/seed-fd"));
    EXPECT(f.prefix_len == 4 && f.flags == 0 && f.max_payload == 1024 && f.max_fds == 4);
    EXPECT(f.events.size() == 3 && f.tail.empty());
    if (f.events.size() == 3) {
      const auto& head = f.events[0];
      EXPECT(head.frame_start && (head.op >> mut::frame_op::fds_shift) == 1);
      EXPECT(head.data.size() == 8 && head.data[0] == 'm' && head.data[1] == 'F' &&
             head.data[3] == 1);
      EXPECT(head.data[7] == 16 && f.events[1].data.size() == 16 && !f.events[1].frame_start);
      EXPECT(mut::is_eof(f, f.events[2]));
    }
  }
  {
    current = "frame_decode/seed-seq-two-fds";
    const auto f = mut::decode_frames(read_file(corpus + "/frame_decode/seed-seq-two-fds"));
    EXPECT(f.prefix_len == 4 && f.records() && f.events.size() == 1);
    if (f.events.size() == 1) {
      EXPECT(f.events[0].arrived == 2 && f.events[0].data.size() == 8 + 33);
      EXPECT(f.events[0].data[3] == 2 && f.events[0].data[7] == 33);
    }
  }
}

// A fallback that only flips one bit, so the checks see the structured paths' output.
std::size_t flip(std::uint8_t* d, std::size_t n, std::size_t) {
  if (n) d[0] ^= 1;
  return n;
}

void mutations(const std::string& corpus) {
  struct which {
    const char* dir;
    std::size_t (*fn)(const mut::request&);
  };
  const which all[] = {{"handshake_server", mut::mutate_handshake_server},
                       {"handshake_client", mut::mutate_handshake_client},
                       {"frame_decode", mut::mutate_frame_decode}};
  for (const auto& w : all) {
    std::size_t changed = 0, runs = 0;
    for (const auto& path : list(corpus + "/" + w.dir)) {
      current = path;
      const auto seed = read_file(path);
      for (unsigned s = 0; s < 200; ++s) {
        const std::size_t max = 4096;
        mut::bytes buf(seed);
        buf.resize(max);
        const std::size_t n = w.fn(mut::request{buf.data(), seed.size(), max, s, flip});
        EXPECT(n <= max);
        buf.resize(n);
        check_lossless(buf);
        changed += buf != seed;
        ++runs;
      }
    }
    current = w.dir;
    EXPECT(runs > 0 && changed * 10 > runs * 9);  // nearly every mutation changes something
  }
}

// Crossover children fit, decode losslessly, and mix: some differ from both parents.
void crossovers(const std::string& corpus) {
  struct which {
    const char* dir;
    std::size_t (*fn)(const mut::cross_request&);
  };
  const which all[] = {{"handshake_server", mut::crossover_handshake_server},
                       {"handshake_client", mut::crossover_handshake_client},
                       {"frame_decode", mut::crossover_frame_decode}};
  for (const auto& w : all) {
    const auto files = list(corpus + "/" + w.dir);
    std::size_t children = 0, mixed = 0;
    for (std::size_t i = 0; i + 1 < files.size(); ++i) {
      const auto a = read_file(files[i]), b = read_file(files[i + 1]);
      current = files[i] + " x " + files[i + 1];
      for (unsigned s = 0; s < 20; ++s) {
        mut::bytes out(4096);
        const std::size_t n = w.fn(mut::cross_request{a, b, out.data(), out.size(), s});
        EXPECT(n <= out.size());
        if (n == 0) continue;
        out.resize(n);
        check_lossless(out);
        ++children;
        mixed += out != a && out != b;
      }
    }
    current = w.dir;
    EXPECT(children > 0 && mixed > 0);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: codec_test CORPUS_DIR\n");
    return 2;
  }
  const std::string corpus = argv[1];
  std::size_t files = 0;
  for (const char* t : {"handshake_server", "handshake_client", "frame_decode"})
    for (const auto& path : list(corpus + "/" + t)) {
      current = path;
      check_lossless(read_file(path));
      ++files;
    }
  current = "corpus";
  EXPECT(files > 50);
  mut::rng r(1);
  for (int i = 0; i < 20000; ++i) {
    mut::bytes x(r.below(64));
    for (auto& b : x) b = r.one_in(3) ? static_cast<std::uint8_t>(r.below(4)) : r.byte();
    current = "random input " + std::to_string(i);
    check_lossless(x);
  }
  pinned(corpus);
  mutations(corpus);
  crossovers(corpus);
  if (failures) {
    std::fprintf(stderr, "codec_test: %d failure(s)\n", failures);
    return 1;
  }
  std::printf("codec_test: %zu corpus files and 20000 random inputs round-trip; seeds pinned\n",
              files);
  return 0;
}
