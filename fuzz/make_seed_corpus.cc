// Writes the seed corpus: make_seed_corpus DIR writes DIR/spawn_bootstrap/*
// DIR/fork_server_request/* and DIR/message/* (seeds.h). tools/fuzz.sh --seeds
// runs it on fuzz/corpus.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>

#include "fuzz/seeds.h"

namespace {

bool WriteAll(const std::filesystem::path& dir,
              const std::map<std::string, std::string>& seeds) {
  std::filesystem::create_directories(dir);
  for (const auto& [name, bytes] : seeds) {
    std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
    out << bytes;
    if (!out) {
      std::cerr << "make_seed_corpus: cannot write " << (dir / name) << "\n";
      return false;
    }
  }
  std::cout << seeds.size() << " seeds in " << dir.string() << "\n";
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_seed_corpus DIR\n";
    return 2;
  }
  const std::filesystem::path dir(argv[1]);
  return WriteAll(dir / "spawn_bootstrap", procspec::fuzz::SpawnSeeds()) &&
                 WriteAll(dir / "fork_server_request",
                          procspec::fuzz::ForkServerSeeds()) &&
                 WriteAll(dir / "message", procspec::fuzz::MessageSeeds())
             ? 0
             : 1;
}
