/**
 * The arithmetic of the catalogue's offer amounts ("employer_avg_wage / 30 * maternity_leave_days",
 * "age >= 100 ? 600 : age >= 90 ? 350 : 75"): numbers, citizen facts by name, + - * /,
 * comparisons, && ||, ?: and parentheses. Nothing else: no functions, no member access, no
 * strings, so a catalogue file can never run code. Parsed once, evaluated over a citizen's facts.
 *
 * A small closed grammar is written out here rather than taken from an expression library:
 * the general-purpose ones evaluate far more than a catalogue needs (functions, member
 * access), which is exactly what data must not be able to do.
 */
export type Formula =
  | { kind: 'num'; value: number }
  | { kind: 'fact'; name: string }
  | { kind: 'neg'; arg: Formula }
  | { kind: 'bin'; op: BinOp; left: Formula; right: Formula }
  | { kind: 'if'; test: Formula; then: Formula; else: Formula };

type BinOp = '+' | '-' | '*' | '/' | '>' | '<' | '>=' | '<=' | '==' | '!=' | '&&' | '||';

export class FormulaError extends Error {}

const TOKEN = /\s*(?:(\d+(?:\.\d+)?)|([a-z_][a-z0-9_]*)|(>=|<=|==|!=|&&|\|\||[-+*/()<>?:]))/y;

function tokenize(src: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  let i = 0;
  while (i < src.length) {
    if (/^\s*$/.test(src.slice(i))) break;
    TOKEN.lastIndex = i;
    const m = TOKEN.exec(src);
    if (!m) throw new FormulaError(`unexpected "${src.slice(i).trim().slice(0, 10)}" at ${i}`);
    out.push(m[1] ?? m[2] ?? m[3]!);
    i = TOKEN.lastIndex;
  }
  return out;
}

/** Parses a formula; throws FormulaError (with the position) when it is not one. */
export function parseFormula(src: string): Formula {
  const t = tokenize(src);
  let i = 0;
  const peek = () => t[i];
  const take = (want?: string): string => {
    const tok = t[i];
    if (tok === undefined || (want !== undefined && tok !== want)) throw new FormulaError(`expected ${want ?? 'a value'}, got ${tok ?? 'the end'}`);
    i++;
    return tok;
  };
  const binary = (next: () => Formula, ops: BinOp[]) => (): Formula => {
    let left = next();
    while (ops.includes(peek() as BinOp)) {
      const op = take() as BinOp;
      left = { kind: 'bin', op, left, right: next() };
    }
    return left;
  };
  const primary = (): Formula => {
    const tok = take();
    if (tok === '(') {
      const e = expr();
      take(')');
      return e;
    }
    if (tok === '-') return { kind: 'neg', arg: primary() };
    if (/^\d/.test(tok)) return { kind: 'num', value: Number(tok) };
    if (/^[a-z_]/.test(tok)) return { kind: 'fact', name: tok };
    throw new FormulaError(`unexpected "${tok}"`);
  };
  const mul = binary(primary, ['*', '/']);
  const add = binary(mul, ['+', '-']);
  const cmp = binary(add, ['>=', '<=', '>', '<', '==', '!=']);
  const and = binary(cmp, ['&&']);
  const or = binary(and, ['||']);
  const expr = (): Formula => {
    const test = or();
    if (peek() !== '?') return test;
    take('?');
    const then = expr();
    take(':');
    return { kind: 'if', test, then, else: expr() };
  };
  const f = expr();
  if (i < t.length) throw new FormulaError(`unexpected "${t[i]}"`);
  return f;
}

/** The facts a formula names (for the catalogue check). */
export function factsIn(f: Formula): string[] {
  switch (f.kind) {
    case 'num': return [];
    case 'fact': return [f.name];
    case 'neg': return factsIn(f.arg);
    case 'bin': return [...factsIn(f.left), ...factsIn(f.right)];
    case 'if': return [...factsIn(f.test), ...factsIn(f.then), ...factsIn(f.else)];
  }
}

/**
 * The formula's value over the given facts, or null when a fact it needs is unknown or not a
 * number, or the result is not a finite number (a division by zero).
 */
export function evaluateFormula(f: Formula, fact: (name: string) => unknown): number | null {
  const num = (x: Formula): number => {
    switch (x.kind) {
      case 'num': return x.value;
      case 'fact': {
        const v = fact(x.name);
        if (typeof v === 'boolean') return v ? 1 : 0;
        const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
        if (!Number.isFinite(n)) throw new FormulaError(`fact ${x.name} unknown`);
        return n;
      }
      case 'neg': return -num(x.arg);
      case 'if': return num(x.test) !== 0 ? num(x.then) : num(x.else);
      case 'bin': {
        const a = num(x.left);
        const b = num(x.right);
        switch (x.op) {
          case '+': return a + b;
          case '-': return a - b;
          case '*': return a * b;
          case '/': return a / b;
          case '>': return a > b ? 1 : 0;
          case '<': return a < b ? 1 : 0;
          case '>=': return a >= b ? 1 : 0;
          case '<=': return a <= b ? 1 : 0;
          case '==': return a === b ? 1 : 0;
          case '!=': return a !== b ? 1 : 0;
          case '&&': return a !== 0 && b !== 0 ? 1 : 0;
          case '||': return a !== 0 || b !== 0 ? 1 : 0;
        }
      }
    }
  };
  try {
    const v = num(f);
    return Number.isFinite(v) ? v : null;
  } catch (err) {
    if (err instanceof FormulaError) return null;
    throw err;
  }
}
