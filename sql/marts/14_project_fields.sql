-- mart_project_fields: one row per project and answered field: how many answers, units, coders
-- and distinct values it has, how many carry a gold value, and whether it holds regions (spans
-- or boxes), and a checksum of its answers: the quality marts (etl/marts/quality.py) recompute a
-- field only when its checksum changes.
-- grain: platform, project_id, field
SELECT
    a.platform,
    a.project_id,
    n.field,
    count(*)::BIGINT AS answers,
    count(DISTINCT a.item_id)::BIGINT AS units,
    count(DISTINCT a.worker_id)::BIGINT AS coders,
    count(DISTINCT n.value)::BIGINT AS distinct_values,
    count(n.gold_value)::BIGINT AS gold_answers,
    (count(n.region) > 0) AS has_regions,
    min(timezone('UTC', coalesce(a.submitted_at, a.started_at)))::DATE AS first_day,
    max(timezone('UTC', coalesce(a.submitted_at, a.started_at)))::DATE AS last_day,
    sum(
        hash(a.item_id, a.worker_id, a.status, a.submitted_at, a.started_at, n.value, n.gold_value)
    )::VARCHAR AS answers_checksum
FROM annotations AS n
JOIN assignments AS a USING (assignment_uid)
WHERE a.status IN ('submitted', 'approved', 'rejected') AND n.ordinal = 0
GROUP BY ALL;
