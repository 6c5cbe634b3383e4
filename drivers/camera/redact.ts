/**
 * Keeps camera credentials out of logs, errors and status. RTSP URLs carry them in the userinfo
 * (`rtsp://user:secret@host/…`), and ffmpeg echoes the URL back in its own messages.
 */

/** `scheme://user:password@` — the password runs to the last `@` before the path. */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@:]*):([^\s/?#]*)@/gi;

/** Replaces the password in every URL in `text` with `***` (the user name stays, it helps support). */
export function redactUrls(text: string): string {
  return text.replace(USERINFO, (_m, scheme: string, user: string) => `${scheme}${user}:***@`);
}

/**
 * A redactor for one camera: masks URL passwords anywhere in the text and also the literal password
 * (raw and percent-decoded), which ffmpeg sometimes prints outside a URL (e.g. in auth errors).
 */
export function redactorFor(url: string): (text: string) => string {
  const secrets = new Set<string>();
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^\s/?#@:]*:([^\s/?#]*)@/i.exec(url);
  const raw = m?.[1];
  if (raw) {
    secrets.add(raw);
    try {
      secrets.add(decodeURIComponent(raw));
    } catch {
      // Not valid percent-encoding: the raw form is the only one ffmpeg can print.
    }
  }
  // Short secrets would mask ordinary words; a URL password that short is caught by the URL rule.
  const literal = [...secrets].filter((s) => s.length >= 4);
  return (text: string): string => {
    let out = redactUrls(text);
    for (const s of literal) out = out.split(s).join('***');
    return out;
  };
}
