// Values shared by many requests (a tool set sent again and again) are deeply frozen: no request
// can change them for the others, and whoever sees one again may trust it is unchanged.

const deeplyFrozen = new WeakSet<object>();

/** Freezes `value` and everything in it; returns it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !deeplyFrozen.has(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
    deeplyFrozen.add(value);
  }
  return value;
}

/** Whether `value` went through deepFreeze: it and everything in it can never change. */
export function isDeeplyFrozen(value: unknown): boolean {
  return typeof value === "object" && value !== null && deeplyFrozen.has(value);
}
