// An HTTP server as a remote tier (GET, HEAD, PUT through fetch), in one of three layouts:
//   subdirs (default)  <url>/m/<k0k1>/<rest of key>   <url>/b/<h0h1>/<rest of hash>
//   flat               <url>/m-<key>                  <url>/b-<hash>
//   bazel              <url>/ac/<key>                 <url>/cas/<hash>  (bazel-remote's HTTP API;
//                      blobs are the raw bytes, so /cas/ names match their sha256)
// 404 is "not there"; any other status that is not a success is an error.
import { type RemoteBackend, RemoteTooLarge } from "./backend.ts";
import type { HttpLayout, HttpSpec } from "./spec.ts";

function objectPath(layout: HttpLayout, kind: "m" | "b", name: string): string {
  switch (layout) {
    case "subdirs":
      return `/${kind}/${name.slice(0, 2)}/${name.slice(2)}`;
    case "flat":
      return `/${kind}-${name}`;
    case "bazel":
      return `/${kind === "m" ? "ac" : "cas"}/${name}`;
  }
}

export class HttpBackend implements RemoteBackend {
  private readonly headers: Record<string, string>;

  constructor(private readonly spec: HttpSpec) {
    this.headers = spec.authorization === null ? {} : { Authorization: spec.authorization };
  }

  private url(kind: "m" | "b", name: string): string {
    return this.spec.base + objectPath(this.spec.layout, kind, name);
  }

  /** GETs at most `maxBytes`: a longer answer (announced or streamed) is cut off and refused. */
  private async get(url: string, signal: AbortSignal, maxBytes: number): Promise<Uint8Array | null> {
    const r = await fetch(url, { headers: this.headers, signal });
    if (r.status === 404) {
      await r.body?.cancel();
      return null;
    }
    if (!r.ok) {
      await r.body?.cancel();
      throw new Error(`GET ${r.status} ${r.statusText}`);
    }
    const announced = Number(r.headers.get("content-length") ?? "-1");
    if (announced > maxBytes) {
      await r.body?.cancel();
      throw new RemoteTooLarge("the object", maxBytes);
    }
    if (r.body === null) return new Uint8Array(0);
    const chunks: Uint8Array[] = [];
    let total = 0;
    const reader = r.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > maxBytes) {
        await reader.cancel();
        throw new RemoteTooLarge("the object", maxBytes);
      }
      chunks.push(value);
    }
    return Buffer.concat(chunks, total);
  }

  private async put(url: string, bytes: Uint8Array, signal: AbortSignal): Promise<void> {
    const r = await fetch(url, {
      method: "PUT",
      headers: { ...this.headers, "Content-Type": "application/octet-stream" },
      body: bytes,
      signal,
    });
    await r.body?.cancel();
    if (!r.ok) throw new Error(`PUT ${r.status} ${r.statusText}`);
  }

  getManifest(key: string, signal: AbortSignal, maxBytes: number): Promise<Uint8Array | null> {
    return this.get(this.url("m", key), signal, maxBytes);
  }

  putManifest(key: string, bytes: Uint8Array, signal: AbortSignal): Promise<void> {
    return this.put(this.url("m", key), bytes, signal);
  }

  getBlob(hash: string, signal: AbortSignal, maxBytes: number): Promise<Uint8Array | null> {
    return this.get(this.url("b", hash), signal, maxBytes);
  }

  async hasBlob(hash: string, signal: AbortSignal): Promise<boolean> {
    const r = await fetch(this.url("b", hash), { method: "HEAD", headers: this.headers, signal });
    if (r.status === 404) return false;
    if (!r.ok) throw new Error(`HEAD ${r.status} ${r.statusText}`);
    return true;
  }

  putBlob(hash: string, bytes: Uint8Array, signal: AbortSignal): Promise<void> {
    return this.put(this.url("b", hash), bytes, signal);
  }

  close(): void {
    // fetch keeps its own connection pool.
  }
}
