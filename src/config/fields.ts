import { z } from "zod";

// Field builders for environment variables. Each carries, in its error, what a valid value
// looks like, so a bad configuration names every variable together with what it accepts.

export function int(defaultValue: number, min: number, max = Number.MAX_SAFE_INTEGER) {
  const valid = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
  return z
    .string()
    .trim()
    .regex(/^-?\d+$/, { error: `expected ${valid}` })
    .transform(Number)
    .pipe(z.number().int().min(min, { error: `expected ${valid}` }).max(max, { error: `expected ${valid}` }))
    .optional()
    .transform((v) => v ?? defaultValue);
}

export function fraction(defaultValue: number) {
  return z
    .string()
    .trim()
    .regex(/^\d*\.?\d+$/, { error: "expected a number from 0 to 1" })
    .transform(Number)
    .pipe(z.number().min(0, { error: "expected a number from 0 to 1" }).max(1, { error: "expected a number from 0 to 1" }))
    .optional()
    .transform((v) => v ?? defaultValue);
}

const truthy = new Set(["true", "1", "yes", "on"]);
const falsy = new Set(["false", "0", "no", "off"]);
export function bool(defaultValue: boolean) {
  return z
    .string()
    .trim()
    .toLowerCase()
    .refine((v) => truthy.has(v) || falsy.has(v), { error: "expected true or false" })
    .transform((v) => truthy.has(v))
    .optional()
    .transform((v) => v ?? defaultValue);
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T, defaultValue: T[number]) {
  return z
    .enum(values, { error: `expected one of: ${values.join(", ")}` })
    .optional()
    .transform((v) => v ?? defaultValue);
}

/** A URL with a host whose scheme is one of `protocols` (e.g. "redis:"). */
export function urlWith(protocols: readonly string[], expected: string) {
  return z
    .string()
    .trim()
    .refine(
      (v) => {
        try {
          const u = new URL(v);
          return protocols.includes(u.protocol) && u.hostname !== "";
        } catch {
          return false;
        }
      },
      { error: expected },
    );
}

export function httpUrl() {
  return urlWith(["http:", "https:"], "expected an http:// or https:// URL").transform((v) => v.replace(/\/+$/, ""));
}

export function text() {
  return z.string().trim().min(1, { error: "expected a non-empty value" });
}
