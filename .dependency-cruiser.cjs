/**
 * The import rules of the project, written down once (checked by test/layers.test.ts, part of
 * `npm test`; run by hand with `npx depcruise --config .dependency-cruiser.cjs core knowledge tools agent channels app evals bench test`).
 *
 * Layers, each importing only those below it:
 *   core       config, database, logging, masking, errors — imports nothing of the project
 *   knowledge  the catalogue (service behaviour as data), guides, retrieval
 *   tools      the sandbox 一网通办 service API, identity, its HTTP API and MCP server
 *   agent      understanding, the dialogue policy, the LangGraph graph
 *   channels   HTTP/WebSocket session routes, pages, voice, live delivery, metrics, security
 *   app        the composition root: wires everything together; entry points
 *   evals, bench, test   on top: may use anything; nothing imports them
 * and no import cycles anywhere.
 */
const layer = (name, below) => ({
  name: `${name}-imports-only-below`,
  comment: `${name}/ may import only ${below.length ? below.join(', ') : 'nothing of the project'}`,
  severity: 'error',
  from: { path: `^${name}/`, pathNot: '\\.test\\.ts$' },
  to: { path: '^(core|knowledge|tools|agent|channels|app|evals|bench|test)/', pathNot: `^(${[name, ...below].join('|')})/` },
});

module.exports = {
  forbidden: [
    { name: 'no-circular', comment: 'no import cycles', severity: 'error', from: {}, to: { circular: true } },
    layer('core', []),
    layer('knowledge', ['core']),
    layer('tools', ['core', 'knowledge']),
    layer('agent', ['core', 'knowledge', 'tools']),
    layer('channels', ['core', 'knowledge', 'tools', 'agent']),
    layer('app', ['core', 'knowledge', 'tools', 'agent', 'channels']),
    {
      name: 'nothing-imports-the-top',
      comment: 'evals/, bench/ and test/ are on top: no product code imports them',
      severity: 'error',
      from: { path: '^(core|knowledge|tools|agent|channels|app)/', pathNot: '\\.test\\.ts$' },
      to: { path: '^(evals|bench|test)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|data|evals/out|bench/out|test/fixtures)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
