/** A bad agent file; the message starts with `file:line:` so editors and terminals can jump there. */
export class AgentFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    detail: string,
  ) {
    super(`${file}:${line}: ${detail}`);
    this.name = 'AgentFileError';
  }
}
