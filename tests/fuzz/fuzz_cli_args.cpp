// libFuzzer target: arbitrary bytes, split at NULs, as the arguments of `clbench run`: the flags
// parsed as main() parses them (CLI11, check_integer_flags) and the run's config built and checked,
// training nothing (register_run's check_only). Each input must end in a parse error, a clb::Error
// or a checked config, never a crash or a stray exception (std::stoi's invalid_argument, ...).
#include <cstdint>
#include <string>
#include <vector>

#include "framework/cli/commands.h"
#include "framework/cli/flag_checks.h"
#include "framework/core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;  // argument vectors are short; long ones only slow the search
  std::vector<std::string> args{"clbench", "run"};
  std::string arg;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      args.push_back(arg), arg.clear();
    } else {
      arg += char(data[i]);
    }
  }
  if (!arg.empty()) args.push_back(arg);
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());

  CLI::App app{"clbench"};
  app.require_subcommand(1);
  clb::cli::register_run(app, /*check_only=*/true);
  clb::cli::check_integer_flags(app);
  try {
    app.parse(int(argv.size()), argv.data());
  } catch (const CLI::ParseError&) {
  } catch (const clb::Error&) {
  }
  return 0;
}
