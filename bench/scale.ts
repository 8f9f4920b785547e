// Fills a zccache store with synthetic entries (distinct manifest keys sharing one small
// blob), so hit latency and daemon memory can be measured against a large index.
import { IndexDb } from "../src/store/local/index-db.ts";
import { BlobDir } from "../src/store/local/blobs.ts";
import { sealRecord } from "../src/store/local/local-store.ts";
import { prepareRoot } from "../src/store/local/root-modes.ts";
import * as path from "node:path";

export function populate(cacheRoot: string, entries: number): void {
  const modes = prepareRoot(cacheRoot);
  const blobs = new BlobDir(path.join(cacheRoot, "blobs"), modes);
  const { db } = IndexDb.open(path.join(cacheRoot, "index.sqlite"), modes.file);
  const payload = Buffer.alloc(2048, 7);
  const { hash } = blobs.write(payload);
  const batch = 5000;
  for (let start = 0; start < entries; start += batch) {
    db.db.transaction(() => {
      for (let i = start; i < Math.min(entries, start + batch); i++) {
        const key = new Bun.CryptoHasher("sha256").update(`synthetic-${i}`).digest("hex");
        const record = JSON.stringify({
          deps: [],
          absent: [],
          outputs: [{ role: "object", path: `/nonexistent/synthetic-${i}.o`, hash, size: payload.length }],
          exitCode: 0,
          stdout: "",
          stderr: "",
          language: "c",
        });
        db.insert(key, sealRecord(record), payload.length, [{ hash, size: payload.length }]);
      }
    })();
  }
  db.close();
}
