import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { AGENT_TOOLS, languageModelToolManifest } from '../../src/servers/agent-tools/tool-catalog.ts';

const pkg = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../../package.json'), 'utf8'));

describe('package.json contributions of the agent surface', () => {
  it('declares exactly the language-model tools the MCP server offers, with the same input schemas', () => {
    // On a mismatch, regenerate the entries from AGENT_TOOLS.map(languageModelToolManifest).
    assert.deepEqual(pkg.contributes.languageModelTools, AGENT_TOOLS.map(languageModelToolManifest));
    const launch = pkg.contributes.languageModelTools.find((t: { name: string }) => t.name === 'orchestr8_workflow_launch');
    assert.deepEqual(launch.inputSchema.required, ['file']);
  });

  it('gives workflow files their own language, highlighted as YAML (VS Code activates the extension on it)', () => {
    assert.deepEqual(pkg.contributes.languages[0].filenamePatterns, ['**/.orchestr8/workflows/*.yml', '**/.orchestr8/workflows/*.yaml']);
    const grammar = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../..', pkg.contributes.grammars[0].path), 'utf8'));
    assert.deepEqual(grammar.patterns, [{ include: 'source.yaml' }]);
    assert.equal(pkg.contributes.languages[0].id, 'orchestr8-workflow');
  });
});
