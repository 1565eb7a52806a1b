import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGitHubRemote, parseRepoSlug } from '../../src/core/github/pull-requests.ts';
import { resultsOptionsFromEnv } from '../../src/core/results/results-setup.ts';

test('GitHub remotes in every URL form name owner/repo; other hosts and local paths do not', () => {
  for (const url of [
    'https://github.com/acme/widgets.git',
    'https://x-token@github.com/acme/widgets',
    'git@github.com:acme/widgets.git',
    'ssh://git@github.com/acme/widgets.git',
  ]) {
    assert.deepEqual(parseGitHubRemote(url), { owner: 'acme', repo: 'widgets' }, url);
  }
  assert.equal(parseGitHubRemote('/tmp/remote.git'), undefined);
  assert.equal(parseGitHubRemote('https://gitlab.com/acme/widgets.git'), undefined);
  assert.deepEqual(parseGitHubRemote('git@ghe.corp.example:team/app.git', 'ghe.corp.example'), { owner: 'team', repo: 'app' });
  assert.equal(parseGitHubRemote('git@evilgithub.com:acme/widgets.git'), undefined);
  assert.deepEqual(parseRepoSlug('acme/widgets'), { owner: 'acme', repo: 'widgets' });
  assert.equal(parseRepoSlug('acme/widgets/extra'), undefined);
});

test('the CLI reads tokens, GitHub Enterprise and webhooks from its environment', () => {
  const o = resultsOptionsFromEnv('/s', {
    GITHUB_TOKEN: 't',
    GITHUB_API_URL: 'https://ghe.corp.example/api/v3',
    ORCHESTR8_WEBHOOK_URLS: 'http://127.0.0.1:9/a, http://127.0.0.1:9/b',
    ORCHESTR8_WEBHOOK_SECRET: 's',
  });
  assert.deepEqual(o.github, { token: 't', baseUrl: 'https://ghe.corp.example/api/v3', host: 'ghe.corp.example' });
  assert.deepEqual(o.webhooks, { endpoints: ['http://127.0.0.1:9/a', 'http://127.0.0.1:9/b'], secret: 's' });
  assert.deepEqual(resultsOptionsFromEnv('/s', {}).github, {});
  assert.equal(
    resultsOptionsFromEnv('/s', { GITHUB_TOKEN: 'general', ORCHESTR8_GITHUB_TOKEN: 'ours' }).github?.token,
    'ours',
    'a token meant for Orchestr8 wins',
  );
});
