#!/usr/bin/env python3
"""Writes monitoring/grafana-dashboard.json: the seed's 10 panels against the
metrics SOPilot exports, six for the queue's own figures and the score SLO, and the embedding time per clip. Edit this file, not the JSON:
    python3 monitoring/make-dashboard.py > monitoring/grafana-dashboard.json
"""
import json
DS = {"type": "prometheus", "uid": "${datasource}"}
def target(expr, legend, ref):
    return {"datasource": DS, "expr": expr, "legendFormat": legend, "refId": ref}
panels = []
def panel(pid, title, typ, targets, x, y, w=12, h=8, **extra):
    p = {"id": pid, "title": title, "type": typ, "datasource": DS, "targets": targets,
         "gridPos": {"x": x, "y": y, "w": w, "h": h}}
    p.update(extra)
    panels.append(p)
# Each job type's sum falls back to 0, so a type with no series yet does not
# empty the whole expression.
def total(metric, statuses):
    return f'(sum(rate({metric}{{status=~"{statuses}"}}[5m])) or vector(0))'
fail = "(" + " + ".join(total(m, "failed|dead") for m in
                        ("sopilot_ingest_jobs_total", "sopilot_score_jobs_total", "sopilot_training_jobs_total")) + ")"
done = "(" + " + ".join([total("sopilot_ingest_jobs_total", "completed"), total("sopilot_score_jobs_total", "completed"),
                         total("sopilot_training_jobs_total", "completed|skipped")]) + ")"
panel(1, "Job Processing Rate", "timeseries", [
    target('sum(rate(sopilot_ingest_jobs_total{status="completed"}[5m]))', "ingest", "A"),
    target('sum(rate(sopilot_score_jobs_total{status="completed"}[5m]))', "score", "B"),
    target('sum(rate(sopilot_training_jobs_total{status=~"completed|skipped"}[5m]))', "training", "C")], 0, 0,
    fieldConfig={"defaults": {"unit": "ops"}, "overrides": []})
# With no finished job in the window the denominator is 0 and "> 0" drops
# it: the panel shows "No data", not a red 0 % on an idle system.
panel(2, "Job Success Rate", "stat", [
    target(f'100 * {done} / (({done} + {fail}) > 0)', "success %", "A")], 12, 0,
    description="Finished jobs that succeeded, last 5 minutes; No data when no job finished.",
    fieldConfig={"defaults": {"unit": "percent", "min": 0, "max": 100,
                              "thresholds": {"mode": "absolute", "steps": [
                                  {"color": "red", "value": None}, {"color": "yellow", "value": 95},
                                  {"color": "green", "value": 99}]}}, "overrides": []})
# Every process (API, each worker) exports the same queue's depth: one line
# per queue, not one per process.
panel(3, "Queue Depth", "timeseries", [target('max by (queue) (sopilot_queue_depth{queue=~"$queue"})', "{{queue}}", "A")], 0, 8)
panel(4, "Job Duration (p50, p95, p99)", "timeseries", [
    target(f'histogram_quantile({q}, sum by (le, job_type) (rate(sopilot_job_duration_seconds_bucket{{job_type=~"$job_type"}}[5m])))',
           "{{job_type}} p" + str(int(q * 100)), r) for q, r in ((0.5, "A"), (0.95, "B"), (0.99, "C"))], 12, 8,
    fieldConfig={"defaults": {"unit": "s"}, "overrides": []})
panel(5, "DTW Performance (CPU vs GPU)", "timeseries", [
    target('histogram_quantile(0.95, sum by (le, gpu) (rate(sopilot_dtw_execution_seconds_bucket[5m])))', "p95 gpu={{gpu}}", "A"),
    target('sum by (gpu) (rate(sopilot_dtw_execution_seconds_count[5m]))', "alignments/s gpu={{gpu}}", "B")], 0, 16,
    fieldConfig={"defaults": {"unit": "s"}, "overrides": []})
panel(6, "GPU Memory Usage", "timeseries", [
    target('sopilot_gpu_memory_bytes or on() vector(0)', "gpu {{device_id}} {{memory_type}}", "A")], 12, 16,
    description="Allocated, reserved and total memory per GPU; 0 when the node has no GPU.",
    fieldConfig={"defaults": {"unit": "bytes"}, "overrides": []})
panel(7, "Embedding Throughput", "timeseries", [
    target('sum by (embedder) (rate(sopilot_embedding_generation_seconds_count[5m]))', "{{embedder}} videos/s", "A"),
    target('sum by (embedder) (rate(sopilot_embedding_generation_seconds_sum[5m])) / sum by (embedder) (rate(sopilot_embedding_generation_seconds_count[5m]))', "{{embedder}} s/video", "B")], 0, 24, w=8)
# Beside it, what a clip costs: not raised by long videos. The red line is
# SlowEmbeddingGeneration's 1 s (monitoring/prometheus-rules.yaml).
panel(17, "Embedding Time per Clip (p50, p95)", "timeseries", [
    target(f'histogram_quantile({q}, sum by (le, embedder) (rate(sopilot_embedding_seconds_per_clip_bucket[5m])))',
           "{{embedder}} p" + str(int(q * 100)), r) for q, r in ((0.5, "A"), (0.95, "B"))], 8, 24, w=8,
    description="A video's decode and embed time over its clips, by embedder; SlowEmbeddingGeneration fires when the "
                "p95 stays above 1 s (ingest at half real time at the default 0.5 s stride). No data when no video was embedded in the window.",
    fieldConfig={"defaults": {"unit": "s", "custom": {"thresholdsStyle": {"mode": "line"}},
                              "thresholds": {"mode": "absolute", "steps": [
                                  {"color": "green", "value": None}, {"color": "red", "value": 1}]}},
                 "overrides": []})
