// The messages between the server and its check thread. The thread keeps its own copy of the open
// documents (sent with each check, only those that changed since the last one) and answers with
// the project's diagnostics, which are plain data and cheap to send back, unlike the analysis.
import type { Diagnostic } from '../compiler/diagnostics.ts';

export interface CheckRequest {
  type: 'check';
  id: number;
  dir: string;
  /** Open documents whose text changed since the last request (null: closed, read the disk again). */
  texts: Array<[path: string, text: string | null]>;
  /** Files changed on disk since the last request. */
  disk: string[];
  /** Projects whose cached analysis must be dropped (a file of theirs was deleted). */
  forget: string[];
}

export interface CheckResult {
  type: 'checked';
  id: number;
  dir: string;
  /** The project's own files (diagnostics are published for these). */
  own: string[];
  /** Every file the check read, imports included (an edit to any of them re-checks the project). */
  read: string[];
  diagnostics: Diagnostic[];
  compileMs: number;
}

export interface CheckFailed {
  type: 'failed';
  id: number;
  error: string;
}

export type CheckReply = CheckResult | CheckFailed;
