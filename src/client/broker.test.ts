import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  blake3,
  brokerDeadlineMs,
  DEFAULT_BROKER_DEADLINE_MS,
  helloRequest,
  negotiate,
  parseFields,
  readHelloReply,
  type ReadText,
  sharedBrokerSocket,
  userIdentity,
} from "./broker.ts";

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

function fromHex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));
}

function ascii(s: string): string {
  return Buffer.from(s, "latin1").toString("hex");
}

// A protobuf writer of the test's own, so the client's codec is not checked against itself.
type PbValue = number | string | Uint8Array;
function pb(fields: readonly (readonly [number, PbValue])[]): Uint8Array {
  const out: number[] = [];
  const varint = (n: number): void => {
    let v = n;
    while (v > 127) {
      out.push((v & 127) | 128);
      v = Math.floor(v / 128);
    }
    out.push(v);
  };
  for (const [field, value] of fields) {
    if (typeof value === "number") {
      varint(field << 3);
      varint(value);
    } else {
      const b = typeof value === "string" ? new TextEncoder().encode(value) : value;
      varint((field << 3) | 2);
      varint(b.length);
      out.push(...b);
    }
  }
  return Uint8Array.from(out);
}

/** A response Frame body carrying `reply` (a HelloReply), with envelope fields overridable. */
function responseFrame(reply: Uint8Array, over: { envelope?: number; kind?: number; protocol?: number; encoding?: number } = {}): Uint8Array {
  return pb([
    [1, over.envelope ?? 1],
    [2, over.kind ?? 1],
    [3, over.protocol ?? 0],
    [4, reply],
    [5, 1],
    [6, over.encoding ?? 0],
  ]);
}

function negotiatedReply(endpoint: string, protocol = 1): Uint8Array {
  return pb([[1, pb([[1, protocol], [2, "running-process-broker-v1/4.0.0"], [3, endpoint], [6, 60], [8, 7]])]]);
}

function framed(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + body.length);
  out[0] = 1;
  new DataView(out.buffer).setUint32(1, body.length, true);
  out.set(body, 5);
  return out;
}

describe("blake3", () => {
  // The official test vectors (BLAKE3-team/BLAKE3 test_vectors.json): input byte i is i % 251.
  const input = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i % 251);
  test.each([
    [0, "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"],
    [1, "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213"],
    [1023, "10108970eeda3eb932baac1428c7a2163b0e924c9a9e25b35bba72b28f70bd11"],
    [1024, "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7"],
  ])("%d bytes", (n, digest) => {
    expect(hex(blake3(input(n)) ?? new Uint8Array())).toBe(digest);
  });

  test("more than one chunk is not supported", () => {
    expect(blake3(input(1025))).toBeNull();
  });
});

describe("discovery", () => {
  const files = (m: Record<string, string | "absent" | null>): ReadText => (p) => (p in m ? (m[p] as string | "absent" | null) : "absent");

  test("the identity is the uid and the first non-empty machine id, else the boot id", () => {
    expect(userIdentity(1000, files({ "/etc/machine-id": "abc\n", "/var/lib/dbus/machine-id": "def\n" }))).toBe("1000:abc");
    expect(userIdentity(1000, files({ "/etc/machine-id": " \n", "/var/lib/dbus/machine-id": "def\n" }))).toBe("1000:def");
    expect(userIdentity(0, files({ "/proc/sys/kernel/random/boot_id": "b-1\n" }))).toBe("0:boot:b-1");
    expect(userIdentity(0, files({}))).toBeNull();
    // Unreadable (not absent): no identity rather than a guess that names another broker.
    expect(userIdentity(0, files({ "/etc/machine-id": null, "/var/lib/dbus/machine-id": "def" }))).toBeNull();
  });

  test("the shared broker's socket is named by a BLAKE3 hash of the identity", () => {
    const digest = hex(blake3(new TextEncoder().encode("1000:abc")) ?? new Uint8Array()).slice(0, 16);
    expect(sharedBrokerSocket({ XDG_RUNTIME_DIR: "/run/user/1000/" }, 1000, "1000:abc")).toBe(
      `/run/user/1000/running-process/broker/rpb-v1-${digest}-shared.sock`,
    );
    expect(sharedBrokerSocket({}, 1000, "1000:abc")).toBe(`/tmp/running-process-1000/broker/rpb-v1-${digest}-shared.sock`);
    expect(sharedBrokerSocket({ XDG_RUNTIME_DIR: "" }, 7, "x")).toStartWith("/tmp/running-process-7/broker/rpb-v1-");
    expect(sharedBrokerSocket({}, 7, "1000:abc")).not.toBe(sharedBrokerSocket({}, 7, "1000:abd"));
    // Past sun_path: no broker there to find.
    expect(sharedBrokerSocket({ XDG_RUNTIME_DIR: `/${"d".repeat(60)}` }, 7, "x")).toBeNull();
  });
});

