-- Where an API source's last successful pull left off (Label Studio: the newest task
-- `updated_at` it had exported), so that the next run asks only for what changed since.
-- NULL: the next run takes everything. Kept when a run fails, so nothing is skipped.
ALTER TABLE pull_state ADD COLUMN cursor VARCHAR;
