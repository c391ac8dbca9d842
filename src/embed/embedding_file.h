// Embedding files: one EmbeddingSet per file, binary, self-describing.
//
// Layout (all little-endian):
//   8 bytes   magic "SOPEMBED"
//   u32       format version (kEmbeddingFormatVersion)
//   u32       header length H
//   H bytes   JSON header: model, dim, clip_count, sampling{...}, source{...}
//   clip_count x (f64 start_sec, f64 end_sec)
//   clip_count x dim x f32 vectors, row-major
//   u32       CRC-32 of every byte before it
// Writing is atomic (temporary file, fsync, rename). Reading validates every
// field, the exact size and the checksum: a corrupt, truncated or foreign
// file is a Corruption status naming the problem, never a crash.
#pragma once

#include <string>

#include "base/env.h"
#include "base/status.h"
#include "embed/embedding_set.h"

namespace sopilot {

constexpr uint32_t kEmbeddingFormatVersion = 1;

// Serialises `set` (rows must match clips) to bytes in the format above.
Result<std::string> EncodeEmbeddingSet(const EmbeddingSet& set);
Result<EmbeddingSet> DecodeEmbeddingSet(std::string_view bytes);

Status WriteEmbeddingFile(Env* env, const std::string& path, const EmbeddingSet& set);
Result<EmbeddingSet> ReadEmbeddingFile(Env* env, const std::string& path);

// True when the file starts with the embedding magic (a cheap sniff used by
// commands that take either a video or an embedding file).
bool LooksLikeEmbeddingFile(Env* env, const std::string& path);

}  // namespace sopilot