describe("the Hello", () => {
  test("is framed and encoded as broker_v1_envelope.proto says", () => {
    // Spelled out field by field: tag byte (field << 3 | wire type), then the value.
    const hello =
      "0801" + // client_min_protocol = 1
      "1001" + // client_max_protocol = 1
      `1a07${ascii("zccache")}` + // service_name
      `2205${ascii("1.2.3")}` + // wanted_version
      `2a0d${ascii("zccache/1.2.3")}` + // client_version
      `420b${ascii("zccache-300")}` + // request_id
      "50ac02" + // peer_pid = 300
      `5a07${ascii("zccache")}` + // client_lib_name
      `6205${ascii("1.2.3")}`; // client_lib_version
    expect(hello.length / 2).toBe(0x43);
    // envelope_version 1, kind REQUEST (0, omitted), payload_protocol 0 (omitted), payload, request_id 1.
    const frame = `0801 2243${hello} 2801`;
    expect(hex(helloRequest({ wantedVersion: "1.2.3", peerPid: 300 }))).toBe(hex(fromHex(`01 49000000 ${frame}`)));
  });
});

describe("the reply", () => {
  test("Negotiated names the endpoint", () => {
    expect(readHelloReply(responseFrame(negotiatedReply("/run/x/be.sock")))).toEqual({ ok: true, endpoint: "/run/x/be.sock" });
  });

  test("Refused is a refusal with its code and reason", () => {
    const reply = pb([[2, pb([[1, "no service definition"], [2, 1], [3, 1], [4, 2], [6, 500]])]]);
    expect(readHelloReply(responseFrame(reply))).toEqual({ ok: false, failure: { reason: "refused", code: 2, detail: "no service definition" } });
  });

  test.each([
    ["another envelope version", responseFrame(negotiatedReply("/s"), { envelope: 2 })],
    ["a request, not a response", responseFrame(negotiatedReply("/s"), { kind: 0 })],
    ["an admin payload", responseFrame(negotiatedReply("/s"), { protocol: 0xad01 })],
    ["a compressed payload", responseFrame(negotiatedReply("/s"), { encoding: 1 })],
    ["a protocol we did not offer", responseFrame(negotiatedReply("/s", 2))],
    ["no protocol chosen", responseFrame(pb([[1, pb([[3, "/s"]])]]))],
    ["an empty endpoint", responseFrame(negotiatedReply(""))],
    ["no result", responseFrame(new Uint8Array())],
    ["both results", responseFrame(pb([[1, pb([[1, 1], [3, "/s"]])], [2, pb([[4, 2]])]]))],
    ["a result of the wrong wire type", responseFrame(pb([[1, 5]]))],
    ["an endpoint that is not UTF-8", responseFrame(pb([[1, pb([[1, 1], [3, Uint8Array.of(0xff, 0xfe)]])]]))],
    ["a truncated varint", Uint8Array.of(0x08, 0x81)],
    ["a length past the end", Uint8Array.of(0x22, 0x05, 0x01)],
    ["a group", Uint8Array.of(0x0b)],
    ["field number 0", Uint8Array.of(0x00, 0x01)],
  ])("%s is a bad reply", (_what, body) => {
    const r = readHelloReply(body);
    expect(r.ok ? "ok" : r.failure.reason).toBe("bad-reply");
  });

  test("unknown fields of every wire type are skipped", () => {
    const fields = parseFields(Uint8Array.of(0x09, 1, 2, 3, 4, 5, 6, 7, 8, 0x15, 1, 2, 3, 4, 0x18, 0x2a));
    expect(fields?.get(3)).toEqual({ wire: 0, value: 42 });
  });
});

