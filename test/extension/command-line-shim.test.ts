import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { installCommandLine, writeShim } from '../../src/extension/command-line-shim.ts';

const CLI = path.resolve(import.meta.dirname, '../../dist/cli.cjs');
const pkg = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string };
const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'o8 shim '));

describe('the orchestr8 command of the extension', {
  skip: process.platform === 'win32' || !fs.existsSync(CLI) ? 'POSIX shells and a built dist/cli.cjs' : false,
}, () => {
  it("the shim runs the bundled CLI with node, and with the editor's runtime where there is no node", async () => {
    const bin = path.join(tempDir(), 'bin');
    const shim = await writeShim(bin, { cliPath: CLI, fallbackNode: process.execPath });
    assert.equal(shim, path.join(bin, 'orchestr8'));
    // Through PATH, as a terminal would find it (the folder name has spaces).
    const withNode = execFileSync('orchestr8', ['--version'], {
      env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}` },
      encoding: 'utf8',
    });
    assert.equal(withNode.trim(), pkg.version);
    // No node on the PATH: the fallback runtime (node itself here, standing in for VS Code's Electron).
    const noNode = execFileSync('/bin/sh', [shim, '--version'], { env: { PATH: path.join(os.tmpdir(), 'o8-no-such-dir') }, encoding: 'utf8' });
    assert.equal(noNode.trim(), pkg.version);
  });

  it('Install Command Line links it into a folder, replaces its own link, refuses a foreign orchestr8, and says whether the folder is on PATH', async () => {
    const home = tempDir();
    const shim = await writeShim(path.join(home, 'storage', 'bin'), { cliPath: CLI, fallbackNode: process.execPath });
    const dir = path.join(home, '.local', 'bin');
    const first = await installCommandLine(shim, dir, '/usr/bin');
    assert.deepEqual(first, { installed: path.join(dir, 'orchestr8'), onPath: false });
    assert.equal(fs.readlinkSync(first.installed), shim);
    assert.equal(execFileSync(first.installed, ['--version'], { encoding: 'utf8' }).trim(), pkg.version);
    const again = await installCommandLine(shim, dir, `/usr/bin${path.delimiter}${dir}`);
    assert.equal(again.onPath, true);

    fs.rmSync(again.installed);
    fs.writeFileSync(again.installed, '#!/bin/sh\necho someone else\n');
    await assert.rejects(installCommandLine(shim, dir, ''), /exists and is not the Orchestr8 extension's command/);
    assert.equal(fs.readFileSync(again.installed, 'utf8'), '#!/bin/sh\necho someone else\n');
  });
});
