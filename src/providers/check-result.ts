/** One line of `lynkr doctor`: what was checked, what was found, and how to fix it when it failed. */
export interface CheckResult {
  /** Stable id for scripts and `lynkr init`, e.g. "config", "provider:ollama", "ollama-model". */
  id: string;
  title: string;
  ok: boolean;
  detail: string;
  /** One line telling what to do; present when `ok` is false or `warning` is set. */
  fix?: string;
  /** Passed, but worth a look: a setting that works and may not be what was meant. */
  warning?: boolean;
}

export const pass = (id: string, title: string, detail: string): CheckResult => ({ id, title, ok: true, detail });
export const warn = (id: string, title: string, detail: string, fix: string): CheckResult => ({ id, title, ok: true, warning: true, detail, fix });
export const fail = (id: string, title: string, detail: string, fix: string): CheckResult => ({ id, title, ok: false, detail, fix });
