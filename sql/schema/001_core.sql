-- 001_core: the warehouse contract: the tables and columns the CLI, tests and reports rely on.
-- Times are TIMESTAMPTZ in UTC, money DECIMAL(18,6) beside an ISO 4217 currency, ids are text.
-- Worker and reviewer ids are pseudonyms (keyed hashes); raw ids never reach these tables.

CREATE TABLE platforms (
    platform          VARCHAR PRIMARY KEY,
    name              VARCHAR NOT NULL,
    kind              VARCHAR NOT NULL CHECK (kind IN ('marketplace', 'tool', 'tracker')),
    default_currency  VARCHAR NOT NULL DEFAULT 'USD',
    worker_fee_rate   DOUBLE NOT NULL DEFAULT 0
);

CREATE TABLE projects (
    platform              VARCHAR NOT NULL,
    project_id            VARCHAR NOT NULL,
    name                  VARCHAR,
    task_type             VARCHAR,
    starts_on             DATE,
    due_on                DATE,
    target_items          BIGINT,
    labels_per_item       INTEGER,
    budget                DECIMAL(18, 6),
    currency              VARCHAR,
    gold_accuracy_target  DOUBLE,
    agreement_target      DOUBLE,
    file_id               BIGINT,
    PRIMARY KEY (platform, project_id)
);

CREATE TABLE milestones (
    platform      VARCHAR NOT NULL,
    project_id    VARCHAR NOT NULL,
    name          VARCHAR NOT NULL,
    due_on        DATE NOT NULL,
    target_items  BIGINT NOT NULL,
    file_id       BIGINT,
    PRIMARY KEY (platform, project_id, name)
);

CREATE TABLE workers (
    worker_id   VARCHAR NOT NULL,
    platform    VARCHAR NOT NULL,
    country     VARCHAR,
    attributes  JSON,
    first_seen  TIMESTAMPTZ,
    last_seen   TIMESTAMPTZ,
    file_id     BIGINT,
    PRIMARY KEY (worker_id, platform)
);

CREATE TABLE items (
    platform    VARCHAR NOT NULL,
    project_id  VARCHAR NOT NULL,
    item_id     VARCHAR NOT NULL,
    gold_value  VARCHAR,
    attributes  JSON,
    file_id     BIGINT                  -- unique on (platform, project_id, item_id) by the merge
);

-- The big fact tables (and items) carry no PRIMARY KEY: an ART index costs 20x on bulk loads. The
-- loader's merge keeps `assignment_uid` (and `assignment_uid, field, ordinal`) unique.
CREATE TABLE assignments (
    assignment_uid  VARCHAR NOT NULL,
    platform        VARCHAR NOT NULL,
    project_id      VARCHAR NOT NULL,
    item_id         VARCHAR NOT NULL,
    worker_id       VARCHAR NOT NULL,
    task_type       VARCHAR,
    started_at      TIMESTAMPTZ,
    submitted_at    TIMESTAMPTZ,
    active_seconds  DOUBLE,
    status          VARCHAR NOT NULL CHECK (status IN (
                        'submitted', 'approved', 'rejected', 'returned',
                        'abandoned', 'skipped', 'expired')),
    reward          DECIMAL(18, 6),
    bonus           DECIMAL(18, 6),
    currency        VARCHAR,
    is_gold         BOOLEAN NOT NULL DEFAULT false,
    reviewer_id     VARCHAR,
    reviewed_at     TIMESTAMPTZ,
    paid_at         TIMESTAMPTZ,
    file_id         BIGINT NOT NULL
);

CREATE TABLE annotations (
    assignment_uid  VARCHAR NOT NULL,
    field           VARCHAR NOT NULL,
    value           VARCHAR,
    value_num       DOUBLE,
    region          JSON,
    gold_value      VARCHAR,
    ordinal         INTEGER NOT NULL DEFAULT 0,  -- position among several answers of one field
    file_id         BIGINT NOT NULL
);

CREATE TABLE time_entries (
    entry_uid   VARCHAR PRIMARY KEY,
    worker_id   VARCHAR NOT NULL,
    platform    VARCHAR,               -- NULL when no mapping names one (listed by ingest)
    project_id  VARCHAR,
    started_at  TIMESTAMPTZ NOT NULL,
    ended_at    TIMESTAMPTZ NOT NULL,
    seconds     DOUBLE NOT NULL,
    activity    VARCHAR NOT NULL CHECK (activity IN (
                    'task', 'qualification', 'training', 'searching', 'admin', 'other')),
    file_id     BIGINT NOT NULL
);

CREATE TABLE earnings (
    earning_uid  VARCHAR PRIMARY KEY,
    worker_id    VARCHAR NOT NULL,
    platform     VARCHAR NOT NULL,
    project_id   VARCHAR,
    task_type    VARCHAR,
    day          DATE NOT NULL,
    tasks        BIGINT,
    seconds      DOUBLE,               -- hours the worker logged for this line, when given
    amount       DECIMAL(18, 6) NOT NULL,
    currency     VARCHAR NOT NULL,
    status       VARCHAR NOT NULL CHECK (status IN ('pending', 'paid', 'rejected')),
    paid_at      TIMESTAMPTZ,
    file_id      BIGINT NOT NULL
);

CREATE TABLE fx_rates (
    currency      VARCHAR NOT NULL,
    day           DATE NOT NULL,
    usd_per_unit  DOUBLE NOT NULL CHECK (usd_per_unit > 0),
    source        VARCHAR,
    PRIMARY KEY (currency, day)
);

CREATE TABLE wage_floors (
    country         VARCHAR NOT NULL,   -- ISO 3166-1 alpha-2
    region          VARCHAR NOT NULL DEFAULT '',
    currency        VARCHAR NOT NULL,
    amount          DECIMAL(18, 6) NOT NULL,
    unit            VARCHAR NOT NULL CHECK (unit IN ('hour', 'day', 'month')),
    hours_basis     DOUBLE,
    effective_from  DATE NOT NULL,
    source          VARCHAR NOT NULL,
    PRIMARY KEY (country, region, effective_from)
);

CREATE SEQUENCE etl_run_ids START 1;
CREATE SEQUENCE etl_file_ids START 1;

CREATE TABLE etl_runs (
    run_id       BIGINT PRIMARY KEY,
    trigger      VARCHAR NOT NULL,      -- cli, scheduler, demo, dashboard
    started_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ,
    status       VARCHAR NOT NULL CHECK (status IN ('running', 'succeeded', 'partial', 'failed'))
);

CREATE TABLE etl_files (
    file_id        BIGINT PRIMARY KEY,
    run_id         BIGINT NOT NULL,
    source         VARCHAR,            -- platform the file was read as
    path           VARCHAR NOT NULL,
    sha256         VARCHAR NOT NULL,
    format         VARCHAR,
    rows_read      BIGINT NOT NULL DEFAULT 0,
    rows_inserted  BIGINT NOT NULL DEFAULT 0,
    rows_updated   BIGINT NOT NULL DEFAULT 0,
    rows_rejected  BIGINT NOT NULL DEFAULT 0,
    status         VARCHAR NOT NULL CHECK (status IN ('loaded', 'unchanged', 'failed')),
    error          VARCHAR,
    loaded_at      TIMESTAMPTZ
);

CREATE TABLE etl_rejects (
    file_id    BIGINT NOT NULL,
    record_no  BIGINT NOT NULL,
    reason     VARCHAR NOT NULL,
    raw        VARCHAR,                -- the record with ids pseudonymised and e-mails/IPs masked
    PRIMARY KEY (file_id, record_no)
);
