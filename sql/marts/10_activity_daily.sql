-- mart_activity_daily: one row per worker, platform, project, task type and UTC day (the day
-- the assignment was submitted, else started): how many assignments they worked and how each
-- ended, gold answers given and right (the rule of metrics.quality.gold_answers: first answers
-- of submitted work compared as text with the gold value), and active time as the platform
-- measured it (null where it measures none). Additive over every column but `day`, so pages sum
-- it over any date range and scope.
-- grain: day, platform, project_id, task_type, worker_id
WITH gold AS (
    SELECT
        assignment_uid,
        count(*) AS answered,
        count(*) FILTER (WHERE value = gold_value) AS correct
    FROM annotations
    WHERE gold_value IS NOT NULL AND value IS NOT NULL AND ordinal = 0
    GROUP BY assignment_uid
)
SELECT
    timezone('UTC', coalesce(a.submitted_at, a.started_at))::DATE AS day,
    a.platform,
    a.project_id,
    coalesce(a.task_type, 'unspecified') AS task_type,
    a.worker_id,
    count(*)::BIGINT AS assignments,
    count(*) FILTER (WHERE a.status IN ('submitted', 'approved', 'rejected'))::BIGINT AS submitted,
    count(*) FILTER (WHERE a.status = 'approved')::BIGINT AS approved,
    count(*) FILTER (WHERE a.status = 'rejected')::BIGINT AS rejected,
    count(*) FILTER (WHERE a.status IN ('approved', 'rejected'))::BIGINT AS reviewed,
    count(*) FILTER (
        WHERE a.status IN ('returned', 'abandoned', 'skipped', 'expired')
    )::BIGINT AS not_completed,
    coalesce(sum(g.answered) FILTER (WHERE a.status IN ('submitted', 'approved', 'rejected')), 0)
        ::BIGINT AS gold_answered,
    coalesce(sum(g.correct) FILTER (WHERE a.status IN ('submitted', 'approved', 'rejected')), 0)
        ::BIGINT AS gold_correct,
    -- null where none of the group's assignments has a platform-measured active time
    sum(a.active_seconds)::DOUBLE AS active_seconds
FROM assignments AS a
LEFT JOIN gold AS g USING (assignment_uid)
GROUP BY ALL;
