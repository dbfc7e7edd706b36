// A small XML reader for REST APIs declared `format xml`: elements, attributes and text become a
// value that expressions navigate like JSON. It is deliberately strict and closed: no DTD (so no
// entity definitions and no external fetches), only the five predefined entities and numeric
// character references, and a nesting limit.
//
// The value: `{ root: … }` keyed by the root element's local name. An element with neither
// attributes nor child elements is its text (a string). Any other element is a record of its
// attributes and child elements (a child that occurs more than once is a list, in document order;
// a child element wins over an attribute of the same name) with its text, when not blank, under
// `$text`. Namespace prefixes are dropped (`soap:Body` is `Body`); xmlns declarations are not kept.

export class XmlError extends Error {
  constructor(message: string, readonly line: number) {
    super(`${message} (line ${line})`);
    this.name = 'XmlError';
  }
}

const MAX_DEPTH = 256;
const NAME = /[A-Za-z_:\u00C0-\uFFFF][-A-Za-z0-9_.:\u00B7\u00C0-\uFFFF]*/y;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

interface Frame {
  name: string;
  attrs: Array<[string, string]>;
  children: Array<[string, unknown]>;
  text: string;
}

export function parseXml(text: string): Record<string, unknown> {
  return new Reader(text).document();
}

class Reader {
  private i = 0;
  constructor(private readonly s: string) {
    if (s.charCodeAt(0) === 0xfeff) this.i = 1;
  }

  private fail(message: string, at = this.i): never {
    let line = 1;
    for (let k = this.s.indexOf('\n'); k !== -1 && k < at; k = this.s.indexOf('\n', k + 1)) line++;
    throw new XmlError(message, line);
  }

  private startsWith(prefix: string): boolean {
    return this.s.startsWith(prefix, this.i);
  }

  private skipPast(end: string, what: string): void {
    const k = this.s.indexOf(end, this.i);
    if (k === -1) this.fail(`unterminated ${what}`);
    this.i = k + end.length;
  }

  /** Comments, processing instructions and the XML declaration; false at anything else. */
  private skipMisc(): boolean {
    if (this.startsWith('<!--')) { this.skipPast('-->', 'comment'); return true; }
    if (this.startsWith('<?')) { this.skipPast('?>', 'processing instruction'); return true; }
    if (this.startsWith('<!DOCTYPE') || this.startsWith('<!doctype')) this.fail('document type declarations are not accepted');
    return false;
  }

