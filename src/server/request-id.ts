const safeId = /^[A-Za-z0-9._:-]{1,128}$/;

/** The client's X-Request-ID when it is a sane token, else a new id in Anthropic's `req_` style. */
export function requestIdFor(headers: Headers): string {
  const given = headers.get("x-request-id");
  if (given && safeId.test(given)) return given;
  return `req_${crypto.randomUUID().replaceAll("-", "")}`;
}
