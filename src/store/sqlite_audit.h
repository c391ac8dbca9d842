// The SQLite audit table's rows, written inside the caller's transaction, so
// that a change and its record commit or roll back together. Internal to
// src/store (defined in sqlite_metadata_store.cc); the threading rules of
// sqlite_statement.h apply.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/status.h"
#include "store/metadata_store.h"
#include "store/sqlite_statement.h"

namespace sopilot::store_detail {

// One row of audit_log. An empty actor is stored as "anonymous", an empty
// detail as "{}".
Status InsertAudit(Conn conn, const std::string& at, const std::string& actor, const std::string& action,
                   const std::string& subject, const std::string& detail_json);

// A change's audit row (AuditRecord) about `subject`; nothing when `audit` is
// empty. `added`, when set, goes into the detail under `added_key`
// (AuditRecordDetail). InvalidArgument for an empty action or a detail that
// is not a JSON object.
Status InsertAuditRecord(Conn conn, const std::string& at, const std::string& subject,
                         const std::optional<AuditRecord>& audit, std::optional<int64_t> added,
                         const char* added_key = "video_id");

}  // namespace sopilot::store_detail
