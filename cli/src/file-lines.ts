// A log file's lines as the agent reads them: split at LF only, a trailing CR dropped (a lone
// CR inside a line is part of it), with each line's byte offset — so offline commands number
// and place lines exactly as the agent ships them.
import { createReadStream } from 'node:fs';

export interface FileLine {
  text: string;
  /** Byte offset of the line's start. */
  offset: number;
  /** Byte offset after its LF. */
  end: number;
}

export async function* fileLines(path: string): AsyncGenerator<FileLine> {
  let carry: Buffer = Buffer.alloc(0);
  let offset = 0;
  const line = (bytes: Buffer): FileLine => {
    const body = bytes.length > 0 && bytes[bytes.length - 1] === 13 ? bytes.subarray(0, -1) : bytes;
    const out = { text: body.toString('utf8'), offset, end: offset + bytes.length + 1 };
    offset = out.end;
    return out;
  };
  for await (const chunk of createReadStream(path)) {
    let data = carry.length ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
    let nl: number;
    while ((nl = data.indexOf(10)) >= 0) {
      yield line(data.subarray(0, nl));
      data = data.subarray(nl + 1);
    }
    carry = Buffer.from(data);
  }
  if (carry.length > 0) yield line(carry);
}
