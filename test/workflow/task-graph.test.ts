import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dependsOn, findCycle, needsFirstOrder, topologicalOrder, transitiveNeeds } from '../../src/core/workflow/task-graph.ts';

const t = (id: string, ...needs: string[]) => ({ id, needs });

test('findCycle returns the cycle path or undefined', () => {
  assert.equal(findCycle([t('a'), t('b', 'a'), t('c', 'a', 'b')]), undefined);
  assert.deepEqual(findCycle([t('a', 'c'), t('b', 'a'), t('c', 'b')]), ['a', 'c', 'b', 'a']);
  assert.deepEqual(findCycle([t('x'), t('y', 'y')]), ['y', 'y']);
  assert.equal(findCycle([t('a', 'missing')]), undefined);
});

test('topologicalOrder puts needs first and keeps file order otherwise', () => {
  assert.deepEqual(topologicalOrder([t('deploy', 'test', 'build'), t('lint'), t('test', 'build'), t('build')]), ['lint', 'build', 'test', 'deploy']);
  assert.throws(() => topologicalOrder([t('a', 'b'), t('b', 'a')]), { message: 'dependency cycle: a -> b -> a' });
});

test('needsFirstOrder orders like topologicalOrder but keeps tasks caught in a cycle, last and in file order', () => {
  const dag = [t('deploy', 'test', 'build'), t('lint'), t('test', 'build'), t('build')];
  assert.deepEqual(needsFirstOrder(dag), topologicalOrder(dag));
  assert.deepEqual(needsFirstOrder([t('b', 'a'), t('x', 'y'), t('a'), t('y', 'x'), t('z', 'gone')]), ['a', 'b', 'z', 'x', 'y']);
});

test('transitiveNeeds follows needs of needs', () => {
  const tasks = [t('a'), t('b', 'a'), t('c', 'b'), t('d'), t('e', 'c', 'd')];
  assert.deepEqual([...transitiveNeeds(tasks, 'e')].sort(), ['a', 'b', 'c', 'd']);
  assert.deepEqual([...transitiveNeeds(tasks, 'a')], []);
});

test('dependsOn answers for direct and indirect needs, and terminates on cycles', () => {
  const needsOf = new Map([
    ['a', []],
    ['b', ['a']],
    ['c', ['b']],
    ['d', []],
    ['x', ['y']],
    ['y', ['x']],
  ] as [string, string[]][]);
  assert.equal(dependsOn(needsOf, 'c', 'b'), true);
  assert.equal(dependsOn(needsOf, 'c', 'a'), true);
  assert.equal(dependsOn(needsOf, 'c', 'd'), false);
  assert.equal(dependsOn(needsOf, 'a', 'c'), false);
  assert.equal(dependsOn(needsOf, 'x', 'z'), false);
  assert.equal(dependsOn(needsOf, 'x', 'x'), true);
});
