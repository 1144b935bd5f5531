-- The platforms whose figures a rebuild (`mart_builds`, the same run_id) could not rebuild from
-- their data: their rows in the marts, and the tables with no platform column, are those of
-- the build after run `since_run` (NULL: never built), `reason` the error their data raised.
CREATE TABLE mart_lagging (
    run_id BIGINT NOT NULL,
    platform VARCHAR NOT NULL,
    since_run BIGINT,
    reason VARCHAR NOT NULL
);
