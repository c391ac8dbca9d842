// SqliteMetadataStore: the score history, filtered and paged.
#include <sqlite3.h>

#include <algorithm>

#include "store/sqlite_metadata_store.h"
#include "store/sqlite_statement.h"
#include "store/store_rows.h"

namespace sopilot {

using namespace store_detail;  // the statement helpers and row readers of this store

Result<ScorePage> SqliteMetadataStore::ListScores(const ScoreQuery& q) {
  const int limit = std::clamp(q.limit, 1, 10000);
  // Every filter is bound; an empty one matches everything ("?N = ''"), so
  // one statement serves all combinations. The task filter comes first for
  // idx_jobs_score_history.
  std::string sql = std::string("SELECT ") + kJobColumns +
                    ", rowid FROM jobs WHERE kind = 'score' AND status = 'completed' "
                    "AND (?1 = '' OR task_id = ?1) "
                    "AND (?2 = '' OR site_id = ?2) "
                    "AND (?3 = '' OR camera_id = ?3) "
                    "AND (?4 = '' OR operator_id_hash = ?4) "
                    "AND (?5 = '' OR json_extract(result_json, '$.verdict') = ?5) "
                    "AND (?6 = '' OR finished_at >= ?6) "
                    "AND (?7 = '' OR finished_at < ?7) "
                    // Newest first; within one second, the job queued last
                    // first. The cursor resumes strictly after the last row shown.
                    "AND (?8 = '' OR finished_at < ?8 OR (finished_at = ?8 AND rowid < ?9)) "
                    "ORDER BY finished_at DESC, rowid DESC LIMIT ?10";
  std::lock_guard<std::mutex> lock(mu_);
  Conn conn{db_, &lock_waits_, &corrupt_};
  SOPILOT_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(conn, sql.c_str()));
  s.Bind(1, q.task_id)
      .Bind(2, q.site_id)
      .Bind(3, q.camera_id)
      .Bind(4, q.operator_id_hash)
      .Bind(5, q.verdict)
      .Bind(6, q.finished_from)
      .Bind(7, q.finished_before)
      .Bind(8, q.after_finished_at)
      .Bind(9, q.after_seq)
      .Bind(10, limit + 1);  // one more tells whether another page exists
  ScorePage page;
  for (;;) {
    SOPILOT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    if (static_cast<int>(page.scores.size()) == limit) {
      page.more = true;
      break;
    }
    SOPILOT_ASSIGN_OR_RETURN(JobRow job, ReadJob(s));
    page.scores.push_back(std::move(job));
    page.seqs.push_back(s.Int(kJobColumnCount));  // after the job columns
  }
  return page;
}

}  // namespace sopilot
