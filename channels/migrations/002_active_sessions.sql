-- The 50-open-sessions-per-citizen check (SessionStore.countActiveFor) reads only open sessions,
-- not every session the citizen ever had.
CREATE INDEX IF NOT EXISTS chat_sessions_open_idx ON chat_sessions (citizen_id) WHERE ended_at IS NULL;
