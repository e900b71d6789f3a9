"""A local SMTP server for the benchmarks (not a test): accepts every message, keeps nothing but the
recipients, one per line, in ``--out``. Runs until it is sent SIGTERM or SIGINT.

    .venv/bin/python bench/smtp_sink.py --port 2525 --out /tmp/recipients.txt
"""

import argparse
import signal
import threading

from aiosmtpd.controller import Controller


class Recipients:
    def __init__(self, out):
        self.out = out

    async def handle_DATA(self, server, session, envelope):
        self.out.write("".join(f"{address}\n" for address in envelope.rcpt_tos))
        self.out.flush()
        return "250 Message accepted"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with open(args.out, "a", encoding="utf-8") as out:
        controller = Controller(Recipients(out), hostname="127.0.0.1", port=args.port)
        controller.start()
        print(f"SMTP sink on 127.0.0.1:{args.port}", flush=True)
        stop.wait()
        controller.stop()


if __name__ == "__main__":
    main()
