-- The agent's conversation state: LangGraph checkpoints (agent/checkpointer.ts), one row per
-- checkpoint, the newest few kept per conversation, and the pending writes of a checkpoint.
-- Replaces the tables earlier versions created at start-up (their latest checkpoints are kept).

CREATE TABLE lg_checkpoints (
  thread_id            text NOT NULL,
  checkpoint_ns        text NOT NULL DEFAULT '',
  checkpoint_id        text NOT NULL,
  parent_checkpoint_id text,
  type                 text NOT NULL,
  checkpoint           text NOT NULL,
  metadata             text NOT NULL,
  pending_writes       integer NOT NULL DEFAULT 0,
  created_at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
);

CREATE TABLE lg_checkpoint_writes (
  thread_id     text NOT NULL,
  checkpoint_ns text NOT NULL DEFAULT '',
  checkpoint_id text NOT NULL,
  task_id       text NOT NULL,
  task_path     text NOT NULL DEFAULT '',
  idx           integer NOT NULL,
  channel       text NOT NULL,
  type          text,
  blob          bytea,
  PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
);

DO $$
BEGIN
  IF to_regclass('agent_checkpoints') IS NOT NULL THEN
    INSERT INTO lg_checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata)
      SELECT thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata FROM agent_checkpoints;
    DROP TABLE agent_checkpoints;
  END IF;
  IF to_regclass('agent_checkpoint_writes') IS NOT NULL THEN
    DROP TABLE agent_checkpoint_writes;
  END IF;
END $$;
