import assert from 'node:assert/strict';
import os from 'node:os';
import { after, test } from 'node:test';
import { ConflictError, NotFoundError } from '../../src/core/engine/errors.ts';
import { StateOwnedError } from '../../src/core/store/state-lock.ts';
import { StorageFullError } from '../../src/core/store/storage-full.ts';
import { WorkflowError } from '../../src/core/workflow/workflow-error.ts';
import { errorFromResponse, toHttpError } from '../../src/servers/http/error-status.ts';
import { openEngine, runFinished } from '../support/engine-harness.ts';

const issue = { message: 'tasks.a.needs: no task b', file: 'w.yaml', line: 3, col: 5, endLine: 3, endCol: 6 };
const owner = { pid: 1, hostname: os.hostname(), startedAt: 0, command: 'orchestr8 run' };

// Messages chosen so no text pattern could place them: only the type does.
const cases: [string, Error, number, string, new (...args: never[]) => Error][] = [
  ['not found', new NotFoundError('zz'), 404, 'not_found', NotFoundError],
  ['conflict', new ConflictError('zz'), 409, 'conflict', ConflictError],
  ['owned by another process', new StateOwnedError('/s', owner), 409, 'conflict', ConflictError],
  ['invalid workflow', new WorkflowError([issue]), 400, 'invalid_workflow', WorkflowError],
  [
    'unreadable workflow file',
    new WorkflowError([{ message: 'cannot read workflow file: no such file', file: '/p/w.yaml', line: 0, col: 0, endLine: 0, endCol: 0 }]),
    400,
    'invalid_workflow',
    WorkflowError,
  ],
  ['storage full', new StorageFullError('ENOSPC'), 507, 'storage_full', StorageFullError],
];

for (const [name, error, status, code, remoteType] of cases) {
  test(`${name}: mapped to ${status} by its type, and rebuilt as the same type by the client`, () => {
    const http = toHttpError(error);
    assert.equal(http.status, status);
    assert.equal(http.code, code);
    assert.equal(http.message, error.message);
    const rebuilt = errorFromResponse(http.status, http.code, http.message, http.details);
    assert.ok(rebuilt instanceof remoteType, `${name}: the client throws a ${remoteType.name}`);
    assert.equal(rebuilt.message, error.message);
  });
}

test('an untyped error is a 500 whatever it says, and the client has no type for it', () => {
  const http = toHttpError(new Error('nothing to cancel: run is completed'));
  assert.equal(http.status, 500);
  assert.equal(errorFromResponse(http.status, http.code, http.message, http.details), undefined);
});

test('the engine throws the typed errors where a command is refused or names nothing', async (t) => {
  const { engine } = await openEngine();
  after(() => engine.close());
  await assert.rejects(engine.status('ffffffffffff'), NotFoundError);
  const { runId } = await engine.launch({ id: 'r1', task: { action: { kind: 'noop' } } });
  await assert.rejects(engine.launch({ id: 'r1', task: { action: { kind: 'noop' } } }), ConflictError, 'a run id that exists already');
  await runFinished(engine, runId);
  await t.test('refused on a finished run', async () => {
    await assert.rejects(engine.cancel(runId), ConflictError);
    await assert.rejects(engine.signal(`${runId}.task`), ConflictError);
    await assert.rejects(engine.retry(runId), ConflictError, 'nothing failed: nothing to retry');
    await assert.rejects(engine.retry(`${runId}.nope`), NotFoundError);
  });
});