panel(8, "Active Workers", "timeseries", [target('max by (queue) (sopilot_active_workers{queue=~"$queue"})', "{{queue}}", "A")], 16, 24, w=8)
panel(9, "Total Clips", "stat", [target('max(sopilot_total_clips)', "clips", "A")], 0, 32, w=6)
# A row per job type and status that failed in the last hour; none at all
# shows "No data" (an `or vector(0)` would add a row without labels).
panel(10, "Failure Analysis", "table", [
    target('sum(increase(sopilot_ingest_jobs_total{status=~"failed|dead|retried"}[1h])) by (status)', "ingest {{status}}", "A"),
    target('sum(increase(sopilot_score_jobs_total{status=~"failed|dead|retried"}[1h])) by (status)', "score {{status}}", "B"),
    target('sum(increase(sopilot_training_jobs_total{status=~"failed|dead|retried"}[1h])) by (status, trigger)', "training {{status}}", "C")],
    6, 32, w=18, options={"showHeader": True},
    transformations=[{"id": "merge", "options": {}}])
# The queue as the queue sees it (every process reports the same figures:
# max by queue), and what each process measured (summed).
panel(11, "Oldest Waiting Job", "timeseries", [
    target('max by (queue) (sopilot_queue_oldest_job_age_seconds{queue=~"$queue"})', "{{queue}}", "A")], 0, 40,
    description="How long the oldest job that could run now has waited, per queue; 0 when none waits.",
    fieldConfig={"defaults": {"unit": "s"}, "overrides": []})
panel(12, "Job Wait (p50, p95)", "timeseries", [
    target(f'histogram_quantile({q}, sum by (le, queue) (rate(sopilot_job_wait_seconds_bucket{{queue=~"$queue"}}[5m])))',
           "{{queue}} p" + str(int(q * 100)), r) for q, r in ((0.5, "A"), (0.95, "B"))], 12, 40,
    description="Time from a job becoming ready to a worker starting it; No data when no job started in the window.",
    fieldConfig={"defaults": {"unit": "s"}, "overrides": []})
panel(13, "Busy Workers and Running Jobs", "timeseries", [
    target('max by (queue) (sopilot_workers_busy{queue=~"$queue"})', "{{queue}} busy workers", "A"),
    target('max by (queue) (sopilot_jobs_running{queue=~"$queue"})', "{{queue}} running jobs", "B")], 0, 48,
    description="Workers holding a job now; Active Workers minus these are idle.")
panel(14, "Dead Jobs and Redeliveries", "timeseries", [
    target('max by (queue) (sopilot_dead_jobs{queue=~"$queue"})', "{{queue}} dead", "A"),
    target('sum by (queue) (increase(sopilot_job_redeliveries_total{queue=~"$queue"}[1h]))', "{{queue}} redelivered (1 h)", "B")],
    12, 48, description="Jobs out of attempts waiting for an operator; jobs run again because a worker's lease ran out.")
# The recording rules of monitoring/prometheus-rules.yaml (group sopilot.slo).
panel(15, "Score SLO Burn Rate", "timeseries", [
    target('sopilot:score_slo_errors:ratio_rate1h / 0.01', "1 h", "A"),
    target('sopilot:score_slo_errors:ratio_rate6h / 0.01', "6 h", "B")], 0, 56,
    description="Score jobs missing the SLO (complete within 60 s; failures count) as a multiple of the 1% budget: "
                "1 spends it in exactly 30 days; the alerts page at 14.4 (1 h) and ticket at 6 (6 h). No data until a score job finishes.",
    fieldConfig={"defaults": {"thresholds": {"mode": "absolute", "steps": [
        {"color": "green", "value": None}, {"color": "yellow", "value": 6}, {"color": "red", "value": 14.4}]}},
        "overrides": []})
panel(16, "Since Last Successful Training", "stat", [
    target('time() - max(sopilot_training_last_success_timestamp_seconds)', "age", "A")], 12, 56,
    description="Time since a training job (manual or nightly) last completed; No data until one has.",
    fieldConfig={"defaults": {"unit": "s", "thresholds": {"mode": "absolute", "steps": [
        {"color": "green", "value": None}, {"color": "yellow", "value": 129600}, {"color": "red", "value": 259200}]}},
        "overrides": []})
for p in panels:
    for t in p["targets"]:
        t["instant"] = p["type"] in ("stat", "table")
dash = {
    "title": "SOPilot", "uid": "sopilot", "schemaVersion": 39, "version": 1, "editable": True,
    "time": {"from": "now-6h", "to": "now"}, "refresh": "30s", "tags": ["sopilot"],
    "templating": {"list": [
        {"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Data source",
         "current": {}, "hide": 0, "refresh": 1},
        {"name": "job_type", "type": "custom", "label": "Job type", "query": "ingest,score,training",
         "multi": True, "includeAll": True, "current": {"text": "All", "value": "$__all"},
         "options": [], "allValue": ".*"},
        {"name": "queue", "type": "query", "label": "Queue", "datasource": DS,
         "query": {"query": "label_values(sopilot_queue_depth, queue)", "refId": "queue"},
         "definition": "label_values(sopilot_queue_depth, queue)",
         "multi": True, "includeAll": True, "allValue": ".*", "current": {"text": "All", "value": "$__all"},
         "refresh": 2}]},
    "annotations": {"list": []},
    "panels": panels,
}
print(json.dumps(dash, indent=2))
