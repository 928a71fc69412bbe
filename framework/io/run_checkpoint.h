#pragma once
// A run's checkpoint on disk (docs/DESIGN.md §6): a StateArchive as one safetensors file, written
// atomically. Its float arrays are the tensors (1-D, by their keys); its values are one JSON text
// in the metadata, beside the format's name and version, so the file is complete or absent, never
// half of one and half of another.
#include <string>

#include "framework/core/state_archive.h"

namespace clb {

constexpr int kCheckpointVersion = 1;

void write_checkpoint(const std::string& path, const StateArchive& a);
// Throws clb::Error naming the file for anything but a checkpoint of this version.
StateArchive read_checkpoint(const std::string& path);

}  // namespace clb
