// Joining paths the way the kernel resolves them. path.resolve() collapses "a/b/.." lexically,
// but when b is a symlink the kernel goes to b's real parent: a compiler that read
// "inc/sub/../x.h" read the file the kernel finds, so that is the spelling we must keep.

/** An absolute spelling of `p` relative to `base` that resolves to the same file; ".." kept. */
export function joinPhysical(base: string, p: string): string {
  const joined = p.startsWith("/") ? p : `${base}/${p}`;
  let out = joined.replace(/\/+/g, "/");
  // "/./" and a trailing "/." never change what a path resolves to.
  while (out.includes("/./")) out = out.replace("/./", "/");
  if (out.endsWith("/.")) out = out.slice(0, -2) || "/";
  if (out.length > 1 && out.endsWith("/")) out = out.slice(0, -1);
  return out;
}

/** The directory part of a physical spelling (no normalisation). */
/**
 * Whether any of these `:`-separated search lists (unset ones null) has a relative entry (an
 * empty one is "."): what it names then depends on the cwd.
 */
export function hasRelativeEntry(lists: readonly (string | null | undefined)[]): boolean {
  return lists.some((v) => v !== null && v !== undefined && v.split(":").some((d) => !d.startsWith("/")));
}

export function dirOf(p: string): string {
  const i = p.lastIndexOf("/");
  return i <= 0 ? "/" : p.slice(0, i);
}
