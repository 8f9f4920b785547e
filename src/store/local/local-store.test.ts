// The local tier against the shared store contract, in a temp cache root per test.
import { Database } from "bun:sqlite";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { registerStoreContract } from "../store-contract.ts";
import { LocalStore } from "./local-store.ts";

registerStoreContract("LocalStore", async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "zc-local-store-"));
  const opened: LocalStore[] = [new LocalStore(root)];
  const store = opened[0] as LocalStore;
  return {
    store,
    async corruptBlob(hash) {
      const p = store.blobs.pathOf(hash);
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
      const fresh = new LocalStore(root);
      opened.push(fresh);
      return fresh;
    },
    async dispose() {
      for (const s of opened) s.close();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
});
