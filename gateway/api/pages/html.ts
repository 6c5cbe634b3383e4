/** HTML escaping and the page shell every console page shares (no framework, no CDN). */
import type { Role } from '../types.ts';

export function esc(v: unknown): string {
  return String(v).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

const NAV: Record<Role, readonly [string, string][]> = {
  technician: [['/health', 'Health'], ['/live', 'Live view'], ['/commissioning', 'Commissioning']],
  investigator: [['/search', 'Detection search']],
  auditor: [['/audit', 'Audit log']],
  admin: [['/admin', 'Accounts'], ['/health', 'Health'], ['/live', 'Live view']],
};

export interface Shell {
  readonly title: string;
  /** data-page attribute: which part of console.js runs. */
  readonly page: string;
  readonly device: string;
  readonly user?: { readonly username: string; readonly role: Role };
  readonly body: string;
}

export function shell(s: Shell): string {
  const nav = s.user ? NAV[s.user.role].map(([href, label]) => `<a href="${href}">${esc(label)}</a>`).join('') : '';
  const who = s.user ? `<span class="who">${esc(s.user.username)} (${esc(s.user.role)}) <a href="/password">password</a> <button type="button" id="logout">Sign out</button></span>` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(s.title)} — ALPR ${esc(s.device)}</title>
<link rel="stylesheet" href="/assets/console.css">
</head>
<body data-page="${esc(s.page)}">
<header><strong>ALPR console · ${esc(s.device)}</strong><nav>${nav}</nav>${who}</header>
<main>
<h1>${esc(s.title)}</h1>
<div id="message" role="alert"></div>
${s.body}
</main>
<script src="/assets/console.js"></script>
</body>
</html>
`;
}
