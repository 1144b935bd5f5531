-- mart_file_projects: one row per input file and project it brought assignments for, so the
-- Pipeline page can show a manager the files and rejects behind their own projects only.
-- grain: file_id, platform, project_id
SELECT
    file_id::BIGINT AS file_id,
    platform,
    project_id,
    count(*)::BIGINT AS assignments
FROM assignments
GROUP BY ALL;
