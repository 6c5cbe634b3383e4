/**
 * US registration formats, as data. `#` is a digit, `@` a letter; any other character must match
 * itself. Sources: the states' current and recent standard passenger series (plates stay on the
 * road for a decade or more, so older series are listed too). Vanity and specialty plates follow
 * no format and are never forced into one (see disambiguate.ts).
 *
 * Keys are two-letter lower-case state codes (plus "dc"); GENERIC_FORMATS holds the shapes common
 * across many states, used when the state is unknown.
 */
export const US_STATE_FORMATS: Readonly<Record<string, readonly string[]>> = {
  al: ['#@#####', '##@####', '#@####@', '##@###@', '#@@####'],
  ak: ['@@@###'],
  az: ['@@@####', '###@@@'],
  ar: ['###@@@', '@@@###'],
  ca: ['#@@@###', '###@###'],
  co: ['###@@@', '@@@###', '@@@####'],
  ct: ['###@@@', '@@#####', '#@@@@#'],
  de: ['######', '#####', '####'],
  dc: ['@@####', '@@@###'],
  fl: ['@@@@##', '###@@@', '@##@@@', '@@@#@@'],
  ga: ['@@@####', '###@@@'],
  hi: ['@@@###'],
  id: ['#@#####', '#@@####', '#@####', '##@####'],
  il: ['@@#####', '@######', '#######'],
  in: ['###@', '###@@', '###@@@'],
  ia: ['@@@###', '###@@@'],
  ks: ['###@@@'],
  ky: ['###@@@'],
  la: ['@@@###', '###@@@'],
  me: ['####@@', '###@@'],
  md: ['#@@####', '@@@####', '###@###'],
  ma: ['#@@@##', '###@@#', '#@@###', '##@@##'],
  mi: ['@@@####', '#@@@##', '@@@###'],
  mn: ['###@@@', '@@@###'],
  ms: ['@@@####', '@@@###'],
  mo: ['@@#@#@'],
  mt: ['#######', '##@###@'],
  ne: ['@@@###', '###@@@', '##@###'],
  nv: ['###@##', '#@@###', '##@###'],
  nh: ['#######', '###@###'],
  nj: ['@##@@@', '@@@##@'],
  nm: ['@@@###', '###@@@'],
  ny: ['@@@####', '@@@###'],
  nc: ['@@@####', '@@@###'],
  nd: ['###@@@'],
  oh: ['@@@####', '@@@###'],
  ok: ['@@@###', '###@@@'],
  or: ['###@@@', '@@@###'],
  pa: ['@@@####', '@@@###'],
  ri: ['@@###', '######', '#####', '@@@###'],
  sc: ['@@@###', '###@@@'],
  sd: ['#@@###', '##@###', '#@####'],
  tn: ['###@@@', '@@@###', '#@#####'],
  tx: ['@@@####', '###@@@', '@@@@##', '@##@@@'],
  ut: ['@###@@', '###@@@', '#@@#@'],
  vt: ['@@@###', '###@###'],
  va: ['@@@####', '@@@###', '###@@@'],
  wa: ['@@@####', '###@@@'],
  wv: ['#@@###', '@@@###', '##@###'],
  wi: ['@@@####', '###@@@', '@@@###'],
  wy: ['#####', '######', '#@####', '##@###'],
};

/** Shapes shared by many states; the fallback when the state is not known. */
export const GENERIC_FORMATS: readonly string[] = [
  '@@@###',
  '###@@@',
  '@@@####',
  '#@@@###',
  '@@#####',
  '#@@####',
  '@@@@##',
  '#@@###',
  '##@###',
  '###@###',
  '######',
  '#######',
];

/** Every format of every state plus the generic ones, without duplicates. */
export function allFormats(): string[] {
  return [...new Set([...GENERIC_FORMATS, ...Object.values(US_STATE_FORMATS).flat()])];
}

/** The states whose formats include one that `text` fits exactly. */
export function statesFitting(text: string): string[] {
  return Object.entries(US_STATE_FORMATS)
    .filter(([, formats]) => formats.some((f) => fitsFormat(text, f)))
    .map(([state]) => state);
}

const DIGIT = /[0-9]/;
const LETTER = /[A-Z]/;

/**
 * True when `text` fits `format` character by character. "0" fits a letter slot too: on most US
 * plates O and 0 share one glyph, and this engine reports both as 0 (see CANONICAL_ZERO).
 */
export function fitsFormat(text: string, format: string): boolean {
  if (text.length !== format.length) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const f = format[i]!;
    if (f === '#' ? !DIGIT.test(c) : f === '@' ? !(LETTER.test(c) || c === '0') : c !== f) return false;
  }
  return true;
}
