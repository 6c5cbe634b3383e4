#!/usr/bin/python3
"""A loopback RTSP server for integration tests: serves one H.264 MP4 clip, looped forever.

Run with the system interpreter that has PyGObject and GstRtspServer (/usr/bin/python3):

    /usr/bin/python3 rtsp_server.py --clip sample.mp4 [--port 0] [--path /cam]
                                    [--user U --password P] [--shared]

Prints exactly one line `READY rtsp://127.0.0.1:<port><path>` on stdout once it listens
(port 0 picks a free one, so there is no race for it). Exits on SIGTERM/SIGINT, or when its stdin
reaches EOF (the parent died), so a crashed test run leaves no server behind.

The clip is passed through without re-encoding (qtdemux ! h264parse ! rtph264pay). Looping
happens between the demuxer and the parser, out of the RTSP server's sight: at the end of the
file the EOS is dropped, the demuxer alone is rewound with a flushing seek (its flushes are
dropped too), and its new segment is re-based to the running time the last pass reached, so the
stream runs on with increasing timestamps. Nothing touches the state of the server's pipeline,
which gst-rtsp-server manages itself (seeking that pipeline behind its back races with its
preroll handling).
Each client gets its own pipeline from the start of the clip unless --shared.
"""
import argparse
import os
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clip", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--path", default="/cam")
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--shared", action="store_true")
    ap.add_argument("--no-loop", action="store_true")
    args = ap.parse_args()

    clip = os.path.abspath(args.clip)
    if not os.path.isfile(clip):
        print(f"rtsp_server: no such clip: {clip}", file=sys.stderr)
        return 2

    Gst.init(None)
    loop = GLib.MainLoop()

    server = GstRtspServer.RTSPServer()
    server.set_address(args.host)
    server.set_service(str(args.port))

    factory = GstRtspServer.RTSPMediaFactory()
    location = clip.replace("\\", "\\\\").replace('"', '\\"')
    factory.set_launch(
        f'( filesrc location="{location}" ! qtdemux name=demux ! h264parse name=parse '
        "! rtph264pay name=pay0 pt=96 config-interval=1 )"
    )
    factory.set_shared(args.shared)

    def on_media_configure(_factory, media):
        if args.no_loop:
            return
        sinkpad = media.get_element().get_by_name("parse").get_static_pad("sink")
        # segment: the one in force at the parser; end: running time reached so far;
        # rewinding: our own seek is under way (its flushes and segment are ours to handle).
        st = {"segment": None, "end": 0, "rewinding": False}

        def rewind():
            st["rewinding"] = True
            sinkpad.push_event(
                Gst.Event.new_seek(1.0, Gst.Format.TIME, Gst.SeekFlags.FLUSH, Gst.SeekType.SET, 0, Gst.SeekType.NONE, -1)
            )
            return GLib.SOURCE_REMOVE

        def on_item(_pad, info):
            if info.type & Gst.PadProbeType.BUFFER:
                buf = info.get_buffer()
                seg = st["segment"]
                if seg is not None and buf.pts != Gst.CLOCK_TIME_NONE:
                    running = seg.to_running_time(Gst.Format.TIME, buf.pts)
                    duration = buf.duration if buf.duration != Gst.CLOCK_TIME_NONE else 0
                    if running != Gst.CLOCK_TIME_NONE:
                        st["end"] = max(st["end"], running + duration)
                return Gst.PadProbeReturn.OK
            event = info.get_event()
            if event is None:
                return Gst.PadProbeReturn.OK
            if event.type == Gst.EventType.EOS:
                # End of the file: rewind the demuxer instead of ending the stream. The seek is
                # made from the main loop, since this is the demuxer's streaming thread.
                GLib.idle_add(rewind)
                return Gst.PadProbeReturn.DROP
            if st["rewinding"] and event.type in (Gst.EventType.FLUSH_START, Gst.EventType.FLUSH_STOP):
                # Our rewind flushes the demuxer only; the parser, payloader and the server's
                # pipeline carry on as if nothing happened.
                return Gst.PadProbeReturn.DROP
            if event.type == Gst.EventType.SEGMENT:
                segment = event.parse_segment().copy()
                if st["rewinding"]:
                    # The demuxer starts again at running time 0; continue from where the last
                    # pass ended so that timestamps (and RTP timestamps) keep increasing.
                    st["rewinding"] = False
                    segment.base = st["end"]
                    st["segment"] = segment
                    sinkpad.send_event(Gst.Event.new_segment(segment))
                    return Gst.PadProbeReturn.DROP
                st["segment"] = segment
            return Gst.PadProbeReturn.OK

        sinkpad.add_probe(Gst.PadProbeType.BUFFER | Gst.PadProbeType.EVENT_DOWNSTREAM | Gst.PadProbeType.EVENT_FLUSH, on_item)

    factory.connect("media-configure", on_media_configure)

    if args.user is not None:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "viewer")
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args.user, args.password or ""), token)
        server.set_auth(auth)
        permissions = GstRtspServer.RTSPPermissions()
        permissions.add_permission_for_role("viewer", GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS, True)
        permissions.add_permission_for_role("viewer", GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, True)
        factory.set_permissions(permissions)

    server.get_mount_points().add_factory(args.path, factory)
    if server.attach(None) == 0:
        print(f"rtsp_server: cannot listen on {args.host}:{args.port}", file=sys.stderr)
        return 1

    def quit_loop(*_):
        loop.quit()
        return GLib.SOURCE_REMOVE

    GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGTERM, quit_loop)
    GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGINT, quit_loop)

    def on_stdin(fd, _condition):
        # EOF (or an error) on stdin: the parent is gone.
        try:
            data = os.read(fd, 4096)
        except OSError:
            data = b""
        if not data:
            loop.quit()
            return GLib.SOURCE_REMOVE
        return GLib.SOURCE_CONTINUE

    GLib.unix_fd_add_full(GLib.PRIORITY_DEFAULT, sys.stdin.fileno(), GLib.IOCondition.IN | GLib.IOCondition.HUP | GLib.IOCondition.ERR, on_stdin)

    print(f"READY rtsp://{args.host}:{server.get_bound_port()}{args.path}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
