// SqliteMetadataStore: the versions of each task's SOP definition.
#include <sqlite3.h>

#include "store/sqlite_audit.h"
#include "store/sqlite_metadata_store.h"
#include "store/sqlite_statement.h"

namespace sopilot {

using namespace store_detail;  // the statement helpers of this store

Result<int64_t> SqliteMetadataStore::AppendSopVersion(const std::string& task_id, std::optional<int64_t> gold_video_id,
                                                const std::string& definition_json, const std::string& created_by,
                                                const std::optional<AuditRecord>& audit) {
  if (task_id.empty()) return Status::InvalidArgument("SOP: task_id is empty");
  if (definition_json.empty()) return Status::InvalidArgument("SOP: the definition is empty");
  SOPILOT_RETURN_IF_ERROR(CheckJsonObject(definition_json, "SOP definition"));
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  int64_t version = 0;
  // The next number, the insert and its audit row in one write transaction:
  // two editors saving at once get two versions, never one number twice.
  const std::string now = Now();
  Status st = InTransaction(conn, [&]() -> Status {
    SOPILOT_ASSIGN_OR_RETURN(
        Stmt last, Stmt::Prepare(conn, "SELECT COALESCE(MAX(version), 0) FROM sop_versions WHERE task_id = ?1"));
    last.Bind(1, task_id);
    SOPILOT_ASSIGN_OR_RETURN(bool row, last.Step());
    version = (row ? last.Int(0) : 0) + 1;
    SOPILOT_ASSIGN_OR_RETURN(
        Stmt ins, Stmt::Prepare(conn, "INSERT INTO sop_versions (task_id, version, gold_video_id, definition_json, "
                                      "created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    ins.Bind(1, task_id).Bind(2, version).BindOpt(3, gold_video_id).Bind(4, definition_json).Bind(5, created_by)
        .Bind(6, now);
    SOPILOT_RETURN_IF_ERROR(ins.Run());
    return InsertAuditRecord(conn, now, task_id, audit, version, "version");
  });
  if (!st.ok()) return st;
  return version;
}

Result<SopVersionRow> SqliteMetadataStore::GetSopVersion(const std::string& task_id, int64_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  const char* sql = version > 0
                        ? "SELECT task_id, version, gold_video_id, definition_json, created_by, created_at "
                          "FROM sop_versions WHERE task_id = ?1 AND version = ?2"
                        : "SELECT task_id, version, gold_video_id, definition_json, created_by, created_at "
                          "FROM sop_versions WHERE task_id = ?1 AND ?2 = ?2 ORDER BY version DESC LIMIT 1";
  SOPILOT_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(conn, sql));
  s.Bind(1, task_id).Bind(2, version);
  SOPILOT_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) {
    return Status::NotFound(version > 0 ? "task " + task_id + " has no SOP version " + std::to_string(version)
                                        : "task " + task_id + " has no SOP yet");
  }
  SopVersionRow r;
  r.task_id = s.Text(0);
  r.version = s.Int(1);
  r.gold_video_id = s.OptInt(2);
  r.definition_json = s.Text(3);
  r.created_by = s.Text(4);
  r.created_at = s.Text(5);
  return r;
}

}  // namespace sopilot
