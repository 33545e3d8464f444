// Library errors name option fields (`blockSize`); the CLI says them as the flags that set
// them (`--block-size`). Each command knows its own flags, so it passes the table.
import { OnnxpressError } from '../errors.js';

/** Option field -> the flag that sets it, for one command. */
export type FlagNames = Record<string, string>;

/** Runs a library call; an error naming option fields is rethrown with those fields said as flags. */
export async function namingFlags<T>(flags: FlagNames, call: () => T | Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw withFlagNames(err, flags);
  }
}

function withFlagNames(err: unknown, flags: FlagNames): unknown {
  if (!(err instanceof OnnxpressError) || !err.fields) return err;
  let message = err.message;
  for (const field of err.fields) {
    const flag = flags[field];
    if (flag) message = message.replace(new RegExp(`\\b${field}\\b`, 'g'), flag);
  }
  return message === err.message ? err : new OnnxpressError(err.code, message, { cause: err });
}
