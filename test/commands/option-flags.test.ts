// Library errors name option fields; the CLI says them as its flags.
import { describe, expect, it } from 'vitest';
import { OnnxpressError, badOption } from '../../src/errors.js';
import { namingFlags } from '../../src/commands/option-flags.js';
import { convertModel } from '../../src/convert.js';

describe('namingFlags', () => {
  it('says each named field as its flag, keeping the code', async () => {
    const call = () => { throw badOption(['inline', 'externalData'], 'inline and externalData exclude each other'); };
    const err = await namingFlags({ inline: '--inline', externalData: '--external-data' }, call).catch((e) => e);
    expect(err).toBeInstanceOf(OnnxpressError);
    expect(err.message).toBe('--inline and --external-data exclude each other');
    expect(err.code).toBe('BAD_INPUT');
  });

  it('leaves other errors and unlisted fields alone', async () => {
    const plain = new OnnxpressError('IO', 'disk full');
    expect(await namingFlags({}, () => { throw plain; }).catch((e) => e)).toBe(plain);
    const unlisted = badOption(['blockSize'], 'blockSize 3: too small');
    expect(await namingFlags({ other: '--other' }, () => { throw unlisted; }).catch((e) => e)).toBe(unlisted);
  });

  it('the library itself names the option field, not a flag', () => {
    expect(() => convertModel('in.onnx', 'out.onnx', { inline: true, externalData: 'w.bin' })).toThrow(/^inline and externalData exclude each other$/);
  });
});
