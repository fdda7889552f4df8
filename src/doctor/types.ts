// Doctor's lines are the providers' health probes' lines: one shape for both.
export { fail, pass, warn, type CheckResult } from "../providers/check-result.ts";
