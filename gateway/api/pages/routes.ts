/** The console's pages and static assets, as entries of the one route table. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { RouteDef } from '../route-table.ts';
import type { Role } from '../types.ts';
import { CONSOLE_CSS, CONSOLE_JS } from './assets.ts';
import { healthSnapshot } from '../health-snapshot.ts';
import { healthBody } from './health.ts';
import { esc, shell } from './html.ts';

const HOME: Record<Role, string> = { technician: '/health', investigator: '/search', auditor: '/audit', admin: '/admin' };

let jsmpeg: string | undefined;
function jsmpegSource(): string {
  // The package exports only its module builds; the browser build sits beside them in dist/.
  jsmpeg ??= readFileSync(join(dirname(createRequire(import.meta.url).resolve('@cycjimmy/jsmpeg-player')), 'jsmpeg-player.umd.min.js'), 'utf8');
  return jsmpeg;
}

const who = (c: Parameters<RouteDef['handler']>[0]) => (c.session ? { username: c.session.username, role: c.session.role } : undefined);

function page(id: string, url: string, title: string, access: RouteDef['access'], body: (c: Parameters<RouteDef['handler']>[0]) => string | Promise<string>, mfa?: boolean): RouteDef {
  return {
    id, method: 'GET', url, access, page: true, summary: `Page: ${title}`, ...(mfa !== undefined ? { mfa } : {}),
    handler: async (c) => c.reply.type('text/html; charset=utf-8').header('cache-control', 'no-store')
      .send(shell({ title, page: id.replace(/^page\./, ''), device: c.con.settings.deviceId, ...(who(c) ? { user: who(c)! } : {}), body: await body(c) })),
  };
}

const field = (name: string, label: string, attrs = ''): string => `<label>${esc(label)}<input name="${name}" ${attrs}></label>`;

export const pageRoutes: readonly RouteDef[] = [
  {
    id: 'page.root', method: 'GET', url: '/', access: 'public', page: true, summary: 'Sends a visitor to setup, sign-in or their role\'s first page',
    handler: async (c) => c.reply.redirect(c.con.accounts.size === 0 ? '/setup' : c.session ? HOME[c.session.role] : '/login'),
  },
  page('page.setup', '/setup', 'First-run setup', 'public', (c) => c.con.accounts.size > 0 || c.con.accounts.setupProblem !== undefined
    ? `<p>${c.con.accounts.size > 0 ? 'Setup is done. <a href="/login">Sign in</a>.' : `<span class="bad">${esc(c.con.accounts.setupProblem)}</span>`}</p>`
    : `<p>No account exists yet. Create the first administrator. There is no default password.</p>
<form id="setup-form">${field('username', 'User name', 'required autocomplete="username"')}${field('password', 'Password (at least ' + String(c.con.settings.api.minPasswordLength) + ' characters)', 'type="password" required autocomplete="new-password"')}<button>Create admin</button></form>`),
  page('page.login', '/login', 'Sign in', 'public', () => `
<section id="step-password"><form id="password-form">${field('username', 'User name', 'required autocomplete="username"')}${field('password', 'Password', 'type="password" required autocomplete="current-password"')}<button>Next</button></form></section>
<section id="step-totp" hidden><form id="totp-form">${field('code', 'Code from your authenticator app', 'inputmode="numeric" pattern="[0-9]{6}" required autocomplete="one-time-code"')}<button>Sign in</button></form></section>
<section id="step-enrol" hidden><p>Enrol a second factor: add this key to an authenticator app (TOTP, 6 digits, 30 s), then enter its current code.</p>
<p>Key: <code class="secret" id="totp-secret"></code></p><p><small id="totp-uri"></small></p>
<form id="enrol-form">${field('code', 'Code', 'inputmode="numeric" pattern="[0-9]{6}" required')}<button>Confirm</button></form></section>
<section id="step-unlock" hidden><form id="unlock-form">${field('password', 'Password', 'type="password" required')}${field('code', 'Code (if you signed in with one)', 'inputmode="numeric"')}<button>Unlock</button></form></section>`),
  page('page.password', '/password', 'Change password', 'session', (c) => `
<form id="password-change-form">${field('currentPassword', 'Current password', 'type="password" required autocomplete="current-password"')}${field('newPassword', 'New password (at least ' + String(c.con.settings.api.minPasswordLength) + ' characters)', 'type="password" required autocomplete="new-password"')}<button>Change</button></form>`),
  page('page.health', '/health', 'Health', ['technician', 'admin'], async (c) => healthBody(await healthSnapshot(c.con), c.con.now()), false),
  page('page.live', '/live', 'Live view', ['technician', 'admin'], (c) => `
<form><label>Camera<select id="live-camera">${c.con.settings.cameras.map((id) => `<option>${esc(id)}</option>`).join('')}</select></label></form>
${c.con.deps.liveView ? '<canvas id="live-canvas" width="640" height="360"></canvas><script src="/assets/jsmpeg.min.js"></script>' : '<p class="na">Live view is not available on this gateway (n/a).</p>'}`, false),
  page('page.commissioning', '/commissioning', 'Commissioning', ['technician'], (c) => `
<p>Enter the test vehicle's plate, drive past the camera the number of times given, then finish to get the signed report.</p>
<form id="start-form"><label>Camera<select name="cameraId">${c.con.settings.cameras.map((id) => `<option>${esc(id)}</option>`).join('')}</select></label>${field('plate', 'Test plate', 'required pattern="[A-Za-z0-9]{2,10}"')}${field('passes', 'Passes', 'type="number" min="1" max="50" value="5" required')}<button>Start</button></form>
<p id="run"></p>
<table><thead><tr><th>#</th><th>time</th><th>read</th><th>result</th><th>confidence</th><th>pixels on plate</th><th>focus</th></tr></thead><tbody id="passes"></tbody></table>
<form id="finish-form"><button>Finish and sign report</button></form><pre id="report"></pre>`),
  page('page.search', '/search', 'Detection search', ['investigator'], (c) => `
<p>Every search is recorded with your name, address, terms, case number and purpose (P8), and may be drawn for audit (P10).</p>
<form id="search-form">${field('caseNumber', 'Case number')}${field('purpose', 'Purpose', 'size="40"')}${field('plate', 'Plate (* and ? wildcards)')}${field('from', 'From', 'type="datetime-local" step="1"')}${field('to', 'To', 'type="datetime-local" step="1"')}<label>Camera<select name="cameraId"><option value="">any</option>${c.con.settings.cameras.map((id) => `<option>${esc(id)}</option>`).join('')}</select></label><button>Search</button></form>
<p id="result-count"></p>
<table><thead><tr><th></th><th>plate</th><th>time</th><th>camera</th><th>kind</th><th>plate image</th><th>overview</th><th></th></tr></thead><tbody id="results"></tbody></table>
<pre id="detail"></pre>
<form id="hold-form" hidden>${field('reason', 'Hold reason', 'size="40" required')}<button>Place evidence hold on selected</button></form>
<h2>Export a hold</h2>
<form id="export-form">${field('holdId', 'Hold id', 'id="hold-id" size="38" required')}${field('purpose', 'Purpose of this export')}${field('agency', 'Receiving agency')}${field('requester', 'Requester')}${field('releasePurpose', 'Release purpose (from the written request)')}${field('approver', 'Approved by')}${field('requestRef', 'Request reference')}${field('password', 'Bundle password (12+)', 'type="password"')}<button>Export</button></form>
<p id="export-result"></p>`),
  page('page.audit', '/audit', 'Audit log', ['auditor'], (c) => `
<form id="audit-form">${field('purpose', 'Purpose', 'size="30"')}${field('user', 'User')}${field('action', 'Action (or prefix ending in .)')}<label>Outcome<select name="outcome"><option value="">any</option><option>ok</option><option>refused</option><option>error</option><option>not-found</option></select></label>${field('caseNumber', 'Case number')}${field('from', 'From', 'type="datetime-local"')}${field('to', 'To', 'type="datetime-local"')}<button>Show entries</button></form>
<p id="entry-count"></p>
<table><thead><tr><th>#</th><th>time</th><th>user</th><th>address</th><th>action</th><th>outcome</th><th>case</th><th>purpose</th><th>terms</th><th>count</th><th>detail</th></tr></thead><tbody id="entries"></tbody></table>
<h2>Chain verification</h2><form id="verify-form">${field('purpose', 'Purpose')}<button>Verify audit chain</button></form><p id="verify-result"></p>
<form id="chain-form">${field('purpose', 'Purpose')}${field('day', 'Day (UTC)', 'type="date" required')}<label>Camera<select name="camera">${c.con.settings.cameras.map((id) => `<option>${esc(id)}</option>`).join('')}</select></label><button>Verify detection chain</button></form><p id="chain-result"></p>
<h2>Random sample (P10)</h2><form id="sample-form">${field('purpose', 'Purpose')}${field('seed', 'Seed (blank: random)', 'type="number" min="0"')}${field('count', 'Count', 'type="number" min="1" value="10"')}<button>Draw sample</button></form><pre id="sample-result"></pre>`),
  page('page.admin', '/admin', 'Accounts', ['admin'], () => `
<table><thead><tr><th>user</th><th>role</th><th>2nd factor</th><th>locked</th><th>disabled</th><th>created by</th><th></th></tr></thead><tbody id="accounts"></tbody></table>
<h2>New account</h2><form id="create-form">${field('username', 'User name', 'required')}<label>Role<select name="role"><option>technician</option><option>investigator</option><option>auditor</option><option>admin</option></select></label>${field('password', 'Initial password', 'type="password" required')}<button>Create</button></form>
<h2>Tamper lock</h2><form id="tamper-form">${field('reason', 'Why it is safe to clear', 'size="40" required')}<button>Clear tamper lock</button></form>`),
  {
    id: 'asset.css', method: 'GET', url: '/assets/console.css', access: 'public', summary: 'Console stylesheet',
    handler: async ({ reply }) => reply.type('text/css; charset=utf-8').send(CONSOLE_CSS),
  },
  {
    id: 'asset.js', method: 'GET', url: '/assets/console.js', access: 'public', summary: 'Console script',
    handler: async ({ reply }) => reply.type('text/javascript; charset=utf-8').send(CONSOLE_JS),
  },
  {
    id: 'asset.jsmpeg', method: 'GET', url: '/assets/jsmpeg.min.js', access: 'public', summary: 'jsmpeg (live view decoder), served from the device',
    handler: async ({ reply }) => reply.type('text/javascript; charset=utf-8').send(jsmpegSource()),
  },
];
