// In-memory counters, persisted by the store on a timer and at shutdown.
import { counterNames, type Language, type Outcome } from "./outcomes.ts";

export class Counters {
  private readonly values = new Map<string, number>();
  private dirty = false;

  load(entries: Iterable<[string, number]>): void {
    for (const [k, v] of entries) this.values.set(k, v);
  }

  record(outcome: Outcome, language: Language): void {
    for (const name of counterNames(outcome, language)) this.add(name, 1);
  }

  add(name: string, delta: number): void {
    this.values.set(name, (this.values.get(name) ?? 0) + delta);
    this.dirty = true;
  }

  get(name: string): number {
    return this.values.get(name) ?? 0;
  }

  snapshot(): Map<string, number> {
    return new Map(this.values);
  }

  reset(): void {
    this.values.clear();
    this.dirty = true;
  }

  /** Returns the values when they changed since the last call, for persistence. */
  takeDirty(): Map<string, number> | null {
    if (!this.dirty) return null;
    this.dirty = false;
    return this.snapshot();
  }
}
