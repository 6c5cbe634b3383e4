/**
 * Live view for technicians aiming a camera: the camera re-encoded by an ffmpeg child as MPEG-1
 * in MPEG-TS (what jsmpeg decodes in the browser) and relayed to websocket clients. The format
 * is node-rtsp-stream's; the child is ours, supervised like the frame source's: started for the
 * first viewer, stopped (q → SIGTERM → SIGKILL) when the last one leaves, credentials redacted.
 *
 * Access goes through `authorize`, which the local console supplies (its login and roles); this
 * module never serves a stream to a request that was not authorised.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { LineRing, spawnProcess, stopChild, watchExit, type ChildHandle, type ExitInfo, type SpawnFn } from './child.ts';
import { isNetworkUrl } from './ffmpeg-args.ts';
import { redactorFor } from './redact.ts';
import { systemTimers } from './timers.ts';

export interface LiveViewOptions {
  readonly cameraId: string;
  readonly url: string;
  /** Output width (height keeps the aspect ratio). Default 640: a phone on a ladder. */
  readonly width?: number;
  /** MPEG-1 allows only the broadcast rates; default 25. */
  readonly fps?: 24 | 25 | 30;
  /** MPEG-1 bitrate, e.g. '800k'. */
  readonly bitrate?: string;
  /** Files only (tests, demo): loop the clip. */
  readonly loop?: boolean;
  readonly ffmpegPath?: string;
  readonly logger?: Logger;
  readonly spawn?: SpawnFn;
}

/** The ffmpeg arguments for the MPEG-1/TS relay. */
export function liveViewArgs(o: LiveViewOptions): string[] {
  const args = ['-hide_banner', '-nostats', '-loglevel', 'warning'];
  if (isNetworkUrl(o.url)) args.push('-rtsp_transport', 'tcp', '-fflags', 'nobuffer', '-flags', 'low_delay');
  else {
    args.push('-re');
    if (o.loop) args.push('-stream_loop', '-1');
  }
  args.push('-i', o.url, '-an', '-sn', '-dn');
  args.push('-vf', `fps=${o.fps ?? 25},scale=${o.width ?? 640}:-2`);
  // No B-frames: jsmpeg's decoder does not support them.
  args.push('-codec:v', 'mpeg1video', '-b:v', o.bitrate ?? '800k', '-bf', '0', '-f', 'mpegts', 'pipe:1');
  return args;
}

/** One camera's relay: one ffmpeg child shared by every viewer. */
export class LiveViewRelay {
  readonly cameraId: string;
  private readonly clients = new Set<WebSocket>();
  private child: ChildHandle | undefined;
  private exited: Promise<ExitInfo> | undefined;
  private readonly stderr = new LineRing(100);
  private readonly log: Logger;
  private readonly redact: (s: string) => string;
  private bytesOut = 0;

  constructor(private readonly opts: LiveViewOptions) {
    this.cameraId = opts.cameraId;
    this.log = (opts.logger ?? pino({ enabled: false })).child({ module: 'live-view', cameraId: opts.cameraId });
    this.redact = redactorFor(opts.url);
  }

  get viewers(): number {
    return this.clients.size;
  }

  get bytesSent(): number {
    return this.bytesOut;
  }

  /** Adds a viewer; the relay starts with the first one. */
  add(ws: WebSocket): void {
    this.clients.add(ws);
    ws.once('close', () => {
      this.clients.delete(ws);
      if (this.clients.size === 0) this.stop().catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'live view stop failed'));
    });
    if (!this.child) this.start();
  }

  private start(): void {
    const args = liveViewArgs(this.opts);
    const child = (this.opts.spawn ?? spawnProcess)(this.opts.ffmpegPath ?? 'ffmpeg', args);
    this.child = child;
    this.exited = watchExit(child);
    this.log.info({ viewers: this.clients.size }, 'live view started');
    child.stdout?.on('data', (chunk: Buffer) => {
      for (const ws of this.clients) {
        // A viewer on a slow link falls behind: skip chunks for it rather than buffer without bound.
        if (ws.readyState === ws.OPEN && ws.bufferedAmount < 4 * 1024 * 1024) {
          ws.send(chunk);
          this.bytesOut += chunk.length;
        }
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => this.stderr.push(this.redact(chunk.toString('utf8'))));
    void this.exited.then((info) => {
      if (this.child !== child) return; // stopped on purpose
      this.child = undefined;
      this.log.warn({ code: info.code, signal: info.signal, stderr: this.stderr.lines().slice(-20) }, 'live view ffmpeg exited');
      for (const ws of this.clients) ws.close(1011, 'camera stream ended');
    });
  }

  /** Stops the child and closes every viewer. */
  async stop(): Promise<void> {
    const child = this.child;
    const exited = this.exited;
    this.child = undefined;
    for (const ws of this.clients) ws.close(1001, 'live view stopped');
    if (child && exited) await stopChild(child, exited, systemTimers);
  }
}

export interface LiveViewServerOptions {
  /** The relay for a camera id, or undefined if there is no such camera. */
  readonly relay: (cameraId: string) => LiveViewRelay | undefined;
  /** Whether this request may watch this camera (the console's session and role check). */
  readonly authorize: (req: IncomingMessage, cameraId: string) => boolean | Promise<boolean>;
  /** Path prefix; the camera id follows it. Default '/live/'. */
  readonly prefix?: string;
}

/**
 * Serves `/live/{cameraId}` websocket upgrades on an existing HTTP server. Anything else is left
 * to other upgrade handlers; unknown cameras get 404, unauthorised requests 401, before any
 * websocket is opened.
 */
export function attachLiveView(server: Server, opts: LiveViewServerOptions): { close(): void } {
  const wss = new WebSocketServer({ noServer: true });
  const prefix = opts.prefix ?? '/live/';
  const refuse = (socket: Duplex, status: string): void => {
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (!path.startsWith(prefix)) return;
    const cameraId = decodeURIComponent(path.slice(prefix.length));
    const relay = opts.relay(cameraId);
    if (!relay) return refuse(socket, '404 Not Found');
    Promise.resolve(opts.authorize(req, cameraId)).then(
      (ok) => {
        if (!ok) return refuse(socket, '401 Unauthorized');
        wss.handleUpgrade(req, socket, head, (ws) => relay.add(ws));
      },
      () => refuse(socket, '500 Internal Server Error'),
    );
  };
  server.on('upgrade', onUpgrade);
  return {
    close: () => {
      server.off('upgrade', onUpgrade);
      wss.close();
    },
  };
}
