/** Injectable logger; the extension backs it with a LogOutputChannel, the CLI with stderr. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string, error?: unknown): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export function consoleLogger(prefix = 'orchestr8', verbose = false): Logger {
  const line = (level: string, message: string) => process.stderr.write(`${prefix} ${level}: ${message}\n`);
  return {
    debug: (m) => verbose && line('debug', m),
    info: (m) => verbose && line('info', m),
    warn: (m) => line('warn', m),
    error: (m, e) => line('error', e ? `${m}: ${errorMessage(e)}` : m),
  };
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
