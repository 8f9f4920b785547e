// The local tier against the shared store contract, in a temp cache root per test.
import { Database } from "bun:sqlite";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { registerStoreContract } from "../store-contract.ts";
import { LocalStore } from "./local-store.ts";

for (const level of [0, 3]) {
  registerStoreContract(level === 0 ? "LocalStore" : `LocalStore, zstd level ${level}`, async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "zc-local-store-"));
    const open = (): LocalStore => {
      const s = new LocalStore(root);
      s.blobs.compressionLevel = level;
      return s;
    };
    const opened: LocalStore[] = [open()];
    const store = opened[0] as LocalStore;
    return {
      store,
      async corruptBlob(hash) {
        // Whichever form the blob took: bytes of the same length, all different.
        const p = fs.existsSync(store.blobs.pathOf(hash)) ? store.blobs.pathOf(hash) : store.blobs.compressedPathOf(hash);
        const bytes = fs.readFileSync(p);
        for (let i = 0; i < bytes.length; i++) bytes[i] = (bytes[i] ?? 0) ^ 0xff;
        fs.chmodSync(p, 0o644);
        fs.writeFileSync(p, bytes);
      },
      async damageEntries(key) {
        store.flush();
        const db = new Database(path.join(root, "index.sqlite"));
        // One byte of the JSON changed, the checksum before it left as it was.
        db.query("UPDATE entries SET record = substr(record, 1, 70) || '#' || substr(record, 72) WHERE manifest_key = ?").run(key);
        db.close();
        // A second instance: the first one's in-memory manifests would hide the damage.
        const fresh = open();
        opened.push(fresh);
        return fresh;
      },
      async dispose() {
        for (const s of opened) s.close();
        fs.rmSync(root, { recursive: true, force: true });
      },
    };
  });
}
