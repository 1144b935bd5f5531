-- One row per `[[pulls]]` source of config.toml: how its newest run went and when the next is
-- due, so that `crowdmeter status` and the Pipeline page can say it. Written by etl/pulls at
-- the end of each run of the source, under the writer lock.
CREATE TABLE pull_state (
    name                  VARCHAR PRIMARY KEY,
    kind                  VARCHAR NOT NULL,
    schedule              VARCHAR NOT NULL,
    last_started_at       TIMESTAMPTZ NOT NULL,
    last_finished_at      TIMESTAMPTZ NOT NULL,
    last_result           VARCHAR NOT NULL CHECK (last_result IN ('loaded', 'nothing new', 'failed')),
    run_id                BIGINT,             -- the ETL run it started, if it loaded files
    files_loaded          BIGINT NOT NULL DEFAULT 0,
    rows_loaded           BIGINT NOT NULL DEFAULT 0,  -- rows inserted or updated by that run
    error                 VARCHAR,
    notes                 VARCHAR,            -- files left for later or skipped, and why
    failures_in_a_row     INTEGER NOT NULL DEFAULT 0,
    last_success_at       TIMESTAMPTZ,
    next_run_at           TIMESTAMPTZ
);
