/**
 * `validate` alone (`dist/cli-validate.cjs`): the workflow parser with zod and yaml is most of
 * what it loads, and `status` should not pay for it (see command-loader.ts).
 */
export { validateCommand } from './commands/validate.ts';
export { outcomeOf } from './exit-code.ts';
