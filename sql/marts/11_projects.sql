-- mart_projects: one row per project (platform, project_id) known from project metadata or
-- from assignments: its name, task type, targets, and the assignments, workers and items seen.
-- grain: platform, project_id
WITH seen AS (
    SELECT
        platform,
        project_id,
        count(*)::BIGINT AS assignments,
        count(DISTINCT worker_id)::BIGINT AS workers,
        count(DISTINCT item_id)::BIGINT AS items,
        min(timezone('UTC', coalesce(submitted_at, started_at)))::DATE AS first_day,
        max(timezone('UTC', coalesce(submitted_at, started_at)))::DATE AS last_day
    FROM assignments
    GROUP BY platform, project_id
)
SELECT
    coalesce(p.platform, s.platform) AS platform,
    coalesce(p.project_id, s.project_id) AS project_id,
    coalesce(p.name, coalesce(p.project_id, s.project_id)) AS name,
    p.task_type,
    p.starts_on,
    p.due_on,
    p.target_items::BIGINT AS target_items,
    p.gold_accuracy_target::DOUBLE AS gold_accuracy_target,
    p.agreement_target::DOUBLE AS agreement_target,
    coalesce(s.assignments, 0)::BIGINT AS assignments,
    coalesce(s.workers, 0)::BIGINT AS workers,
    coalesce(s.items, 0)::BIGINT AS items,
    s.first_day,
    s.last_day
FROM projects AS p
FULL OUTER JOIN seen AS s ON p.platform = s.platform AND p.project_id = s.project_id;
