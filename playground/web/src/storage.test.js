// Run with `npm test` (node's built-in test runner).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withoutHeaders } from './storage.js';

test('history and favourites lose their headers', () => {
  for (const key of ['graphiql:queries', 'graphiql:favorites']) {
    const list = key.slice('graphiql:'.length);
    const stored = JSON.stringify({
      [list]: [
        { query: '{ a }', variables: '', headers: '{"Authorization": "Token secret"}', operationName: 'A' },
        { query: '{ b }' },
      ],
    });
    const clean = withoutHeaders(key, stored);
    assert.ok(!clean.includes('secret'), clean);
    assert.deepEqual(JSON.parse(clean), {
      [list]: [{ query: '{ a }', variables: '', operationName: 'A' }, { query: '{ b }' }],
    });
  }
});

test('persisted headers are never stored', () => {
  assert.equal(withoutHeaders('graphiql:headers', '{"Authorization": "Token secret"}'), null);
});

test('unparsable history is dropped, other keys pass through', () => {
  assert.equal(withoutHeaders('graphiql:queries', '{not json'), null);
  assert.equal(withoutHeaders('graphiql:query', '{ a }'), '{ a }');
  assert.equal(withoutHeaders('graphiql:tabState', '{"tabs":[]}'), '{"tabs":[]}');
});
