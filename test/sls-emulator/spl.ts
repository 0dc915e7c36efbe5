/**
 * The emulator's subset of SLS SPL (the processing language of PullLogs `query` with
 * `pullMode=scan_on_stream`, and of consume processors):
 *
 *   * | where <cond> | project a, b | project-away c | extend d = 'x', e = 1
 *
 * `<cond>`: comparisons (= != <> < > <= >=, numeric when both sides are numbers), `like` with `%`
 * and `_`, `and`, `or`, `not`, parentheses. Fields are names or "double-quoted" names; strings
 * are 'single-quoted'. A missing field compares false. Enough to prove filtering, column trimming
 * and cursor movement; anything else is a syntax error with its position, as SLS answers one.
 */
import type { Field } from '../../src/decode/log-group';

export class SplError extends Error {}

type Value = { kind: 'field'; name: string } | { kind: 'literal'; value: string };
type Cond =
  | { op: 'and' | 'or'; left: Cond; right: Cond }
  | { op: 'not'; inner: Cond }
  | { op: 'cmp'; cmp: string; left: Value; right: Value }
  | { op: 'like'; left: Value; pattern: RegExp };
type Command =
  | { kind: 'where'; cond: Cond }
  | { kind: 'project'; names: string[] }
  | { kind: 'project-away'; names: string[] }
  | { kind: 'extend'; pairs: Array<[string, string]> };

type Token = { type: 'ident' | 'qident' | 'string' | 'number' | 'op' | 'punct'; text: string; at: number };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:(\d+(?:\.\d+)?)|'((?:[^'\\]|\\.|'')*)'|"((?:[^"\\]|\\.)*)"|(project-away|[A-Za-z_][A-Za-z0-9_.:]*)|(<=|>=|!=|<>|=|<|>)|([|,()*]))/y;
  let at = 0;
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) throw new SplError(`SPL syntax error at position ${at}: unexpected "${text.slice(at, at + 12).trim()}"`);
    const start = m.index + m[0].length - m[0].trimStart().length;
    if (m[1] !== undefined) tokens.push({ type: 'number', text: m[1], at: start });
    else if (m[2] !== undefined) tokens.push({ type: 'string', text: m[2].replace(/''/g, "'").replace(/\\(.)/g, '$1'), at: start });
    else if (m[3] !== undefined) tokens.push({ type: 'qident', text: m[3].replace(/\\(.)/g, '$1'), at: start });
    else if (m[4] !== undefined) tokens.push({ type: 'ident', text: m[4], at: start });
    else if (m[5] !== undefined) tokens.push({ type: 'op', text: m[5], at: start });
    else tokens.push({ type: 'punct', text: m[6]!, at: start });
    at = re.lastIndex;
  }
  return tokens;
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[], private readonly text: string) {}

  statement(): Command[] {
    this.expect('*');
    const commands: Command[] = [];
    while (this.peek()) {
      this.expect('|');
      commands.push(this.command());
    }
    return commands;
  }

  private command(): Command {
    const word = this.next('a command (where, project, project-away, extend)');
    const name = word.text.toLowerCase();
    if (name === 'where') return { kind: 'where', cond: this.or() };
    if (name === 'project' || name === 'project-away') return { kind: name, names: this.names() };
    if (name === 'extend') {
      const pairs: Array<[string, string]> = [];
      do {
        const field = this.name();
        this.expect('=');
        const value = this.next('a constant');
        if (value.type !== 'string' && value.type !== 'number') this.fail(value, 'extend takes a constant here');
        pairs.push([field, value.text]);
      } while (this.accept(','));
      return { kind: 'extend', pairs };
    }
    return this.fail(word, `unknown command "${word.text}"`);
  }

  private or(): Cond {
    let left = this.and();
    while (this.acceptWord('or')) left = { op: 'or', left, right: this.and() };
    return left;
  }

  private and(): Cond {
    let left = this.not();
    while (this.acceptWord('and')) left = { op: 'and', left, right: this.not() };
    return left;
  }

  private not(): Cond {
    if (this.acceptWord('not')) return { op: 'not', inner: this.not() };
    if (this.accept('(')) {
      const inner = this.or();
      this.expect(')');
      return inner;
    }
    const left = this.value();
    if (this.acceptWord('like')) {
      const p = this.next('a pattern');
      if (p.type !== 'string') this.fail(p, 'like takes a quoted pattern');
      const re = p.text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.');
      return { op: 'like', left, pattern: new RegExp(`^${re}$`, 's') };
    }
    const op = this.next('a comparison');
    if (op.type !== 'op') this.fail(op, 'expected a comparison (=, !=, <, >, <=, >=) or like');
    return { op: 'cmp', cmp: op.text, left, right: this.value() };
  }

  private value(): Value {
    const t = this.next('a field or a constant');
    if (t.type === 'ident' || t.type === 'qident') return { kind: 'field', name: t.text };
    if (t.type === 'string' || t.type === 'number') return { kind: 'literal', value: t.text };
    return this.fail(t, 'expected a field or a constant');
  }

  private names(): string[] {
    const names = [this.name()];
    while (this.accept(',')) names.push(this.name());
    return names;
  }

  private name(): string {
    const t = this.next('a field name');
    if (t.type !== 'ident' && t.type !== 'qident') this.fail(t, 'expected a field name');
    return t.text;
  }

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }

  private next(what: string): Token {
    const t = this.tokens[this.i++];
    if (!t) throw new SplError(`SPL syntax error at the end of "${this.text}": expected ${what}`);
    return t;
  }

  private accept(text: string): boolean {
    if (this.peek()?.text !== text) return false;
    this.i++;
    return true;
  }

  private acceptWord(word: string): boolean {
    const t = this.peek();
    if (t?.type !== 'ident' || t.text.toLowerCase() !== word) return false;
    this.i++;
    return true;
  }

  private expect(text: string): void {
    const t = this.next(`"${text}"`);
    if (t.text !== text) this.fail(t, `expected "${text}"`);
  }

  private fail(t: Token, why: string): never {
    throw new SplError(`SPL syntax error at position ${t.at} ("${t.text}"): ${why}`);
  }
}