  private skipBlanks(): void {
    for (;;) {
      const c = this.s.charCodeAt(this.i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.i++;
    }
  }

  document(): Record<string, unknown> {
    for (;;) {
      this.skipBlanks();
      if (!this.skipMisc()) break;
    }
    if (this.s[this.i] !== '<') this.fail(this.i >= this.s.length ? 'no root element' : 'text before the root element');
    const [name, value] = this.element();
    for (;;) {
      this.skipBlanks();
      if (this.i >= this.s.length) break;
      if (!this.skipMisc()) this.fail('content after the root element');
    }
    const out: Record<string, unknown> = {};
    setOwn(out, name, value);
    return out;
  }

  private name(): string {
    NAME.lastIndex = this.i;
    const m = NAME.exec(this.s);
    if (!m) this.fail('expected a name');
    this.i += m[0].length;
    return m[0];
  }

  /** Reads one element (the cursor on its `<`), iteratively so depth costs no stack. */
  private element(): [string, unknown] {
    const stack: Frame[] = [];
    let result: [string, unknown] | undefined;
    const close = (frame: Frame) => {
      const value = build(frame);
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push([localName(frame.name), value]);
      else result = [localName(frame.name), value];
    };
    do {
      if (this.startsWith('</')) {
        this.i += 2;
        const name = this.name();
        this.skipBlanks();
        if (this.s[this.i] !== '>') this.fail(`expected ">" to close </${name}`);
        this.i++;
        const frame = stack.pop()!;
        if (frame.name !== name) this.fail(`</${name}> closes <${frame.name}>`);
        close(frame);
      } else if (this.startsWith('<!--') || this.startsWith('<?')) {
        this.skipMisc();
      } else if (this.startsWith('<![CDATA[')) {
        this.i += 9;
        const k = this.s.indexOf(']]>', this.i);
        if (k === -1) this.fail('unterminated CDATA section');
        stack[stack.length - 1]!.text += this.s.slice(this.i, k);
        this.i = k + 3;
      } else if (this.startsWith('<!')) {
        this.fail('document type declarations are not accepted');
      } else if (this.s[this.i] === '<') {
        this.i++;
        const frame: Frame = { name: this.name(), attrs: [], children: [], text: '' };
        if (stack.length >= MAX_DEPTH) this.fail(`elements nest deeper than ${MAX_DEPTH}`);
        let selfClosing = false;
        for (;;) {
          const before = this.i;
          this.skipBlanks();
          if (this.startsWith('/>')) { this.i += 2; selfClosing = true; break; }
          if (this.s[this.i] === '>') { this.i++; break; }
          if (this.i === before) this.fail(`expected a space, ">" or "/>" in <${frame.name}>`);
          const attr = this.name();
          this.skipBlanks();
          if (this.s[this.i] !== '=') this.fail(`attribute ${attr} has no value`);
          this.i++;
          this.skipBlanks();
          const quote = this.s[this.i];
          if (quote !== '"' && quote !== "'") this.fail(`the value of ${attr} is not quoted`);
          const end = this.s.indexOf(quote, this.i + 1);
          if (end === -1) this.fail(`unterminated value of ${attr}`);
          const raw = this.s.slice(this.i + 1, end);
          if (raw.includes('<')) this.fail(`"<" in the value of ${attr}`);
          this.i = end + 1;
          if (frame.attrs.some(([n]) => n === attr)) this.fail(`attribute ${attr} is repeated`);
          frame.attrs.push([attr, this.decode(raw, this.i)]);
        }
        if (selfClosing) close(frame);
        else stack.push(frame);
      } else {
        if (this.i >= this.s.length) this.fail(`<${stack[stack.length - 1]!.name}> is not closed`);
        const k = this.s.indexOf('<', this.i);
        const end = k === -1 ? this.s.length : k;
        stack[stack.length - 1]!.text += this.decode(this.s.slice(this.i, end), this.i);
        this.i = end;
      }
    } while (stack.length > 0);
    return result!;
  }

  private decode(raw: string, at: number): string {
    if (!raw.includes('&')) return raw;
    return raw.replace(/&([^;&\s]*);?/g, (whole, ref: string) => {
      if (!whole.endsWith(';')) this.fail('"&" must start an entity such as &amp;', at);
      if (ref in PREDEFINED) return PREDEFINED[ref]!;
      const m = /^#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}))$/.exec(ref);
      const code = m ? parseInt(m[1] ?? m[2]!, m[1] ? 16 : 10) : NaN;
      if (!m) this.fail(`unknown entity &${ref}; (only &lt; &gt; &amp; &quot; &apos; and &#…; are read)`, at);
      if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) this.fail(`&${ref}; is not a character`, at);
      return String.fromCodePoint(code);
    });
  }
}

function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon === -1 ? name : name.slice(colon + 1);
}

function build(frame: Frame): unknown {
  const attrs = frame.attrs.filter(([n]) => n !== 'xmlns' && !n.startsWith('xmlns:'));
  if (attrs.length === 0 && frame.children.length === 0) return frame.text;
  const out: Record<string, unknown> = {};
  for (const [n, v] of attrs) setOwn(out, localName(n), v);
  const seen = new Set<string>();
  for (const [n, v] of frame.children) {
    if (!seen.has(n)) {
      seen.add(n);
      setOwn(out, n, v);
      continue;
    }
    // Element values are strings or records, never lists: a list here is a repeated child.
    const prev = out[n];
    if (Array.isArray(prev)) prev.push(v);
    else setOwn(out, n, [prev, v]);
  }
  const text = frame.text.trim();
  if (text) setOwn(out, '$text', text);
  return out;
}

/** An own property even for names such as __proto__. */
function setOwn(o: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  else o[key] = value;
}
