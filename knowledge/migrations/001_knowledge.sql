-- Knowledge base: guide chunks with their embedding, and a keyword index over them.
-- The embedding column has no fixed dimension so that any model can be used; the HNSW
-- index is a partial expression index per dimension (kb_chunks_hnsw_<dim>), created by
-- knowledge/kb.ts for the model in use.
CREATE TABLE IF NOT EXISTS kb_chunks (
  id              text PRIMARY KEY,            -- <service>#<section>#<n>
  service_id      text NOT NULL,
  service_name    text NOT NULL,
  aliases         text[] NOT NULL DEFAULT '{}',
  section         text NOT NULL,
  title           text NOT NULL,
  text            text NOT NULL,
  ord             integer NOT NULL,
  source_root     text NOT NULL,               -- the guides folder it was ingested from
  source_file     text NOT NULL,
  content_hash    text NOT NULL,               -- sha256 of what is embedded/indexed
  embedding_model text NOT NULL,
  embedding_dim   integer NOT NULL,
  embedding       vector NOT NULL,
  tok_len         real NOT NULL,               -- field-weighted token count (BM25 length)
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS kb_chunks_service ON kb_chunks (service_id, section, ord);

-- Keyword index: segmented tokens (Han bigrams, latin words) of names/aliases, title and
-- text, with field-weighted term frequency, scored by BM25 in SQL (knowledge/search.ts).
CREATE TABLE IF NOT EXISTS kb_postings (
  term       text NOT NULL,
  chunk_id   text NOT NULL,                    -- kb_chunks.id (no FK: bulk writes; kb.ts deletes with the chunk)
  service_id text NOT NULL,
  tf         real NOT NULL,
  dl         real NOT NULL,                    -- the chunk's tok_len, kept here for scoring
  PRIMARY KEY (term, chunk_id)
);
CREATE INDEX IF NOT EXISTS kb_postings_chunk ON kb_postings (chunk_id);

-- Corpus statistics for BM25, refreshed by each ingest that changes something.
CREATE TABLE IF NOT EXISTS kb_stats (
  id    integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  n     integer NOT NULL,
  avgdl real NOT NULL
);

-- One row per ingested guide: cheap staleness check at start-up.
CREATE TABLE IF NOT EXISTS kb_documents (
  service_id      text PRIMARY KEY,
  source_root     text NOT NULL,
  source_file     text NOT NULL,
  guide_hash      text NOT NULL,
  embedding_model text NOT NULL,
  chunk_count     integer NOT NULL,
  ingested_at     timestamptz NOT NULL DEFAULT now()
);

-- Learned state of the offline embedder (document frequencies), kept so that editing one
-- guide does not change every vector.
CREATE TABLE IF NOT EXISTS kb_models (
  id         text PRIMARY KEY,
  kind       text NOT NULL,
  dim        integer NOT NULL,
  state      jsonb NOT NULL,
  active     boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now()
);
