-- 一件事: what became of each part that was not submitted (skipped: did not apply, with the
-- reason; failed: refused by the service API at submission), so "办到哪了" reports every part.
ALTER TABLE bundle_applications ADD COLUMN outcome jsonb NOT NULL DEFAULT '{"skipped": [], "failed": []}';
CREATE INDEX bundle_applications_citizen ON bundle_applications (citizen_id, created_at DESC);
