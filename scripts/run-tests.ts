// `npm test`: every test file, in ZCCACHE_TEST_JOBS parallel `bun test` processes (default 2,
// at most the machine's cores). The suite spends most of its time waiting on compilers,
// servers and racy-file windows, not computing: one process at a time left half of a 2-core
// machine idle. Each end-to-end file has its own cache roots, daemons, servers and temp dirs
// (tests/helpers.ts), so two files never share state.
//
// Files are handed out from one queue, largest first (size stands in for running time: the
// long hunts must not start last); the unit tests under src/ go as one batch. Each file's
// output is printed in one piece when it ends, then one line with the totals. Exit status is
// non-zero if any file failed or its process did.
//
// With arguments (`npm test -- tests/e2e/x.test.ts`, `-t name`), runs one `bun test` with them.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const root = path.resolve(import.meta.dir, "..");
const TIMEOUT = ["--timeout", "120000"];
const bun = process.execPath;

const args = process.argv.slice(2);
if (args.length > 0) {
  const p = Bun.spawn([bun, "test", ...TIMEOUT, ...args], { cwd: root, stdio: ["inherit", "inherit", "inherit"] });
  process.exitCode = await p.exited;
} else {
  process.exitCode = await runAll();
}

function testFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...testFiles(rel));
    else if (e.isFile() && e.name.endsWith(".test.ts")) out.push(rel);
  }
  return out;
}

interface Item {
  readonly files: readonly string[];
  readonly weight: number;
}

interface Done {
  readonly item: Item;
  readonly code: number;
  readonly pass: number;
  readonly fail: number;
  readonly skip: number;
  readonly seconds: number;
}

async function runAll(): Promise<number> {
  const requested = Number(process.env.ZCCACHE_TEST_JOBS ?? "2");
  if (!Number.isInteger(requested) || requested < 1) {
    console.error(`run-tests: ZCCACHE_TEST_JOBS must be a positive integer, not '${process.env.ZCCACHE_TEST_JOBS}'`);
    return 2;
  }
  const jobs = Math.min(requested, Math.max(1, os.availableParallelism()));
  const size = (f: string): number => fs.statSync(path.join(root, f)).size;
  const unit = testFiles("src").sort();
  const items: Item[] = testFiles("tests").map((f) => ({ files: [f], weight: size(f) }));
  if (unit.length > 0) items.push({ files: unit, weight: unit.reduce((n, f) => n + size(f), 0) / 4 });
  items.sort((a, b) => b.weight - a.weight || (a.files[0] as string).localeCompare(b.files[0] as string));

  const started = performance.now();
  const queue = [...items];
  const done: Done[] = [];
  const worker = async (): Promise<void> => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) done.push(await runItem(item));
  };
  await Promise.all(Array.from({ length: Math.min(jobs, items.length) }, worker));

  const total = (k: "pass" | "fail" | "skip"): number => done.reduce((n, d) => n + d[k], 0);
  const broken = done.filter((d) => d.code !== 0 || d.fail > 0);
  const files = done.reduce((n, d) => n + d.item.files.length, 0);
  const minutes = ((performance.now() - started) / 60_000).toFixed(1);
  console.log(
    `\nrun-tests: ${total("pass")} pass, ${total("fail")} fail, ${total("skip")} skipped, ${files} files, ` +
      `${jobs} at a time, ${minutes} min`,
  );
  for (const d of broken) console.log(`run-tests: FAILED ${d.item.files.join(" ")} (exit ${d.code}, ${d.fail} failing)`);
  return broken.length === 0 ? 0 : 1;
}

async function runItem(item: Item): Promise<Done> {
  const t0 = performance.now();
  const p = Bun.spawn([bun, "test", ...TIMEOUT, ...item.files.map((f) => `./${f}`)], {
    cwd: root,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  const seconds = (performance.now() - t0) / 1000;
  const count = (word: string): number => {
    const m = new RegExp(`^\\s*(\\d+) ${word}$`, "m").exec(err);
    return m === null ? 0 : Number(m[1]);
  };
  const result: Done = { item, code, pass: count("pass"), fail: count("fail"), skip: count("skip"), seconds };
  // One piece per file: what the tests printed, then bun's report.
  process.stdout.write(`${out}${err}`);
  console.log(`run-tests: ${item.files.length === 1 ? item.files[0] : `${item.files.length} unit test files`} in ${seconds.toFixed(1)} s, exit ${code}`);
  return result;
}
