-- 006_scope_changes: a project's scope as it changed, each change with the day it took effect.
-- `target_items` is the scope in items from `changed_on` on (the unit the project marts count:
-- accepted items, docs/METRICS.md "Burn-up"); `projects.target_items` is the scope the plan
-- started with. Loaded from the scope_changes template (docs/IMPORTING.md); one change per
-- project and day, a re-import of the same day updates it.
CREATE TABLE scope_changes (
    platform      VARCHAR NOT NULL,
    project_id    VARCHAR NOT NULL,
    changed_on    DATE NOT NULL,
    target_items  BIGINT NOT NULL,
    reason        VARCHAR,
    file_id       BIGINT,
    PRIMARY KEY (platform, project_id, changed_on)
);
