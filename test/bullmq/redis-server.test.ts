import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { RedisServer, redisMissingReason } from '../support/redis-server.ts';

const skip = redisMissingReason();

test('the test Redis binds loopback, needs its password, and keeps appendonly data across a crash', { skip }, async () => {
  const server = await RedisServer.start({ appendonly: true, appendfsync: 'always' });
  try {
    assert.equal(server.cli('CONFIG', 'GET', 'bind').split('\n')[1], '127.0.0.1');
    const anonymous = spawnSync('redis-cli', ['-p', String(server.port), 'ping'], { encoding: 'utf8' });
    assert.match(anonymous.stdout, /NOAUTH/);

    const client = new Redis(server.url, { maxRetriesPerRequest: null });
    await client.set('kept', 'yes');
    const firstPid = server.pid;
    await server.restart('SIGKILL');
    assert.notEqual(server.pid, firstPid);
    assert.equal(await client.get('kept'), 'yes'); // ioredis reconnects on its own
    client.disconnect();
  } finally {
    await server.dispose();
  }
  assert.equal(existsSync(server.dir), false);
});
