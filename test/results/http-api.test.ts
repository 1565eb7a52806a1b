import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConflictError, NotFoundError } from '../../src/core/engine/errors.ts';
import type { EngineEvent } from '../../src/core/model/events.ts';
import { loadWorkflowFile } from '../../src/core/workflow/parse-workflow.ts';
import { ApiClient } from '../../src/servers/http/api-client.ts';
import { discoveryPath, readDiscovery } from '../../src/servers/http/api-discovery.ts';
import { ApiServer } from '../../src/servers/http/api-server.ts';
import { openEngine, runFinished } from '../support/engine-harness.ts';

interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: unknown;
}

/** A raw HTTP request, so tests can send any Host, Origin and body a browser or attacker could. */
function raw(
  port: number,
  method: string,
  path: string,
  options: { headers?: Record<string, string | number>; body?: string | Buffer; chunked?: boolean } = {},
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode!, headers: res.headers, json: text ? JSON.parse(text) : undefined });
      });
    });
    req.on('error', reject);
    if (options.body !== undefined) {
      if (options.chunked) {
        // Streamed without a Content-Length: the limit must hold while reading.
        const body = Buffer.from(options.body);
        for (let i = 0; i < body.length; i += 64 * 1024) req.write(body.subarray(i, i + 64 * 1024));
      } else req.write(options.body);
    }
    req.end();
  });
}

