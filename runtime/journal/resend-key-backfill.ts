// Messages journaled before the resend key existed get their sending system and fingerprint from
// their stored bytes, so that a resend of one of them is still recognised after the upgrade. Rows
// whose content was purged, or that no longer parse, keep a NULL fingerprint: they match nothing,
// and a resend of such a message is journaled as a new one (processed again, never lost).
import type { Database } from 'better-sqlite3';
import { decodeBody, parseMessage, splitBatch } from '../inbound/hl7/index.ts';
import { messageFingerprint, sendingSystemOf } from './message-fingerprint.ts';

export function backfillResendKeys(db: Database): number {
  const rows = db.prepare('SELECT id, raw, charset FROM messages WHERE raw IS NOT NULL AND content_hash IS NULL').iterate() as IterableIterator<{ id: number; raw: Buffer; charset: string }>;
  const update = db.prepare('UPDATE messages SET sending_system = ?, content_hash = ? WHERE id = ?');
  const done: [string, string, number][] = [];
  for (const row of rows) {
    try {
      const text = splitBatch(decodeBody(row.raw, { contentTypeCharset: row.charset }).text, 'any').messages[0];
      if (!text) continue;
      done.push([sendingSystemOf(parseMessage(text).header), messageFingerprint(text), row.id]);
    } catch {
      // left without a fingerprint (see above)
    }
  }
  for (const [system, hash, id] of done) update.run(system, hash, id);
  return done.length;
}
