-- The catalogue-driven service engine: extra shared-data facts per citizen, withdrawal,
-- staff-only review notes, the request fingerprint behind an idempotency key, 一件事 bundles
-- and 免申即享 offer answers.

ALTER TABLE citizens ADD COLUMN facts jsonb NOT NULL DEFAULT '{}'::jsonb;

ALTER TABLE applications DROP CONSTRAINT applications_status_check;
ALTER TABLE applications ADD CONSTRAINT applications_status_check
  CHECK (status IN ('draft', 'submitted', 'issued', 'under_review', 'rejected', 'returned', 'withdrawn'));
-- Staff-only: what a reviewer must check (from the catalogue's review rule). Never shown to the citizen.
ALTER TABLE applications ADD COLUMN review_check text;
-- sha256 of the request an idempotency key was first used with: the same key with other values is refused.
ALTER TABLE applications ADD COLUMN request_hash text;
ALTER TABLE applications ADD COLUMN department text;

ALTER TABLE handoffs ADD COLUMN staff_note text;

-- 一件事: one confirmation, one application per member department under one idempotency key.
CREATE TABLE bundle_applications (
  id              text PRIMARY KEY,
  citizen_id      text NOT NULL REFERENCES citizens(id),
  bundle_id       text NOT NULL,
  bundle_name     text NOT NULL,
  idempotency_key text NOT NULL,
  request_hash    text NOT NULL,
  fields          jsonb NOT NULL,
  session_id      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (citizen_id, idempotency_key)
);
CREATE SEQUENCE bundle_number_seq;
ALTER TABLE applications ADD COLUMN bundle_application_id text REFERENCES bundle_applications(id);

-- 免申即享: a citizen's answer to an offer ("不需要" / "以后再说"), so it is not pushed again.
CREATE TABLE offer_answers (
  citizen_id  text NOT NULL REFERENCES citizens(id),
  offer_id    text NOT NULL,
  answer      text NOT NULL CHECK (answer IN ('declined', 'later')),
  answered_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (citizen_id, offer_id)
);
