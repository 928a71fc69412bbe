#pragma once
// The CLI's names for the settings the core names by config field (framework/core/error.h): each
// subcommand's flag for a field, so a core error reads "--fisher-draws 0: ..." under clbench run
// and "--draws 0: ..." under clbench fisher.
#include <string>

namespace clb::cli {

// The flag that sets `field` under `subcommand` ("run", "fisher", "bench", "report").
std::string flag_for(const std::string& subcommand, const std::string& field);

}  // namespace clb::cli
