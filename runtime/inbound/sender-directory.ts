// The senders of a plan, indexed by path, and the rules that pick one for a request and a
// message: identity first (client certificate or Basic credentials), then the MSH predicates.
// Values (Basic credentials) must already be resolved to strings (resolvePlanValues).
import type { Identity, MessageType, Plan, Sender } from '../../plan/plan.types.ts';
import type { Hl7Message } from './hl7/index.ts';
import { encodingFor } from './hl7/index.ts';
import { srcLine } from '../platform/config/source-location.ts';
import { certificateMatchesIdentity, type PeerCertificateFacts } from '../platform/tls/client-identity.ts';
import { credentialsMatch, type BasicCredentials } from './basic-auth.ts';

export interface SenderEntry {
  sender: Sender;
  /** Resolved Basic credentials for identity kind basic. */
  basic?: BasicCredentials;
}

export class SenderConfigError extends Error {}

function resolved(v: unknown, what: string, src: string | undefined): string {
  if (typeof v !== 'string') throw new SenderConfigError(`${srcLine(src)}: ${what} is not resolved (run resolvePlanValues first)`);
  return v;
}

export class SenderDirectory {
  private readonly byPath = new Map<string, SenderEntry[]>();

  constructor(plan: Plan) {
    for (const sender of plan.senders) {
      const entry: SenderEntry = { sender };
      const id = sender.identity;
      if (id.kind === 'basic') {
        entry.basic = {
          user: resolved(id.user, 'the Basic user', id.src ?? sender.src),
          password: resolved(id.password, 'the Basic password', id.src ?? sender.src),
        };
      }
      if (id.kind === 'client_cert' && !id.subject && !id.san && !id.fingerprint) {
        throw new SenderConfigError(`${srcLine(id.src ?? sender.src)}: sender ${sender.name}: client_cert identity names no subject, SAN or fingerprint`);
      }
      if (sender.charset && !encodingFor(sender.charset)) {
        throw new SenderConfigError(`${srcLine(sender.src)}: sender ${sender.name}: unsupported charset "${sender.charset}"`);
      }
      const key = normalisePath(sender.path);
      const list = this.byPath.get(key);
      if (list) list.push(entry);
      else this.byPath.set(key, [entry]);
    }
  }

  forPath(path: string): SenderEntry[] | undefined {
    return this.byPath.get(normalisePath(path));
  }

  get paths(): string[] {
    return [...this.byPath.keys()];
  }

  /** True when some sender needs a client certificate (the listener then asks for one). */
  get usesClientCertificates(): boolean {
    for (const list of this.byPath.values()) if (list.some((e) => e.sender.identity.kind === 'client_cert')) return true;
    return false;
  }
}

function normalisePath(p: string): string {
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

export interface RequestIdentity {
  /** The verified client certificate, when the connection presented one that chains to the client CA. */
  certificate: PeerCertificateFacts | null;
  basic: BasicCredentials | null;
}

export function identityAllows(entry: SenderEntry, who: RequestIdentity): boolean {
  const id: Identity = entry.sender.identity;
  switch (id.kind) {
    case 'none': return true;
    case 'client_cert': return who.certificate !== null && certificateMatchesIdentity(id, who.certificate);
    case 'basic': return who.basic !== null && entry.basic !== undefined && credentialsMatch(who.basic, entry.basic);
  }
}

function valuesAt(msg: Hl7Message, path: Parameters<Hl7Message['get']>[0]): string[] {
  const v = msg.get(path);
  if (Array.isArray(v)) return v.map((x) => x ?? '');
  return [v ?? ''];
}

/** Every MSH predicate of the sender holds for the message. */
export function mshMatches(sender: Sender, msg: Hl7Message): boolean {
  for (const p of sender.match) {
    const have = valuesAt(msg, p.path);
    const hit = have.some((h) => p.values.includes(h));
    if (p.op === '==' ? !hit : hit) return false;
  }
  return true;
}

export function typeMatches(t: MessageType, code: string, trigger: string): boolean {
  return (t.code === '*' || t.code.toUpperCase() === code.toUpperCase()) &&
    (t.trigger === '*' || t.trigger.toUpperCase() === trigger.toUpperCase());
}

/** Workflows the sender routes this message type to, in plan order, each once. */
export function routedWorkflows(sender: Sender, code: string, trigger: string): string[] {
  const out: string[] = [];
  for (const r of sender.routes) {
    if (r.types.some((t) => typeMatches(t, code, trigger)) && !out.includes(r.workflow)) out.push(r.workflow);
  }
  return out;
}
