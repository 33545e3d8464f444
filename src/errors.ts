// One error class carries a message a person can act on; the CLI prints it as one line
// and maps its code to an exit code. Internals throw it; nothing else should escape.
export type ErrorCode =
  | 'BAD_MODEL'       // unreadable, invalid or unsafe model file
  | 'BAD_INPUT'       // bad data, flags or options from the user
  | 'UNSUPPORTED'     // valid but outside what onnxpress handles
  | 'IO'              // the file system said no
  | 'RUNTIME'         // onnxruntime refused or failed
  | 'INTERNAL';       // a bug in onnxpress

export class OnnxpressError extends Error {
  readonly code: ErrorCode;
  /**
   * Option fields the message names as written in it (`blockSize`), so a front end can
   * say them its own way (the CLI: `--block-size`). Library messages never name CLI flags.
   */
  readonly fields?: string[];
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; fields?: string[] }) {
    super(message, options);
    this.name = 'OnnxpressError';
    this.code = code;
    if (options?.fields?.length) this.fields = options.fields;
  }
}

export function badModel(file: string, problem: string): OnnxpressError {
  return new OnnxpressError('BAD_MODEL', `${file}: ${problem}`);
}

export function badInput(message: string): OnnxpressError {
  return new OnnxpressError('BAD_INPUT', message);
}

/** Bad option values; `message` names each field in `fields` by its option name. */
export function badOption(fields: string[], message: string): OnnxpressError {
  return new OnnxpressError('BAD_INPUT', message, { fields });
}

/** The exit code documented in the README for each error code. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof OnnxpressError) {
    return err.code === 'INTERNAL' || err.code === 'RUNTIME' ? 3 : 2;
  }
  return 3;
}

export function messageOf(err: unknown): string {
  if (err instanceof OnnxpressError) return err.message;
  if (err instanceof Error) return `internal error: ${err.message}`;
  return `internal error: ${String(err)}`;
}
