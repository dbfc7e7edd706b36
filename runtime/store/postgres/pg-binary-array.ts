// Array parameters in PostgreSQL's binary format (what array_recv reads). A journal batch sends
// its rows as arrays; as text, every element is quoted and escaped here and scanned character by
// character by the server (the messages' bytes twice over, as hex), which cost PostgreSQL more
// than inserting them. node-postgres sends a Buffer parameter as binary as it is.

export type Element = 'text' | 'bytea' | 'int8' | 'int4';

/** Element type OIDs (pg_type), which array_recv checks against the parameter's declared type. */
const OID: Record<Element, number> = { text: 25, bytea: 17, int8: 20, int4: 23 };

export type Value<E extends Element> = (E extends 'int8' | 'int4' ? number : E extends 'bytea' ? Uint8Array : string) | null | undefined;

/** A one-dimensional array of `type` (null and undefined elements are NULL). */
export function binaryArray<E extends Element>(type: E, values: readonly Value<E>[]): Buffer {
  let size = 20;
  let nulls = 0;
  for (const v of values) {
    if (v === null || v === undefined) {
      size += 4;
      nulls = 1;
    } else size += 4 + (type === 'int8' ? 8 : type === 'int4' ? 4 : type === 'text' ? Buffer.byteLength(v as string) : (v as Uint8Array).byteLength);
  }
  const out = Buffer.allocUnsafe(size);
  out.writeInt32BE(1, 0); // dimensions
  out.writeInt32BE(nulls, 4);
  out.writeUInt32BE(OID[type], 8);
  out.writeInt32BE(values.length, 12);
  out.writeInt32BE(1, 16); // lower bound
  let at = 20;
  for (const v of values) {
    if (v === null || v === undefined) {
      at = out.writeInt32BE(-1, at);
    } else if (type === 'text') {
      const n = out.write(v as string, at + 4);
      out.writeInt32BE(n, at);
      at += 4 + n;
    } else if (type === 'bytea') {
      const b = v as Uint8Array;
      out.writeInt32BE(b.byteLength, at);
      out.set(b, at + 4);
      at += 4 + b.byteLength;
    } else if (type === 'int8') {
      out.writeInt32BE(8, at);
      out.writeBigInt64BE(BigInt(v as number), at + 4);
      at += 12;
    } else {
      out.writeInt32BE(4, at);
      out.writeInt32BE(v as number, at + 4);
      at += 8;
    }
  }
  return out;
}
