/**
 * Just enough YAML for the packaging files (no YAML library is a declared dependency): block
 * maps and sequences by indentation, `key: value`, `- value`, `- key: value` items, `>-` folded
 * scalars, quoted strings, `{}` and JSON-style `[...]` flow sequences, comments. Anything else
 * is an error naming the line, so the files stay in this subset or the test says why.
 */
type Value = string | number | boolean | null | Value[] | { [k: string]: Value };

interface Line {
  readonly indent: number;
  readonly text: string;
  readonly no: number;
}

function scalar(raw: string, no: number): Value {
  const t = raw.trim();
  if (t === '{}') return {};
  if (t.startsWith('[')) {
    try {
      return JSON.parse(t) as Value;
    } catch {
      throw new Error(`line ${no}: flow sequence must be JSON-style: ${t}`);
    }
  }
  if (t.startsWith('"')) return JSON.parse(t) as string;
  if (t.startsWith("'")) return t.slice(1, -1).replace(/''/g, "'");
  if (t === 'true' || t === 'false') return t === 'true';
  if (t === '' || t === '~' || t === 'null') return null;
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  return t;
}

function stripComment(s: string): string {
  let quote = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || s[i - 1] === ' ')) return s.slice(0, i).trimEnd();
  }
  return s.trimEnd();
}

export function parseYaml(text: string): Value {
  const lines: Line[] = [];
  text.split('\n').forEach((raw, i) => {
    const body = stripComment(raw);
    if (body.trim() === '') return;
    if (raw.includes('\t')) throw new Error(`line ${i + 1}: tab in indentation`);
    lines.push({ indent: body.length - body.trimStart().length, text: body.trim(), no: i + 1 });
  });
  let pos = 0;

  function block(indent: number): Value {
    const first = lines[pos];
    if (!first || first.indent < indent) return null;
    return first.text.startsWith('- ') || first.text === '-' ? seq(first.indent) : map(first.indent);
  }

  function folded(parentIndent: number): string {
    const parts: string[] = [];
    while (lines[pos] && lines[pos]!.indent > parentIndent) parts.push(lines[pos++]!.text);
    return parts.join(' ');
  }

  function entry(out: Record<string, Value>, text: string, line: Line, childIndent: number): void {
    const m = /^("[^"]*"|'[^']*'|[^:]+?):(?:\s+(.*))?$/.exec(text);
    if (!m) throw new Error(`line ${line.no}: expected "key: value", got ${JSON.stringify(text)}`);
    const key = String(scalar(m[1]!, line.no));
    const rest = m[2];
    if (Object.hasOwn(out, key)) throw new Error(`line ${line.no}: duplicate key ${key}`);
    if (rest === undefined || rest === '') out[key] = block(childIndent + 1);
    else if (rest === '>-' || rest === '>' || rest === '|') out[key] = folded(line.indent);
    else out[key] = scalar(rest, line.no);
  }

  function map(indent: number): Record<string, Value> {
    const out: Record<string, Value> = {};
    while (pos < lines.length && lines[pos]!.indent === indent && !lines[pos]!.text.startsWith('- ')) {
      const line = lines[pos++]!;
      entry(out, line.text, line, indent);
    }
    if (pos < lines.length && lines[pos]!.indent > indent) throw new Error(`line ${lines[pos]!.no}: unexpected indentation`);
    return out;
  }

  function seq(indent: number): Value[] {
    const out: Value[] = [];
    while (pos < lines.length && lines[pos]!.indent === indent && lines[pos]!.text.startsWith('- ')) {
      const line = lines[pos++]!;
      const item = line.text.slice(2).trim();
      if (/^[^"'[{][^:]*:(\s|$)/.test(item)) {
        const obj: Record<string, Value> = {};
        entry(obj, item, line, indent + 2);
        // further keys of the same item, indented under its first key
        while (pos < lines.length && lines[pos]!.indent === indent + 2 && !lines[pos]!.text.startsWith('- ')) {
          const more = lines[pos++]!;
          entry(obj, more.text, more, indent + 2);
        }
        out.push(obj);
      } else out.push(scalar(item, line.no));
    }
    return out;
  }

  const root = block(0);
  if (pos < lines.length) throw new Error(`line ${lines[pos]!.no}: could not parse ${JSON.stringify(lines[pos]!.text)}`);
  return root;
}
