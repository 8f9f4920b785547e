// The contract every Store implementation keeps, as a suite each one registers from its own
// test file (local/local-store.test.ts; a remote tier next). The fixture gives the suite a
// fresh store and the two ways to damage it that only the implementation knows.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type ContentHash, sha256Hex } from "../platform/hash.ts";
import type { EntryRecord, NewOutput, Store, StoredEntry } from "./store.ts";

export interface StoreFixture {
  readonly store: Store;
  /** Overwrites the stored bytes of a blob with other bytes of the same length. */
  corruptBlob(hash: ContentHash): Promise<void>;
  /** Damages the stored record of every entry under `key`; returns a store that reads it afresh. */
  damageEntries(key: string): Promise<Store>;
  dispose(): Promise<void>;
}

const KEY = "a".repeat(64);
const OTHER_KEY = "b".repeat(64);

function record(stdout: string): Omit<EntryRecord, "outputs"> {
  return {
    deps: [{ path: "/src/a.h", hash: sha256Hex("header") }],
    absent: [["/src/include", ["a.h", "b.h"]]],
    exitCode: 0,
    stdout: Buffer.from(stdout).toString("base64"),
    stderr: Buffer.from("warning: x").toString("base64"),
    language: "c",
    compileMs: 12,
  };
}

export function registerStoreContract(name: string, open: () => Promise<StoreFixture>): void {
  describe(`Store contract: ${name}`, () => {
    let fx: StoreFixture;
    let scratch: string;

    beforeEach(async () => {
      fx = await open();
      scratch = fs.mkdtempSync(path.join(os.tmpdir(), "zc-store-contract-"));
    });
    afterEach(async () => {
      await fx.dispose();
      fs.rmSync(scratch, { recursive: true, force: true });
    });

    function file(name: string, content: string): string {
      const p = path.join(scratch, name);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, content);
      return p;
    }

    async function put(key: string, stdout: string, outputs: readonly NewOutput[]): Promise<StoredEntry> {
      const r = await fx.store.put(key, record(stdout), outputs);
      if (!r.ok) throw new Error(`put failed: ${r.error.detail}`);
      return r.value;
    }

    test("lookup of an unknown key is empty", async () => {
      expect(await fx.store.lookup(OTHER_KEY)).toEqual([]);
    });

    test("put then lookup returns the record, its outputs and its digest", async () => {
      const obj = file("a.o", "object bytes");
      const put1 = await put(KEY, "out", [{ role: "object", path: obj }]);
      expect(put1.digest).toMatch(/^[0-9a-f]{64}$/);
      const found = await fx.store.lookup(KEY);
      expect(found.length).toBe(1);
      const e = found[0] as StoredEntry;
      expect(e.digest).toBe(put1.digest);
      expect(e.deps).toEqual(record("out").deps);
      expect(e.absent).toEqual(record("out").absent);
      expect(Buffer.from(e.stdout, "base64").toString()).toBe("out");
      expect(e.exitCode).toBe(0);
      expect(e.compileMs).toBe(12);
      expect(e.outputs.map((o) => o.role)).toEqual(["object"]);
      expect(await fx.store.lookup(OTHER_KEY)).toEqual([]);
    });

    test("an output is stored under the sha256 of its content", async () => {
      const a = file("a.o", "same");
      const b = file("b.d", "same");
      const e = await put(KEY, "out", [{ role: "object", path: a }, { role: "depfile", path: b }]);
      expect(e.outputs.map((o) => o.hash)).toEqual([sha256Hex("same"), sha256Hex("same")]);
      expect(e.outputs.map((o) => o.size)).toEqual([4, 4]);
    });

    test("two entries under one key: newest first", async () => {
      expect(await fx.store.lookup(KEY)).toEqual([]);
      const older = await put(KEY, "first", [{ role: "object", path: file("1.o", "one") }]);
      const newer = await put(KEY, "second", [{ role: "object", path: file("2.o", "two") }]);
      expect(older.digest).not.toBe(newer.digest);
      expect((await fx.store.lookup(KEY)).map((e) => e.digest)).toEqual([newer.digest, older.digest]);
    });

    test("remove drops exactly the entry with that digest", async () => {
      const older = await put(KEY, "first", [{ role: "object", path: file("1.o", "one") }]);
      const newer = await put(KEY, "second", [{ role: "object", path: file("2.o", "two") }]);
      await fx.store.remove(KEY, older.digest);
      await fx.store.remove(KEY, "f".repeat(64));
      await fx.store.remove(OTHER_KEY, newer.digest);
      expect((await fx.store.lookup(KEY)).map((e) => e.digest)).toEqual([newer.digest]);
    });

    test("touch keeps the entry", async () => {
      const e = await put(KEY, "out", [{ role: "object", path: file("a.o", "x") }]);
      fx.store.touch(KEY, e.digest);
      expect((await fx.store.lookup(KEY)).map((x) => x.digest)).toEqual([e.digest]);
    });

    test("materialize writes to the destination the caller names, by copy and by hardlink", async () => {
      const e = await put(KEY, "out", [{ role: "object", path: file("src/a.o", "object bytes") }]);
      const out = e.outputs[0];
      if (out === undefined) throw new Error("no output");
      const copy = file("elsewhere/x1.o", "stale content");
      const r1 = await fx.store.materialize(out, copy, "copy");
      expect(r1.ok).toBe(true);
      expect(fs.readFileSync(copy, "utf8")).toBe("object bytes");
      const link = path.join(scratch, "elsewhere", "x2.o");
      const r2 = await fx.store.materialize(out, link, "hardlink");
      expect(r2.ok).toBe(true);
      expect(fs.readFileSync(link, "utf8")).toBe("object bytes");
      // The recorded path is not where delivery goes.
      expect(fs.readFileSync(path.join(scratch, "src/a.o"), "utf8")).toBe("object bytes");
    });

    test("a corrupt blob fails with corrupt and delivers nothing", async () => {
      const e = await put(KEY, "out", [{ role: "object", path: file("a.o", "object bytes") }]);
      const out = e.outputs[0];
      if (out === undefined) throw new Error("no output");
      await fx.corruptBlob(out.hash);
      const existing = file("dest/old.o", "old");
      const r = await fx.store.materialize(out, existing, "copy");
      expect(r.ok ? "ok" : r.error).toBe("corrupt");
      expect(fs.readFileSync(existing, "utf8")).toBe("old");
      const fresh = path.join(scratch, "dest", "new.o");
      const again = await fx.store.materialize(out, fresh, "hardlink");
      expect(again.ok).toBe(false);
      expect(fs.existsSync(fresh)).toBe(false);
    });

    test("an entry whose stored record is damaged is dropped, not returned", async () => {
      await put(KEY, "out", [{ role: "object", path: file("a.o", "x") }]);
      const kept = await put(OTHER_KEY, "other", [{ role: "object", path: file("b.o", "y") }]);
      const reread = await fx.damageEntries(KEY);
      expect(await reread.lookup(KEY)).toEqual([]);
      expect(await reread.lookup(KEY)).toEqual([]);
      expect((await reread.lookup(OTHER_KEY)).map((e) => e.digest)).toEqual([kept.digest]);
    });
  });
}