export type SplProgram = (fields: Field[]) => Field[] | undefined;

/** Compiles a statement; the program answers a record's new fields, or undefined when it is filtered out. */
export function compileSpl(text: string): SplProgram {
  const commands = new Parser(tokenize(text), text).statement();
  return (fields) => {
    let out = fields;
    for (const c of commands) {
      if (c.kind === 'where') {
        if (!test(c.cond, out)) return undefined;
      } else if (c.kind === 'project') out = out.filter(([k]) => c.names.includes(k));
      else if (c.kind === 'project-away') out = out.filter(([k]) => !c.names.includes(k));
      else out = [...out.filter(([k]) => !c.pairs.some(([n]) => n === k)), ...c.pairs];
    }
    return out;
  };
}

function resolve(v: Value, fields: Field[]): string | undefined {
  return v.kind === 'literal' ? v.value : fields.find(([k]) => k === v.name)?.[1];
}

function test(c: Cond, fields: Field[]): boolean {
  switch (c.op) {
    case 'and': return test(c.left, fields) && test(c.right, fields);
    case 'or': return test(c.left, fields) || test(c.right, fields);
    case 'not': return !test(c.inner, fields);
    case 'like': {
      const left = resolve(c.left, fields);
      return left !== undefined && c.pattern.test(left);
    }
    case 'cmp': return compare(c.cmp, resolve(c.left, fields), resolve(c.right, fields));
  }
}

function compare(cmp: string, left: string | undefined, right: string | undefined): boolean {
  if (left === undefined || right === undefined) return false;
  const numeric = left.trim() !== '' && right.trim() !== '' && !Number.isNaN(Number(left)) && !Number.isNaN(Number(right));
  const order = numeric ? Math.sign(Number(left) - Number(right)) : left < right ? -1 : left > right ? 1 : 0;
  switch (cmp) {
    case '=': return order === 0;
    case '!=': case '<>': return order !== 0;
    case '<': return order < 0;
    case '>': return order > 0;
    case '<=': return order <= 0;
    default: return order >= 0;
  }
}
