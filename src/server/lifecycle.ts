/** Tracks in-flight requests so shutdown can wait for them and readiness can report draining. */
export class Lifecycle {
  shuttingDown = false;
  private inflight = 0;
  private drained: (() => void) | undefined;

  get active(): number {
    return this.inflight;
  }

  begin(): void {
    this.inflight++;
  }

  end(): void {
    this.inflight--;
    if (this.inflight === 0) this.drained?.();
  }

  /** Resolves when no request is in flight, or after `timeoutMs`; true if all finished. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.inflight === 0) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finished = await Promise.race([
      new Promise<true>((resolve) => {
        this.drained = () => resolve(true);
      }),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    return finished;
  }
}
