/**
 * A real RTSP server for integration tests: GStreamer's gst-rtsp-server (rtsp_server.py beside
 * this file, run by the system Python that has PyGObject) serving an H.264 MP4 on the loopback
 * interface, looped forever so that a client connecting at any time gets frames.
 *
 *   const clip = await ensureSampleClip(cacheDir, { seed: 1 });
 *   const server = await startRtspServer({ clip: clip.path });
 *   // … point a camera at server.url …
 *   await server.stop();
 *
 * With `user`/`password` the server asks for HTTP Basic authentication; `authUrl` carries the
 * credentials (percent-encoded), `url` does not. Each client gets its own pipeline from the start
 * of the clip unless `shared`. The server picks its own free port (no race); it exits when
 * stop() is called, or by itself when the test process dies (it watches its stdin).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { terminate } from './processes.ts';

export interface RtspServerOptions {
  /** An H.264 MP4 (e.g. from ensureSampleClip). */
  readonly clip: string;
  /** Port to listen on (default 0: a free one the server picks itself). Restart tests reuse one. */
  readonly port?: number;
  /** Mount path (default '/cam'). */
  readonly path?: string;
  readonly user?: string;
  readonly password?: string;
  /** One pipeline for all clients (a client joining later starts mid-clip). Default false. */
  readonly shared?: boolean;
  /** Play the clip once instead of looping (the stream then ends). Default false. */
  readonly noLoop?: boolean;
  /** How long to wait for the server to listen (default 15 000 ms). */
  readonly readyTimeoutMs?: number;
  readonly python?: string;
}

export interface RtspServer {
  /** rtsp://127.0.0.1:<port><path>, without credentials. */
  readonly url: string;
  /** The same with the credentials given in the options (equal to url when there are none). */
  readonly authUrl: string;
  readonly port: number;
  readonly pid: number;
  /** Output of the server so far (for failure messages). */
  stderr(): string;
  /** SIGTERM, SIGKILL after 5 s; resolves when the server has exited. Safe to call twice. */
  stop(): Promise<void>;
}

const SCRIPT = fileURLToPath(new URL('./rtsp_server.py', import.meta.url));

export async function startRtspServer(opts: RtspServerOptions): Promise<RtspServer> {
  const args = [SCRIPT, '--clip', opts.clip, '--path', opts.path ?? '/cam', '--port', String(opts.port ?? 0)];
  if (opts.user !== undefined) args.push('--user', opts.user, '--password', opts.password ?? '');
  if (opts.shared) args.push('--shared');
  if (opts.noLoop) args.push('--no-loop');
  // Plain `python3` on PATH may be another interpreter without gi: always the system one.
  const child = spawn(opts.python ?? '/usr/bin/python3', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    stderr = (stderr + s).slice(-20_000);
  });
  const timeoutMs = opts.readyTimeoutMs ?? 15_000;

  let url: string;
  try {
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`rtsp server not ready within ${timeoutMs} ms\n${stderr}`)), timeoutMs);
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
        clearTimeout(timer);
        reject(new Error(`rtsp server exited before it was ready (${signal ?? `code ${code}`})\n${stderr}`));
      };
      child.once('exit', onExit);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (s: string) => {
        out += s;
        const m = /^READY (rtsp:\/\/\S+)$/m.exec(out);
        if (m?.[1]) {
          clearTimeout(timer);
          child.off('exit', onExit);
          resolve(m[1]);
        }
      });
    });
  } catch (err) {
    await terminate(child, 2000);
    throw err;
  }

  const parsed = new URL(url);
  let authUrl = url;
  if (opts.user !== undefined) {
    const withAuth = new URL(url);
    withAuth.username = encodeURIComponent(opts.user);
    withAuth.password = encodeURIComponent(opts.password ?? '');
    authUrl = withAuth.toString();
  }
  let stopping: Promise<void> | undefined;
  return {
    url,
    authUrl,
    port: Number(parsed.port),
    pid: child.pid ?? -1,
    stderr: () => stderr,
    stop: () => {
      stopping ??= (async () => {
        child.stdin.end();
        await terminate(child, 5000);
      })();
      return stopping;
    },
  };
}
