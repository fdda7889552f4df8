import { expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { loadConfig } from "../../src/config/load.ts";
import { envShape } from "../../src/config/schema.ts";
import { GatewayMetrics } from "../../src/observability/metrics/gateway-metrics.ts";
import { repoRoot } from "../helpers/lynkr-process.ts";
import { startTestGateway, tempDir } from "../helpers/gateway.ts";

// The deployment examples parse, and say what lynkr understands: probe paths it answers, the
// port it listens on, variables its config schema knows and accepts, a metric it exports.

const deploy = join(repoRoot, "deploy");
const yaml = async (path: string): Promise<unknown[]> => {
  const parsed: unknown = Bun.YAML.parse(await Bun.file(path).text());
  return Array.isArray(parsed) ? parsed : [parsed];
};

const envVar = z.object({ name: z.string(), value: z.string().optional(), valueFrom: z.object({ secretKeyRef: z.object({ name: z.string(), key: z.string() }) }).optional() });
const probe = z.object({ httpGet: z.object({ path: z.string(), port: z.union([z.string(), z.number()]) }) });
const deployment = z.object({
  kind: z.literal("Deployment"),
  metadata: z.object({ name: z.literal("lynkr") }),
  spec: z.object({
    selector: z.object({ matchLabels: z.record(z.string(), z.string()) }),
    template: z.object({
      metadata: z.object({ labels: z.record(z.string(), z.string()) }),
      spec: z.object({
        containers: z.array(
          z.object({
            ports: z.array(z.object({ name: z.string(), containerPort: z.number() })),
            env: z.array(envVar),
            livenessProbe: probe,
            readinessProbe: probe,
          }),
        ),
      }),
    }),
  }),
});
const kind = z.object({ kind: z.string() });

/** What the config makes of an example's variables, secrets replaced by stand-ins of the right shape. */
function configOf(env: Record<string, string>) {
  const dir = tempDir("lynkr-deploy-");
  return loadConfig({ env: { ...env, HOME: dir }, cwd: dir });
}

const standIns: Record<string, string> = {
  LYNKR_API_KEYS: "alice:sk-lynkr-stand-in-key",
  LYNKR_DATABASE_URL: "postgres://lynkr:stand-in-password@postgres:5432/lynkr",
};
const standIn = (name: string) => standIns[name] ?? `stand-in-${name.toLowerCase()}`;

test("the Kubernetes Deployment probes /health/live and /health/ready on the port lynkr listens on, with variables the config accepts", async () => {
  const files = readdirSync(join(deploy, "kubernetes")).filter((f) => f.endsWith(".yaml"));
  const docs = (await Promise.all(files.map((f) => yaml(join(deploy, "kubernetes", f))))).flat();
  const kinds = docs.map((doc) => kind.parse(doc).kind);
  for (const needed of ["Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"]) expect(kinds).toContain(needed);
  // PostgreSQL and Redis, each with the Service the replicas' URLs name.
  const services = docs.flatMap((doc) => {
    const named = z.object({ kind: z.literal("Service"), metadata: z.object({ name: z.string() }) }).safeParse(doc);
    return named.success ? [named.data.metadata.name] : [];
  });
  expect(services).toEqual(expect.arrayContaining(["lynkr", "postgres", "redis"]));

  const lynkr = deployment.parse(docs.find((doc) => deployment.safeParse(doc).success));
  const container = lynkr.spec.template.spec.containers[0];
  if (!container) throw new Error("the lynkr Deployment has no container");
  const env = Object.fromEntries(container.env.map((v) => [v.name, v.value ?? standIn(v.name)]));
  for (const name of Object.keys(env)) expect(Object.keys(envShape)).toContain(name);
  const config = configOf(env);
  expect(config.LYNKR_REDIS_URL).toStartWith("redis://");
  // The database URL carries a password: from the Secret, never a plain value.
  expect(container.env.find((v) => v.name === "LYNKR_DATABASE_URL")?.valueFrom?.secretKeyRef.key).toBe("LYNKR_DATABASE_URL");
  expect(config.LYNKR_DATABASE_URL).toStartWith("postgres://");
  // Every pod the autoscaler may run, with its whole pool, fits under PostgreSQL's default max_connections (100).
  const hpaMax = z.object({ kind: z.literal("HorizontalPodAutoscaler"), spec: z.object({ maxReplicas: z.number() }) });
  expect(hpaMax.parse(docs.find((doc) => hpaMax.safeParse(doc).success)).spec.maxReplicas * config.LYNKR_DATABASE_POOL_MAX).toBeLessThan(100);
  const port = container.ports.find((p) => p.name === "http");
  expect(port?.containerPort).toBe(config.PORT);
  expect(container.livenessProbe.httpGet).toEqual({ path: "/health/live", port: "http" });
  expect(container.readinessProbe.httpGet).toEqual({ path: "/health/ready", port: "http" });
  expect(lynkr.spec.template.metadata.labels).toMatchObject(lynkr.spec.selector.matchLabels);

  const service = z.object({ kind: z.literal("Service"), metadata: z.object({ name: z.literal("lynkr") }), spec: z.object({ selector: z.record(z.string(), z.string()), ports: z.array(z.object({ targetPort: z.string() })) }) });
  const svc = service.parse(docs.find((doc) => service.safeParse(doc).success));
  expect(svc.spec.ports[0]?.targetPort).toBe("http");
  expect(lynkr.spec.template.metadata.labels).toMatchObject(svc.spec.selector);

  const pdb = z.object({ kind: z.literal("PodDisruptionBudget"), spec: z.object({ selector: z.object({ matchLabels: z.record(z.string(), z.string()) }) }) });
  expect(lynkr.spec.template.metadata.labels).toMatchObject(pdb.parse(docs.find((doc) => pdb.safeParse(doc).success)).spec.selector.matchLabels);

  const hpa = z.object({
    kind: z.literal("HorizontalPodAutoscaler"),
    spec: z.object({ scaleTargetRef: z.object({ kind: z.literal("Deployment"), name: z.literal("lynkr") }), metrics: z.array(z.object({ pods: z.object({ metric: z.object({ name: z.string() }) }) })) }),
  });
  expect(hpa.parse(docs.find((doc) => hpa.safeParse(doc).success)).spec.metrics[0]?.pods.metric.name).toBe("lynkr_requests_per_second");
  // The adapter rule the HPA file assumes derives it from a counter lynkr exports.
  expect(await Bun.file(join(deploy, "kubernetes", "horizontal-pod-autoscaler.yaml")).text()).toContain("lynkr_requests_total");
  expect(new GatewayMetrics().registry.all().map((m) => m.name)).toContain("lynkr_requests_total");
});

test("compose runs three replicas on Redis and PostgreSQL behind the proxy, with variables the config accepts", async () => {
  const [compose] = await yaml(join(deploy, "compose.yaml"));
  const service = z.object({ environment: z.record(z.string(), z.string()).optional(), image: z.string().optional() });
  const parsed = z.object({ services: z.record(z.string(), service) }).parse(compose);
  const names = Object.keys(parsed.services);
  for (const needed of ["lynkr-1", "lynkr-2", "lynkr-3", "proxy", "redis", "postgres"]) expect(names).toContain(needed);
  const nginx = await Bun.file(join(deploy, "nginx.conf")).text();
  for (const replica of ["lynkr-1", "lynkr-2", "lynkr-3"]) {
    const env = parsed.services[replica]?.environment ?? {};
    // ${VAR:?message} is compose's "required from the shell", as a whole value or inside one.
    const resolved = Object.fromEntries(
      Object.entries(env).map(([name, value]) => [name, value.startsWith("${") ? standIn(name) : value.replace(/\$\{(\w+)[^}]*\}/g, (_all, inner: string) => standIn(inner))]),
    );
    for (const name of Object.keys(resolved)) expect(Object.keys(envShape)).toContain(name);
    const config = configOf(resolved);
    expect(config.LYNKR_REDIS_URL).toBe("redis://redis:6379/0");
    expect(new URL(config.LYNKR_DATABASE_URL ?? "").host).toBe("postgres:5432");
    expect(3 * config.LYNKR_DATABASE_POOL_MAX).toBeLessThan(100);
    expect(nginx).toContain(`server ${replica}:${config.PORT}`);
  }
});

test("the probe paths the examples use answer on a running gateway", async () => {
  const gateway = startTestGateway();
  try {
    expect((await fetch(`${gateway.url}/health/live`)).status).toBe(200);
    expect((await fetch(`${gateway.url}/health/ready`)).status).toBe(200);
  } finally {
    await gateway.shutdown();
  }
});
