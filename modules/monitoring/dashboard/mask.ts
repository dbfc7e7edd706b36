// What a viewer sees of a message: its structure, not its content. MSH stays readable (sending
// and receiving systems, type, control ID, version: no patient data); every other segment keeps
// its name and field positions with each non-empty field replaced by a mask.
export const MASK = '•••';

export function maskMessage(raw: string): string {
  return raw
    .split(/\r\n|\r|\n/)
    .filter((line) => line.length > 0)
    .map((line) => {
      if (line.startsWith('MSH')) return line;
      const sep = line.charAt(3) || '|';
      const [name, ...fields] = line.split(sep);
      return [name, ...fields.map((f) => (f === '' ? '' : MASK))].join(sep);
    })
    .join('\n');
}

/** An ACK as a viewer sees it: MSH and MSA-1/MSA-2 (code and control ID); texts masked. */
export function maskAck(ack: string): string {
  return ack
    .split(/\r\n|\r|\n/)
    .filter((line) => line.length > 0)
    .map((line) => {
      if (line.startsWith('MSH')) return line;
      const sep = line.charAt(3) || '|';
      const [name, ...fields] = line.split(sep);
      if (name === 'MSA') return [name, ...fields.map((f, i) => (i < 2 || f === '' ? f : MASK))].join(sep);
      return [name, ...fields.map((f) => (f === '' ? '' : MASK))].join(sep);
    })
    .join('\n');
}

/** MSA-1 of an ACK ('' when it has none). */
export function ackCode(ack: string): string {
  return /(?:^|\r|\n)MSA(.)([A-Z]{2})/.exec(ack)?.[2] ?? '';
}
