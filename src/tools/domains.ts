// allowed_domains / blocked_domains of Anthropic's web tools: a domain matches itself and its subdomains.

function matches(host: string, domain: string): boolean {
  const d = domain.trim().toLowerCase().replace(/^\*?\./, "").replace(/\/.*$/, "");
  const h = host.toLowerCase().replace(/\.$/, "");
  return d !== "" && (h === d || h.endsWith(`.${d}`));
}

export interface DomainFilter {
  allowed_domains?: string[] | null;
  blocked_domains?: string[] | null;
}

export function domainAllowed(host: string, filter: DomainFilter): boolean {
  if (filter.blocked_domains?.some((d) => matches(host, d))) return false;
  if (filter.allowed_domains && filter.allowed_domains.length > 0) return filter.allowed_domains.some((d) => matches(host, d));
  return true;
}
