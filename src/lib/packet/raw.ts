/** Opaque bytes: an application payload, or whatever the parser could not decode. */
export interface Raw {
  type: 'raw';
  /** The bytes (raw('text') takes a string too). */
  data: Uint8Array;
}

/** Bytes after the end a length field declared, such as Ethernet's minimum-frame padding. */
export interface Padding {
  type: 'padding';
  /** The bytes, written after every header and trailer. */
  data: Uint8Array;
}

export function raw(data: Uint8Array | string): Raw {
  return { type: 'raw', data: typeof data === 'string' ? Buffer.from(data) : data };
}

export function padding(data: Uint8Array): Padding {
  return { type: 'padding', data };
}