// Top level: hooks registered inside `before` would run (and clean up) right after it.
const { engine, stateDir, cwd } = await openEngine();
const server = await ApiServer.start({ engine, stateDir, cwd, bodyLimit: 64 * 1024 });
const auth: Record<string, string> = { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' };
after(() => server.close());

test('listens on 127.0.0.1 on a random port and publishes api.json (mode 0600) with port and token', () => {
  assert.notEqual(server.port, 0);
  const file = discoveryPath(stateDir);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const info = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(info.port, server.port);
  assert.equal(info.token, server.token);
  assert.equal(info.url, `http://127.0.0.1:${server.port}`);
  assert.ok(server.token.length >= 40);
});

test('no token or a wrong token → 401', async () => {
  const none = await raw(server.port, 'GET', '/v1/runs');
  assert.equal(none.status, 401);
  assert.equal((none.json as { error: { code: string } }).error.code, 'unauthorized');
  assert.match(String(none.headers['www-authenticate']), /Bearer/);
  const wrong = await raw(server.port, 'GET', '/v1/runs', { headers: { authorization: `Bearer ${server.token.slice(0, -1)}x` } });
  assert.equal(wrong.status, 401);
  const basic = await raw(server.port, 'GET', '/v1/runs', { headers: { authorization: `Basic ${server.token}` } });
  assert.equal(basic.status, 401);
  assert.equal((await raw(server.port, 'GET', '/v1/runs', { headers: auth })).status, 200);
});

test('a foreign Host (DNS rebinding) or a foreign Origin (cross-site) is refused even with the token', async () => {
  for (const host of ['evil.example', `evil.example:${server.port}`, `127.0.0.1:${server.port + 1}`, `192.168.1.5:${server.port}`]) {
    const r = await raw(server.port, 'GET', '/v1/runs', { headers: { ...auth, host } });
    assert.equal(r.status, 403, host);
    assert.equal((r.json as { error: { code: string } }).error.code, 'bad_host');
  }
  for (const origin of ['https://evil.example', `http://localhost:${server.port + 1}`, 'null']) {
    const r = await raw(server.port, 'POST', '/v1/tasks', { headers: { ...auth, origin }, body: JSON.stringify({ run: 'echo pwned' }) });
    assert.equal(r.status, 403, origin);
    assert.equal((r.json as { error: { code: string } }).error.code, 'bad_origin');
  }
  const preflight = await raw(server.port, 'OPTIONS', '/v1/tasks', { headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
  assert.equal(preflight.status, 403);
  assert.equal(preflight.headers['access-control-allow-origin'], undefined);
  const ownOrigin = await raw(server.port, 'GET', '/v1/runs', {
    headers: { ...auth, host: `localhost:${server.port}`, origin: `http://localhost:${server.port}` },
  });
  assert.equal(ownOrigin.status, 200);
  assert.equal((await engine.list()).runs.filter((r) => r.name.includes('pwned')).length, 0, 'nothing launched');
});

test('an oversized body → 413, declared or streamed, and nothing is launched', async () => {
  const big = JSON.stringify({ run: 'echo big', name: 'x'.repeat(100 * 1024) });
  const declared = await raw(server.port, 'POST', '/v1/tasks', { headers: { ...auth, 'content-length': Buffer.byteLength(big) }, body: big });
  assert.equal(declared.status, 413);
  assert.equal((declared.json as { error: { code: string } }).error.code, 'too_large');
  const streamed = await raw(server.port, 'POST', '/v1/tasks', { headers: { ...auth, 'transfer-encoding': 'chunked' }, body: big, chunked: true }).catch(
    (e: Error) => e,
  );
  // The server answers 413 and closes; depending on timing the client sees the answer or a reset.
  if (!(streamed instanceof Error)) assert.equal(streamed.status, 413);
  else assert.match(streamed.message, /EPIPE|ECONNRESET|socket hang up/);
  assert.equal((await engine.list()).runs.filter((r) => r.name === 'echo big').length, 0);
});

test('bad bodies get clear 4xx JSON errors', async () => {
  const empty = await raw(server.port, 'POST', '/v1/tasks', { headers: auth, body: '{}' });
  assert.equal(empty.status, 400);
  assert.equal((empty.json as { error: { code: string } }).error.code, 'invalid_request');
  const both = await raw(server.port, 'POST', '/v1/tasks', { headers: auth, body: JSON.stringify({ run: 'x', agent: 'a', prompt: 'p' }) });
  assert.equal(both.status, 400);
  const badJson = await raw(server.port, 'POST', '/v1/tasks', { headers: auth, body: '{"run":' });
  assert.equal(badJson.status, 400);
  assert.equal((badJson.json as { error: { code: string } }).error.code, 'bad_json');
  const text = await raw(server.port, 'POST', '/v1/tasks', { headers: { ...auth, 'content-type': 'text/plain' }, body: '{"run":"x"}' });
  assert.equal(text.status, 415);
  const missing = await raw(server.port, 'GET', '/v1/tasks/abcdef123456.nope', { headers: auth });
  assert.equal(missing.status, 404);
  const route = await raw(server.port, 'GET', '/v1/nothing', { headers: auth });
  assert.equal(route.status, 404);
  const method = await raw(server.port, 'PUT', '/v1/runs', { headers: auth });
  assert.equal(method.status, 405);
  const badYaml = await raw(server.port, 'POST', '/v1/workflows', { headers: auth, body: JSON.stringify({ yaml: 'name: x\ntasks:\n  a: { runn: echo }\n' }) });
  assert.equal(badYaml.status, 400);
  assert.equal((badYaml.json as { error: { code: string } }).error.code, 'invalid_workflow');
  assert.match((badYaml.json as { error: { message: string } }).error.message, /<inline>:3/);
  const noFile = await raw(server.port, 'POST', '/v1/workflows', { headers: auth, body: JSON.stringify({ file: 'missing.yaml' }) });
  assert.equal(noFile.status, 400);
  const badInputs = await raw(server.port, 'POST', '/v1/workflows', {
    headers: auth,
    body: JSON.stringify({ yaml: 'name: x\ntasks:\n  a: { run: echo }\n', inputs: { nope: '1' } }),
  });
  assert.equal(badInputs.status, 400);
});

test('TaskAsync: POST /v1/tasks answers 202 with the id at once; status and result follow', async () => {
  const started = Date.now();
  const slow = await raw(server.port, 'POST', '/v1/tasks', { headers: auth, body: JSON.stringify({ run: 'sleep 10', name: 'slow' }) });
  assert.equal(slow.status, 202);
  assert.ok(Date.now() - started < 8000, 'answered long before the task could finish');
  const slowId = (slow.json as { id: string }).id;
  assert.notEqual(((await raw(server.port, 'GET', `/v1/tasks/${slowId}`, { headers: auth })).json as { state: string }).state, 'completed');
  const early = await raw(server.port, 'GET', `/v1/tasks/${slowId}/result`, { headers: auth });
  assert.equal(early.status, 404);
  assert.equal((early.json as { error: { code: string } }).error.code, 'no_result');
  assert.equal((await raw(server.port, 'POST', `/v1/tasks/${slowId}/cancel`, { headers: auth })).status, 200);

  const r = await raw(server.port, 'POST', '/v1/tasks', { headers: auth, body: JSON.stringify({ run: 'sleep 0.3; echo done', name: 'async' }) });
  assert.equal(r.status, 202);
  const { id, runId } = r.json as { id: string; runId: string };
  assert.equal(id, `${runId}.task`);
  await runFinished(engine, runId);
  const task = await raw(server.port, 'GET', `/v1/tasks/${id}`, { headers: auth });
  assert.equal((task.json as { state: string }).state, 'completed');
  const result = await raw(server.port, 'GET', `/v1/tasks/${id}/result`, { headers: auth });
  assert.equal(result.status, 200);
  assert.equal((result.json as { output: string }).output.trim(), 'done');
  const runs = await raw(server.port, 'GET', '/v1/runs?state=completed&limit=5', { headers: auth });
  assert.ok((runs.json as { runs: Array<{ id: string }> }).runs.some((x) => x.id === runId));
});

test('a workflow from a file and inline YAML; a wait task completes through /signal; cancel works', async () => {
  writeFileSync(join(cwd, 'flow.yaml'), 'name: from-file\ninputs:\n  who: { default: world }\ntasks:\n  hi: { run: "echo hi ${inputs.who}" }\n');
  const file = await raw(server.port, 'POST', '/v1/workflows', { headers: auth, body: JSON.stringify({ file: 'flow.yaml', inputs: { who: 'api' } }) });
  assert.equal(file.status, 202);
  const fileRun = (file.json as { runId: string }).runId;
  await runFinished(engine, fileRun);
  assert.equal((await engine.result(`${fileRun}.hi`))?.output.trim(), 'hi api');

  const inline = await raw(server.port, 'POST', '/v1/workflows', {
    headers: auth,
    body: JSON.stringify({ yaml: 'name: approval\ntasks:\n  approve: { wait: "CI green?" }\n  ship: { run: "echo shipped", needs: approve }\n' }),
  });
  assert.equal(inline.status, 202);
  const runId = (inline.json as { runId: string }).runId;
  const waiting = await raw(server.port, 'GET', `/v1/runs/${runId}`, { headers: auth });
  assert.equal((waiting.json as { tasks: Array<{ state: string }> }).tasks[0]!.state, 'waiting');
  const shipEarly = await raw(server.port, 'POST', `/v1/tasks/${runId}.ship/signal`, { headers: auth, body: '{}' });
  assert.equal(shipEarly.status, 409, 'only a waiting task takes a signal');
  const signal = await raw(server.port, 'POST', `/v1/tasks/${runId}.approve/signal`, { headers: auth, body: JSON.stringify({ payload: { ci: 'green' } }) });
  assert.equal(signal.status, 200);
  assert.equal((await runFinished(engine, runId)).state, 'completed');
  assert.deepEqual(JSON.parse((await engine.result(`${runId}.approve`))!.output), { ci: 'green' });

  const held = await raw(server.port, 'POST', '/v1/workflows', {
    headers: auth,
    body: JSON.stringify({ yaml: 'name: held\ntasks:\n  gate: { wait: true }\n' }),
  });
  const heldRun = (held.json as { runId: string }).runId;
  assert.equal((await raw(server.port, 'POST', `/v1/tasks/${heldRun}.gate/cancel`, { headers: auth })).status, 200);
  assert.equal((await runFinished(engine, heldRun)).state, 'cancelled');
  assert.equal((await raw(server.port, 'POST', `/v1/tasks/${heldRun}.gate/cancel`, { headers: auth })).status, 409);
});

test('workflow files outside the project are refused without a word of their content; a malformed %-escape is a 400', async () => {
  const outside = join(cwd, '..', `outside-${process.pid}.yaml`);
  writeFileSync(outside, 'SECRET-LINE: {{{\n');
  symlinkSync(outside, join(cwd, 'link.yaml'));
  try {
    for (const file of ['/etc/passwd', outside, `../${outside.split('/').pop()}`, 'link.yaml']) {
      const r = await raw(server.port, 'POST', '/v1/workflows', { headers: auth, body: JSON.stringify({ file }) });
      assert.equal(r.status, 400, file);
      const message = (r.json as { error: { message: string } }).error.message;
      assert.match(message, /must lie inside the project/, file);
      assert.doesNotMatch(message, /root:|SECRET-LINE/, file);
    }
  } finally {
    rmSync(outside, { force: true });
  }
  const bad = await raw(server.port, 'GET', '/v1/runs/%E0%A4%A', { headers: auth });
  assert.equal(bad.status, 400);
  assert.match((bad.json as { error: { message: string } }).error.message, /malformed percent-encoding/);
});

test('the HTTP client is the engine API of the owner: status, launch, signal and events from another "process"', async () => {
  const client = await ApiClient.connect(stateDir);
  assert.ok(client, 'found through api.json');
  after(() => client.dispose());
  const events: EngineEvent[] = [];
  const sub = client.followEvents((e) => events.push(e));
  await sub.connected; // subscribed at the owner from here on
  // As the CLI launches a file: parsed here, its text sent to the owner.
  const file = join(cwd, 'remote.yaml');
  writeFileSync(file, 'name: remote\ntasks:\n  w: { wait: true }\n  after: { run: echo after, needs: w }\n');
  const { runId } = await client.launch({ workflow: await loadWorkflowFile(file) });
  await client.signal(`${runId}.w`, 'go');
  await runFinished(engine, runId);
  const status = await client.status(runId.slice(0, 6));
  assert.equal(status.run.state, 'completed');
  assert.deepEqual(
    status.tasks.map((t) => t.state),
    ['completed', 'completed'],
  );
  assert.equal((await client.result(`${runId}.after`))?.output.trim(), 'after');
  assert.match(await client.log(`${runId}.after`), /after/);
  assert.equal(
    (await client.list({ limit: 100 })).runs.some((r) => r.id === runId),
    true,
  );
  assert.equal((await client.usage(runId)).inputTokens, 0);
  await assert.rejects(client.status('ffffffffffff'), NotFoundError);
  await assert.rejects(client.cancel(runId), ConflictError);
  const single = await client.launch({ task: { action: { kind: 'run', run: 'echo single' } } });
  await runFinished(engine, single.runId);
  assert.equal((await client.result(single.taskIds[0]!))?.output.trim(), 'single');
  const seen = events.filter((e) => 'run' in e && e.run.id === runId).map((e) => e.type);
  assert.deepEqual(seen, ['workflow.launched', 'workflow.completed']);
  assert.ok(events.some((e) => e.type === 'task.completed' && e.task.id === `${runId}.after`));
  sub.dispose();
});

test('closing the server ends event streams, stops listening and removes api.json; a stale file names no live API', async () => {
  const other = await ApiServer.start({ engine, stateDir: join(stateDir, 'logs'), cwd });
  const file = discoveryPath(join(stateDir, 'logs'));
  assert.ok(existsSync(file));
  const stream = await fetch(`${other.url}/v1/events`, { headers: { authorization: `Bearer ${other.token}` } });
  assert.equal(stream.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const reading = stream.text().then(
    () => 'ended',
    () => 'ended',
  );
  await other.close();
  assert.ok(!existsSync(file));
  assert.equal(await reading, 'ended', 'open event streams are ended');
  await assert.rejects(raw(other.port, 'GET', '/v1/health', { headers: { authorization: `Bearer ${other.token}` } }), /ECONNREFUSED/);
  writeFileSync(file, JSON.stringify({ version: 1, url: 'http://127.0.0.1:1', port: 1, token: 't', pid: 2 ** 22 + 12345, startedAt: 0 }));
  assert.equal(readDiscovery(join(stateDir, 'logs')), undefined);
  assert.equal(await ApiClient.connect(join(stateDir, 'logs')), undefined);
});
