-- One rebuild of the dashboard's marts (etl/marts/, sql/marts/) after an ETL run.
-- A run publishes its data first and its figures once they are rebuilt: a snapshot whose
-- newest build is older than its newest run holds that run's rows with the previous figures.
CREATE TABLE mart_builds (
    run_id BIGINT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL
);
