// clbench: continual-learning benchmarks. `clbench --help` lists the subcommands.
#include <cstdio>
#include <exception>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "framework/cli/commands.h"
#include "framework/cli/flag_checks.h"
#include "framework/cli/setting_flags.h"
#include "framework/core/error.h"

int main(int argc, char** argv) {
#ifdef __GLIBC__
  // Buffers of 128 KiB and more come from mmap and go back to the system when freed. glibc would
  // otherwise raise that threshold after the first large free (up to 32 MiB) and serve later
  // workspaces (the Fisher's, the evaluation's) from heaps it seldom returns: 8 MiB of the default
  // run's peak. The run allocates its large buffers per task or per pass, not per step.
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
  CLI::App app{
      "clbench: continual learning with exact per-sample Fisher, the EWC family and one definition of every "
      "metric.\nExample: clbench run --scenario permuted --strategy naive,ewc"};
  app.require_subcommand(1);
  clb::cli::register_run(app);
  clb::cli::register_bench(app);
  clb::cli::register_fisher(app);
  clb::cli::register_report(app);
  clb::cli::register_sweep(app);
  clb::cli::check_integer_flags(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const clb::Interrupted& e) {
    return 128 + e.signal();  // the shell's convention for a process a signal ended; the run said what it kept
  } catch (const CLI::ParseError& e) {
    // One line, like every other clbench error (CLI11's own message names the flag).
    std::fprintf(stderr, "clbench: error: %s; see clbench --help or clbench SUBCOMMAND --help\n", e.what());
    return 2;
  } catch (const clb::SettingError& e) {
    // The core names settings by config field; say the flag of the subcommand that ran.
    const auto ran = app.get_subcommands();
    const std::string sub = ran.empty() ? "run" : ran.front()->get_name();
    const std::string what = e.with_names([&](const std::string& field) { return clb::cli::flag_for(sub, field); });
    std::fprintf(stderr, "clbench: error: %s\n", what.c_str());
    return 1;
  } catch (const clb::Error& e) {
    std::fprintf(stderr, "clbench: error: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "clbench: error: out of memory; use smaller --train-per-task, --batch or --arch\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "clbench: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
