-- Tokens taken back before they expire (a kiosk visit ended, the idle timer fired, a logout).
-- Rows are kept until the token would have expired anyway.
CREATE TABLE revoked_tokens (
  jti        text PRIMARY KEY,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz NOT NULL DEFAULT now(),
  reason     text NOT NULL
);
CREATE INDEX revoked_tokens_expiry ON revoked_tokens (expires_at);

-- Failed staff logins per key (username, and client address): a lockout after too many.
CREATE TABLE login_attempts (
  key               text PRIMARY KEY,
  failures          integer NOT NULL DEFAULT 0,
  window_started_at timestamptz NOT NULL DEFAULT now(),
  locked_until      timestamptz
);