describe("negotiate", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zc-broker-unit-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  let n = 0;

  /** A broker on a fresh socket that answers (or not) each connection with `answer`. */
  function broker(answer: (received: Uint8Array) => Uint8Array | "hang" | "close"): { path: string; received: Uint8Array[]; stop(): void } {
    const p = path.join(dir, `b${n++}.sock`);
    const received: Uint8Array[] = [];
    const server = Bun.listen({
      unix: p,
      socket: {
        data(socket, chunk) {
          received.push(Uint8Array.from(chunk));
          const a = answer(chunk);
          if (a === "close") socket.end();
          else if (a !== "hang") socket.write(a);
        },
      },
    });
    return { path: p, received, stop: () => server.stop(true) };
  }

  test("sends the Hello and reads the negotiated endpoint", async () => {
    const hello = helloRequest({ wantedVersion: "0.1.0", peerPid: 42 });
    const b = broker(() => framed(responseFrame(negotiatedReply("/run/be.sock"))));
    try {
      expect(await negotiate(b.path, hello, 10_000)).toEqual({ ok: true, endpoint: "/run/be.sock" });
      expect(hex(Buffer.concat(b.received))).toBe(hex(hello));
    } finally {
      b.stop();
    }
  });

  test("a reply split across writes is put together", async () => {
    const whole = framed(responseFrame(negotiatedReply("/run/be.sock")));
    const p = path.join(dir, `b${n++}.sock`);
    const server = Bun.listen({
      unix: p,
      socket: {
        data(socket) {
          socket.write(whole.subarray(0, 3));
          setTimeout(() => socket.write(whole.subarray(3)), 20);
        },
      },
    });
    try {
      expect(await negotiate(p, helloRequest({ wantedVersion: "0.1.0", peerPid: 1 }), 10_000)).toEqual({ ok: true, endpoint: "/run/be.sock" });
    } finally {
      server.stop(true);
    }
  });

  // Only the broker that never answers needs a short deadline; the others must fail on
  // their own, however long the test process is held up.
  test.each([
    ["a broker that never answers", () => "hang" as const, "timeout", 200],
    ["a broker that hangs up", () => "close" as const, "bad-reply", 10_000],
    ["another framing version", () => Uint8Array.of(2, 0, 0, 0, 0), "bad-reply", 10_000],
    ["a reply too large to be one", () => Uint8Array.of(1, 0, 0, 0x10, 0), "bad-reply", 10_000],
  ])("%s", async (_what, answer, reason, deadlineMs) => {
    const b = broker(answer);
    try {
      const r = await negotiate(b.path, helloRequest({ wantedVersion: "0.1.0", peerPid: 1 }), deadlineMs);
      expect(r.ok ? "ok" : r.failure.reason).toBe(reason);
    } finally {
      b.stop();
    }
  });

  test("no broker listening", async () => {
    const r = await negotiate(path.join(dir, "absent.sock"), helloRequest({ wantedVersion: "0.1.0", peerPid: 1 }), 10_000);
    expect(r.ok ? "ok" : r.failure.reason).toBe("no-broker");
  });
});

test("the deadline override takes whole milliseconds above 0", () => {
  expect(brokerDeadlineMs(undefined)).toBe(DEFAULT_BROKER_DEADLINE_MS);
  expect(brokerDeadlineMs("750")).toBe(750);
  for (const bad of ["", "0", "-5", "1.5", "soon"]) expect(brokerDeadlineMs(bad)).toBe(DEFAULT_BROKER_DEADLINE_MS);
});
