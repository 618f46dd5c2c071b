-- A conversation session belongs to the identity that created it. Its dialogue state lives in
-- the LangGraph checkpoint tables (thread_id = session id); this row binds it to its owner.
CREATE TABLE IF NOT EXISTS chat_sessions (
  id             text PRIMARY KEY,
  owner          text NOT NULL,        -- principal key (citizen:..., staff:...) or 'anonymous'
  citizen_id     text,                 -- the citizen the agent acts for; null: consult-only session
  channel        text NOT NULL CHECK (channel IN ('app', 'kiosk')),
  created_at     timestamptz NOT NULL DEFAULT now(),
  last_active_at timestamptz NOT NULL DEFAULT now(),
  ended_at       timestamptz
);
CREATE INDEX IF NOT EXISTS chat_sessions_citizen_idx ON chat_sessions (citizen_id, created_at DESC);
