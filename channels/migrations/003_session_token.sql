-- The token a session was opened with (its jti), so that ending a kiosk visit, or the server's
-- idle sweep, can take that token back.
ALTER TABLE chat_sessions ADD COLUMN IF NOT EXISTS token_id text;
CREATE INDEX IF NOT EXISTS chat_sessions_kiosk_open_idx ON chat_sessions (last_active_at) WHERE ended_at IS NULL AND channel = 'kiosk';
