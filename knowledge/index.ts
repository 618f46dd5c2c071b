/**
 * The knowledge base: service guides as data, ingestion, embeddings, hybrid retrieval
 * (pgvector HNSW + BM25 keyword postings, fused by RRF) and answers with citations.
 *
 *   const kb = createKnowledgeBase(db.pool, await configuredEmbedder());
 *   await kb.ensureIngested();                 // at start-up; cheap when up to date
 *   const hits = await kb.search('护照要多久', { serviceId, k: 5 });
 *   const a = await answerQuestion(kb, '开无犯罪证明要带什么材料');
 */
export { createKnowledgeBase, writeChunks, refreshStats } from './kb.js';
export type { KnowledgeBase, KnowledgeBaseOptions, IngestOptions, IngestProgress, IngestSummary, ChunkRecord } from './kb.js';
export { answerQuestion, RELEVANCE } from './answer.js';
export type { Answer, AnswerOptions, Citation } from './answer.js';
export type { SearchHit, SearchOptions } from './search.js';
export { loadSectionCues, matchSectionCues } from './search.js';
export { configuredEmbedder, createOpenAIEmbedder, HashedNgramEmbedder } from './embeddings.js';
export type { Embedder } from './embeddings.js';
export { GUIDES_DIR, SECTIONS, loadGuides, parseGuide, GuideError } from './guides.js';
export type { Guide, GuideIssue, SectionName } from './guides.js';
export { evaluateRetrieval, readRetrievalItems } from './retrieval-eval.js';
export type { RetrievalItem, RetrievalEvalResult } from './retrieval-eval.js';
