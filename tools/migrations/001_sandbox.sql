-- The sandbox 一网通办 service: shared population data, e-licences (卡包), applications,
-- handoffs to service-centre staff, the staff directory and an append-only audit log.

CREATE TABLE citizens (
  id                   text PRIMARY KEY,
  name                 text NOT NULL,
  gender               text,
  id_number            text NOT NULL UNIQUE,
  birth_date           date NOT NULL,
  phone                text,
  hukou_shanghai       boolean NOT NULL DEFAULT false,
  household_address    text,
  residence_address    text,
  record_on_file       boolean NOT NULL DEFAULT false,
  insured_maternity    boolean NOT NULL DEFAULT false,
  child_birth_date     date,
  employed_in_shanghai boolean NOT NULL DEFAULT false,
  fund_account         text,
  bank_account         text,
  story                text,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE e_licences (
  id             text PRIMARY KEY,
  citizen_id     text NOT NULL REFERENCES citizens(id),
  name           text NOT NULL,
  issuer         text NOT NULL,
  licence_number text NOT NULL,
  -- 'shared': from the licence registry (seeded); 'issued': delivered by an application here.
  source         text NOT NULL CHECK (source IN ('shared', 'issued')),
  application_id text,
  issued_at      timestamptz NOT NULL DEFAULT now(),
  valid_until    date
);
CREATE INDEX e_licences_citizen ON e_licences (citizen_id);

CREATE SEQUENCE application_number_seq;

CREATE TABLE applications (
  id              text PRIMARY KEY,
  citizen_id      text NOT NULL REFERENCES citizens(id),
  service_id      text NOT NULL,
  service_name    text NOT NULL,
  fields          jsonb NOT NULL,
  status          text NOT NULL CHECK (status IN ('draft', 'submitted', 'issued', 'under_review', 'rejected', 'returned')),
  status_message  text NOT NULL,
  idempotency_key text NOT NULL,
  session_id      text,
  licence_id      text REFERENCES e_licences(id),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (citizen_id, idempotency_key)
);
CREATE INDEX applications_citizen ON applications (citizen_id, created_at DESC);
CREATE INDEX applications_status ON applications (status, created_at);

ALTER TABLE e_licences ADD CONSTRAINT e_licences_application_fk FOREIGN KEY (application_id) REFERENCES applications(id);

CREATE TABLE application_events (
  id             bigserial PRIMARY KEY,
  application_id text NOT NULL REFERENCES applications(id),
  from_status    text,
  to_status      text NOT NULL,
  actor_kind     text NOT NULL,
  actor_id       text NOT NULL,
  note           text,
  at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX application_events_app ON application_events (application_id, id);

CREATE TABLE staff (
  id            text PRIMARY KEY,
  username      text NOT NULL UNIQUE,
  name          text NOT NULL,
  password_hash text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE SEQUENCE handoff_number_seq;

CREATE TABLE handoffs (
  id             text PRIMARY KEY,
  citizen_id     text REFERENCES citizens(id),
  reason         text NOT NULL,
  reason_text    text,
  service_id     text,
  session_id     text,
  application_id text REFERENCES applications(id),
  transcript     jsonb NOT NULL DEFAULT '[]'::jsonb,
  understanding  jsonb NOT NULL DEFAULT '{}'::jsonb,
  form           jsonb NOT NULL DEFAULT '{}'::jsonb,
  status         text NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'claimed', 'closed')),
  claimed_by     text REFERENCES staff(id),
  created_at     timestamptz NOT NULL DEFAULT now(),
  claimed_at     timestamptz,
  closed_at      timestamptz,
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX handoffs_queue ON handoffs (status, created_at);
CREATE INDEX handoffs_citizen ON handoffs (citizen_id, created_at DESC);

CREATE TABLE handoff_messages (
  id          bigserial PRIMARY KEY,
  handoff_id  text NOT NULL REFERENCES handoffs(id),
  author_kind text NOT NULL CHECK (author_kind IN ('staff', 'citizen', 'system')),
  author_id   text,
  text        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX handoff_messages_handoff ON handoff_messages (handoff_id, id);

CREATE TABLE audit_log (
  id                 bigserial PRIMARY KEY,
  at                 timestamptz NOT NULL DEFAULT now(),
  actor_kind         text NOT NULL CHECK (actor_kind IN ('citizen', 'staff', 'system', 'anonymous')),
  actor_id           text NOT NULL,
  action             text NOT NULL,
  subject_citizen_id text,
  what               jsonb NOT NULL DEFAULT '{}'::jsonb,
  why                text NOT NULL
);
CREATE INDEX audit_log_subject ON audit_log (subject_citizen_id, at);

-- The audit log is append-only: rows can be added, never changed or removed.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
