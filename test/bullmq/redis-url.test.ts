import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { parseRedisUrl, redactRedisUrl, redisUrlFrom } from '../../src/core/queue/redis-url.ts';

const cli = fileURLToPath(new URL('../../src/cli/cli.ts', import.meta.url));

test('Redis URLs: bad ones fail with a clear message, passwords never printed', () => {
  assert.equal(parseRedisUrl(' redis://:pw@127.0.0.1:6390/2 '), 'redis://:pw@127.0.0.1:6390/2');
  assert.equal(parseRedisUrl('rediss://h.example:6380'), 'rediss://h.example:6380');
  assert.throws(() => parseRedisUrl('localhost:6379'), /not a Redis URL: "localhost:6379" uses localhost:; expected redis:\/\//);
  assert.throws(() => parseRedisUrl('http://127.0.0.1:6379'), /uses http:/);
  assert.throws(() => parseRedisUrl('not a url'), /expected redis:\/\/\[:password@\]host/);
  assert.equal(redactRedisUrl('redis://user:s3cret@h:1'), 'redis://user:***@h:1');
  assert.equal(redisUrlFrom(undefined, {}), undefined);
  assert.equal(redisUrlFrom(undefined, { ORCHESTR8_REDIS_URL: 'redis://h:1' }), 'redis://h:1');
  assert.equal(redisUrlFrom('redis://flag:1', { ORCHESTR8_REDIS_URL: 'redis://h:1' }), 'redis://flag:1');
});

test('orchestr8 worker without a Redis URL, or with a bad one, says what to do', () => {
  const env = { ...process.env, ORCHESTR8_REDIS_URL: '' };
  const none = spawnSync(process.execPath, ['--import', 'tsx', cli, 'worker'], { encoding: 'utf8', env, timeout: 30_000 });
  assert.notEqual(none.status, 0);
  assert.match(none.stderr, /no Redis URL: pass --redis redis:\/\/host:port or set ORCHESTR8_REDIS_URL/);
  const bad = spawnSync(process.execPath, ['--import', 'tsx', cli, 'worker', '--redis', 'localhost:6379'], { encoding: 'utf8', env, timeout: 30_000 });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /not a Redis URL/);
});
